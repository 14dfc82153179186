/* The VM hypercalls and the common half of the VM task types: see
 * vm_calls.h.  Guest memory only through the caller's guest_mem_view. */
#include "services/vm_calls.h"
#include "task/task_platform.h"
#include "taskvisor/hypercall.h"
#include "tv_fmt.h"
#include "tv_string.h"

static struct vm_call_state *state_of(struct hcall_ctx *ctx)
{
    return ctx->host;
}

/* VM_LIST a0 buffer gpa (8-aligned), a1 capacity; o0 = number of VMs.
 * With a capacity of 0 the address is ignored (count only). */
static tv_status_t hc_list(struct hcall_ctx *ctx)
{
    const struct vm_directory *dir = state_of(ctx)->dir;
    const uint64_t *a = ctx->arg;
    uint64_t gpa = a[0], cap = a[1];
    if (!rest_zero(a, 2) || cap > VM_CALL_LIST_MAX || (cap && (gpa == 0 || (gpa & 7u))))
        return TV_E_INVALID_ARGUMENT;
    if (cap && guest_mem_check(ctx->caller->mem, gpa, cap * sizeof(struct tv_vm_info)) != TV_OK)
        return TV_E_INVALID_ARGUMENT;
    uint32_t count = dir->count(dir->ctx);
    for (uint32_t i = 0; i < count && i < cap; i++) {
        struct tv_vm_info rec;
        tv_status_t s = dir->info(dir->ctx, i, ctx->caller->partition_id, &rec);
        if (s == TV_OK)
            s = guest_mem_write(ctx->caller->mem, gpa + i * sizeof rec, &rec, sizeof rec);
        if (s != TV_OK)
            return s;
    }
    set_out0(ctx, count);
    return TV_OK;
}

/* VM_QUERY a0 id, a1 buffer gpa (8-aligned), a2 buffer size; o0 = record
 * size, on OK and on BUFFER_TOO_SMALL. */
static tv_status_t hc_query(struct hcall_ctx *ctx)
{
    const struct vm_directory *dir = state_of(ctx)->dir;
    const uint64_t *a = ctx->arg;
    if (!rest_zero(a, 3) || a[0] > UINT32_MAX || a[1] == 0 || (a[1] & 7u))
        return TV_E_INVALID_ARGUMENT;
    uint64_t span = a[2] < sizeof(struct tv_vm_info) ? a[2] : sizeof(struct tv_vm_info);
    if (guest_mem_check(ctx->caller->mem, a[1], span ? span : 1) != TV_OK)
        return TV_E_INVALID_ARGUMENT;
    set_out0(ctx, sizeof(struct tv_vm_info));
    if (a[2] < sizeof(struct tv_vm_info))
        return TV_E_BUFFER_TOO_SMALL;
    struct tv_vm_info rec;
    tv_status_t s = dir->info(dir->ctx, (uint32_t)a[0], ctx->caller->partition_id, &rec);
    if (s == TV_OK)
        s = guest_mem_write(ctx->caller->mem, a[1], &rec, sizeof rec);
    if (s != TV_OK)
        ctx->out_mask = 0;
    return s;
}

/* The operations: a0 VM id, nothing else; o0 = the new task's id.  Every
 * refusal comes from the type's prepare, before a task exists. */
static tv_status_t start_op(struct hcall_ctx *ctx, uint32_t op)
{
    struct vm_call_state *st = state_of(ctx);
    const uint64_t *a = ctx->arg;
    /* Shutdown and Restart take a flags word; the others only the id. */
    unsigned nargs = (op == VM_OP_SHUTDOWN || op == VM_OP_RESTART) ? 2 : 1;
    if (!rest_zero(a, nargs) || a[0] > UINT32_MAX || a[1] > UINT32_MAX)
        return TV_E_INVALID_ARGUMENT;
    struct tv_vm_op_args args = { (uint32_t)a[0], (uint32_t)a[1] };
    uint64_t id = 0;
    tv_status_t s = task_types_start(st->types, st->mgr, vm_op_task_type(op), &args, sizeof args,
                                     &id);
    if (s == TV_OK)
        set_out0(ctx, id);
    return s;
}

static tv_status_t hc_startup(struct hcall_ctx *ctx) { return start_op(ctx, VM_OP_STARTUP); }
static tv_status_t hc_turn_off(struct hcall_ctx *ctx) { return start_op(ctx, VM_OP_TURN_OFF); }
static tv_status_t hc_reset(struct hcall_ctx *ctx) { return start_op(ctx, VM_OP_RESET); }
static tv_status_t hc_pause(struct hcall_ctx *ctx) { return start_op(ctx, VM_OP_PAUSE); }
static tv_status_t hc_resume(struct hcall_ctx *ctx) { return start_op(ctx, VM_OP_RESUME); }
static tv_status_t hc_shutdown(struct hcall_ctx *ctx) { return start_op(ctx, VM_OP_SHUTDOWN); }
static tv_status_t hc_restart(struct hcall_ctx *ctx) { return start_op(ctx, VM_OP_RESTART); }
static tv_status_t hc_logoff(struct hcall_ctx *ctx) { return start_op(ctx, VM_OP_LOGOFF); }
static tv_status_t hc_save(struct hcall_ctx *ctx) { return start_op(ctx, VM_OP_SAVE); }

bool vm_info_can_shutdown(const struct tv_vm_info *r)
{
    return r->state == TV_VM_RUNNING && (r->flags & TV_VM_F_AGENT_SHUTDOWN) &&
           !(r->flags & (TV_VM_F_BUSY | TV_VM_F_CONTROL));
}

/* VM_CAN_SHUTDOWN a0 id -> o0 0/1: a query, no task. */
static tv_status_t hc_can_shutdown(struct hcall_ctx *ctx)
{
    const struct vm_directory *dir = state_of(ctx)->dir;
    const uint64_t *a = ctx->arg;
    if (!rest_zero(a, 1) || a[0] > UINT32_MAX)
        return TV_E_INVALID_ARGUMENT;
    struct tv_vm_info rec;
    tv_status_t s = dir->info(dir->ctx, (uint32_t)a[0], ctx->caller->partition_id, &rec);
    if (s == TV_OK)
        set_out0(ctx, vm_info_can_shutdown(&rec) ? 1 : 0);
    return s;
}

const struct hcall_desc vm_calls[VM_CALL_COUNT] = {
    { TV_HC_VM_LIST, "VM_LIST", HCALL_F_MGMT, hc_list },
    { TV_HC_VM_QUERY, "VM_QUERY", HCALL_F_MGMT, hc_query },
    { TV_HC_VM_STARTUP, "VM_STARTUP", HCALL_F_MGMT, hc_startup },
    { TV_HC_VM_TURN_OFF, "VM_TURN_OFF", HCALL_F_MGMT, hc_turn_off },
    { TV_HC_VM_RESET, "VM_RESET", HCALL_F_MGMT, hc_reset },
    { TV_HC_VM_PAUSE, "VM_PAUSE", HCALL_F_MGMT, hc_pause },
    { TV_HC_VM_RESUME, "VM_RESUME", HCALL_F_MGMT, hc_resume },
    { TV_HC_VM_SHUTDOWN, "VM_SHUTDOWN", HCALL_F_MGMT, hc_shutdown },
    { TV_HC_VM_RESTART, "VM_RESTART", HCALL_F_MGMT, hc_restart },
    { TV_HC_VM_LOGOFF, "VM_LOGOFF", HCALL_F_MGMT, hc_logoff },
    { TV_HC_VM_CAN_SHUTDOWN, "VM_CAN_SHUTDOWN", HCALL_F_MGMT, hc_can_shutdown },
    { TV_HC_VM_SAVE, "VM_SAVE", HCALL_F_MGMT, hc_save },
};

/* ---- The task types ----------------------------------------------------- */

static tv_status_t prepare(const struct vm_task_types *types, uint32_t op, const void *argp,
                           struct task_prepared *out)
{
    const struct vm_directory *dir = types->dir;
    const struct tv_vm_op_args *args = argp;
    uint32_t allowed = (op == VM_OP_SHUTDOWN || op == VM_OP_RESTART) ? TV_VM_OP_F_FORCE : 0;
    if (args->flags & ~allowed)
        return TV_E_INVALID_ARGUMENT;
    struct tv_vm_info rec;
    tv_status_t s = dir->info(dir->ctx, args->vm_id, UINT32_MAX, &rec);
    if (s != TV_OK)
        return s;
    if ((s = dir->claim(dir->ctx, args->vm_id, op)) != TV_OK)
        return s;
    /* A guest operation needs an agent that announced it; checked after the
     * claim so that the state's refusal (not running, ...) comes first and
     * an agent cannot appear or go between the check and the claim unseen:
     * the driver asks the agent again (AGENT_NOT_PRESENT as the task's error). */
    if (vm_op_is_guest(op)) {
        if ((s = dir->info(dir->ctx, args->vm_id, UINT32_MAX, &rec)) == TV_OK &&
            !((rec.flags >> TV_VM_F_AGENT_SHIFT) & vm_op_agent_cap(op)))
            s = TV_E_AGENT_NOT_PRESENT;
        if (s != TV_OK) {
            dir->unclaim(dir->ctx, args->vm_id);
            return s;
        }
    }
    struct vm_op_ctx *c = tp_alloc(sizeof *c);
    if (!c) {
        dir->unclaim(dir->ctx, args->vm_id);
        return TV_E_NO_MEMORY;
    }
    c->dir = dir;
    c->types = types;
    c->vm_id = args->vm_id;
    c->op = op;
    c->forced = (args->flags & TV_VM_OP_F_FORCE) != 0;
    rec.name[sizeof rec.name - 1] = 0;
    out->ctx = c;
    out->target = (struct tv_task_target){ TV_TASK_TARGET_VM, 0, args->vm_id };
    tv_snprintf(out->description, sizeof out->description, "%s%s of VM %s",
                c->forced ? "forced " : "", vm_op_name(op), rec.name);
    /* Startup is cancelable until the guest's first instruction (its driver
     * passes the point of no return there; a restore before it removes the
     * saved state), the guest operations until the agent answered (the
     * request is withdrawn, the VM left as it was), Save until the rename
     * that commits its file (the VM left running, no new saved state); the
     * others never: a TurnOff half done cannot be undone, and Pause/Resume
     * are instants. */
    out->not_cancelable = op != VM_OP_STARTUP && op != VM_OP_SAVE && !vm_op_is_guest(op);
    out->not_pausable = true;
    return TV_OK;
}

#define PREP(name, op)                                                                  \
    static tv_status_t name(void *owner, const void *args, struct task_prepared *out)   \
    {                                                                                   \
        return prepare(owner, op, args, out);                                          \
    }
PREP(prep_startup, VM_OP_STARTUP)
PREP(prep_turn_off, VM_OP_TURN_OFF)
PREP(prep_reset, VM_OP_RESET)
PREP(prep_pause, VM_OP_PAUSE)
PREP(prep_resume, VM_OP_RESUME)
PREP(prep_shutdown, VM_OP_SHUTDOWN)
PREP(prep_restart, VM_OP_RESTART)
PREP(prep_logoff, VM_OP_LOGOFF)
PREP(prep_save, VM_OP_SAVE)

static tv_status_t (*const preps[VM_OP_COUNT])(void *, const void *, struct task_prepared *) = {
    prep_startup, prep_turn_off, prep_reset, prep_pause, prep_resume,
    prep_shutdown, prep_restart, prep_logoff, prep_save,
};

static void cleanup(void *ctx)
{
    struct vm_op_ctx *c = ctx;
    if (!c)
        return;
    c->dir->unclaim(c->dir->ctx, c->vm_id);
    tp_free(c);
}

/* The driver's run: the type's own function, found through the context. */
static tv_status_t run(struct task_job *job, void *ctx)
{
    struct vm_op_ctx *c = ctx;
    return c->types->run[c->op](job, c);
}

static const char *const type_names[VM_OP_COUNT] = {
    "vm.startup", "vm.turn_off", "vm.reset", "vm.pause", "vm.resume",
    "vm.shutdown", "vm.restart", "vm.logoff", "vm.save",
};

tv_status_t vm_task_types_add(struct task_types *reg, struct vm_task_types *st,
                              const struct vm_directory *dir, const vm_op_run_fn runs[VM_OP_COUNT])
{
    if (!dir)
        return TV_E_INVALID_ARGUMENT;
    for (uint32_t op = 0; op < VM_OP_COUNT; op++)
        if (!runs[op])
            return TV_E_INVALID_ARGUMENT;
    st->dir = dir;
    for (uint32_t op = 0; op < VM_OP_COUNT; op++) {
        st->run[op] = runs[op];
        st->drivers[op] = (struct task_driver){ type_names[op], run, 0, 0, cleanup };
        st->types[op] = (struct task_type){
            .type = vm_op_task_type(op), .name = type_names[op], .driver = &st->drivers[op],
            .args_size = sizeof(struct tv_vm_op_args), .prepare = preps[op], .owner = st,
        };
        tv_status_t s = task_types_add(reg, &st->types[op]);
        if (s != TV_OK)
            return s;
    }
    return TV_OK;
}
