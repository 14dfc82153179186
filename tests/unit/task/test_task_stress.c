/* Stress: many threads creating, cancelling, pausing, resuming, waiting,
 * querying, listing and dismissing tasks at random while workers run them
 * and a consumer drains the event ring.  Built twice: with ASan+UBSan
 * (test_task_stress) and with ThreadSanitizer (test_task_stress_tsan). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "platform_hosted.h"
#include "task_mgr.h"
#include "task_test_job.h"

#define THREADS 6
#define OPS_PER_THREAD 1500
#define ID_SLOTS 4096

static struct task_mgr *mgr;
static _Atomic uint64_t ids[ID_SLOTS];
static _Atomic uint32_t id_count;
static _Atomic int stop_consumer;
static _Atomic uint64_t bad_status, bad_snapshot;
static _Atomic uint64_t op_counts[10];
static struct tv_task_ring ring __attribute__((aligned(4096)));
static _Atomic uint64_t events_seen, overflows_seen;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t any_id(uint64_t *rng)
{
    uint32_t n = id_count;
    if (n == 0)
        return 1;
    uint64_t id = ids[next_rand(rng) % (n < ID_SLOTS ? n : ID_SLOTS)];
    return id ? id : 1;
}

static bool allowed(tv_status_t st)
{
    return st == TV_OK || st == TV_E_NOT_FOUND || st == TV_E_INVALID_STATE ||
           st == TV_E_NOT_CANCELABLE || st == TV_E_UNSUPPORTED;
}

static void check_snapshot(const struct tv_task_info *in)
{
    bool final = in->state == TV_TASK_COMPLETED || in->state == TV_TASK_FAILED ||
                 in->state == TV_TASK_CANCELLED;
    bool ok = in->percent <= 100 && in->state < TV_TASK_STATE_COUNT &&
              final == !!(in->flags & TV_TASK_FLAG_COMPLETE) &&
              final == (in->result != TV_TASK_RESULT_PENDING) &&
              (in->state != TV_TASK_COMPLETED || in->percent == 100) &&
              (in->state == TV_TASK_COMPLETED || in->percent < 100) &&
              (!final || !(in->flags & TV_TASK_FLAG_CANCELABLE)) &&
              (in->state != TV_TASK_COMMITTING || !(in->flags & TV_TASK_FLAG_CANCELABLE)) &&
              in->description_len == strlen(in->description);
    if (!ok)
        bad_snapshot++;
}

static void *client_main(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    for (int i = 0; i < OPS_PER_THREAD; i++) {
        uint32_t op = (uint32_t)(next_rand(&rng) % 10);
        op_counts[op]++;
        uint64_t id = any_id(&rng);
        tv_status_t st = TV_OK;
        switch (op) {
        case 0:
        case 1: {
            struct tv_task_test_spec spec = {
                .total_units = next_rand(&rng) % 40,
                .unit_ns = next_rand(&rng) % 20000,
                .priority = (uint32_t)(next_rand(&rng) % 3),
            };
            uint32_t r = (uint32_t)(next_rand(&rng) % 16);
            if (r == 0)
                spec.flags |= TV_TASK_TEST_NOT_CANCELABLE;
            if (r == 1)
                spec.flags |= TV_TASK_TEST_NOT_PAUSABLE;
            if (r == 2)
                spec.flags |= TV_TASK_TEST_FAIL_COMMIT;
            if (r == 3 && spec.total_units)
                spec.fail_at_unit = 1 + next_rand(&rng) % spec.total_units;
            if (r == 4 && spec.total_units)
                spec.no_return_unit = 1 + next_rand(&rng) % spec.total_units;
            snprintf(spec.description, sizeof spec.description, "stress %d", i);
            uint64_t nid;
            st = task_test_job_start(mgr, &spec, &nid);
            if (st == TV_OK) {
                uint32_t slot = id_count++;
                if (slot < ID_SLOTS)
                    ids[slot] = nid;
            } else if (st == TV_E_LIMIT) {
                st = TV_OK;
            }
            break;
        }
        case 2:
            st = task_cancel(mgr, id);
            break;
        case 3:
            st = task_pause(mgr, id);
            break;
        case 4:
            st = task_resume(mgr, id);
            break;
        case 5:
            st = task_dismiss(mgr, id);
            break;
        case 6: {
            st = task_wait(mgr, id, (int64_t)(next_rand(&rng) % 3));
            if (st == TV_E_TIMEOUT)
                st = TV_OK;
            break;
        }
        case 7: {
            struct tv_task_info info;
            st = task_query(mgr, id, &info);
            if (st == TV_OK)
                check_snapshot(&info);
            break;
        }
        case 8: {
            struct tv_task_event out[32];
            size_t n;
            st = task_list(mgr, next_rand(&rng) % 64, (uint32_t)(next_rand(&rng) % 2), out, 32,
                           &n);
            for (size_t k = 1; k < n; k++)
                if (out[k].id <= out[k - 1].id)
                    bad_snapshot++;
            break;
        }
        default:
            task_mgr_reap(mgr);
            break;
        }
        if (!allowed(st))
            bad_status++;
    }
    return NULL;
}

static void *consumer_main(void *arg)
{
    (void)arg;
    while (!stop_consumer) {
        uint32_t head = __atomic_load_n(&ring.hdr.head, __ATOMIC_ACQUIRE);
        uint32_t tail = __atomic_load_n(&ring.hdr.tail, __ATOMIC_RELAXED);
        while (tail != head) {
            struct tv_task_event e = ring.entries[tail % TV_TASK_RING_CAPACITY];
            if (e.id == 0 || e.state >= TV_TASK_STATE_COUNT || e.percent > 100)
                bad_snapshot++;
            tail++;
            events_seen++;
        }
        __atomic_store_n(&ring.hdr.tail, tail, __ATOMIC_RELEASE);
        if (__atomic_exchange_n(&ring.hdr.overflow, 0, __ATOMIC_ACQ_REL))
            overflows_seen++;
        nanosleep(&(struct timespec){ 0, 200000 }, NULL);
    }
    return NULL;
}

static void stress(void **state)
{
    (void)state;
    tp_hosted_clock_real();
    struct tp_hosted_alloc_stats base, now;
    tp_hosted_alloc_stats(&base);
    struct task_mgr_config cfg = { .workers = 3, .max_running = 2, .max_tasks = 256,
                                   .retention_ns = 2000000 };
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    assert_int_equal(task_events_register(mgr, &ring, 0, NULL, NULL), TV_OK);
    pthread_t th[THREADS], consumer;
    pthread_create(&consumer, NULL, consumer_main, NULL);
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, client_main, (void *)(i + 1));
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);

    /* Everything still alive must reach an end once nobody pauses it. */
    uint32_t n = id_count < ID_SLOTS ? id_count : ID_SLOTS;
    /* Resume all first: a paused task keeps its run slot, so a queued one
     * could otherwise wait behind a paused one further down the list. */
    for (uint32_t i = 0; i < n; i++)
        task_resume(mgr, ids[i]);
    for (uint32_t i = 0; i < n; i++) {
        tv_status_t st = task_wait(mgr, ids[i], 10000);
        if (st != TV_OK && st != TV_E_NOT_FOUND)
            fail_msg("task %llu did not finish: %d", (unsigned long long)ids[i], st);
    }
    stop_consumer = 1;
    pthread_join(consumer, NULL);
    struct task_mgr_stats st;
    task_mgr_stats(mgr, &st);
    assert_int_equal(st.bad_transitions, 0);
    assert_int_equal(st.holding_slot, 0);
    assert_int_equal(st.queued, 0);
    task_mgr_destroy(mgr);
    tp_hosted_alloc_stats(&now);
    assert_int_equal(now.live_blocks, base.live_blocks);
    assert_int_equal(now.live_bytes, base.live_bytes);
    assert_int_equal(tp_hosted_live_threads(), 0);
    assert_int_equal(bad_status, 0);
    assert_int_equal(bad_snapshot, 0);
    assert_true(events_seen > 0);
    printf("# %u tasks, %llu events (%llu overflows), %llu emitted, %llu coalesced\n", n,
           (unsigned long long)events_seen, (unsigned long long)overflows_seen,
           (unsigned long long)st.events_emitted, (unsigned long long)st.events_coalesced);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
