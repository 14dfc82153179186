/* The disk-operation hypercalls (DISK_START, 0x210) as a section of the one
 * hypercall table (vmm/hcall/hcall.h).  Portable, like task_calls.c: the
 * monitor's disk service and the hosted tests put the section into a table
 * and call hcall_dispatch().  Management only (control partition); every
 * argument is untrusted.  See docs/hypercalls.md and
 * include/taskvisor/disk.h. */
#ifndef SERVICES_DISK_CALLS_H
#define SERVICES_DISK_CALLS_H

#include "hcall/hcall.h"
#include "task/task_mgr.h"
#include "task/task_types.h"

/* The section's state (one for all callers: DISK_START keeps none of its
 * own per caller). */
struct disk_call_state {
    const struct task_types *types; /* holds the disk types (disk_ops_register) */
    struct task_mgr *mgr;
};

#define DISK_CALL_COUNT 1u

/* The calls, for a section:
 * { disk_calls, DISK_CALL_COUNT, disk_calls_state, &the_state }. */
extern const struct hcall_desc disk_calls[DISK_CALL_COUNT];
/* The section's caller_state: the owner (a struct disk_call_state). */
void *disk_calls_state(void *owner, const struct hcall_caller *caller);

#endif
