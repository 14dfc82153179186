/* The VM state machine: the one table of allowed state changes (VMVMState,
 * include/taskvisor/vm.h) and the one table saying which operation a state
 * allows and with which status it is refused otherwise.  Portable, no state
 * of its own (the model of task/task_state.c). */
#ifndef SERVICES_VM_STATE_H
#define SERVICES_VM_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "taskvisor/status.h"
#include "taskvisor/task.h"
#include "taskvisor/vm.h"

/* The operations on a VM; each runs as a task of its own type. */
enum vm_op {
    VM_OP_STARTUP = 0,
    VM_OP_TURN_OFF,
    VM_OP_RESET,
    VM_OP_PAUSE,
    VM_OP_RESUME,
    VM_OP_SHUTDOWN,   /* through the guest agent (IVMGuestOS) */
    VM_OP_RESTART,
    VM_OP_LOGOFF,
    VM_OP_SAVE,       /* memory, vCPU and devices to a file; the VM then off, SAVED */
    VM_OP_COUNT
};

bool vm_state_valid(uint32_t state);
/* True when a VM may move from -> to. */
bool vm_transition_allowed(uint32_t from, uint32_t to);
/* Whether op may start on a VM in `state` (is_control: the VM is the
 * control partition).  TV_OK, or the refusal Virtual PC gave: VM_RUNNING,
 * VM_NOT_RUNNING, INVALID_STATE (pause of a paused VM, resume of a running
 * one), BUSY (the VM is between two states), CONTROL_PARTITION (turn off,
 * reset, pause or save of the control partition), INVALID_ARGUMENT (unknown
 * op or state).  A Startup of a SAVED VM restores it. */
tv_status_t vm_op_check(uint32_t op, uint32_t state, bool is_control);

/* Why op cannot claim a VM that operation `held` holds: SHUTDOWN_IN_PROGRESS
 * for a guest operation (shutdown, restart, logoff) while a shutdown or
 * restart holds it, else BUSY. */
tv_status_t vm_op_claim_refusal(uint32_t held, uint32_t op);
/* True for the operations that go through the guest agent. */
bool vm_op_is_guest(uint32_t op);
/* The agent capability (TV_AGENT_CAP_*) a guest operation needs; 0 otherwise. */
uint32_t vm_op_agent_cap(uint32_t op);

/* The task type of an operation (TV_TASK_TYPE_COUNT for an unknown op). */
uint32_t vm_op_task_type(uint32_t op);
const char *vm_op_name(uint32_t op);
const char *vm_state_name(uint32_t state);

#endif
