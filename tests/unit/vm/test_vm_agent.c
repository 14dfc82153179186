/* Unit tests of the guest agent's channel (vmm/services/vm_agent.c)
 * through the one dispatcher: one test per rule of docs/agent.md, with two
 * partitions that each own an agent record and a third that has none. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "platform_hosted.h"
#include "hcall/hcall.h"
#include "services/vm_agent.h"
#include "taskvisor/hypercall.h"
#include "../common/hcall_fixture.h"

struct slot {
    unsigned notified;
    uint8_t last_vector;
};

struct env {
    struct vm_agent agents[2];   /* partitions 0 and 1; partition 2 has none */
    struct slot slots[2];
    struct hcall_section section;
    struct hcall_table table;
    struct hcall_caller caller;
    struct guest_mem_range ram;
    struct guest_mem_view view;
};

static void notify(void *ctx, uint8_t vector)
{
    struct slot *s = ctx;
    s->notified++;
    s->last_vector = vector;
}

static void *agent_of(void *owner, const struct hcall_caller *caller)
{
    struct env *e = owner;
    return caller->partition_id < 2 ? &e->agents[caller->partition_id] : NULL;
}

static tv_status_t f_rw(void *ctx, uint64_t gpa, void *p, size_t len)
{
    (void)ctx; (void)gpa; (void)p; (void)len;
    return TV_E_INVALID_ARGUMENT;
}

static tv_status_t f_w(void *ctx, uint64_t gpa, const void *p, size_t len)
{
    (void)ctx; (void)gpa; (void)p; (void)len;
    return TV_E_INVALID_ARGUMENT;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    for (int i = 0; i < 2; i++)
        assert_int_equal(vm_agent_init(&e->agents[i], notify, &e->slots[i]), TV_OK);
    e->section = (struct hcall_section){ vm_agent_calls, VM_AGENT_CALL_COUNT, agent_of, e };
    e->table = (struct hcall_table){ &e->section, 1 };
    e->ram = (struct guest_mem_range){ 0x10000, 0x1000 };
    e->view = (struct guest_mem_view){ &e->ram, 1, e, f_rw, f_w };
    /* not the control partition: the agent calls are not management calls */
    e->caller = (struct hcall_caller){ .partition_id = 1, .is_control = false, .wide = true,
                                       .mem = &e->view };
    assert_int_equal(hcall_table_check(&e->table, NULL), TV_OK);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    for (int i = 0; i < 2; i++)
        vm_agent_destroy(&e->agents[i]);
    free(e);
    return 0;
}

struct outs { uint64_t o0, o1, o2; };

static tv_status_t hc_as(struct env *e, uint32_t who, uint32_t code, uint64_t a0, uint64_t a1,
                         uint64_t a2, uint64_t a3, uint64_t a4, struct outs *o)
{
    e->caller.partition_id = who;
    struct hcall_regs r = { .rax = code, .rdx = 0xdead, .rsi = 0xbeef, .rdi = 0xcafe };
    hcf_set_args(&r, e->caller.wide, (const uint64_t[HCALL_NARGS]){ a0, a1, a2, a3, a4 });
    enum hcall_action act = hcf_dispatch(&e->table, &e->caller, &r);
    if (act == HCALL_INJECT_UD)
        return -1;
    assert_int_equal(act, HCALL_ADVANCE);
    if (o) /* o0..o2: RDX RSI RDI (EDX ESI EDI) */
        *o = (struct outs){ r.rdx, r.rsi, r.rdi };
    return (tv_status_t)r.rax;
}

#define HC(e, code, a0, a1, a2, o) hc_as(e, 1, code, a0, a1, a2, 0, 0, o)

/* Rule 1: ANNOUNCE checks version, capabilities, vector, unused arguments. */
static void announce_checks_every_argument(void **state)
{
    struct env *e = *state;
    struct outs o = { 0 };
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 0, 1, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 2, 1, 0, NULL), TV_E_UNSUPPORTED);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1ull << 32 | 1, 1, 0, NULL), TV_E_UNSUPPORTED);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, 8, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, 1ull << 32 | 1, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    for (uint64_t v = 1; v < 32; v++)
        assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, 1, v, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, 1, 256, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc_as(e, 1, TV_HC_AGENT_ANNOUNCE, 1, 1, 0, 1, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc_as(e, 1, TV_HC_AGENT_ANNOUNCE, 1, 1, 0, 0, 1, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(vm_agent_caps(&e->agents[1]), 0); /* nothing taken from refused calls */
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 255, &o), TV_OK);
    assert_int_equal(o.o0, TV_AGENT_VERSION);
    assert_int_equal(o.o1, TV_AGENT_CAPS_ALL);
    assert_int_equal(vm_agent_caps(&e->agents[1]), TV_AGENT_CAPS_ALL);
    /* again: replaces */
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAP_LOGOFF, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_caps(&e->agents[1]), TV_AGENT_CAP_LOGOFF);
    /* 32-bit caller: the same decoding */
    e->caller.wide = false;
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAP_SHUTDOWN, 32, &o), TV_OK);
    assert_int_equal(o.o0, TV_AGENT_VERSION);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, 0, 32, NULL), TV_E_INVALID_ARGUMENT);
    e->caller.wide = true;
    assert_int_equal(vm_agent_caps(&e->agents[1]), TV_AGENT_CAP_SHUTDOWN);
}

/* Rule 2: any partition may call (no management flag); CPL > 0 gets #UD. */
static void any_partition_at_cpl0(void **state)
{
    struct env *e = *state;
    for (uint32_t c = TV_HC_AGENT_ANNOUNCE; c <= TV_HC_AGENT_DEPART; c++) {
        const struct hcall_desc *d = hcall_lookup(&e->table, c, false, NULL);
        assert_non_null(d);
        assert_int_equal(d->flags & HCALL_F_MGMT, 0);
    }
    assert_int_equal(HC(e, TV_HC_AGENT_DEPART + 1, 0, 0, 0, NULL), TV_E_UNKNOWN_CALL);
    e->caller.cpl = 3;
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, 1, 0, NULL), -1);
    e->caller.cpl = 0;
    assert_int_equal(vm_agent_caps(&e->agents[1]), 0);
}

/* Rule 3: a partition reaches its own agent only; one without a record
 * gets UNSUPPORTED. */
static void each_partition_its_own_agent(void **state)
{
    struct env *e = *state;
    assert_int_equal(hc_as(e, 0, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_caps(&e->agents[0]), TV_AGENT_CAPS_ALL);
    assert_int_equal(vm_agent_caps(&e->agents[1]), 0);
    uint32_t seq = 0;
    assert_int_equal(vm_agent_request(&e->agents[0], TV_AGENT_REQ_SHUTDOWN, 0, &seq), TV_OK);
    /* partition 1 neither sees nor answers partition 0's request */
    assert_int_equal(HC(e, TV_HC_AGENT_POLL, 0, 0, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0, NULL), TV_OK);
    struct outs o = { 9, 9, 9 };
    assert_int_equal(HC(e, TV_HC_AGENT_POLL, 0, 0, 0, &o), TV_OK);
    assert_int_equal(o.o0, 0);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_DONE, 0, NULL), TV_E_NOT_FOUND);
    uint32_t ans = 0;
    assert_int_equal(vm_agent_take_answer(&e->agents[0], seq, &ans), TV_E_CONTINUE);
    assert_int_equal(hc_as(e, 2, TV_HC_AGENT_ANNOUNCE, 1, 1, 0, 0, 0, NULL), TV_E_UNSUPPORTED);
    assert_int_equal(hc_as(e, 2, TV_HC_AGENT_POLL, 0, 0, 0, 0, 0, NULL), TV_E_UNSUPPORTED);
}

/* Rule 4: POLL takes no arguments, needs an announced agent, and returns
 * the pending request until it is answered or withdrawn. */
static void poll_returns_the_pending_request(void **state)
{
    struct env *e = *state;
    struct outs o = { 9, 9, 9 };
    assert_int_equal(HC(e, TV_HC_AGENT_POLL, 0, 0, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0, NULL), TV_OK);
    assert_int_equal(HC(e, TV_HC_AGENT_POLL, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc_as(e, 1, TV_HC_AGENT_POLL, 0, 0, 0, 0, 1, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_POLL, 0, 0, 0, &o), TV_OK);
    assert_true(o.o0 == 0 && o.o1 == 0 && o.o2 == 0);
    uint32_t seq = 0;
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_RESTART, TV_AGENT_REQ_F_FORCED,
                                      &seq), TV_OK);
    assert_true(seq != 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(HC(e, TV_HC_AGENT_POLL, 0, 0, 0, &o), TV_OK);
        assert_int_equal(o.o0, seq);
        assert_int_equal(o.o1, TV_AGENT_REQ_RESTART);
        assert_int_equal(o.o2, TV_AGENT_REQ_F_FORCED);
    }
    vm_agent_withdraw(&e->agents[1], seq);
    assert_int_equal(HC(e, TV_HC_AGENT_POLL, 0, 0, 0, &o), TV_OK);
    assert_int_equal(o.o0, 0);
}

/* Rule 5: a request raises the agent's vector once; a polling agent (vector
 * 0) gets none; announcing again with a request pending raises it again. */
static void requests_raise_the_vector(void **state)
{
    struct env *e = *state;
    uint32_t seq = 0;
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_LOGOFF, 0, &seq), TV_OK);
    assert_int_equal(e->slots[1].notified, 0);
    vm_agent_withdraw(&e->agents[1], seq);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0x61, NULL), TV_OK);
    assert_int_equal(e->slots[1].notified, 0);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_SHUTDOWN, 0, &seq), TV_OK);
    assert_int_equal(e->slots[1].notified, 1);
    assert_int_equal(e->slots[1].last_vector, 0x61);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0x62, NULL), TV_OK);
    assert_int_equal(e->slots[1].notified, 2);
    assert_int_equal(e->slots[1].last_vector, 0x62);
    assert_int_equal(e->slots[0].notified, 0);
}

/* Rule 6: ANSWER: the number of the pending request, an answer that fits
 * its kind; a wrong one leaves the request pending; one answer only. */
static void answers_are_checked(void **state)
{
    struct env *e = *state;
    uint32_t seq = 0, ans = 0;
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, 1, TV_AGENT_ANS_DONE, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_SHUTDOWN, TV_AGENT_REQ_F_FORCED,
                                      &seq), TV_OK);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, 0, TV_AGENT_ANS_DONE, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, (1ull << 32) | seq, TV_AGENT_ANS_DONE, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_COUNT, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_DONE, 1, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq + 1, TV_AGENT_ANS_DONE, 0, NULL),
                     TV_E_NOT_FOUND);
    /* forced: a lock does not count; shutdown has no session to refuse with */
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_LOCKED, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_NO_SESSION, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(vm_agent_take_answer(&e->agents[1], seq, &ans), TV_E_CONTINUE);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_DONE, 0, NULL), TV_OK);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_DONE, 0, NULL), TV_E_NOT_FOUND);
    struct outs o = { 9, 9, 9 };
    assert_int_equal(HC(e, TV_HC_AGENT_POLL, 0, 0, 0, &o), TV_OK);
    assert_int_equal(o.o0, 0); /* answered: no longer offered */
    assert_int_equal(vm_agent_take_answer(&e->agents[1], seq, &ans), TV_OK);
    assert_int_equal(ans, TV_AGENT_ANS_DONE);
    assert_int_equal(vm_agent_take_answer(&e->agents[1], seq, &ans), TV_E_NOT_FOUND);
    /* not forced: LOCKED is an answer; logoff: NO_SESSION, never LOCKED */
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_RESTART, 0, &seq), TV_OK);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_LOCKED, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_take_answer(&e->agents[1], seq, &ans), TV_OK);
    assert_int_equal(ans, TV_AGENT_ANS_LOCKED);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_LOGOFF, 0, &seq), TV_OK);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_LOCKED, 0, NULL),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_NO_SESSION, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_take_answer(&e->agents[1], seq, &ans), TV_OK);
    assert_int_equal(ans, TV_AGENT_ANS_NO_SESSION);
    /* withdrawn (timeout, cancel): a late answer is NOT_FOUND */
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_SHUTDOWN, 0, &seq), TV_OK);
    vm_agent_withdraw(&e->agents[1], seq);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_DONE, 0, NULL), TV_E_NOT_FOUND);
    /* the answer table, whole */
    for (uint32_t k = 0; k <= 4; k++)
        for (uint32_t f = 0; f <= 1; f++)
            for (uint32_t a = 0; a <= TV_AGENT_ANS_COUNT; a++) {
                bool kind_ok = k >= 1 && k <= 3, power = k == 1 || k == 2;
                bool want = kind_ok && ((a == TV_AGENT_ANS_DONE || a == TV_AGENT_ANS_SHUTTING_DOWN) ||
                                        (a == TV_AGENT_ANS_LOCKED && power && !f) ||
                                        (a == TV_AGENT_ANS_NO_SESSION && k == 3));
                assert_int_equal(vm_agent_answer_valid(k, f, a), want);
            }
}

/* Rule 7: the monitor's side: a request needs the capability, one at a
 * time, FORCED only for shutdown and restart. */
static void requests_need_the_capability(void **state)
{
    struct env *e = *state;
    uint32_t seq = 0;
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_SHUTDOWN, 0, &seq),
                     TV_E_AGENT_NOT_PRESENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAP_LOGOFF, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_SHUTDOWN, 0, &seq),
                     TV_E_AGENT_NOT_PRESENT);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_LOGOFF, TV_AGENT_REQ_F_FORCED,
                                      &seq), TV_E_INVALID_ARGUMENT);
    assert_int_equal(vm_agent_request(&e->agents[1], 0, 0, &seq), TV_E_INVALID_ARGUMENT);
    assert_int_equal(vm_agent_request(&e->agents[1], 4, 0, &seq), TV_E_INVALID_ARGUMENT);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_LOGOFF, 2, &seq),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_LOGOFF, 0, &seq), TV_OK);
    uint32_t seq2 = 0;
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_LOGOFF, 0, &seq2), TV_E_BUSY);
}

/* Rule 8: DEPART: the waiting operation learns the agent left. */
static void depart_ends_the_wait(void **state)
{
    struct env *e = *state;
    uint32_t seq = 0, ans = 0;
    assert_int_equal(HC(e, TV_HC_AGENT_DEPART, 0, 0, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_SHUTDOWN, 0, &seq), TV_OK);
    assert_int_equal(HC(e, TV_HC_AGENT_DEPART, 1, 0, 0, NULL), TV_E_INVALID_ARGUMENT);
    assert_int_equal(HC(e, TV_HC_AGENT_DEPART, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_caps(&e->agents[1]), 0);
    assert_int_equal(vm_agent_take_answer(&e->agents[1], seq, &ans), TV_E_AGENT_NOT_PRESENT);
    assert_int_equal(HC(e, TV_HC_AGENT_DEPART, 0, 0, 0, NULL), TV_E_INVALID_STATE);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_DONE, 0, NULL),
                     TV_E_INVALID_STATE);
}

/* Rule 9: a new run forgets the agent; numbers keep counting, so an answer
 * meant for an earlier run never closes a later request. */
static void a_new_run_forgets_the_agent(void **state)
{
    struct env *e = *state;
    uint32_t seq = 0, seq2 = 0, ans = 0;
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0x40, NULL), TV_OK);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_RESTART, 0, &seq), TV_OK);
    vm_agent_forget(&e->agents[1]);
    assert_int_equal(vm_agent_caps(&e->agents[1]), 0);
    assert_int_equal(vm_agent_take_answer(&e->agents[1], seq, &ans), TV_E_AGENT_NOT_PRESENT);
    assert_int_equal(HC(e, TV_HC_AGENT_ANNOUNCE, 1, TV_AGENT_CAPS_ALL, 0, NULL), TV_OK);
    assert_int_equal(vm_agent_request(&e->agents[1], TV_AGENT_REQ_RESTART, 0, &seq2), TV_OK);
    assert_true(seq2 != seq);
    assert_int_equal(HC(e, TV_HC_AGENT_ANSWER, seq, TV_AGENT_ANS_DONE, 0, NULL), TV_E_NOT_FOUND);
    assert_int_equal(vm_agent_take_answer(&e->agents[1], seq2, &ans), TV_E_CONTINUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(announce_checks_every_argument, setup, teardown),
        cmocka_unit_test_setup_teardown(any_partition_at_cpl0, setup, teardown),
        cmocka_unit_test_setup_teardown(each_partition_its_own_agent, setup, teardown),
        cmocka_unit_test_setup_teardown(poll_returns_the_pending_request, setup, teardown),
        cmocka_unit_test_setup_teardown(requests_raise_the_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(answers_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(requests_need_the_capability, setup, teardown),
        cmocka_unit_test_setup_teardown(depart_ends_the_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(a_new_run_forgets_the_agent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
