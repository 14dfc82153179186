/* Transition and operation tables for VMs: see vm_state.h. */
#include "services/vm_state.h"
#include "taskvisor/agent.h"

#define OFF  TV_VM_TURNED_OFF
#define SVD  TV_VM_SAVED
#define ON   TV_VM_TURNING_ON
#define RST  TV_VM_RESTORING
#define RUN  TV_VM_RUNNING
#define PAU  TV_VM_PAUSED
#define SAV  TV_VM_SAVING
#define TOF  TV_VM_TURNING_OFF
#define MRG  TV_VM_MERGING_DRIVES
#define N    TV_VM_STATE_COUNT

/* allowed[from][to].  Invalid (0) is never entered nor left. */
static const bool allowed[N][N] = {
    /* off: Startup, Startup of a saved VM, MergeUndoDisks */
    [OFF] = { [ON] = 1, [MRG] = 1 },
    /* saved: restore, discard of the saved state, merge while saved */
    [SVD] = { [RST] = 1, [OFF] = 1, [MRG] = 1 },
    /* turning on -> off: a cancelled or failed Startup leaves nothing */
    [ON]  = { [RUN] = 1, [OFF] = 1 },
    /* restoring -> saved: a failed restore keeps the saved state */
    [RST] = { [RUN] = 1, [SVD] = 1 },
    /* running -> turning off: TurnOff, a Reset's stop, or the guest
     * stopping itself (exit port, triple fault, a fatal exit) */
    [RUN] = { [PAU] = 1, [SAV] = 1, [TOF] = 1 },
    [PAU] = { [RUN] = 1, [SAV] = 1, [TOF] = 1 },
    /* saving -> running or paused (as it was): cancelled or failed before
     * its point of no return; -> turning off: the guest stopped itself
     * while the file was being written (no saved state) */
    [SAV] = { [SVD] = 1, [RUN] = 1, [PAU] = 1, [TOF] = 1 },
    [TOF] = { [OFF] = 1 },
    [MRG] = { [OFF] = 1, [SVD] = 1 },
};

bool vm_state_valid(uint32_t state)
{
    return state > TV_VM_INVALID && state < N;
}

bool vm_transition_allowed(uint32_t from, uint32_t to)
{
    return vm_state_valid(from) && vm_state_valid(to) && allowed[from][to];
}

#define OK    TV_OK
#define BUSY  TV_E_BUSY
#define RUNG  TV_E_VM_RUNNING
#define NRUN  TV_E_VM_NOT_RUNNING
#define BAD   TV_E_INVALID_STATE

/* what[op][state]: TV_OK when op may start on a VM in that state, else the
 * refusal.  "Between two states" is BUSY: wait for the operation doing it. */
static const tv_status_t what[VM_OP_COUNT][N] = {
    [VM_OP_STARTUP]  = { [OFF] = OK, [SVD] = OK, [ON] = RUNG, [RST] = RUNG,
                         [RUN] = RUNG, [PAU] = RUNG, [SAV] = RUNG, [TOF] = BUSY, [MRG] = BUSY },
    [VM_OP_TURN_OFF] = { [OFF] = NRUN, [SVD] = NRUN, [ON] = BUSY, [RST] = BUSY,
                         [RUN] = OK, [PAU] = OK, [SAV] = BUSY, [TOF] = BUSY, [MRG] = BUSY },
    [VM_OP_RESET]    = { [OFF] = NRUN, [SVD] = NRUN, [ON] = BUSY, [RST] = BUSY,
                         [RUN] = OK, [PAU] = OK, [SAV] = BUSY, [TOF] = BUSY, [MRG] = BUSY },
    [VM_OP_PAUSE]    = { [OFF] = NRUN, [SVD] = NRUN, [ON] = BUSY, [RST] = BUSY,
                         [RUN] = OK, [PAU] = BAD, [SAV] = BUSY, [TOF] = BUSY, [MRG] = BUSY },
    [VM_OP_RESUME]   = { [OFF] = NRUN, [SVD] = NRUN, [ON] = BUSY, [RST] = BUSY,
                         [RUN] = BAD, [PAU] = OK, [SAV] = BUSY, [TOF] = BUSY, [MRG] = BUSY },
    /* The guest operations need a guest that runs (its agent answers):
     * Virtual PC refused them with VM_NOT_RUNNING otherwise, paused too. */
    [VM_OP_SHUTDOWN] = { [OFF] = NRUN, [SVD] = NRUN, [ON] = BUSY, [RST] = BUSY,
                         [RUN] = OK, [PAU] = NRUN, [SAV] = BUSY, [TOF] = BUSY, [MRG] = BUSY },
    [VM_OP_RESTART]  = { [OFF] = NRUN, [SVD] = NRUN, [ON] = BUSY, [RST] = BUSY,
                         [RUN] = OK, [PAU] = NRUN, [SAV] = BUSY, [TOF] = BUSY, [MRG] = BUSY },
    [VM_OP_LOGOFF]   = { [OFF] = NRUN, [SVD] = NRUN, [ON] = BUSY, [RST] = BUSY,
                         [RUN] = OK, [PAU] = NRUN, [SAV] = BUSY, [TOF] = BUSY, [MRG] = BUSY },
    /* Virtual PC's Save needed a running VM; a paused one is saved too. */
    [VM_OP_SAVE]     = { [OFF] = NRUN, [SVD] = NRUN, [ON] = BUSY, [RST] = BUSY,
                         [RUN] = OK, [PAU] = OK, [SAV] = BUSY, [TOF] = BUSY, [MRG] = BUSY },
};

tv_status_t vm_op_check(uint32_t op, uint32_t state, bool is_control)
{
    if (op >= VM_OP_COUNT || !vm_state_valid(state))
        return TV_E_INVALID_ARGUMENT;
    /* The control partition drives everything else: it cannot switch
     * itself off, reset or freeze itself through these calls (it has
     * POWER_OFF for the machine). */
    if (is_control && op != VM_OP_STARTUP)
        return TV_E_CONTROL_PARTITION;
    return what[op][state];
}

static const uint32_t op_types[VM_OP_COUNT] = {
    [VM_OP_STARTUP] = TV_TASK_TYPE_VM_STARTUP, [VM_OP_TURN_OFF] = TV_TASK_TYPE_VM_TURN_OFF,
    [VM_OP_RESET] = TV_TASK_TYPE_VM_RESET, [VM_OP_PAUSE] = TV_TASK_TYPE_VM_PAUSE,
    [VM_OP_RESUME] = TV_TASK_TYPE_VM_RESUME, [VM_OP_SHUTDOWN] = TV_TASK_TYPE_VM_SHUTDOWN,
    [VM_OP_RESTART] = TV_TASK_TYPE_VM_RESTART, [VM_OP_LOGOFF] = TV_TASK_TYPE_VM_LOGOFF,
    [VM_OP_SAVE] = TV_TASK_TYPE_VM_SAVE,
};

tv_status_t vm_op_claim_refusal(uint32_t held, uint32_t op)
{
    if (vm_op_is_guest(op) && (held == VM_OP_SHUTDOWN || held == VM_OP_RESTART))
        return TV_E_SHUTDOWN_IN_PROGRESS;
    return TV_E_BUSY;
}

bool vm_op_is_guest(uint32_t op)
{
    return op == VM_OP_SHUTDOWN || op == VM_OP_RESTART || op == VM_OP_LOGOFF;
}

uint32_t vm_op_agent_cap(uint32_t op)
{
    switch (op) {
    case VM_OP_SHUTDOWN: return TV_AGENT_CAP_SHUTDOWN;
    case VM_OP_RESTART: return TV_AGENT_CAP_RESTART;
    case VM_OP_LOGOFF: return TV_AGENT_CAP_LOGOFF;
    default: return 0;
    }
}

uint32_t vm_op_task_type(uint32_t op)
{
    return op < VM_OP_COUNT ? op_types[op] : TV_TASK_TYPE_COUNT;
}

static const char *const op_names[VM_OP_COUNT] = {
    [VM_OP_STARTUP] = "startup", [VM_OP_TURN_OFF] = "turn off", [VM_OP_RESET] = "reset",
    [VM_OP_PAUSE] = "pause", [VM_OP_RESUME] = "resume", [VM_OP_SHUTDOWN] = "shutdown",
    [VM_OP_RESTART] = "restart", [VM_OP_LOGOFF] = "logoff", [VM_OP_SAVE] = "save",
};

const char *vm_op_name(uint32_t op)
{
    return op < VM_OP_COUNT ? op_names[op] : "invalid";
}

static const char *const state_names[N] = {
    [TV_VM_INVALID] = "invalid", [OFF] = "turned off", [SVD] = "saved", [ON] = "turning on",
    [RST] = "restoring", [RUN] = "running", [PAU] = "paused", [SAV] = "saving",
    [TOF] = "turning off", [MRG] = "merging drives",
};

const char *vm_state_name(uint32_t state)
{
    return state < N ? state_names[state] : "invalid";
}
