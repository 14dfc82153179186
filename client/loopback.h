/* Hosted loopback transport for libtaskvisor: "hypercalls" are decoded by
 * the monitor's own dispatcher (vmm/hcall) and task call section
 * (vmm/services/task_calls.c) and run against an in-process task manager, with a
 * private arena standing in for the control partition's guest memory.
 * Hosted only (tests, host tools). */
#ifndef CLIENT_LOOPBACK_H
#define CLIENT_LOOPBACK_H

#include <stddef.h>
#include <stdint.h>

#include "libtaskvisor.h"

struct task_mgr;
struct tv_loopback;

#define TV_LOOPBACK_GPA_BASE 0x100000ull /* guest-physical address of the arena */

/* arena_size: bytes of fake guest memory (multiple of 4096).
 * wait_slice_ns: how long one TASK_WAIT entry may block before continuing. */
tv_status_t tv_loopback_create(struct task_mgr *mgr, size_t arena_size, uint64_t wait_slice_ns,
                               struct tv_loopback **out);
void tv_loopback_destroy(struct tv_loopback *lb);
/* Adds another section of calls (e.g. the image store's, vmm/services/
 * volume_calls.c) behind the task calls, as the monitor's table has them;
 * checked like the monitor's table (unique codes). */
struct hcall_section;
tv_status_t tv_loopback_add_section(struct tv_loopback *lb, const struct hcall_section *sec);
const struct tv_transport *tv_loopback_transport(struct tv_loopback *lb);

struct tv_loopback_stats {
    uint64_t calls;
    uint64_t continuations; /* TV_E_CONTINUE re-issues */
    uint64_t notifications; /* event interrupts raised */
    uint32_t last_vector;
};
void tv_loopback_stats(struct tv_loopback *lb, struct tv_loopback_stats *out);

#endif
