/* Unit tests of the VM hypercalls (vmm/services/vm_calls.c) through the one
 * dispatcher (vmm/hcall) and the one registry of task types: argument
 * decoding, every refusal before a task exists, the tasks they start and
 * the claim that keeps two operations off one VM, against a fake VM
 * directory and a fake caller memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "platform_hosted.h"
#include "hcall/hcall.h"
#include "services/vm_calls.h"
#include "task_platform.h"
#include "taskvisor/agent.h"
#include "taskvisor/hypercall.h"
#include "../common/hcall_fixture.h"

#define BASE 0x40000ull
#define SIZE (64 * 1024)

struct fake_vm {
    struct tv_vm_info info;
    uint32_t claim;          /* 0 or op + 1 */
    unsigned runs[VM_OP_COUNT];
};

struct env {
    struct fake_vm vms[3];   /* 0 ctl (control, running), 1 hb (off), 2 other (off) */
    struct vm_directory dir;
    struct task_mgr *mgr;
    struct task_types types;
    struct vm_task_types vm_types;
    struct vm_call_state calls;
    struct hcf_ram ram;
    struct hcall_section section;
    struct hcall_table table;
    struct hcall_caller caller;
    bool last_forced;        /* what the last fake run saw */
};

static struct env *cur;

static uint32_t d_count(void *ctx) { (void)ctx; return 3; }

static tv_status_t d_info(void *ctx, uint32_t id, uint32_t caller, struct tv_vm_info *out)
{
    struct env *e = ctx;
    if (id >= 3)
        return TV_E_NOT_FOUND;
    *out = e->vms[id].info;
    if (id == caller)
        out->flags |= TV_VM_F_SELF;
    if (e->vms[id].claim)
        out->flags |= TV_VM_F_BUSY;
    return TV_OK;
}

static tv_status_t d_claim(void *ctx, uint32_t id, uint32_t op)
{
    struct env *e = ctx;
    if (id >= 3)
        return TV_E_NOT_FOUND;
    struct fake_vm *v = &e->vms[id];
    tv_status_t st = vm_op_check(op, v->info.state, (v->info.flags & TV_VM_F_CONTROL) != 0);
    if (st == TV_OK && v->claim)
        st = vm_op_claim_refusal(v->claim - 1, op);
    if (st == TV_OK)
        v->claim = op + 1;
    return st;
}

static void d_unclaim(void *ctx, uint32_t id)
{
    struct env *e = ctx;
    e->vms[id].claim = 0;
}

/* Fake drivers: the state each operation leaves, checked by the table. */
static tv_status_t fake_run(struct task_job *job, struct vm_op_ctx *c)
{
    struct fake_vm *v = &cur->vms[c->vm_id];
    v->runs[c->op]++;
    assert_int_equal(v->claim, c->op + 1); /* the task holds the claim */
    static const uint32_t ends[VM_OP_COUNT] = {
        [VM_OP_STARTUP] = TV_VM_RUNNING, [VM_OP_TURN_OFF] = TV_VM_TURNED_OFF,
        [VM_OP_RESET] = TV_VM_RUNNING, [VM_OP_PAUSE] = TV_VM_PAUSED,
        [VM_OP_RESUME] = TV_VM_RUNNING, [VM_OP_SHUTDOWN] = TV_VM_TURNED_OFF,
        [VM_OP_RESTART] = TV_VM_RUNNING, [VM_OP_LOGOFF] = TV_VM_RUNNING,
        [VM_OP_SAVE] = TV_VM_SAVED,
    };
    cur->last_forced = c->forced;
    task_job_set_total(job, 10);
    task_job_set_done(job, 10);
    v->info.state = ends[c->op];
    return TV_OK;
}

static const vm_op_run_fn runs[VM_OP_COUNT] = { fake_run, fake_run, fake_run, fake_run,
                                                 fake_run, fake_run, fake_run, fake_run,
                                                 fake_run };

static void *call_state(void *owner, const struct hcall_caller *caller)
{
    (void)caller;
    struct env *e = owner;
    return &e->calls;
}

static void def(struct fake_vm *v, uint32_t id, const char *name, uint32_t state, uint32_t flags)
{
    memset(v, 0, sizeof *v);
    v->info.id = id;
    v->info.state = state;
    v->info.flags = flags;
    v->info.vcpu_count = 1;
    v->info.memory_bytes = 16u << 20;
    strcpy(v->info.name, name);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    cur = e;
    hcf_ram_init(&e->ram, BASE, SIZE);
    def(&e->vms[0], 0, "ctl", TV_VM_RUNNING, TV_VM_F_CONTROL | TV_VM_F_AUTOSTART);
    def(&e->vms[1], 1, "hb", TV_VM_TURNED_OFF, 0);
    def(&e->vms[2], 2, "other", TV_VM_TURNED_OFF, 0);
    e->dir = (struct vm_directory){ e, d_count, d_info, d_claim, d_unclaim };
    struct task_mgr_config cfg = { 0 }; /* no workers: tasks run in task_mgr_run_next */
    assert_int_equal(task_mgr_create(&cfg, &e->mgr), TV_OK);
    task_types_init(&e->types);
    assert_int_equal(vm_task_types_add(&e->types, &e->vm_types, &e->dir, runs), TV_OK);
    e->calls = (struct vm_call_state){ e->mgr, &e->types, &e->dir };
    e->section = (struct hcall_section){ vm_calls, VM_CALL_COUNT, call_state, e };
    e->table = (struct hcall_table){ &e->section, 1 };
    e->caller = (struct hcall_caller){ .partition_id = 0, .is_control = true, .wide = true,
                                       .mem = &e->ram.view };
    assert_int_equal(hcall_table_check(&e->table, NULL), TV_OK);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    task_mgr_destroy(e->mgr);
    hcf_ram_fini(&e->ram);
    free(e);
    return 0;
}

static tv_status_t hc(struct env *e, uint32_t code, uint64_t a0, uint64_t a1, uint64_t a2,
                      uint64_t a3, uint64_t *out)
{
    struct hcall_regs r = { .rax = code, .rdx = 0xdead };
    hcf_set_args(&r, e->caller.wide, (const uint64_t[HCALL_NARGS]){ a0, a1, a2, a3, 0 });
    enum hcall_action act = hcf_dispatch(&e->table, &e->caller, &r);
    assert_int_equal(act, HCALL_ADVANCE);
    if (out)
        *out = r.rdx;
    return (tv_status_t)r.rax;
}

static size_t tasks(struct env *e)
{
    struct tv_task_event ev[16];
    size_t n = 0;
    assert_int_equal(task_list(e->mgr, 0, 0, ev, 16, &n), TV_OK);
    return n;
}

static void codes_and_permissions(void **state)
{
    struct env *e = *state;
    for (uint32_t c = TV_HC_VM_LIST; c <= TV_HC_VM_SAVE; c++)
        assert_non_null(hcall_lookup(&e->table, c, false, NULL));
    assert_int_equal(hc(e, TV_HC_VM_SAVE + 1, 0, 0, 0, 0, NULL), TV_E_UNKNOWN_CALL);
    assert_int_equal(hc(e, TV_HC_AGENT_ANNOUNCE, 1, 1, 0, 0, NULL), TV_E_UNKNOWN_CALL); /* not this section */
    e->caller.is_control = false;
    assert_int_equal(hc(e, TV_HC_VM_LIST, 0, 0, 0, 0, NULL), TV_E_ACCESS_DENIED);
    assert_int_equal(hc(e, TV_HC_VM_STARTUP, 1, 0, 0, 0, NULL), TV_E_ACCESS_DENIED);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, 0, 0, 0, NULL), TV_E_ACCESS_DENIED);
    assert_int_equal(hc(e, TV_HC_VM_RESTART, 1, 1, 0, 0, NULL), TV_E_ACCESS_DENIED);
    assert_int_equal(hc(e, TV_HC_VM_LOGOFF, 1, 0, 0, 0, NULL), TV_E_ACCESS_DENIED);
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 1, 0, 0, 0, NULL), TV_E_ACCESS_DENIED);
    e->caller.is_control = true;
    assert_int_equal(tasks(e), 0);
}

static void list_and_query(void **state)
{
    struct env *e = *state;
    uint64_t out = 0;
    /* count only */
    assert_int_equal(hc(e, TV_HC_VM_LIST, 0, 0, 0, 0, &out), TV_OK);
    assert_int_equal(out, 3);
    assert_int_equal(hc(e, TV_HC_VM_LIST, BASE, 2, 0, 0, &out), TV_OK);
    assert_int_equal(out, 3);
    struct tv_vm_info recs[2];
    memcpy(recs, e->ram.mem, sizeof recs);
    assert_string_equal(recs[0].name, "ctl");
    assert_int_equal(recs[0].flags & TV_VM_F_SELF, TV_VM_F_SELF);
    assert_string_equal(recs[1].name, "hb");
    assert_int_equal(recs[1].state, TV_VM_TURNED_OFF);
    /* bad list arguments */
    assert_int_equal(hc(e, TV_HC_VM_LIST, BASE + 4, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_LIST, 0, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_LIST, BASE, VM_CALL_LIST_MAX + 1, 0, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_LIST, BASE + SIZE - 8, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_LIST, BASE, 1, 1, 0, NULL), TV_E_INVALID_ARGUMENT);
    /* query */
    assert_int_equal(hc(e, TV_HC_VM_QUERY, 2, BASE + 0x1000, sizeof(struct tv_vm_info), 0, &out),
                     TV_OK);
    assert_int_equal(out, sizeof(struct tv_vm_info));
    struct tv_vm_info r;
    memcpy(&r, e->ram.mem + 0x1000, sizeof r);
    assert_string_equal(r.name, "other");
    assert_int_equal(hc(e, TV_HC_VM_QUERY, 2, BASE + 0x1000, 100, 0, &out), TV_E_BUFFER_TOO_SMALL);
    assert_int_equal(out, sizeof(struct tv_vm_info));
    assert_int_equal(hc(e, TV_HC_VM_QUERY, 9, BASE + 0x1000, sizeof r, 0, NULL), TV_E_NOT_FOUND);
    assert_int_equal(hc(e, TV_HC_VM_QUERY, 1ull << 32, BASE, sizeof r, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_QUERY, 1, BASE + 1, sizeof r, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_QUERY, 1, 0, sizeof r, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_QUERY, 1, BASE + SIZE - 16, sizeof r, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_QUERY, 1, BASE, sizeof r, 5, NULL), TV_E_INVALID_ARGUMENT);
}

/* Every refusal comes from the call, and no task exists after it. */
static void refusals_create_no_task(void **state)
{
    struct env *e = *state;
    assert_int_equal(hc(e, TV_HC_VM_TURN_OFF, 1, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    assert_int_equal(hc(e, TV_HC_VM_RESET, 1, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    assert_int_equal(hc(e, TV_HC_VM_PAUSE, 1, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    assert_int_equal(hc(e, TV_HC_VM_RESUME, 1, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    assert_int_equal(hc(e, TV_HC_VM_STARTUP, 3, 0, 0, 0, NULL), TV_E_NOT_FOUND);
    assert_int_equal(hc(e, TV_HC_VM_STARTUP, 1ull << 32 | 1, 0, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_STARTUP, 1, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_TURN_OFF, 0, 0, 0, 0, NULL), TV_E_CONTROL_PARTITION);
    assert_int_equal(hc(e, TV_HC_VM_RESET, 0, 0, 0, 0, NULL), TV_E_CONTROL_PARTITION);
    assert_int_equal(hc(e, TV_HC_VM_PAUSE, 0, 0, 0, 0, NULL), TV_E_CONTROL_PARTITION);
    assert_int_equal(hc(e, TV_HC_VM_STARTUP, 0, 0, 0, 0, NULL), TV_E_VM_RUNNING);
    assert_int_equal(hc(e, TV_HC_VM_SAVE, 1, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    assert_int_equal(hc(e, TV_HC_VM_SAVE, 0, 0, 0, 0, NULL), TV_E_CONTROL_PARTITION);
    assert_int_equal(hc(e, TV_HC_VM_SAVE, 1, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    e->vms[2].info.state = TV_VM_SAVED;
    assert_int_equal(hc(e, TV_HC_VM_SAVE, 2, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    assert_int_equal(tasks(e), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(e->vms[i].claim, 0);
}

static void operations_run_as_tasks(void **state)
{
    struct env *e = *state;
    uint64_t id = 0, id2 = 0;
    assert_int_equal(hc(e, TV_HC_VM_STARTUP, 1, 0, 0, 0, &id), TV_OK);
    assert_true(id > 0);
    /* claimed: a second operation is BUSY, and creates nothing */
    assert_int_equal(hc(e, TV_HC_VM_STARTUP, 1, 0, 0, 0, NULL), TV_E_BUSY);
    assert_int_equal(tasks(e), 1);
    struct tv_task_info info;
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.type, TV_TASK_TYPE_VM_STARTUP);
    assert_int_equal(info.target.kind, TV_TASK_TARGET_VM);
    assert_int_equal(info.target.id, 1);
    assert_string_equal(info.description, "startup of VM hb");
    assert_true(info.flags & TV_TASK_FLAG_CANCELABLE);
    assert_false(info.flags & TV_TASK_FLAG_PAUSABLE);
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.result, TV_TASK_RESULT_SUCCESS);
    assert_int_equal(e->vms[1].info.state, TV_VM_RUNNING);
    assert_int_equal(e->vms[1].claim, 0); /* given back by the cleanup */
    /* now running: pause, the claim blocks a turn off meanwhile */
    assert_int_equal(hc(e, TV_HC_VM_PAUSE, 1, 0, 0, 0, &id), TV_OK);
    assert_int_equal(hc(e, TV_HC_VM_TURN_OFF, 1, 0, 0, 0, NULL), TV_E_BUSY);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_false(info.flags & TV_TASK_FLAG_CANCELABLE);
    assert_int_equal(task_cancel(e->mgr, id), TV_E_NOT_CANCELABLE);
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_int_equal(e->vms[1].info.state, TV_VM_PAUSED);
    assert_int_equal(hc(e, TV_HC_VM_PAUSE, 1, 0, 0, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(hc(e, TV_HC_VM_RESUME, 1, 0, 0, 0, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_int_equal(e->vms[1].info.state, TV_VM_RUNNING);
    assert_int_equal(hc(e, TV_HC_VM_RESET, 1, 0, 0, 0, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    /* 32-bit caller: same decoding */
    e->caller.wide = false;
    assert_int_equal(hc(e, TV_HC_VM_TURN_OFF, 1, 0, 0, 0, &id2), TV_OK);
    e->caller.wide = true;
    assert_int_equal(task_query(e->mgr, id2, &info), TV_OK);
    assert_string_equal(info.description, "turn off of VM hb");
    assert_int_equal(task_cancel(e->mgr, id2), TV_E_NOT_CANCELABLE); /* TurnOff: never */
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_int_equal(e->vms[1].info.state, TV_VM_TURNED_OFF);
    for (int op = 0; op <= VM_OP_RESUME; op++)
        assert_int_equal(e->vms[1].runs[op], 1);
}

/* A Startup cancelled before it ran: its cleanup still gives the claim back. */
static void cancelled_startup_releases_the_vm(void **state)
{
    struct env *e = *state;
    uint64_t id = 0;
    assert_int_equal(hc(e, TV_HC_VM_STARTUP, 1, 0, 0, 0, &id), TV_OK);
    assert_int_equal(e->vms[1].claim, VM_OP_STARTUP + 1);
    assert_int_equal(task_cancel(e->mgr, id), TV_OK);
    struct tv_task_info info;
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.result, TV_TASK_RESULT_CANCELLED);
    assert_int_equal(e->vms[1].claim, 0);
    assert_int_equal(e->vms[1].runs[VM_OP_STARTUP], 0);
    assert_int_equal(e->vms[1].info.state, TV_VM_TURNED_OFF);
}

static void types_are_registered_once(void **state)
{
    struct env *e = *state;
    struct vm_task_types second;
    assert_int_equal(vm_task_types_add(&e->types, &second, &e->dir, runs), TV_E_BUSY);
    struct task_types other;
    task_types_init(&other);
    vm_op_run_fn missing[VM_OP_COUNT] = { fake_run, fake_run, fake_run, fake_run,
                                          fake_run, fake_run, fake_run, fake_run, 0 };
    assert_int_equal(vm_task_types_add(&other, &second, &e->dir, missing), TV_E_INVALID_ARGUMENT);
    assert_non_null(task_types_get(&e->types, TV_TASK_TYPE_VM_RESUME));
    struct tv_vm_op_args args = { 1, 0 };
    uint64_t id;
    assert_int_equal(task_types_start(&e->types, e->mgr, TV_TASK_TYPE_VM_STARTUP, &args, 4, &id),
                     TV_E_INVALID_ARGUMENT);
}

/* Agent caps in the fake record, as vm_fill_info puts them. */
static void give_agent(struct env *e, uint32_t id, uint32_t caps)
{
    e->vms[id].info.flags &= ~(7u << TV_VM_F_AGENT_SHIFT);
    e->vms[id].info.flags |= caps << TV_VM_F_AGENT_SHIFT;
}

/* Shutdown, Restart, Logoff: every refusal before a task exists. */
static void guest_operations_refusals(void **state)
{
    struct env *e = *state;
    /* off: not running, agent or not */
    give_agent(e, 1, TV_AGENT_CAPS_ALL);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    assert_int_equal(hc(e, TV_HC_VM_RESTART, 1, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    assert_int_equal(hc(e, TV_HC_VM_LOGOFF, 1, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    /* paused: its agent cannot answer */
    e->vms[1].info.state = TV_VM_PAUSED;
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, 0, 0, 0, NULL), TV_E_VM_NOT_RUNNING);
    e->vms[1].info.state = TV_VM_TURNING_OFF;
    assert_int_equal(hc(e, TV_HC_VM_RESTART, 1, 0, 0, 0, NULL), TV_E_BUSY);
    /* running, no agent */
    e->vms[1].info.state = TV_VM_RUNNING;
    give_agent(e, 1, 0);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, 0, 0, 0, NULL), TV_E_AGENT_NOT_PRESENT);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, TV_VM_OP_F_FORCE, 0, 0, NULL),
                     TV_E_AGENT_NOT_PRESENT);
    assert_int_equal(hc(e, TV_HC_VM_RESTART, 1, 0, 0, 0, NULL), TV_E_AGENT_NOT_PRESENT);
    assert_int_equal(hc(e, TV_HC_VM_LOGOFF, 1, 0, 0, 0, NULL), TV_E_AGENT_NOT_PRESENT);
    /* an agent that announced only some operations */
    give_agent(e, 1, TV_AGENT_CAP_LOGOFF);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, 0, 0, 0, NULL), TV_E_AGENT_NOT_PRESENT);
    assert_int_equal(hc(e, TV_HC_VM_RESTART, 1, 0, 0, 0, NULL), TV_E_AGENT_NOT_PRESENT);
    give_agent(e, 1, TV_AGENT_CAP_SHUTDOWN | TV_AGENT_CAP_RESTART);
    assert_int_equal(hc(e, TV_HC_VM_LOGOFF, 1, 0, 0, 0, NULL), TV_E_AGENT_NOT_PRESENT);
    /* arguments: flags only FORCE, only for shutdown and restart */
    give_agent(e, 1, TV_AGENT_CAPS_ALL);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, 2, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, 1ull << 32, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_RESTART, 1, 0, 1, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_LOGOFF, 1, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_LOGOFF, 1ull << 32 | 1, 0, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 7, 0, 0, 0, NULL), TV_E_NOT_FOUND);
    /* the control partition has POWER_OFF, not these */
    give_agent(e, 0, TV_AGENT_CAPS_ALL);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 0, 0, 0, 0, NULL), TV_E_CONTROL_PARTITION);
    assert_int_equal(hc(e, TV_HC_VM_RESTART, 0, 1, 0, 0, NULL), TV_E_CONTROL_PARTITION);
    assert_int_equal(hc(e, TV_HC_VM_LOGOFF, 0, 0, 0, 0, NULL), TV_E_CONTROL_PARTITION);
    assert_int_equal(tasks(e), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(e->vms[i].claim, 0);
}

/* The tasks: types, descriptions, forced flag, cancelable, and
 * SHUTDOWN_IN_PROGRESS while a shutdown or restart holds the VM. */
static void guest_operations_run_as_tasks(void **state)
{
    struct env *e = *state;
    e->vms[1].info.state = TV_VM_RUNNING;
    give_agent(e, 1, TV_AGENT_CAPS_ALL);
    uint64_t id = 0;
    struct tv_task_info info;
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, TV_VM_OP_F_FORCE, 0, 0, &id), TV_OK);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.type, TV_TASK_TYPE_VM_SHUTDOWN);
    assert_string_equal(info.description, "forced shutdown of VM hb");
    assert_true(info.flags & TV_TASK_FLAG_CANCELABLE);
    /* a shutdown holds it: the guest operations hear why, the others BUSY */
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, 0, 0, 0, NULL), TV_E_SHUTDOWN_IN_PROGRESS);
    assert_int_equal(hc(e, TV_HC_VM_RESTART, 1, 0, 0, 0, NULL), TV_E_SHUTDOWN_IN_PROGRESS);
    assert_int_equal(hc(e, TV_HC_VM_LOGOFF, 1, 0, 0, 0, NULL), TV_E_SHUTDOWN_IN_PROGRESS);
    assert_int_equal(hc(e, TV_HC_VM_TURN_OFF, 1, 0, 0, 0, NULL), TV_E_BUSY);
    uint64_t out = 9;
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 1, 0, 0, 0, &out), TV_OK);
    assert_int_equal(out, 0); /* busy */
    assert_int_equal(tasks(e), 1);
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_true(e->last_forced);
    assert_int_equal(e->vms[1].runs[VM_OP_SHUTDOWN], 1);
    assert_int_equal(e->vms[1].info.state, TV_VM_TURNED_OFF);
    assert_int_equal(e->vms[1].claim, 0);
    /* restart (not forced), then logoff; a logoff holds it: BUSY, not a shutdown */
    e->vms[1].info.state = TV_VM_RUNNING;
    assert_int_equal(hc(e, TV_HC_VM_RESTART, 1, 0, 0, 0, &id), TV_OK);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.type, TV_TASK_TYPE_VM_RESTART);
    assert_string_equal(info.description, "restart of VM hb");
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_false(e->last_forced);
    assert_int_equal(hc(e, TV_HC_VM_LOGOFF, 1, 0, 0, 0, &id), TV_OK);
    assert_int_equal(hc(e, TV_HC_VM_SHUTDOWN, 1, 0, 0, 0, NULL), TV_E_BUSY);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.type, TV_TASK_TYPE_VM_LOGOFF);
    /* cancelable until the agent answered: cancelled while queued, it never ran */
    assert_int_equal(task_cancel(e->mgr, id), TV_OK);
    assert_int_equal(e->vms[1].claim, 0);
    assert_int_equal(e->vms[1].runs[VM_OP_LOGOFF], 0);
    assert_int_equal(e->vms[1].info.state, TV_VM_RUNNING);
}

static void can_shutdown_query(void **state)
{
    struct env *e = *state;
    uint64_t out = 9;
    /* off: 0 (Virtual PC's S_FALSE) */
    give_agent(e, 1, TV_AGENT_CAPS_ALL);
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 1, 0, 0, 0, &out), TV_OK);
    assert_int_equal(out, 0);
    e->vms[1].info.state = TV_VM_RUNNING;
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 1, 0, 0, 0, &out), TV_OK);
    assert_int_equal(out, 1);
    give_agent(e, 1, TV_AGENT_CAP_RESTART | TV_AGENT_CAP_LOGOFF);
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 1, 0, 0, 0, &out), TV_OK);
    assert_int_equal(out, 0);
    give_agent(e, 1, TV_AGENT_CAP_SHUTDOWN);
    e->vms[1].info.state = TV_VM_PAUSED;
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 1, 0, 0, 0, &out), TV_OK);
    assert_int_equal(out, 0);
    give_agent(e, 0, TV_AGENT_CAPS_ALL); /* the control partition: never */
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 0, 0, 0, 0, &out), TV_OK);
    assert_int_equal(out, 0);
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 3, 0, 0, 0, NULL), TV_E_NOT_FOUND);
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 1, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_VM_CAN_SHUTDOWN, 1ull << 32, 0, 0, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(tasks(e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(codes_and_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(list_and_query, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_create_no_task, setup, teardown),
        cmocka_unit_test_setup_teardown(operations_run_as_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(cancelled_startup_releases_the_vm, setup, teardown),
        cmocka_unit_test_setup_teardown(types_are_registered_once, setup, teardown),
        cmocka_unit_test_setup_teardown(guest_operations_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(guest_operations_run_as_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(can_shutdown_query, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
