/* Taskvisor ABI: the Linux control partition's device /dev/taskvisor
 * (guests/linux/driver/, docs/linux-driver.md).
 *
 * One ioctl per call class, each with one fixed-size structure: inputs the
 * caller fills, outputs the driver writes, reserved fields that must be 0
 * (EINVAL otherwise).  The ioctl's return value says whether the driver
 * could issue the call (0, or -1 with errno: EINVAL for a malformed
 * structure or argument, EFAULT, EINTR for a wait a signal interrupted,
 * ENOTTY for an unknown ioctl, ENOMEM); the monitor's answer is `status`
 * (a tv_status_t, include/taskvisor/status.h).  No user pointer ever reaches
 * the monitor: the driver copies every structure through a kernel buffer
 * and hands the monitor that buffer's physical address.
 *
 * read() returns whole struct tvdev_event records of the events a
 * subscribed file (TVDEV_IOC_EVENTS) has queued; poll() says POLLIN when
 * one is waiting.  Shared by the driver (kernel), its hosted decoding code
 * and user space (libtaskvisor's Linux transport, tvctl). */
#ifndef TASKVISOR_TVDEV_H
#define TASKVISOR_TVDEV_H

#include <stdint.h>
#include <linux/ioctl.h>

#include "taskvisor/disk.h"
#include "taskvisor/task.h"
#include "taskvisor/vm.h"

#define TVDEV_NAME "taskvisor" /* /dev/taskvisor */
#define TVDEV_ABI  1u          /* this header's version, in tvdev_version.driver_abi */

/* How the driver learns of task events (tvdev_version.event_mode). */
#define TVDEV_EVENTS_IRQ   1u /* the monitor raises an interrupt vector */
#define TVDEV_EVENTS_TIMER 2u /* the driver polls the ring on a timer */

struct tvdev_version {        /* out only */
    uint32_t status;          /* GET_VERSION's status */
    uint32_t abi;             /* monitor ABI: major << 16 | minor */
    uint32_t features;        /* TV_FEAT_* */
    uint32_t driver_abi;      /* TVDEV_ABI */
    uint32_t event_mode;      /* TVDEV_EVENTS_* */
    uint32_t event_vector;    /* vector registered with the monitor (0 with the timer) */
    uint32_t event_irq;       /* Linux IRQ number (0 with the timer) */
    uint32_t reserved[9];     /* 0 in, 0 out */
};

struct tvdev_power_off {      /* POWER_OFF: returns only when the power-off failed */
    uint32_t status;          /* out: POWER_OFF's status */
    uint32_t reserved[7];     /* 0 */
};

struct tvdev_task_query {
    uint64_t id;              /* in */
    uint32_t status;          /* out */
    uint32_t reserved;        /* 0 */
    struct tv_task_info info; /* out, valid when status = TV_OK */
};

struct tvdev_task_list {
    uint64_t cursor;          /* in: list ids > cursor (0 = from the start) */
    uint64_t entries;         /* in: user address of struct tv_task_event[capacity] */
    uint32_t capacity;        /* in: 0..TVDEV_LIST_MAX */
    uint32_t flags;           /* in: TV_TASK_LIST_* */
    uint32_t count;           /* out: entries written; < capacity = end of the list */
    uint32_t status;          /* out */
    uint64_t reserved[2];     /* 0 */
};
#define TVDEV_LIST_MAX 65536u

struct tvdev_task_verb {
    uint64_t id;              /* in */
    uint32_t verb;            /* in: enum tv_task_verb */
    uint32_t status;          /* out */
    uint64_t reserved[2];     /* 0 */
};

struct tvdev_task_wait {
    uint64_t id;              /* in */
    int32_t  timeout_ms;      /* in: -1 forever, 0..TV_TASK_WAIT_MAX_MS */
    uint32_t status;          /* out: TV_OK finished, TV_E_TIMEOUT */
    uint64_t reserved[2];     /* 0 */
};

struct tvdev_events {
    uint32_t enable;          /* in: TVDEV_SUBSCRIBE_* bits to queue for this file, 0 = stop */
    uint32_t reserved[7];     /* 0 */
};
/* tvdev_events.enable.  1 is what it always meant (task events only); VM
 * state changes are records whose state has TV_EVENT_KIND_VM in its top
 * byte (include/taskvisor/vm.h), as on the monitor's ring. */
#define TVDEV_SUBSCRIBE_TASKS (1u << 0)
#define TVDEV_SUBSCRIBE_VMS   (1u << 1) /* EOPNOTSUPP when the monitor has no VM events */
#define TVDEV_SUBSCRIBE_ALL   (TVDEV_SUBSCRIBE_TASKS | TVDEV_SUBSCRIBE_VMS)

struct tvdev_test_start {     /* test builds of the monitor only (TV_FEAT_TEST_CALLS) */
    struct tv_task_test_spec spec; /* in */
    uint64_t id;              /* out */
    uint32_t status;          /* out */
    uint32_t reserved;        /* 0 */
};

/* ---- Disks (0x200-0x2ff): one ioctl for the class -------------------------
 * `call` names the hypercall; the input record travels through a kernel
 * bounce buffer (`in`, `in_size`), an output buffer (`out`, `out_size`) is
 * for calls that return data.  Today: DISK_START only (arg = the task type,
 * in = its record of exactly the type's size, no output; result = the task
 * id).  The image store's read-only calls become more cases of the same
 * structure, each with its own sizes. */
struct tvdev_disk {
    uint32_t call;            /* in: TV_HC_DISK_START or TV_HC_DIR_CREATE */
    uint32_t arg;             /* in: DISK_START: enum tv_task_type (a DISK_* type); DIR_CREATE: 0 */
    uint64_t in;              /* in: user address of the input record (DIR_CREATE: the path) */
    uint32_t in_size;         /* in: its size (DISK_START: sizeof the type's record;
                                 DIR_CREATE: the path's bytes, no NUL, 1..TVDEV_DIR_PATH_MAX) */
    uint32_t out_size;        /* in: bytes at out (DISK_START: 0) */
    uint64_t out;             /* in: user address of the output buffer (DISK_START: 0) */
    uint64_t result;          /* out: o0 (DISK_START: the new task's id) */
    uint32_t status;          /* out */
    uint32_t reserved0;       /* 0 */
    uint64_t reserved[2];     /* 0 */
};
#define TVDEV_DISK_IN_MAX 4096u /* bytes of an input record */
#define TVDEV_DIR_PATH_MAX 1023u /* bytes of a DIR_CREATE path */

/* ---- Virtual machines (0x300-0x3ff) ----------------------------------------- */
struct tvdev_vm_list {
    uint64_t entries;         /* in: user address of struct tv_vm_info[capacity] */
    uint32_t capacity;        /* in: 0..TVDEV_VM_LIST_MAX (0 = count only) */
    uint32_t count;           /* out: records written (the smaller of total and capacity) */
    uint32_t total;           /* out: the monitor's number of VMs */
    uint32_t status;          /* out */
    uint64_t reserved[2];     /* 0 */
};
#define TVDEV_VM_LIST_MAX 64u /* VM_LIST's own limit */

struct tvdev_vm_query {
    uint32_t id;              /* in: VM id */
    uint32_t status;          /* out */
    uint64_t reserved[2];     /* 0 */
    struct tv_vm_info info;   /* out, valid when status = TV_OK */
};

/* An operation on one VM: `call` is its hypercall.  VM_STARTUP ..
 * VM_LOGOFF run as a task (`task` = its id); VM_SHUTDOWN and VM_RESTART
 * take `flags` TV_VM_OP_F_FORCE; VM_CAN_SHUTDOWN is a query whose answer
 * (1 = the guest agent would take a shutdown now, 0 = not) comes back in
 * `task`.  `flags` is 0 for every other call. */
struct tvdev_vm_op {
    uint32_t call;            /* in: TV_HC_VM_STARTUP..TV_HC_VM_CAN_SHUTDOWN */
    uint32_t id;              /* in: VM id */
    uint64_t task;            /* out: the id of the task doing it (CAN_SHUTDOWN: 0 or 1) */
    uint32_t status;          /* out */
    uint32_t flags;           /* in: TV_VM_OP_F_FORCE (shutdown, restart); else 0 */
    uint64_t reserved[2];     /* 0 */
};

/* One record of read(). */
struct tvdev_event {
    uint64_t id;              /* 0 = a marker: events were lost before this point */
    uint64_t seq;
    uint32_t state;           /* enum tv_task_state; a VM's: TV_EVENT_KIND_VM << 24 | enum tv_vm_state */
    uint32_t percent;
    uint32_t flags;           /* TVDEV_EVENT_* */
    uint32_t reserved;
};
#define TVDEV_EVENT_LOST (1u << 0) /* events were lost: re-list every task */

#define TVDEV_IOC_MAGIC 0xB7
#define TVDEV_IOC_VERSION    _IOR(TVDEV_IOC_MAGIC, 0x00, struct tvdev_version)
#define TVDEV_IOC_POWER_OFF  _IOWR(TVDEV_IOC_MAGIC, 0x01, struct tvdev_power_off)
#define TVDEV_IOC_TASK_QUERY _IOWR(TVDEV_IOC_MAGIC, 0x10, struct tvdev_task_query)
#define TVDEV_IOC_TASK_LIST  _IOWR(TVDEV_IOC_MAGIC, 0x11, struct tvdev_task_list)
#define TVDEV_IOC_TASK_VERB  _IOWR(TVDEV_IOC_MAGIC, 0x12, struct tvdev_task_verb)
#define TVDEV_IOC_TASK_WAIT  _IOWR(TVDEV_IOC_MAGIC, 0x13, struct tvdev_task_wait)
#define TVDEV_IOC_EVENTS     _IOW(TVDEV_IOC_MAGIC, 0x14, struct tvdev_events)
#define TVDEV_IOC_DISK       _IOWR(TVDEV_IOC_MAGIC, 0x20, struct tvdev_disk)
#define TVDEV_IOC_VM_LIST    _IOWR(TVDEV_IOC_MAGIC, 0x30, struct tvdev_vm_list)
#define TVDEV_IOC_VM_QUERY   _IOWR(TVDEV_IOC_MAGIC, 0x31, struct tvdev_vm_query)
#define TVDEV_IOC_VM_OP      _IOWR(TVDEV_IOC_MAGIC, 0x32, struct tvdev_vm_op)
#define TVDEV_IOC_TEST_START _IOWR(TVDEV_IOC_MAGIC, 0x80, struct tvdev_test_start)

_Static_assert(sizeof(struct tvdev_version) == 64, "tvdev_version layout");
_Static_assert(sizeof(struct tvdev_power_off) == 32, "tvdev_power_off layout");
_Static_assert(sizeof(struct tvdev_task_query) == 16 + sizeof(struct tv_task_info),
               "tvdev_task_query layout");
_Static_assert(sizeof(struct tvdev_task_list) == 48, "tvdev_task_list layout");
_Static_assert(sizeof(struct tvdev_task_verb) == 32, "tvdev_task_verb layout");
_Static_assert(sizeof(struct tvdev_task_wait) == 32, "tvdev_task_wait layout");
_Static_assert(sizeof(struct tvdev_events) == 32, "tvdev_events layout");
_Static_assert(sizeof(struct tvdev_test_start) == sizeof(struct tv_task_test_spec) + 16,
               "tvdev_test_start layout");
_Static_assert(sizeof(struct tvdev_disk) == 64, "tvdev_disk layout");
_Static_assert(sizeof(struct tvdev_vm_list) == 40, "tvdev_vm_list layout");
_Static_assert(sizeof(struct tvdev_vm_query) == 24 + sizeof(struct tv_vm_info),
               "tvdev_vm_query layout");
_Static_assert(sizeof(struct tvdev_vm_op) == 40, "tvdev_vm_op layout");
_Static_assert(sizeof(struct tvdev_event) == 32, "tvdev_event layout");

#endif
