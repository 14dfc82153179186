/* Unit tests of the task hypercalls (vmm/services/task_calls.c) through the
 * one dispatcher (vmm/hcall): argument decoding and validation, outputs and
 * continuations, against a fake caller memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "platform_hosted.h"
#include "hcall/hcall.h"
#include "services/task_calls.h"
#include "task_platform.h"
#include "task_test_job.h"
#include "taskvisor/hypercall.h"
#include "../common/hcall_fixture.h"

#define BASE 0x40000ull
#define SIZE (64 * 1024)
#define MS 1000000ull

struct fake {
    bool irq;
    const struct hcf_ram *ram;
    unsigned char *mem;          /* ram->mem */
    int maps, unmaps, notes;
    uint32_t last_vector;
    void *last_unmapped;
};

static void *f_map(void *ctx, uint64_t gpa, size_t len)
{
    struct fake *f = ctx;
    void *p = hcf_at(f->ram, gpa, len);
    if (p)
        f->maps++;
    return p;
}

static void f_unmap(void *ctx, void *host, size_t len)
{
    struct fake *f = ctx;
    (void)len;
    f->unmaps++;
    f->last_unmapped = host;
}

static void f_notify(void *ctx, uint32_t vector)
{
    struct fake *f = ctx;
    f->notes++;
    f->last_vector = vector;
}

static bool f_irq(void *ctx)
{
    struct fake *f = ctx;
    return f->irq;
}

struct env {
    struct fake f;
    struct task_mgr *mgr;
    struct task_call_state tasks;
    struct hcf_ram ram;
    struct hcall_section section;
    struct hcall_table table;
    struct hcall_caller caller;
};

static void *task_state(void *owner, const struct hcall_caller *caller)
{
    (void)caller;
    struct env *e = owner;
    return &e->tasks;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    hcf_ram_init(&e->ram, BASE, SIZE);
    e->f.ram = &e->ram;
    e->f.mem = e->ram.mem;
    tp_hosted_clock_manual(1000 * MS);
    struct task_mgr_config cfg = { 0 };
    assert_int_equal(task_mgr_create(&cfg, &e->mgr), TV_OK);
    e->tasks = (struct task_call_state){ .mgr = e->mgr, .ctx = &e->f, .map = f_map,
                                         .unmap = f_unmap, .notify = f_notify,
                                         .interrupt_pending = f_irq };
    e->section = (struct hcall_section){ task_calls, TASK_CALL_COUNT, task_state, e };
    e->table = (struct hcall_table){ &e->section, 1 };
    e->caller = (struct hcall_caller){ .is_control = true, .wide = true, .mem = &e->ram.view };
    assert_int_equal(hcall_table_check(&e->table, NULL), TV_OK);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    task_calls_release(&e->tasks);
    task_mgr_destroy(e->mgr);
    hcf_ram_fini(&e->ram);
    free(e);
    tp_hosted_clock_real();
    return 0;
}

/* What the caller sees after the call: RAX, RDX (o0), and the argument
 * registers (rewritten by a continuation). */
struct task_hcall_result {
    tv_status_t status;     /* TV_E_CONTINUE when RIP was not advanced */
    uint64_t out;           /* RDX */
    uint64_t args[5];
};

/* One call through the one dispatcher, as a 64-bit (or, with
 * e->caller.wide = false, 32-bit) CPL0 control-partition caller. */
static tv_status_t hc(struct env *e, uint32_t code, uint64_t a0, uint64_t a1, uint64_t a2,
                      uint64_t a3, uint64_t a4, struct task_hcall_result *res)
{
    struct task_hcall_result local;
    if (!res)
        res = &local;
    struct hcall_regs r = { .rax = code };
    hcf_set_args(&r, e->caller.wide, (const uint64_t[HCALL_NARGS]){ a0, a1, a2, a3, a4 });
    enum hcall_action act = hcf_dispatch(&e->table, &e->caller, &r);
    assert_int_not_equal(act, HCALL_INJECT_UD);
    res->status = act == HCALL_CONTINUE ? TV_E_CONTINUE : (tv_status_t)r.rax;
    if (act == HCALL_CONTINUE)
        assert_int_equal(r.rax, code);  /* the call repeats */
    res->out = r.rdx;
    hcf_get_args(&r, e->caller.wide, res->args);
    return res->status;
}

static uint64_t start_test_task(struct env *e, uint32_t flags)
{
    struct tv_task_test_spec spec = { .total_units = 4, .flags = flags };
    strcpy(spec.description, "test task");
    memcpy(e->f.mem + 0x8000, &spec, sizeof spec);
    struct task_hcall_result res;
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, BASE + 0x8000, sizeof spec, 0, 0, 0, &res),
                     TV_OK);
    return res.out;
}

static void codes(void **state)
{
    struct env *e = *state;
    for (uint32_t c = TV_HC_TASK_QUERY; c <= TV_HC_TASK_EVENTS_REGISTER; c++)
        assert_non_null(hcall_lookup(&e->table, c, false, NULL));
    assert_non_null(hcall_lookup(&e->table, TV_HC_TEST_TASK_START, true, NULL));
    assert_null(hcall_lookup(&e->table, TV_HC_TEST_TASK_START, false, NULL));
    assert_int_equal(hc(e, 0x108, 0, 0, 0, 0, 0, NULL), TV_E_UNKNOWN_CALL);
    assert_int_equal(hc(e, TV_HC_NOP, 0, 0, 0, 0, 0, NULL), TV_E_UNKNOWN_CALL);
    /* management calls: control partition only, checked by the dispatcher */
    e->caller.is_control = false;
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE, 1, 0, 0, NULL), TV_E_ACCESS_DENIED);
    e->caller.is_control = true;
}

static void query(void **state)
{
    struct env *e = *state;
    uint64_t id = start_test_task(e, 0);
    assert_int_equal(id, 1);
    struct task_hcall_result res;
    const uint64_t sz = sizeof(struct tv_task_info);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE + 0x100, sz, 0, 0, &res), TV_OK);
    assert_int_equal(res.out, sz);
    struct tv_task_info info;
    memcpy(&info, e->f.mem + 0x100, sizeof info);
    assert_int_equal(info.id, id);
    assert_int_equal(info.state, TV_TASK_QUEUED);
    assert_string_equal(info.description, "test task");
    /* bigger buffers are fine; only sizeof is written */
    memset(e->f.mem + 0x1000, 0x77, 1024);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE + 0x1000, 1024, 0, 0, &res), TV_OK);
    assert_int_equal(e->f.mem[0x1000 + sz], 0x77);
    /* The record went straight into the mapped buffer, unmapped after. */
    assert_int_equal(e->f.maps, 2);
    assert_int_equal(e->f.unmaps, 2);
    /* refusals */
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, 0, BASE, sz, 0, 0, &res), TV_E_INVALID_ARGUMENT);
    memset(e->f.mem, 0x55, sz);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, 99, BASE, sz, 0, 0, &res), TV_E_NOT_FOUND);
    assert_int_equal(res.out, sz); /* RDX (a2) untouched: no output on an error */
    assert_int_equal(e->f.mem[0], 0x55);          /* nor a byte of the buffer */
    assert_int_equal(e->f.mem[sz - 1], 0x55);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE + 4, sz, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, 0, sz, 0, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE, sz - 1, 0, 0, &res),
                     TV_E_BUFFER_TOO_SMALL);
    assert_int_equal(res.out, sz);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE, 0, 0, 0, &res), TV_E_BUFFER_TOO_SMALL);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE - 8, sz, 0, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE + SIZE - 8, sz, 0, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, UINT64_MAX - 7, sz, 0, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE, sz, 1, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE, sz, 0, 1, &res), TV_E_INVALID_ARGUMENT);
}

/* docs/hypercalls.md: a call writes only the outputs it defines, and checks
 * every guest buffer against the caller's RAM before anything else. */
static void output_rules(void **state)
{
    struct env *e = *state;
    uint64_t id = start_test_task(e, 0);
    struct task_hcall_result res;
    const uint64_t sz = sizeof(struct tv_task_info);
    /* verbs, WAIT and EVENTS_REGISTER define no output: RDX keeps its value */
    const uint32_t no_out[] = { TV_HC_TASK_CANCEL, TV_HC_TASK_PAUSE, TV_HC_TASK_RESUME,
                                TV_HC_TASK_DISMISS, TV_HC_TASK_EVENTS_REGISTER };
    for (size_t i = 0; i < sizeof no_out / sizeof no_out[0]; i++) {
        assert_int_equal(hc(e, no_out[i], id, 0, 0x5a5a, 0, 0, &res), TV_E_INVALID_ARGUMENT);
        assert_int_equal(res.out, 0x5a5a);
    }
    /* WAIT's a2 is its deadline token (long past here): RDX stays as given */
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, 0, 0x5a5a, 0, 0, &res), TV_E_TIMEOUT);
    assert_int_equal(res.out, 0x5a5a);
    assert_int_equal(hc(e, TV_HC_TASK_PAUSE, 777, 0, 0, 0, 0, &res), TV_E_NOT_FOUND);
    assert_int_equal(res.out, 0);
    /* QUERY: a buffer outside the caller is INVALID_ARGUMENT even when too small */
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE + SIZE + 0x1000, 8, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(res.out, 8);
    assert_int_equal(hc(e, TV_HC_TASK_QUERY, id, BASE, 8, 0, 0, &res), TV_E_BUFFER_TOO_SMALL);
    assert_int_equal(res.out, sz);
    /* LIST: the whole claimed buffer must be caller RAM, even with nothing to list */
    assert_int_equal(hc(e, TV_HC_TASK_LIST, id, BASE + SIZE + 0x1000, 4, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_LIST, id, BASE, 4, 0, 0, &res), TV_OK);
    assert_int_equal(res.out, 0);
}

static void list(void **state)
{
    struct env *e = *state;
    for (int i = 0; i < 40; i++)
        start_test_task(e, 0);
    struct task_hcall_result res;
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE, 100, 0, 0, &res), TV_OK);
    assert_int_equal(res.out, 40);
    struct tv_task_event *ev = (struct tv_task_event *)e->f.mem;
    for (int i = 0; i < 40; i++) {
        assert_int_equal(ev[i].id, (uint64_t)i + 1);
        assert_int_equal(ev[i].state, TV_TASK_QUEUED);
    }
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 35, BASE, 100, 0, 0, &res), TV_OK);
    assert_int_equal(res.out, 5);
    assert_int_equal(ev[0].id, 36);
    /* exactly one chunk and a bit */
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE, 17, 0, 0, &res), TV_OK);
    assert_int_equal(res.out, 17);
    assert_int_equal(ev[16].id, 17);
    assert_int_equal(hc(e, TV_HC_TASK_CANCEL, 2, 0, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE, 3, TV_TASK_LIST_UNFINISHED, 0, &res),
                     TV_OK);
    assert_int_equal(res.out, 3);
    assert_int_equal(ev[1].id, 3);
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE, 0, 0, 0, &res), TV_OK);
    assert_int_equal(res.out, 0);
    /* refusals */
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE + 4, 10, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, 0, 10, 0, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE, TASK_CALL_LIST_MAX + 1, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE, 10, 2, 0, &res), TV_E_INVALID_ARGUMENT);
    /* a4 counts entries of earlier entries (continuation state): added to
     * o0, and a4 + capacity may not pass the per-call maximum */
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE, 10, 0, 5, &res), TV_OK);
    assert_int_equal(res.out, 15);
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE, 10, 0, TASK_CALL_LIST_MAX - 9, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE + SIZE - 48, 10, 0, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(res.out, 10); /* RDX (a2) untouched */
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE + SIZE - 48, 2, 0, 0, &res), TV_OK);
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, 0xfffffffffffffff8ull, 10, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    /* a capacity far beyond the caller's memory faults, it does not overrun */
    assert_int_equal(hc(e, TV_HC_TASK_LIST, 0, BASE + SIZE - 8, TASK_CALL_LIST_MAX, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
}

/* Re-executes a call while it continues, as the CPU does (RIP not advanced,
 * the rewritten registers); returns the final status, *entries the number of
 * entries. */
static tv_status_t hc_to_end(struct env *e, uint32_t code, uint64_t a[5], unsigned *entries,
                             struct task_hcall_result *res)
{
    *entries = 0;
    for (;;) {
        tv_status_t st = hc(e, code, a[0], a[1], a[2], a[3], a[4], res);
        (*entries)++;
        if (st != TV_E_CONTINUE)
            return st;
        memcpy(a, res->args, 5 * sizeof a[0]);
    }
}

/* A listing longer than one exit's budget continues: every entry examines
 * a bounded number of records, and the call as a whole lists everything in
 * order, for 64- and 32-bit callers, also past long runs of finished tasks
 * with TV_TASK_LIST_UNFINISHED. */
static void list_continuation(void **state)
{
    struct env *e = *state;
    enum { N = 900 };
    for (int i = 0; i < N; i++)
        start_test_task(e, 0);
    /* The first 700 finished (cancelled), the last 200 queued. */
    for (uint64_t id = 1; id <= 700; id++)
        assert_int_equal(hc(e, TV_HC_TASK_CANCEL, id, 0, 0, 0, 0, NULL), TV_OK);
    struct tv_task_event *ev = (struct tv_task_event *)e->f.mem;
    struct task_hcall_result res;
    for (int wide = 1; wide >= 0; wide--) {
        e->caller.wide = wide;
        uint64_t a[5] = { 0, BASE, 1000, 0, 0 };
        unsigned entries;
        memset(ev, 0, 1000 * sizeof *ev);
        assert_int_equal(hc_to_end(e, TV_HC_TASK_LIST, a, &entries, &res), TV_OK);
        assert_int_equal(res.out, N);
        assert_true(entries > 1);
        for (int i = 0; i < N; i++)
            assert_int_equal(ev[i].id, (uint64_t)i + 1);
        uint64_t b[5] = { 0, BASE, 1000, TV_TASK_LIST_UNFINISHED, 0 };
        memset(ev, 0, 1000 * sizeof *ev);
        assert_int_equal(hc_to_end(e, TV_HC_TASK_LIST, b, &entries, &res), TV_OK);
        assert_int_equal(res.out, 200);
        assert_true(entries > 1); /* 700 finished records: more than one exit's scan */
        for (int i = 0; i < 200; i++) {
            assert_int_equal(ev[i].id, (uint64_t)i + 701);
            assert_int_equal(ev[i].state, TV_TASK_QUEUED);
        }
        /* A capacity that ends inside the list: exactly that many, no more. */
        uint64_t c[5] = { 0, BASE, 300, 0, 0 };
        memset(ev, 0, 1000 * sizeof *ev);
        assert_int_equal(hc_to_end(e, TV_HC_TASK_LIST, c, &entries, &res), TV_OK);
        assert_int_equal(res.out, 300);
        assert_int_equal(ev[299].id, 300);
        assert_int_equal(ev[300].id, 0);
    }
    e->caller.wide = true;
}

static void verbs(void **state)
{
    struct env *e = *state;
    uint64_t id = start_test_task(e, 0);
    uint64_t stubborn = start_test_task(e, TV_TASK_TEST_NOT_CANCELABLE | TV_TASK_TEST_NOT_PAUSABLE);
    for (uint32_t c = TV_HC_TASK_CANCEL; c <= TV_HC_TASK_DISMISS; c++) {
        assert_int_equal(hc(e, c, 0, 0, 0, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
        assert_int_equal(hc(e, c, 77, 0, 0, 0, 0, NULL), TV_E_NOT_FOUND);
        assert_int_equal(hc(e, c, id, 1, 0, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
        assert_int_equal(hc(e, c, id, 0, 0, 0, 1, NULL), TV_E_INVALID_ARGUMENT);
    }
    assert_int_equal(hc(e, TV_HC_TASK_RESUME, id, 0, 0, 0, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(hc(e, TV_HC_TASK_PAUSE, id, 0, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(hc(e, TV_HC_TASK_PAUSE, id, 0, 0, 0, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(hc(e, TV_HC_TASK_RESUME, id, 0, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(hc(e, TV_HC_TASK_DISMISS, id, 0, 0, 0, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(hc(e, TV_HC_TASK_CANCEL, id, 0, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(hc(e, TV_HC_TASK_CANCEL, id, 0, 0, 0, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(hc(e, TV_HC_TASK_DISMISS, id, 0, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(hc(e, TV_HC_TASK_DISMISS, id, 0, 0, 0, 0, NULL), TV_E_NOT_FOUND);
    assert_int_equal(hc(e, TV_HC_TASK_CANCEL, stubborn, 0, 0, 0, 0, NULL), TV_E_NOT_CANCELABLE);
    assert_int_equal(hc(e, TV_HC_TASK_PAUSE, stubborn, 0, 0, 0, 0, NULL), TV_E_UNSUPPORTED);
}

static void wait_and_continue(void **state)
{
    struct env *e = *state;
    uint64_t id = start_test_task(e, 0);
    struct task_hcall_result res;
    /* timeouts outside IVMTask's range */
    const uint64_t bad[] = { (uint64_t)-2, 4000001, 1ull << 40, (uint64_t)INT64_MIN,
                             0x80000000ull, 0xfffffffeull };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, bad[i], 0, 0, 0, &res),
                         TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, 0, 10, 0, 0, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, 55, 10, 0, 0, 0, &res), TV_E_NOT_FOUND);
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, 10, 0, 1, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, 0, 0, 0, 0, &res), TV_E_TIMEOUT);

    /* 2500 ms, one slice per entry (slice 0: never blocks) */
    uint64_t start = tp_now_ns();
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, 2500, 0, 0, 0, &res), TV_E_CONTINUE);
    assert_int_equal(res.args[0], id);
    assert_int_equal(res.args[1], 2500);
    assert_int_equal(res.args[2], start + 2500 * MS);
    tp_hosted_clock_advance(1000 * MS + 1);
    uint64_t a1 = res.args[1], a2 = res.args[2];
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, a1, a2, 0, 0, &res), TV_E_CONTINUE);
    assert_int_equal(res.args[1], 1500); /* 1499.999999 ms rounded up */
    assert_int_equal(res.args[2], start + 2500 * MS);
    /* a token cannot lengthen the wait */
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, 1500, UINT64_MAX - 5, 0, 0, &res),
                     TV_E_CONTINUE);
    assert_int_equal(res.args[2], tp_now_ns() + 1500 * MS);
    tp_hosted_clock_advance(1500 * MS);
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, 1500, start + 2500 * MS, 0, 0, &res),
                     TV_E_TIMEOUT);
    /* forever: continues with the arguments unchanged */
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, (uint64_t)-1, 0, 0, 0, &res), TV_E_CONTINUE);
    assert_int_equal(res.args[1], (uint64_t)-1);
    assert_int_equal(res.args[2], 0);
    /* 0xffffffff is -1 only from a 32-bit caller */
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, 0xffffffffull, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    e->caller.wide = false;
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, 0xffffffffull, 0, 0, 0, &res), TV_E_CONTINUE);
    assert_int_equal(res.args[1], 0xffffffffull);
    e->caller.wide = true;
    /* a finished task answers OK at once */
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, (uint64_t)-1, 0, 0, 0, &res), TV_OK);
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id, 0, 0, 0, 0, &res), TV_OK);
    /* with a slice, one entry blocks up to the slice (real clock here) */
    tp_hosted_clock_real();
    e->tasks.wait_slice_ns = 5 * MS;
    uint64_t id2 = start_test_task(e, 0);
    uint64_t t0 = tp_now_ns();
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id2, 4000, 0, 0, 0, &res), TV_E_CONTINUE);
    assert_true(tp_now_ns() - t0 >= 5 * MS);
    assert_true(res.args[1] <= 3995 && res.args[1] >= 1);
    /* an interrupt pending: no blocking at all, straight back to the guest */
    e->tasks.wait_slice_ns = 10000 * MS;
    e->f.irq = true;
    t0 = tp_now_ns();
    assert_int_equal(hc(e, TV_HC_TASK_WAIT, id2, 4000000, 0, 0, 0, &res), TV_E_CONTINUE);
    assert_true(tp_now_ns() - t0 < 1000 * MS);
    e->f.irq = false;
}

static void events_register(void **state)
{
    struct env *e = *state;
    struct task_hcall_result res;
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x800, 40, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x1000, 31, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x1000, 256, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x1000, 40, 2, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + SIZE, 40, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, 0x1000, 40, 0, 0, 0, &res), TV_E_INVALID_ARGUMENT);
    assert_int_equal(e->f.maps, 0);
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x1000, 40, 0, 0, 0, &res), TV_OK);
    struct tv_task_ring *ring = (struct tv_task_ring *)(e->f.mem + 0x1000);
    assert_int_equal(ring->hdr.magic, TV_TASK_RING_MAGIC);
    uint64_t id = start_test_task(e, 0);
    assert_int_equal(ring->hdr.head, 1);
    assert_int_equal(ring->entries[0].id, id);
    assert_int_equal(e->f.notes, 1);
    assert_int_equal(e->f.last_vector, 40);
    /* moving the ring unmaps the old page */
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x2000, 0, 0, 0, 0, &res), TV_OK);
    assert_int_equal(e->f.unmaps, 1);
    assert_ptr_equal(e->f.last_unmapped, ring);
    assert_int_equal(hc(e, TV_HC_TASK_CANCEL, id, 0, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(ring->hdr.head, 1); /* old ring untouched */
    struct tv_task_ring *ring2 = (struct tv_task_ring *)(e->f.mem + 0x2000);
    assert_int_equal(ring2->hdr.head, 2);
    assert_int_equal(e->f.notes, 1); /* vector 0: no interrupt */
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, 0, 0, 0, 0, 0, &res), TV_OK);
    assert_int_equal(e->f.unmaps, 2);
    e->tasks.map = NULL;
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x1000, 40, 0, 0, 0, &res),
                     TV_E_UNSUPPORTED);
}

/* VM events reach a ring only when its consumer asked (a2 = F_VM): one
 * registered the old way sees task entries alone. */
static void events_of_other_kinds_are_opt_in(void **state)
{
    struct env *e = *state;
    struct task_hcall_result res;
    struct tv_task_ring *ring = (struct tv_task_ring *)(e->f.mem + 0x1000);
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x1000, 0, 0, 0, 0, &res), TV_OK);
    assert_int_equal(task_events_post(e->mgr, TV_EVENT_KIND_VM, 3, 1, TV_VM_RUNNING), TV_OK);
    assert_int_equal(ring->hdr.head, 0);
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x1000, 0, TV_TASK_EVENTS_F_VM, 0, 0,
                        &res), TV_OK);
    assert_int_equal(task_events_post(e->mgr, TV_EVENT_KIND_VM, 3, 2, TV_VM_PAUSED), TV_OK);
    assert_int_equal(ring->hdr.head, 1);
    assert_int_equal(ring->entries[0].id, 3);
    assert_int_equal(ring->entries[0].seq, 2);
    assert_int_equal(TV_EVENT_KIND(ring->entries[0].state), TV_EVENT_KIND_VM);
    assert_int_equal(TV_EVENT_STATE(ring->entries[0].state), TV_VM_PAUSED);
    uint64_t id = start_test_task(e, 0); /* task entries keep kind 0 */
    assert_int_equal(ring->hdr.head, 2);
    assert_int_equal(ring->entries[1].id, id);
    assert_int_equal(TV_EVENT_KIND(ring->entries[1].state), TV_EVENT_KIND_TASK);
    assert_int_equal(task_events_post(e->mgr, TV_EVENT_KIND_TASK, 3, 3, 1), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_events_post(e->mgr, 32, 3, 3, 1), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_events_post(e->mgr, TV_EVENT_KIND_VM, 3, 3, 0x10000), TV_E_INVALID_ARGUMENT);
    /* a new registration starts with tasks only again */
    assert_int_equal(hc(e, TV_HC_TASK_EVENTS_REGISTER, BASE + 0x1000, 0, 0, 0, 0, &res), TV_OK);
    assert_int_equal(task_events_post(e->mgr, TV_EVENT_KIND_VM, 3, 4, TV_VM_RUNNING), TV_OK);
    assert_int_equal(ring->hdr.head, 0);
    assert_int_equal(hc(e, TV_HC_TASK_CANCEL, id, 0, 0, 0, 0, NULL), TV_OK);
}

static void test_start(void **state)
{
    struct env *e = *state;
    struct task_hcall_result res;
    struct tv_task_test_spec spec = { .total_units = 3 };
    strcpy(spec.description, "ok");
    const uint64_t sz = sizeof spec;
    uint64_t gpa = BASE + 0x3000;
#define PUT() memcpy(e->f.mem + 0x3000, &spec, sizeof spec)
    PUT();
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz - 1, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz + 8, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa + 4, sz, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, BASE + SIZE - 8, sz, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz, 0, 0, 0, &res), TV_OK);
    assert_int_equal(res.out, 1);
    spec.total_units = TASK_TEST_MAX_UNITS + 1;
    PUT();
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    spec.total_units = 3;
    spec.reserved = 1;
    PUT();
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    spec.reserved = 0;
    spec.flags = 1u << 9;
    PUT();
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    spec.flags = 0;
    spec.fail_status = -1;
    PUT();
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    spec.fail_status = 0;
    memset(spec.description, 'x', sizeof spec.description); /* no terminator */
    PUT();
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    spec.description[sizeof spec.description - 1] = '\0';
    spec.unit_ns = 2000000000ull;
    PUT();
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz, 0, 0, 0, &res),
                     TV_E_INVALID_ARGUMENT);
    spec.unit_ns = 0;
    PUT();
    assert_int_equal(hc(e, TV_HC_TEST_TASK_START, gpa, sz, 0, 0, 0, &res), TV_OK);
    assert_int_equal(res.out, 2);
#undef PUT
}

/* The synthetic job itself: fail, point of no return, commit failure. */
static void synthetic_job(void **state)
{
    struct env *e = *state;
    struct tv_task_test_spec spec = { .total_units = 10, .fail_at_unit = 4,
                                      .fail_status = TV_E_NO_SPACE };
    uint64_t id;
    assert_int_equal(task_test_job_start(e->mgr, &spec, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    struct tv_task_info info;
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.state, TV_TASK_FAILED);
    assert_int_equal(info.result, TV_TASK_RESULT_DISK);
    assert_int_equal(info.error, TV_E_NO_SPACE);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_ROLLED_BACK);
    assert_int_equal(info.done, 3);
    spec = (struct tv_task_test_spec){ .total_units = 5, .flags = TV_TASK_TEST_FAIL_COMMIT };
    assert_int_equal(task_test_job_start(e->mgr, &spec, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.state, TV_TASK_FAILED);
    spec = (struct tv_task_test_spec){ .total_units = 5, .no_return_unit = 2 };
    assert_int_equal(task_test_job_start(e->mgr, &spec, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(info.percent, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(codes, setup, teardown),
        cmocka_unit_test_setup_teardown(query, setup, teardown),
        cmocka_unit_test_setup_teardown(list, setup, teardown),
        cmocka_unit_test_setup_teardown(list_continuation, setup, teardown),
        cmocka_unit_test_setup_teardown(verbs, setup, teardown),
        cmocka_unit_test_setup_teardown(wait_and_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(events_register, setup, teardown),
        cmocka_unit_test_setup_teardown(events_of_other_kinds_are_opt_in, setup, teardown),
        cmocka_unit_test_setup_teardown(output_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start, setup, teardown),
        cmocka_unit_test_setup_teardown(synthetic_job, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
