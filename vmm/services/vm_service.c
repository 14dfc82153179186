/* The VM service: the monitor's partitions as the VM directory of the
 * portable VM calls, the drivers of the VM task types, and VM state events
 * on the task event ring. */
#include "services/vm_service.h"
#include "services/task_service.h"
#include "services/vm_calls.h"
#include "vm/hypercall.h"
#include "vm/partition.h"
#include "vm/vm_life.h"
#include "kernel/options.h"
#include "services/vm_agent.h"
#include "tv_fmt.h"
#include "tv_string.h"

static uint32_t dir_count(void *ctx)
{
    (void)ctx;
    return partition_count;
}

static tv_status_t dir_info(void *ctx, uint32_t id, uint32_t caller_id, struct tv_vm_info *out)
{
    (void)ctx;
    struct partition *p = partition_by_id(id);
    if (!p)
        return TV_E_NOT_FOUND;
    vm_fill_info(p, caller_id, out);
    return TV_OK;
}

static tv_status_t dir_claim(void *ctx, uint32_t id, uint32_t op)
{
    (void)ctx;
    struct partition *p = partition_by_id(id);
    return p ? vm_claim(p, op) : TV_E_NOT_FOUND;
}

static void dir_unclaim(void *ctx, uint32_t id)
{
    (void)ctx;
    struct partition *p = partition_by_id(id);
    if (p)
        vm_unclaim(p);
}

static const struct vm_directory directory = { 0, dir_count, dir_info, dir_claim, dir_unclaim };

/* The drivers: the claim (taken in prepare) keeps every other operation
 * away from the VM while one runs. */
static tv_status_t run_startup(struct task_job *job, struct vm_op_ctx *c)
{
    return vm_startup(partition_by_id(c->vm_id), job);
}

static tv_status_t run_turn_off(struct task_job *job, struct vm_op_ctx *c)
{
    return vm_turn_off(partition_by_id(c->vm_id), job);
}

static tv_status_t run_reset(struct task_job *job, struct vm_op_ctx *c)
{
    return vm_reset(partition_by_id(c->vm_id), job);
}

static tv_status_t run_pause(struct task_job *job, struct vm_op_ctx *c)
{
    return vm_pause(partition_by_id(c->vm_id), job);
}

static tv_status_t run_resume(struct task_job *job, struct vm_op_ctx *c)
{
    return vm_resume(partition_by_id(c->vm_id), job);
}

static tv_status_t run_shutdown(struct task_job *job, struct vm_op_ctx *c)
{
    return vm_shutdown(partition_by_id(c->vm_id), job, c->forced);
}

static tv_status_t run_restart(struct task_job *job, struct vm_op_ctx *c)
{
    return vm_restart(partition_by_id(c->vm_id), job, c->forced);
}

static tv_status_t run_logoff(struct task_job *job, struct vm_op_ctx *c)
{
    return vm_logoff(partition_by_id(c->vm_id), job);
}

static tv_status_t run_save(struct task_job *job, struct vm_op_ctx *c)
{
    return vm_save(partition_by_id(c->vm_id), job);
}

static const vm_op_run_fn runs[VM_OP_COUNT] = {
    [VM_OP_STARTUP] = run_startup, [VM_OP_TURN_OFF] = run_turn_off, [VM_OP_RESET] = run_reset,
    [VM_OP_PAUSE] = run_pause, [VM_OP_RESUME] = run_resume, [VM_OP_SHUTDOWN] = run_shutdown,
    [VM_OP_RESTART] = run_restart, [VM_OP_LOGOFF] = run_logoff, [VM_OP_SAVE] = run_save,
};

/* The agent calls reach the caller's own agent, nobody else's. */
static void *agent_of_caller(void *owner, const struct hcall_caller *caller)
{
    (void)owner;
    struct partition *p = partition_by_id(caller->partition_id);
    return p && p->agent.lock ? &p->agent : 0;
}

static void agent_notify(void *ctx, uint8_t vector)
{
    struct partition *p = ctx;
    vcpu_post_interrupt(&p->vcpu, vector);
}

static struct vm_task_types vm_types;
static struct vm_call_state call_state;

static void *caller_state(void *owner, const struct hcall_caller *caller)
{
    (void)owner;
    (void)caller;
    return call_state.mgr ? &call_state : 0;
}

/* VM state changes go on the task event ring (kind TV_EVENT_KIND_VM). */
static void post_event(uint32_t vm_id, uint64_t seq, uint32_t state)
{
    struct task_mgr *mgr = task_service_mgr();
    if (mgr)
        task_events_post(mgr, TV_EVENT_KIND_VM, vm_id, seq, state);
}

/* Where each VM's saved state lives: save.NAME=VOLUME:/file, else
 * save_dir=VOLUME:/folder and NAME.vsv in it, else nowhere (VM_SAVE is
 * then refused with UNSUPPORTED).  docs/savestate.md. */
static void set_save_path(struct partition *p, const char *options)
{
    char key[8 + TV_BOOT_NAME_LEN], dir[TV_BOOT_PATH_LEN];
    tv_snprintf(key, sizeof key, "save.%s", p->name);
    p->save_path[0] = 0;
    if (option_get(options, key, p->save_path, sizeof p->save_path))
        return;
    if (!option_get(options, "save_dir", dir, sizeof dir))
        return;
    size_t n = tv_strlen(dir);
    tv_snprintf(p->save_path, sizeof p->save_path, "%s%s%s.vsv", dir,
                n && dir[n - 1] == '/' ? "" : "/", p->name);
}

tv_status_t vm_service_init(const char *options)
{
    struct task_types *types = task_service_types();
    if (!types)
        return TV_E_INVALID_STATE;
    vm_set_agent_timeout_ms(option_get_u64(options, "agent_timeout_ms",
                                           VM_AGENT_TIMEOUT_MS_DEFAULT));
#ifdef TV_TEST_BUILD
    vm_save_test_set_corrupt(option_get_u64(options, "save_test_corrupt", 0));
#endif
    tv_status_t st = TV_OK;
    for (uint32_t i = 0; i < partition_count && st == TV_OK; i++) {
        st = vm_agent_init(&partitions[i]->agent, agent_notify, partitions[i]);
        set_save_path(partitions[i], options);
    }
    if (st == TV_OK)
        st = vm_task_types_add(types, &vm_types, &directory, runs);
    if (st != TV_OK)
        return st;
    call_state = (struct vm_call_state){ task_service_mgr(), types, &directory };
    static const struct hcall_section section = { vm_calls, VM_CALL_COUNT, caller_state, 0 };
    st = hypercall_add_section(&section);
    static const struct hcall_section agent_section = { vm_agent_calls, VM_AGENT_CALL_COUNT,
                                                        agent_of_caller, 0 };
    if (st == TV_OK)
        st = hypercall_add_section(&agent_section);
    if (st == TV_OK)
        vm_set_event_sink(post_event);
    return st;
}
