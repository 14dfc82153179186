/* 100,000 create/finish/dismiss cycles (run, cancel, fail, reap): memory
 * and slots must come back to their baseline, ids must keep increasing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "platform_hosted.h"
#include "task_mgr.h"
#include "task_test_util.h"

#define CYCLES 100000

static void hundred_thousand_cycles(void **state)
{
    (void)state;
    tp_hosted_clock_manual(1000000000ull);
    struct tp_hosted_alloc_stats base, now;
    tp_hosted_alloc_stats(&base);
    struct task_mgr_config cfg = { .workers = 0, .max_tasks = 64, .retention_ns = 1000 };
    struct task_mgr *mgr;
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    struct tp_hosted_alloc_stats with_mgr;
    tp_hosted_alloc_stats(&with_mgr);
    static struct tv_task_ring ring __attribute__((aligned(4096)));
    assert_int_equal(task_events_register(mgr, &ring, 0, NULL, NULL), TV_OK);

    struct instant ok = { .units = 3 }, bad = { .run_status = TV_E_IO };
    uint64_t last = 0;
    for (int i = 0; i < CYCLES; i++) {
        uint64_t id;
        struct instant *in = i % 7 == 3 ? &bad : &ok;
        assert_int_equal(instant_task(mgr, in, &id), TV_OK);
        assert_true(id > last);
        last = id;
        switch (i % 4) {
        case 0: /* run, dismiss */
            assert_int_equal(task_mgr_run_next(mgr), TV_OK);
            assert_int_equal(task_dismiss(mgr, id), TV_OK);
            break;
        case 1: /* cancel while queued, dismiss */
            assert_int_equal(task_cancel(mgr, id), TV_OK);
            assert_int_equal(task_dismiss(mgr, id), TV_OK);
            break;
        case 2: /* pause, resume, run; left for the reaper */
            assert_int_equal(task_pause(mgr, id), TV_OK);
            assert_int_equal(task_resume(mgr, id), TV_OK);
            assert_int_equal(task_mgr_run_next(mgr), TV_OK);
            tp_hosted_clock_advance(1000);
            break;
        default: /* run; reaped by the next call after retention */
            assert_int_equal(task_mgr_run_next(mgr), TV_OK);
            tp_hosted_clock_advance(1000);
            break;
        }
        ring.hdr.tail = ring.hdr.head; /* a consumer keeping up */
    }
    task_mgr_reap(mgr);
    struct task_mgr_stats st;
    task_mgr_stats(mgr, &st);
    assert_int_equal(st.tasks, 0);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.holding_slot, 0);
    assert_int_equal(st.next_id, CYCLES + 1);
    assert_int_equal(st.bad_transitions, 0);
    assert_int_equal(ring.hdr.overflow, 0);
    tp_hosted_alloc_stats(&now);
    assert_int_equal(now.live_blocks, with_mgr.live_blocks);
    assert_int_equal(now.live_bytes, with_mgr.live_bytes);
    assert_true(now.total_allocs >= base.total_allocs + CYCLES);
    assert_int_equal(ok.cleanups + bad.cleanups, CYCLES);
    task_mgr_destroy(mgr);
    tp_hosted_alloc_stats(&now);
    assert_int_equal(now.live_blocks, base.live_blocks);
    assert_int_equal(now.live_bytes, base.live_bytes);
}

/* The same with worker threads and waiters, fewer cycles (real time). */
static void threaded_cycles(void **state)
{
    (void)state;
    tp_hosted_clock_real();
    struct tp_hosted_alloc_stats base, now;
    tp_hosted_alloc_stats(&base);
    struct task_mgr_config cfg = { .workers = 2, .max_running = 2, .max_tasks = 16 };
    struct task_mgr *mgr;
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    struct tp_hosted_alloc_stats with_mgr;
    tp_hosted_alloc_stats(&with_mgr);
    struct instant in = { .units = 2 };
    for (int i = 0; i < 5000; i++) {
        uint64_t id;
        assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
        if (i % 3 == 0) {
            tv_status_t st = task_cancel(mgr, id);
            assert_true(st == TV_OK || st == TV_E_INVALID_STATE || st == TV_E_NOT_CANCELABLE);
        }
        assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
        assert_int_equal(task_dismiss(mgr, id), TV_OK);
    }
    struct task_mgr_stats st;
    task_mgr_stats(mgr, &st);
    assert_int_equal(st.tasks, 0);
    assert_int_equal(st.holding_slot, 0);
    tp_hosted_alloc_stats(&now);
    assert_int_equal(now.live_blocks, with_mgr.live_blocks);
    task_mgr_destroy(mgr);
    tp_hosted_alloc_stats(&now);
    assert_int_equal(now.live_blocks, base.live_blocks);
    assert_int_equal(now.live_bytes, base.live_bytes);
    assert_int_equal(tp_hosted_live_threads(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hundred_thousand_cycles),
        cmocka_unit_test(threaded_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
