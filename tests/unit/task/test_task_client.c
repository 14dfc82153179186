/* libtaskvisor through the loopback transport: IVMTask one to one, plus
 * pause/resume/list/events, with real worker threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "libtaskvisor.h"
#include "loopback.h"
#include "platform_hosted.h"
#include "task_mgr.h"

#define MS 1000000ull

struct env {
    struct task_mgr *mgr;
    struct tv_loopback *lb;
    struct tv_client c;
};

static int setup(void **state)
{
    static struct env e;
    memset(&e, 0, sizeof e);
    tp_hosted_clock_real();
    struct task_mgr_config cfg = { .workers = 2, .max_running = 2 };
    assert_int_equal(task_mgr_create(&cfg, &e.mgr), TV_OK);
    assert_int_equal(tv_loopback_create(e.mgr, 64 * 1024, 2 * MS, &e.lb), TV_OK);
    assert_int_equal(tv_client_init(&e.c, tv_loopback_transport(e.lb)), TV_OK);
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    tv_client_fini(&e->c);
    task_mgr_destroy(e->mgr);
    tv_loopback_destroy(e->lb);
    return 0;
}

static struct tv_task start(struct env *e, uint64_t units, uint64_t unit_ns, uint32_t flags,
                            const char *desc)
{
    struct tv_task_test_spec spec = { .total_units = units, .unit_ns = unit_ns, .flags = flags };
    strcpy(spec.description, desc);
    struct tv_task t;
    assert_int_equal(tv_test_task_start(&e->c, &spec, &t), TV_OK);
    return t;
}

static void ivmtask_success(void **state)
{
    struct env *e = *state;
    struct tv_task t = start(e, 20, 1 * MS, 0, "merge disk \xe2\x82\xac");
    assert_int_equal(tv_task_id(t), 1);
    bool b;
    assert_int_equal(tv_task_is_cancelable(t, &b), TV_OK);
    assert_true(b);
    assert_int_equal(tv_task_is_complete(t, &b), TV_OK);
    assert_false(b);
    assert_int_equal(tv_task_wait_for_completion(t, 5000), TV_OK);
    assert_int_equal(tv_task_is_complete(t, &b), TV_OK);
    assert_true(b);
    assert_int_equal(tv_task_is_cancelable(t, &b), TV_OK);
    assert_false(b);
    int32_t pct, err;
    assert_int_equal(tv_task_percent_completed(t, &pct), TV_OK);
    assert_int_equal(pct, 100);
    enum tv_task_result r;
    assert_int_equal(tv_task_result(t, &r), TV_OK);
    assert_int_equal(r, TV_TASK_RESULT_SUCCESS);
    assert_int_equal(tv_task_error(t, &err), TV_OK);
    assert_int_equal(err, TV_OK);
    char buf[64];
    size_t len;
    assert_int_equal(tv_task_description(t, buf, sizeof buf, &len), TV_OK);
    assert_string_equal(buf, "merge disk \xe2\x82\xac");
    assert_int_equal(len, 14);
    assert_int_equal(tv_task_description(t, buf, 6, &len), TV_E_BUFFER_TOO_SMALL);
    assert_string_equal(buf, "merge");
    assert_int_equal(len, 14);
    assert_int_equal(tv_task_description(t, buf, 0, &len), TV_E_BUFFER_TOO_SMALL);
    assert_int_equal(tv_task_error_description(t, buf, sizeof buf, &len), TV_OK);
    assert_int_equal(len, 0);
    /* cancel after the end: INVALID_STATE (never a silent success) */
    assert_int_equal(tv_task_cancel(t), TV_E_INVALID_STATE);
    assert_int_equal(tv_task_dismiss(t), TV_OK);
    assert_int_equal(tv_task_is_complete(t, &b), TV_E_NOT_FOUND);
    assert_int_equal(tv_task_wait_for_completion(t, 0), TV_E_NOT_FOUND);
}

static void ivmtask_cancel_and_wait(void **state)
{
    struct env *e = *state;
    struct tv_task t = start(e, 100000, 1 * MS, 0, "long");
    assert_int_equal(tv_task_wait_for_completion(t, -2), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_task_wait_for_completion(t, 4000001), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_task_wait_for_completion(t, INT32_MIN), TV_E_INVALID_ARGUMENT);
    /* a 200 ms wait spans many 2 ms slices: continuations, then TIMEOUT.
     * Long enough that a loaded host, which can hold the waiting thread off
     * the CPU for tens of ms in one slice, still leaves several slices. */
    struct tv_loopback_stats s0, s1;
    tv_loopback_stats(e->lb, &s0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(tv_task_wait_for_completion(t, 200), TV_E_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &b);
    int64_t waited = (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
    assert_true(waited >= 200 * (int64_t)MS);
    tv_loopback_stats(e->lb, &s1);
    assert_true(s1.continuations - s0.continuations >= 2); /* 2 ms slices */
    assert_int_equal(tv_task_cancel(t), TV_OK);
    assert_int_equal(tv_task_wait_for_completion(t, -1), TV_OK);
    enum tv_task_result r;
    assert_int_equal(tv_task_result(t, &r), TV_OK);
    assert_int_equal(r, TV_TASK_RESULT_CANCELLED);
    struct tv_task_info info;
    assert_int_equal(tv_task_query(t, &info), TV_OK);
    assert_int_equal(info.state, TV_TASK_CANCELLED);
    assert_int_equal(info.error, TV_E_CANCELLED);
    char buf[64];
    size_t len;
    assert_int_equal(tv_task_error_description(t, buf, sizeof buf, &len), TV_OK);
    assert_string_equal(buf, "cancelled");
    assert_true(info.outcome == TV_TASK_OUTCOME_ROLLED_BACK ||
                info.outcome == TV_TASK_OUTCOME_UNTOUCHED);
    int32_t err;
    assert_int_equal(tv_task_error(t, &err), TV_OK);
    assert_int_equal(err, TV_E_CANCELLED);

    /* never cancelable: E_FAIL of IVMTask, the task goes on */
    struct tv_task n = start(e, 5, 1 * MS, TV_TASK_TEST_NOT_CANCELABLE, "turn off");
    bool c;
    assert_int_equal(tv_task_is_cancelable(n, &c), TV_OK);
    assert_false(c);
    assert_int_equal(tv_task_cancel(n), TV_E_NOT_CANCELABLE);
    assert_int_equal(tv_task_wait_for_completion(n, 5000), TV_OK);
    assert_int_equal(tv_task_result(n, &r), TV_OK);
    assert_int_equal(r, TV_TASK_RESULT_SUCCESS);
}

static void pause_resume(void **state)
{
    struct env *e = *state;
    struct tv_task t = start(e, 1000, 1 * MS, 0, "pausable");
    struct tv_task_info info;
    do {
        assert_int_equal(tv_task_query(t, &info), TV_OK);
    } while (info.state == TV_TASK_QUEUED);
    assert_int_equal(tv_task_pause(t), TV_OK);
    assert_int_equal(tv_task_pause(t), TV_E_INVALID_STATE);
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(tv_task_query(t, &info), TV_OK);
        if (info.flags & TV_TASK_FLAG_HELD)
            break;
        nanosleep(&(struct timespec){ 0, MS }, NULL);
    }
    assert_true(info.flags & TV_TASK_FLAG_HELD);
    uint64_t done = info.done;
    nanosleep(&(struct timespec){ 0, 20 * MS }, NULL);
    assert_int_equal(tv_task_query(t, &info), TV_OK);
    assert_int_equal(info.done, done); /* really stopped */
    assert_int_equal(tv_task_wait_for_completion(t, 10), TV_E_TIMEOUT);
    assert_int_equal(tv_task_resume(t), TV_OK);
    assert_int_equal(tv_task_resume(t), TV_E_INVALID_STATE);
    assert_int_equal(tv_task_cancel(t), TV_OK);
    assert_int_equal(tv_task_wait_for_completion(t, 5000), TV_OK);
    struct tv_task u = start(e, 100000, MS, TV_TASK_TEST_NOT_PAUSABLE, "no pause");
    assert_int_equal(tv_task_pause(u), TV_E_UNSUPPORTED);
    assert_int_equal(tv_task_cancel(u), TV_OK);
    assert_int_equal(tv_task_pause(tv_task_handle(&e->c, 999)), TV_E_NOT_FOUND);
    assert_int_equal(tv_task_resume(tv_task_handle(&e->c, 0)), TV_E_INVALID_ARGUMENT);
}

static void listing(void **state)
{
    struct env *e = *state;
    /* more than one scratch page of briefs (170 per call) */
    for (int i = 0; i < 400; i++)
        start(e, 0, 0, 0, "x");
    static struct tv_task_event out[500];
    size_t n;
    assert_int_equal(tv_task_list(&e->c, 0, 0, out, 500, &n), TV_OK);
    assert_int_equal(n, 400);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out[i].id, i + 1);
    assert_int_equal(tv_task_list(&e->c, 100, 0, out, 50, &n), TV_OK);
    assert_int_equal(n, 50);
    assert_int_equal(out[0].id, 101);
    assert_int_equal(tv_task_list(&e->c, 0, 0x10, out, 50, &n), TV_E_INVALID_ARGUMENT);
}

static void events(void **state)
{
    struct env *e = *state;
    struct tv_task_event ev[256];
    size_t n;
    bool over;
    assert_int_equal(tv_events_read(&e->c, ev, 256, &n, &over), TV_E_INVALID_STATE);
    assert_int_equal(tv_events_register(&e->c, 7), TV_E_INVALID_ARGUMENT);
    assert_null(e->c.ring);
    assert_int_equal(tv_events_register(&e->c, 48), TV_OK);
    struct tv_task t = start(e, 50, 0, 0, "events");
    assert_int_equal(tv_task_wait_for_completion(t, 5000), TV_OK);
    assert_int_equal(tv_events_read(&e->c, ev, 256, &n, &over), TV_OK);
    assert_false(over);
    /* queued, running, 50 percent steps (2, 4, ... 98, then 99: the last unit
     * reaches 100 but 100 waits for completion), committing, completed */
    assert_int_equal(n, 54);
    assert_int_equal(ev[0].state, TV_TASK_QUEUED);
    assert_int_equal(ev[n - 1].state, TV_TASK_COMPLETED);
    assert_int_equal(ev[n - 1].percent, 100);
    struct tv_task_info info;
    assert_int_equal(tv_task_query(t, &info), TV_OK);
    assert_int_equal(ev[n - 1].seq, info.seq);
    struct tv_loopback_stats st;
    tv_loopback_stats(e->lb, &st);
    assert_int_equal(st.notifications, 54);
    assert_int_equal(st.last_vector, 48);
    /* a refused re-registration keeps the registered ring: the monitor still
     * writes events into it, so it must not be freed */
    struct tv_task_ring *ring = e->c.ring;
    assert_int_equal(tv_events_register(&e->c, 7), TV_E_INVALID_ARGUMENT);
    assert_ptr_equal(e->c.ring, ring);
    struct tv_task t2 = start(e, 1, 0, 0, "after refusal");
    assert_int_equal(tv_task_wait_for_completion(t2, 5000), TV_OK);
    bool seen = false;
    do {
        assert_int_equal(tv_events_read(&e->c, ev, 256, &n, &over), TV_OK);
        for (size_t i = 0; i < n; i++)
            seen |= ev[i].id == t2.id && ev[i].state == TV_TASK_COMPLETED;
    } while (n);
    assert_true(seen);
    /* nothing read for a while: overflow is reported, then a resync */
    for (int i = 0; i < 200; i++)
        start(e, 0, 0, TV_TASK_TEST_NOT_CANCELABLE, "burst");
    size_t total = 0;
    bool any_over = false;
    do {
        assert_int_equal(tv_events_read(&e->c, ev, 256, &n, &over), TV_OK);
        total += n;
        any_over |= over;
    } while (n);
    assert_true(any_over);
    assert_true(total <= TV_TASK_RING_CAPACITY);
    assert_int_equal(tv_events_read(&e->c, ev, 256, &n, &over), TV_OK);
    assert_false(over);
    assert_int_equal(tv_events_unregister(&e->c), TV_OK);
    assert_int_equal(tv_events_unregister(&e->c), TV_E_INVALID_STATE);
}

static void transport_errors(void **state)
{
    (void)state;
    struct tv_client c;
    assert_int_equal(tv_client_init(&c, NULL), TV_E_INVALID_ARGUMENT);
    struct tv_transport bad = { 0 };
    assert_int_equal(tv_client_init(&c, &bad), TV_E_INVALID_ARGUMENT);
    struct task_mgr *mgr;
    assert_int_equal(task_mgr_create(NULL, &mgr), TV_OK);
    struct tv_loopback *lb;
    assert_int_equal(tv_loopback_create(mgr, 1000, 0, &lb), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_loopback_create(mgr, 4096, 0, &lb), TV_OK);
    /* the arena only holds the scratch page: the ring does not fit */
    assert_int_equal(tv_client_init(&c, tv_loopback_transport(lb)), TV_OK);
    assert_int_equal(tv_events_register(&c, 0), TV_E_NO_MEMORY);
    tv_client_fini(&c);
    tv_loopback_destroy(lb);
    task_mgr_destroy(mgr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ivmtask_success, setup, teardown),
        cmocka_unit_test_setup_teardown(ivmtask_cancel_and_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(pause_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(listing, setup, teardown),
        cmocka_unit_test_setup_teardown(events, setup, teardown),
        cmocka_unit_test(transport_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
