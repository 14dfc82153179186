/* Argument decoding and validation of /dev/taskvisor, kept out of the module
 * proper so that it compiles both in the kernel and hosted (unit test
 * tests/unit/linux/test_tvdev_decode.c, fuzz target build/fuzz/tvdev_decode).
 * Plain C: only the ABI headers, no kernel or libc calls.  Everything a
 * caller hands the driver, and everything the monitor writes into the event
 * ring, passes through here before the driver acts on it. */
#ifndef TVDEV_DECODE_H
#define TVDEV_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/hypercall.h"
#include "taskvisor/status.h"
#include "taskvisor/task.h"
#include "taskvisor/tvdev.h"

/* ---- Probing the monitor at load ---------------------------------------- */
enum tvd_probe {
    TVD_PROBE_OK = 0,
    TVD_PROBE_NO_SIGNATURE,   /* CPUID 0x40000000 is not "TaskvisorTV!" */
    TVD_PROBE_NO_VERSION,     /* the highest hypervisor leaf lacks 0x40000001 */
    TVD_PROBE_ABI_MAJOR,      /* the monitor's ABI major is not TV_ABI_VERSION_MAJOR */
    TVD_PROBE_UNKNOWN_VENDOR, /* neither AMD/Hygon (VMMCALL) nor Intel (VMCALL) */
};
struct tvd_cpuid { uint32_t eax, ebx, ecx, edx; };
/* vendor = CPUID 0, base = CPUID 0x40000000, version = CPUID 0x40000001
 * (only looked at when base says it exists).  *vmmcall: the instruction. */
enum tvd_probe tvd_probe(const struct tvd_cpuid *vendor, const struct tvd_cpuid *base,
                         const struct tvd_cpuid *version, bool *vmmcall);

/* ---- ioctl structures: true = well formed ------------------------------- */
bool tvd_check_power_off(const struct tvdev_power_off *p);
bool tvd_check_query(const struct tvdev_task_query *q);
bool tvd_check_list(const struct tvdev_task_list *l);
/* *code = the verb's hypercall. */
bool tvd_check_verb(const struct tvdev_task_verb *v, uint32_t *code);
bool tvd_check_wait(const struct tvdev_task_wait *w);
bool tvd_check_events(const struct tvdev_events *e);
/* Whether a file subscribed with `enable` (TVDEV_SUBSCRIBE_*) gets a ring
 * entry of this state (its kind in the top byte; unknown kinds: nobody). */
bool tvd_event_wanted(uint32_t enable, uint32_t state);
bool tvd_check_test_start(const struct tvdev_test_start *t);

/* The disk class (TVDEV_IOC_DISK).  tvd_disk_record_size: the size of a
 * DISK_START type's record (docs/hypercalls.md), 0 for a type DISK_START
 * does not take.  tvd_check_disk: the call is one the class carries, its
 * input and output fit that call (DISK_START: a record of exactly its
 * type's size at an address that does not wrap, no output). */
size_t tvd_disk_record_size(uint32_t type);
bool tvd_check_disk(const struct tvdev_disk *d);

/* The VM class.  A list's user array must hold capacity records without
 * wrapping; an operation's call must be one of the VM task calls. */
bool tvd_check_vm_list(const struct tvdev_vm_list *l);
bool tvd_check_vm_query(const struct tvdev_vm_query *q);
bool tvd_check_vm_op(const struct tvdev_vm_op *o);
/* VM_LIST's o0 is untrusted: the records it wrote are the smaller of its
 * count and the capacity asked for. */
uint32_t tvd_vm_list_written(uint64_t total, uint32_t capacity);

/* ---- TASK_WAIT in slices -------------------------------------------------
 * The driver never hands the monitor the caller's whole timeout: it waits in
 * slices of at most TVD_WAIT_SLICE_MS and checks for signals between them, so
 * Ctrl-C ends a wait within a slice and the CPU is given back regularly. */
#define TVD_WAIT_SLICE_MS 20u
struct tvd_wait {
    bool forever;
    uint64_t deadline_ns;
};
void tvd_wait_begin(struct tvd_wait *w, int32_t timeout_ms, uint64_t now_ns);
/* The next slice's timeout; returns true when it is the last one (its
 * TIMEOUT is the caller's TIMEOUT). */
bool tvd_wait_next(const struct tvd_wait *w, uint64_t now_ns, uint32_t *slice_ms);

/* ---- The monitor's event ring ---------------------------------------------
 * Takes up to cap entries from the ring the monitor writes (a kernel page);
 * the ring's fields are untrusted.  *lost: the monitor dropped events (its
 * overflow flag, cleared here) or the ring's indices were inconsistent.
 * Returns false when the ring is not a ring (bad magic or capacity). */
bool tvd_ring_take(struct tv_task_ring *ring, struct tv_task_event *out, size_t cap,
                   size_t *count, bool *lost);

/* ---- One file's event queue ---------------------------------------------- */
#define TVD_QUEUE_LEN 256u
struct tvd_queue {
    struct tvdev_event ev[TVD_QUEUE_LEN];
    uint32_t head, tail;      /* free-running */
    bool lost;                /* an event did not fit: a marker goes out first */
};
void tvd_queue_init(struct tvd_queue *q);
void tvd_queue_push(struct tvd_queue *q, const struct tv_task_event *ev);
void tvd_queue_mark_lost(struct tvd_queue *q);
bool tvd_queue_empty(const struct tvd_queue *q);
/* Takes the next record (the lost marker first); false when empty. */
bool tvd_queue_pop(struct tvd_queue *q, struct tvdev_event *out);

#endif
