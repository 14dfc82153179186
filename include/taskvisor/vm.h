/* Taskvisor ABI: virtual machines as the control partition sees them (the
 * VM_* hypercalls, 0x300-0x3ff).  A VM is a definition from the boot
 * configuration (name, memory, kernel image, command line, initrd,
 * autostart) plus a state that follows Windows Virtual PC's VMVMState, same
 * numbers.  Fixed-size records, explicit widths, no pointers; values are
 * stable: never renumber, only append.  See docs/hypercalls.md. */
#ifndef TASKVISOR_VM_H
#define TASKVISOR_VM_H

#include <stdint.h>

/* ---- States: VMVMState ------------------------------------------------- */
enum tv_vm_state {
    TV_VM_INVALID        = 0,
    TV_VM_TURNED_OFF     = 1, /* off, nothing saved */
    TV_VM_SAVED          = 2, /* off, guest state saved in its file (VM_SAVE) */
    TV_VM_TURNING_ON     = 3, /* Startup: partition being built, image loaded */
    TV_VM_RESTORING      = 4, /* Startup from a saved state */
    TV_VM_RUNNING        = 5,
    TV_VM_PAUSED         = 6, /* vCPU held by the monitor */
    TV_VM_SAVING         = 7, /* VM_SAVE writing the file; the vCPU held */
    TV_VM_TURNING_OFF    = 8, /* vCPU stopping, partition being destroyed */
    TV_VM_MERGING_DRIVES = 9, /* not produced yet */
    TV_VM_STATE_COUNT         /* VMVMState's 10, DeleteMachine, has no use here */
};

/* ---- How the last run of a VM ended (tv_vm_info.stop_reason) ----------- */
enum tv_vm_stop {
    TV_VM_STOP_NONE          = 0, /* never ran, or still running */
    TV_VM_STOP_EXITED        = 1, /* wrote the exit port (stop_code) */
    TV_VM_STOP_TRIPLE_FAULT  = 2,
    TV_VM_STOP_BAD_ACCESS    = 3, /* touched memory outside its own */
    TV_VM_STOP_ENTRY_FAILED  = 4,
    TV_VM_STOP_UNHANDLED     = 5, /* an exit the monitor does not handle */
    TV_VM_STOP_TURNED_OFF    = 6, /* TurnOff (or the stop of a Reset) */
    TV_VM_STOP_INTERNAL      = 7,
};

/* tv_vm_info.flags */
#define TV_VM_F_CONTROL   (1u << 0) /* the control partition (never turned off by VM_*) */
#define TV_VM_F_SELF      (1u << 1) /* the partition that made the call */
#define TV_VM_F_AUTOSTART (1u << 2) /* started at boot */
#define TV_VM_F_BUSY      (1u << 3) /* an operation (a task) is working on it */
/* What the guest agent of the current run announced (docs/agent.md). */
#define TV_VM_F_AGENT_SHUTDOWN (1u << 4)
#define TV_VM_F_AGENT_RESTART  (1u << 5)
#define TV_VM_F_AGENT_LOGOFF   (1u << 6)
#define TV_VM_F_AGENT_SHIFT    4 /* flags >> 4 & 7 = the agent's TV_AGENT_CAP_* */

#define TV_VM_NAME_LEN    32
#define TV_VM_PATH_LEN    128
#define TV_VM_CMDLINE_LEN 256

/* One VM: its definition and a consistent snapshot of its state. */
struct tv_vm_info {
    uint32_t id;             /* = partition id; stable for the monitor's life */
    uint32_t state;          /* enum tv_vm_state */
    uint32_t flags;          /* TV_VM_F_* */
    uint32_t vcpu_count;
    uint64_t memory_bytes;   /* guest RAM of the definition */
    uint64_t image_bytes;    /* size of the kernel image */
    uint64_t initrd_bytes;   /* 0 when none */
    uint64_t seq;            /* bumped on every state change */
    uint64_t start_count;    /* starts so far (each Reset counts one) */
    uint64_t exit_count;     /* VM exits of the current run; advances while it runs */
    uint32_t stop_reason;    /* enum tv_vm_stop: how the last run ended */
    uint32_t stop_code;      /* exit-port code (TV_VM_STOP_EXITED) */
    char     name[TV_VM_NAME_LEN];       /* NUL-terminated and NUL-padded */
    char     image[TV_VM_PATH_LEN];      /* image path as configured */
    char     cmdline[TV_VM_CMDLINE_LEN];
};

/* ---- Events on the task event ring ------------------------------------
 * VM state changes share the ring of task events (include/taskvisor/task.h)
 * for a consumer that registered it with TV_TASK_EVENTS_F_VM (others see
 * task entries only, as before VMs existed): the top byte of
 * tv_task_event.state says what the entry is about; task entries keep 0.  For a VM event: id = VM id, seq = tv_vm_info.seq, state =
 * TV_EVENT_KIND_VM << 24 | enum tv_vm_state, percent = 0. */
#define TV_EVENT_KIND_SHIFT 24
#define TV_EVENT_KIND_TASK  0u
#define TV_EVENT_KIND_VM    1u
#define TV_EVENT_KIND(state) ((uint32_t)(state) >> TV_EVENT_KIND_SHIFT)
#define TV_EVENT_STATE(state) ((uint32_t)(state) & 0xffffu)

/* ---- Hypercall arguments -----------------------------------------------
 * VM_LIST    a0 gpa of tv_vm_info[] (8-aligned), a1 capacity (entries, 0 =
 *            count only) -> o0 = number of VMs (records written: the smaller)
 * VM_QUERY   a0 VM id, a1 gpa of tv_vm_info (8-aligned), a2 buffer size
 *            -> o0 = sizeof(struct tv_vm_info)
 * VM_STARTUP / VM_TURN_OFF / VM_RESET / VM_PAUSE / VM_RESUME
 *            a0 VM id -> o0 = id of the task doing it.  Refusals come from
 *            the call itself, before any task exists: NOT_FOUND (unknown
 *            VM), VM_RUNNING, VM_NOT_RUNNING, INVALID_STATE (pause of a
 *            paused VM, resume of a running one), BUSY (another operation
 *            is working on it), CONTROL_PARTITION (turn off, reset or pause
 *            of the control partition), UNSUPPORTED (a saved state).
 * VM_SHUTDOWN / VM_RESTART
 *            a0 VM id, a1 flags (TV_VM_OP_F_FORCE) -> o0 = task id
 * VM_LOGOFF  a0 VM id -> o0 = task id
 *            Through the guest agent (docs/agent.md); refusals as above
 *            plus AGENT_NOT_PRESENT (no agent announced the operation) and
 *            SHUTDOWN_IN_PROGRESS (a shutdown or restart holds the VM).
 *            The task's error may be TIMEOUT (no answer in
 *            agent_timeout_ms), GUEST_LOCKED, NO_SESSION,
 *            SHUTDOWN_IN_PROGRESS (the guest said so), AGENT_NOT_PRESENT
 *            (the agent left), VM_NOT_RUNNING (the VM stopped meanwhile).
 * VM_CAN_SHUTDOWN
 *            a0 VM id -> o0 = 1 when a Shutdown would be taken now (VM
 *            running, its agent announced shutdown, no operation on it,
 *            not the control partition), else 0 (Virtual PC's CanShutdown;
 *            its S_FALSE for a VM that is off is our 0). */

/* VM_SAVE    a0 VM id -> o0 = task id.  Refusals: NOT_FOUND,
 *            VM_NOT_RUNNING (off or saved), BUSY, CONTROL_PARTITION,
 *            UNSUPPORTED (no saved-state file configured: save.NAME or
 *            save_dir, docs/savestate.md).  Progress: bytes of guest
 *            memory written.  Cancelable until the file is committed (the
 *            VM keeps running, the previous saved state stays).  A Startup
 *            of the SAVED VM then restores it (state RESTORING); a file
 *            that is corrupt or does not match fails that task with
 *            INCOMPATIBLE_SAVED_STATE and the VM stays SAVED. */

/* The argument record of the VM task types (task_types_start). */
struct tv_vm_op_args {
    uint32_t vm_id;
    uint32_t flags;   /* TV_VM_OP_F_FORCE for shutdown and restart; else 0 */
};
#define TV_VM_OP_F_FORCE (1u << 0)

_Static_assert(sizeof(struct tv_vm_info) == 488, "tv_vm_info layout");
_Static_assert(sizeof(struct tv_vm_op_args) == 8, "tv_vm_op_args layout");

#endif
