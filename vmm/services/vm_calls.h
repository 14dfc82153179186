/* The VM hypercalls (VM_LIST, VM_QUERY, VM_STARTUP, VM_TURN_OFF, VM_RESET,
 * VM_PAUSE, VM_RESUME; 0x300-0x3ff) as a section of the one hypercall
 * table, and the VM task types' common half.  Portable: the monitor's VM
 * service and the hosted tests put the same section under the same
 * dispatcher, against a VM directory (the monitor's partitions, or a fake).
 * Every argument is untrusted.  See docs/hypercalls.md. */
#ifndef SERVICES_VM_CALLS_H
#define SERVICES_VM_CALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "hcall/hcall.h"
#include "services/vm_state.h"
#include "task/task_mgr.h"
#include "task/task_types.h"
#include "taskvisor/vm.h"

/* What the calls and the task types know of the VMs. */
struct vm_directory {
    void *ctx;
    uint32_t (*count)(void *ctx);                 /* ids are 0 .. count-1 */
    /* The record of VM id as caller_id sees it; TV_E_NOT_FOUND if none. */
    tv_status_t (*info)(void *ctx, uint32_t id, uint32_t caller_id, struct tv_vm_info *out);
    /* Reserves VM id for op: vm_op_check on its state, then TV_E_BUSY when
     * another operation holds it; TV_E_NOT_FOUND if no such VM. */
    tv_status_t (*claim)(void *ctx, uint32_t id, uint32_t op);
    void (*unclaim)(void *ctx, uint32_t id);
};

/* The section's per-caller state (its caller_state callback returns it). */
struct vm_call_state {
    struct task_mgr *mgr;
    const struct task_types *types;
    const struct vm_directory *dir;
};

#define VM_CALL_COUNT 12u
#define VM_CALL_LIST_MAX 64u /* records per VM_LIST */
extern const struct hcall_desc vm_calls[VM_CALL_COUNT];

/* A VM task's context: which VM, which operation.  The claim taken in
 * prepare belongs to the task and is given back by its cleanup. */
struct vm_task_types;
struct vm_op_ctx {
    const struct vm_directory *dir;
    const struct vm_task_types *types; /* where run[op] is */
    uint32_t vm_id;
    uint32_t op;          /* enum vm_op */
    bool forced;          /* TV_VM_OP_F_FORCE (shutdown, restart) */
};

/* CanShutdown from a VM's record (VM_CAN_SHUTDOWN): running, an agent that
 * announced shutdown, no operation on it, not the control partition. */
bool vm_info_can_shutdown(const struct tv_vm_info *r);

typedef tv_status_t (*vm_op_run_fn)(struct task_job *job, struct vm_op_ctx *ctx);

/* Storage for the VM types and their drivers (the registry keeps
 * pointers into it: it must outlive the registry). */
struct vm_task_types {
    const struct vm_directory *dir;
    struct task_driver drivers[VM_OP_COUNT];
    struct task_type types[VM_OP_COUNT];
    vm_op_run_fn run[VM_OP_COUNT];
};

/* Registers the VM task types in reg.  prepare (common, here) checks the
 * argument record (struct tv_vm_op_args), claims the VM and describes the
 * task: target VM, "startup of VM NAME", Startup and the guest operations
 * cancelable, none pausable; a guest operation is refused with
 * AGENT_NOT_PRESENT when the VM's agent did not announce it.  run[op] does the work; cleanup gives the claim back. */
tv_status_t vm_task_types_add(struct task_types *reg, struct vm_task_types *st,
                              const struct vm_directory *dir, const vm_op_run_fn run[VM_OP_COUNT]);

#endif
