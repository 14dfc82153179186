/* Partitions: a guest's memory, its vCPU, its devices, and how it ended. */
#ifndef VMM_PARTITION_H
#define VMM_PARTITION_H

#include <stdint.h>
#include <stdbool.h>
#include "boot/common/boot_info.h"
#include "vm/vcpu.h"
#include "dev/cmos_rtc.h"
#include "dev/vuart.h"
#include "dev/ioapic.h"
#include "dev/vapic_mmio.h"
#include "mm/pagetable.h"
#include "taskvisor/status.h"
#include "services/vm_agent.h"

#define MAX_PARTITIONS TV_BOOT_MAX_PARTITIONS
#define GUEST_CHUNK (2ull << 20)   /* guest RAM is backed in 2 MiB pieces */

enum partition_state {
    PART_CREATED = 0,
    PART_RUNNING = 1,
    PART_STOPPED = 2,
};

/* A partition record is a VM: its definition (from the boot configuration)
 * lives as long as the monitor; its resources (guest RAM, nested page
 * tables, VMCB/VMCS, FPU state, vCPU thread) exist only while it runs:
 * partition_build() at Startup, partition_release() when it turns off. */
struct partition {
    uint32_t id;
    char name[TV_BOOT_NAME_LEN];
    uint32_t flags;                 /* TV_PART_* */
    volatile int state;
    uint64_t mem_bytes;
    uint64_t *chunks;               /* host physical base of each 2 MiB chunk */
    uint64_t chunk_count;
    volatile uint8_t *chunk_state;  /* CHUNK_*: zeroed and mapped on first use */
    struct page_table npt;
    struct vcpu vcpu;               /* one vCPU per partition for now */
    struct vuart uart;
    struct cmos_rtc cmos;           /* ports 0x70/0x71: the wall clock */
    struct ioapic ioapic;           /* at IOAPIC_BASE_GPA, described by the MP table */
    struct xapic_regs xapic;        /* the vCPU's xAPIC-only registers */
    uint64_t mmio_exits;            /* MMIO accesses emulated */
    int stop_reason;
    uint64_t stop_code;
    uint32_t hcall_denials;         /* rate-limits the ACCESS_DENIED log line */
    struct tv_boot_partition def;   /* the VM definition: image, cmdline, initrd */
    bool console_raw;               /* console=raw: re-applied at every start */
    bool built;                     /* resources exist (partition_build) */
    /* VM lifecycle (vm/vm_life.c): state under its lock. */
    volatile uint32_t vm_state;     /* enum tv_vm_state */
    uint64_t vm_seq;                /* bumped on every state change */
    uint32_t op_claim;              /* 0, or 1 + the vm_op working on it */
    uint64_t start_count;           /* starts so far (each Reset counts one) */
    volatile bool turn_off_asked;   /* the stop was a TurnOff (or a Reset's) */
    volatile bool thread_done;      /* the vCPU thread has released everything */
    struct thread *joiner;          /* waits for thread_done */
    struct vm_agent agent;          /* the guest agent of the current run (services/vm_agent.c) */
    struct vm_disk_set *disks;      /* open virtual disks and their PCI bus (vm/vm_disks.c), or NULL */
    /* Save / restore (services/vm_save.c). */
    char save_path[TV_BOOT_PATH_LEN]; /* "VOLUME:/path" of its saved state; "" = none configured */
    bool restoring;                 /* partition_build: no image, the file gives the memory */
    volatile bool save_committed;   /* the file is in place: the vCPU's end means SAVED */
};

extern struct partition *partitions[MAX_PARTITIONS];
extern uint32_t partition_count;

/* The record of a VM definition; its image is judged against its memory
 * size (refused at boot if it can never load) but no memory is taken. */
tv_status_t partition_define(const struct tv_boot_partition *bp, uint32_t id,
                             struct partition **out);
/* Progress of a build, in bytes (RAM reserved, image and initrd loaded);
 * anything but TV_OK stops the build (a cancel). */
typedef tv_status_t (*partition_progress_fn)(void *ctx, uint64_t bytes);
/* Creates the resources of a run: RAM, nested page tables, a fresh copy of
 * the image and initrd, the devices, the vCPU (not yet running).  On
 * failure everything taken is released. */
tv_status_t partition_build(struct partition *p, partition_progress_fn progress, void *ctx);
/* Frees every resource of a run: vAPIC timer, VMCB/VMCS, FPU state, nested
 * page tables, guest RAM.  Idempotent; the vCPU thread must be gone (or
 * never started). */
void partition_release(struct partition *p);
/* Starts a built partition's vCPU thread (vm/vmm.c). */
tv_status_t partition_launch(struct partition *p);
/* Blocks until a launched partition's vCPU thread has released it. */
void partition_wait_ended(struct partition *p);
/* The last thing the vCPU thread does: release, turned off, wake a joiner. */
void partition_vcpu_ended(struct partition *p);
/* Guest-physical access for monitor code: bounded to the partition's RAM. */
tv_status_t guest_read(struct partition *p, uint64_t gpa, void *dst, uint64_t len);
tv_status_t guest_write(struct partition *p, uint64_t gpa, const void *src, uint64_t len);
bool guest_range_ok(const struct partition *p, uint64_t gpa, uint64_t len);
/* Guest RAM is zeroed and mapped in the nested page table a 2 MiB chunk at a
 * time, on first use: by the guest (a nested page fault, guest_ram_fault_in)
 * or by the monitor (guest_read/guest_write and guest_ram_prepare, before it
 * touches the host memory behind a range).  No guest ever sees a byte of a
 * chunk before the chunk was zeroed. */
enum { CHUNK_UNTOUCHED = 0, CHUNK_ZEROING = 1, CHUNK_READY = 2 };
tv_status_t guest_ram_prepare(struct partition *p, uint64_t gpa, uint64_t len);
/* A nested page fault at gpa: true when it was the first touch of a chunk of
 * the partition's RAM, now zeroed and mapped (re-enter the guest), false
 * when gpa is outside its RAM. */
bool guest_ram_fault_in(struct partition *p, uint64_t gpa);
/* The same two in the shape of the copy callbacks (hypercall memory views,
 * task calls, the image loader): ctx is the partition; a range outside its
 * RAM is TV_E_INVALID_ARGUMENT. */
tv_status_t guest_read_cb(void *part, uint64_t gpa, void *dst, size_t len);
tv_status_t guest_write_cb(void *part, uint64_t gpa, const void *src, size_t len);
/* Sends the vector of I/O APIC pin `pin` as its redirection entry says,
 * unless masked: for devices served on other threads (posting is
 * thread-safe; the I/O APIC's own state belongs to the vCPU's thread). */
void partition_pulse_irq(struct partition *p, unsigned pin);
/* The partition with this id, NULL if none. */
struct partition *partition_by_id(uint32_t id);
/* Called on the vCPU thread when the partition has stopped: marks it stopped
 * and tells the stop listeners (services drop their per-partition state;
 * test builds judge the run). */
void partition_stopped(struct partition *p);
#define PARTITION_MAX_STOP_LISTENERS 4
tv_status_t partition_add_stop_listener(void (*fn)(struct partition *p));
const char *partition_state_name(int state);
const char *stop_reason_name(int reason);

#endif
