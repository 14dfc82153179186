/* Unit tests of the Linux driver's decoding code
 * (guests/linux/driver/tvdev_decode.c), hosted: CPUID probing, every ioctl
 * structure's checks, the wait slicing, the event ring consumer and the
 * per-file event queue. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tvdev_decode.h"

static const struct tvd_cpuid amd = { 0, 0x68747541u, 0x444d4163u, 0x69746e65u };
static const struct tvd_cpuid intel = { 0, 0x756e6547u, 0x6c65746eu, 0x49656e69u };
static const struct tvd_cpuid via = { 0, 0x746e6543u, 0x736c7561u, 0x48727561u };
static const struct tvd_cpuid tv_base = { TV_CPUID_MAX_LEAF, TV_CPUID_SIGNATURE_EBX,
                                          TV_CPUID_SIGNATURE_ECX, TV_CPUID_SIGNATURE_EDX };

static void probe(void **state)
{
    (void)state;
    struct tvd_cpuid ver = { TV_ABI_VERSION_MAJOR << 16 | 7, 0, 0, 0 };
    bool vmmcall = false;
    assert_int_equal(tvd_probe(&amd, &tv_base, &ver, &vmmcall), TVD_PROBE_OK);
    assert_true(vmmcall);
    assert_int_equal(tvd_probe(&intel, &tv_base, &ver, &vmmcall), TVD_PROBE_OK);
    assert_false(vmmcall);
    assert_int_equal(tvd_probe(&via, &tv_base, &ver, &vmmcall), TVD_PROBE_UNKNOWN_VENDOR);

    struct tvd_cpuid kvm = { 0x40000001u, 0x4b4d564bu, 0x564b4d56u, 0x4du };
    assert_int_equal(tvd_probe(&amd, &kvm, &ver, &vmmcall), TVD_PROBE_NO_SIGNATURE);
    struct tvd_cpuid short_base = tv_base;
    short_base.eax = TV_CPUID_BASE;
    assert_int_equal(tvd_probe(&amd, &short_base, &ver, &vmmcall), TVD_PROBE_NO_VERSION);
    struct tvd_cpuid v2 = { (TV_ABI_VERSION_MAJOR + 1) << 16, 0, 0, 0 };
    assert_int_equal(tvd_probe(&amd, &tv_base, &v2, &vmmcall), TVD_PROBE_ABI_MAJOR);
    struct tvd_cpuid v0 = { 0, 0, 0, 0 };
    assert_int_equal(tvd_probe(&amd, &tv_base, &v0, &vmmcall), TVD_PROBE_ABI_MAJOR);
}

static void list_checks(void **state)
{
    (void)state;
    struct tvdev_task_list l;
    memset(&l, 0, sizeof l);
    assert_true(tvd_check_list(&l)); /* capacity 0: no array needed */
    l.capacity = 10;
    assert_false(tvd_check_list(&l)); /* no array */
    l.entries = 0x1000;
    assert_true(tvd_check_list(&l));
    l.flags = TV_TASK_LIST_UNFINISHED;
    assert_true(tvd_check_list(&l));
    l.flags = 2;
    assert_false(tvd_check_list(&l));
    l.flags = 0;
    l.capacity = TVDEV_LIST_MAX;
    assert_true(tvd_check_list(&l));
    l.capacity = TVDEV_LIST_MAX + 1;
    assert_false(tvd_check_list(&l));
    l.capacity = 2;
    l.entries = UINT64_MAX - 30; /* 48 bytes wrap */
    assert_false(tvd_check_list(&l));
    l.entries = 0x1000;
    l.reserved[1] = 1;
    assert_false(tvd_check_list(&l));
}

static void verb_query_events_checks(void **state)
{
    (void)state;
    struct tvdev_task_verb v;
    uint32_t code = 0;
    memset(&v, 0, sizeof v);
    v.id = 5;
    const uint32_t want[] = { TV_HC_TASK_CANCEL, TV_HC_TASK_PAUSE, TV_HC_TASK_RESUME,
                              TV_HC_TASK_DISMISS };
    for (uint32_t i = 0; i < TV_TASK_VERB_COUNT; i++) {
        v.verb = i;
        assert_true(tvd_check_verb(&v, &code));
        assert_int_equal(code, want[i]);
    }
    v.verb = TV_TASK_VERB_COUNT;
    assert_false(tvd_check_verb(&v, &code));
    v.verb = 0;
    v.reserved[0] = 1;
    assert_false(tvd_check_verb(&v, &code));

    struct tvdev_task_query q;
    memset(&q, 0, sizeof q);
    q.info.id = 77; /* output space: anything */
    assert_true(tvd_check_query(&q));
    q.reserved = 1;
    assert_false(tvd_check_query(&q));

    struct tvdev_events e;
    memset(&e, 0, sizeof e);
    assert_true(tvd_check_events(&e));
    e.enable = 1;
    assert_true(tvd_check_events(&e));
    e.enable = 2;
    assert_false(tvd_check_events(&e));
    e.enable = 1;
    e.reserved[6] = 1;
    assert_false(tvd_check_events(&e));

    struct tvdev_power_off p;
    memset(&p, 0, sizeof p);
    assert_true(tvd_check_power_off(&p));
    p.status = 5; /* an output: what the caller left there does not matter */
    assert_true(tvd_check_power_off(&p));
    for (size_t i = 0; i < 7; i++) {
        memset(&p, 0, sizeof p);
        p.reserved[i] = 1;
        assert_false(tvd_check_power_off(&p));
    }
}

static void wait_and_test_start_checks(void **state)
{
    (void)state;
    struct tvdev_task_wait w;
    memset(&w, 0, sizeof w);
    const int32_t good[] = { -1, 0, 1, TV_TASK_WAIT_MAX_MS };
    const int32_t badv[] = { -2, INT32_MIN, TV_TASK_WAIT_MAX_MS + 1, INT32_MAX };
    for (size_t i = 0; i < 4; i++) {
        w.timeout_ms = good[i];
        assert_true(tvd_check_wait(&w));
        w.timeout_ms = badv[i];
        assert_false(tvd_check_wait(&w));
    }
    w.timeout_ms = 5;
    w.reserved[1] = 9;
    assert_false(tvd_check_wait(&w));

    struct tvdev_test_start t;
    memset(&t, 0, sizeof t);
    assert_true(tvd_check_test_start(&t));
    memset(t.spec.description, 'x', sizeof t.spec.description);
    assert_false(tvd_check_test_start(&t)); /* unterminated */
    t.spec.description[TV_TASK_DESC_MAX - 1] = 0;
    assert_true(tvd_check_test_start(&t));
    t.spec.reserved = 1;
    assert_false(tvd_check_test_start(&t));
    t.spec.reserved = 0;
    t.reserved = 1;
    assert_false(tvd_check_test_start(&t));
}

static void wait_slices(void **state)
{
    (void)state;
    struct tvd_wait w;
    uint32_t slice;
    const uint64_t ms = 1000000u, t0 = 5 * ms;

    tvd_wait_begin(&w, -1, t0); /* forever: never the last slice */
    for (int i = 0; i < 3; i++) {
        assert_false(tvd_wait_next(&w, t0 + (uint64_t)i * 1000 * ms, &slice));
        assert_int_equal(slice, TVD_WAIT_SLICE_MS);
    }

    tvd_wait_begin(&w, 0, t0); /* a poll: one call with 0 */
    assert_true(tvd_wait_next(&w, t0, &slice));
    assert_int_equal(slice, 0);

    tvd_wait_begin(&w, 50, t0); /* 20 + 20 + 10 */
    assert_false(tvd_wait_next(&w, t0, &slice));
    assert_int_equal(slice, 20);
    assert_false(tvd_wait_next(&w, t0 + 20 * ms, &slice));
    assert_int_equal(slice, 20);
    assert_true(tvd_wait_next(&w, t0 + 40 * ms, &slice));
    assert_int_equal(slice, 10);

    tvd_wait_begin(&w, 50, t0); /* a partial ms rounds up, never ends early */
    assert_true(tvd_wait_next(&w, t0 + 40 * ms + 1, &slice));
    assert_int_equal(slice, 10);
    assert_true(tvd_wait_next(&w, t0 + 60 * ms, &slice)); /* past: a last look */
    assert_int_equal(slice, 0);

    tvd_wait_begin(&w, TV_TASK_WAIT_MAX_MS, t0);
    assert_int_equal(w.deadline_ns, t0 + (uint64_t)TV_TASK_WAIT_MAX_MS * ms);
}

static struct tv_task_ring ring;

static void ring_setup(uint32_t head, uint32_t tail)
{
    memset(&ring, 0, sizeof ring);
    ring.hdr.magic = TV_TASK_RING_MAGIC;
    ring.hdr.capacity = TV_TASK_RING_CAPACITY;
    ring.hdr.head = head;
    ring.hdr.tail = tail;
    for (uint32_t i = tail; i != head; i++)
        ring.entries[i % TV_TASK_RING_CAPACITY].id = i;
}

static void ring_take(void **state)
{
    (void)state;
    struct tv_task_event out[8];
    size_t n;
    bool lost;

    ring_setup(UINT32_MAX - 2 + 5, UINT32_MAX - 2); /* indices wrap */
    assert_true(tvd_ring_take(&ring, out, 3, &n, &lost));
    assert_int_equal(n, 3);
    assert_false(lost);
    assert_int_equal(out[0].id, UINT32_MAX - 2);
    assert_int_equal(out[2].id, UINT32_MAX);
    assert_int_equal(ring.hdr.tail, 0u);
    assert_true(tvd_ring_take(&ring, out, 8, &n, &lost));
    assert_int_equal(n, 2);
    assert_int_equal(ring.hdr.tail, ring.hdr.head);
    assert_true(tvd_ring_take(&ring, out, 8, &n, &lost));
    assert_int_equal(n, 0);

    ring_setup(10, 10);
    ring.hdr.overflow = 1; /* the monitor dropped events */
    assert_true(tvd_ring_take(&ring, out, 8, &n, &lost));
    assert_true(lost);
    assert_int_equal(ring.hdr.overflow, 0);

    ring_setup(1000, 0); /* more than the ring holds: keep the newest */
    assert_true(tvd_ring_take(&ring, out, 1, &n, &lost));
    assert_true(lost);
    assert_int_equal(n, 1);
    assert_int_equal(ring.hdr.tail, 1000 - TV_TASK_RING_CAPACITY + 1);

    ring_setup(3, 0);
    ring.hdr.magic = 0;
    assert_false(tvd_ring_take(&ring, out, 8, &n, &lost));
    assert_int_equal(n, 0);
    assert_int_equal(ring.hdr.tail, 0);
    ring_setup(3, 0);
    ring.hdr.capacity = TV_TASK_RING_CAPACITY + 1;
    assert_false(tvd_ring_take(&ring, out, 8, &n, &lost));
    ring.hdr.capacity = 0;
    assert_false(tvd_ring_take(&ring, out, 8, &n, &lost));
}

static struct tvd_queue q;

static void queue_order_and_loss(void **state)
{
    (void)state;
    struct tvdev_event e;
    tvd_queue_init(&q);
    assert_true(tvd_queue_empty(&q));
    assert_false(tvd_queue_pop(&q, &e));
    for (uint64_t i = 1; i <= 3; i++) {
        struct tv_task_event ev = { i, 10 + i, TV_TASK_RUNNING, (uint32_t)i * 10 };
        tvd_queue_push(&q, &ev);
    }
    assert_true(tvd_queue_pop(&q, &e));
    assert_int_equal(e.id, 1);
    assert_int_equal(e.seq, 11);
    assert_int_equal(e.percent, 10);
    assert_int_equal(e.flags, 0);

    /* Fill past the end: one marker, then the queue starts over. */
    for (uint64_t i = 0; i < TVD_QUEUE_LEN + 5; i++) {
        struct tv_task_event ev = { 100 + i, 0, 0, 0 };
        tvd_queue_push(&q, &ev);
    }
    assert_false(tvd_queue_empty(&q));
    assert_true(tvd_queue_pop(&q, &e));
    assert_int_equal(e.id, 0);
    assert_int_equal(e.flags, TVDEV_EVENT_LOST);
    assert_true(tvd_queue_empty(&q));
    struct tv_task_event ev = { 7, 1, TV_TASK_COMPLETED, 100 };
    tvd_queue_push(&q, &ev);
    assert_true(tvd_queue_pop(&q, &e));
    assert_int_equal(e.id, 7);
    assert_int_equal(e.state, TV_TASK_COMPLETED);

    tvd_queue_mark_lost(&q); /* the monitor's loss reaches the reader */
    assert_false(tvd_queue_empty(&q));
    assert_true(tvd_queue_pop(&q, &e));
    assert_int_equal(e.flags, TVDEV_EVENT_LOST);
    assert_false(tvd_queue_pop(&q, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probe),
        cmocka_unit_test(list_checks),
        cmocka_unit_test(verb_query_events_checks),
        cmocka_unit_test(wait_and_test_start_checks),
        cmocka_unit_test(wait_slices),
        cmocka_unit_test(ring_take),
        cmocka_unit_test(queue_order_and_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
