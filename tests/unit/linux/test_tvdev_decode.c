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
    e.enable = TVDEV_SUBSCRIBE_VMS;
    assert_true(tvd_check_events(&e));
    e.enable = TVDEV_SUBSCRIBE_ALL;
    assert_true(tvd_check_events(&e));
    e.enable = 4;
    assert_false(tvd_check_events(&e));
    e.enable = 0x80000001u;
    assert_false(tvd_check_events(&e));

    /* Which records a subscription takes: the kind in the state's top byte. */
    const uint32_t task_ev = TV_TASK_RUNNING;
    const uint32_t vm_ev = TV_EVENT_KIND_VM << TV_EVENT_KIND_SHIFT | TV_VM_RUNNING;
    const uint32_t odd_ev = 7u << TV_EVENT_KIND_SHIFT | 1;
    assert_true(tvd_event_wanted(TVDEV_SUBSCRIBE_TASKS, task_ev));
    assert_false(tvd_event_wanted(TVDEV_SUBSCRIBE_TASKS, vm_ev));
    assert_false(tvd_event_wanted(TVDEV_SUBSCRIBE_VMS, task_ev));
    assert_true(tvd_event_wanted(TVDEV_SUBSCRIBE_VMS, vm_ev));
    assert_true(tvd_event_wanted(TVDEV_SUBSCRIBE_ALL, task_ev));
    assert_true(tvd_event_wanted(TVDEV_SUBSCRIBE_ALL, vm_ev));
    assert_false(tvd_event_wanted(TVDEV_SUBSCRIBE_ALL, odd_ev));
    assert_false(tvd_event_wanted(0, task_ev));
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

/* The disk class: DISK_START's record size against its type, no output,
 * every reserved field. */
static void disk_checks(void **state)
{
    (void)state;
    const struct { uint32_t type; size_t size; } types[] = {
        { TV_TASK_TYPE_DISK_CREATE_FIXED, 544 },  { TV_TASK_TYPE_DISK_CREATE_DYNAMIC, 544 },
        { TV_TASK_TYPE_DISK_CREATE_DIFF, 1056 },  { TV_TASK_TYPE_DISK_MERGE, 544 },
        { TV_TASK_TYPE_DISK_MERGE_TO, 1056 },     { TV_TASK_TYPE_DISK_COMPACT, 544 },
        { TV_TASK_TYPE_DISK_CONVERT, 1056 },      { TV_TASK_TYPE_DISK_CHECK, 544 },
    };
    struct tvdev_disk d;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        assert_int_equal(tvd_disk_record_size(types[i].type), types[i].size);
        memset(&d, 0, sizeof d);
        d.call = TV_HC_DISK_START;
        d.arg = types[i].type;
        d.in = 0x10000;
        d.in_size = (uint32_t)types[i].size;
        d.result = 99;  /* outputs: anything */
        d.status = 7;
        assert_true(tvd_check_disk(&d));
        d.in_size = (uint32_t)types[i].size - 8; /* a record of another type's size */
        assert_false(tvd_check_disk(&d));
        d.in_size = (uint32_t)types[i].size + 512;
        assert_false(tvd_check_disk(&d));
    }
    /* Types DISK_START does not take: the mount's recovery, VM types, garbage. */
    const uint32_t not_disk[] = { 0, TV_TASK_TYPE_DISK_RECOVER, TV_TASK_TYPE_VM_STARTUP,
                                  TV_TASK_TYPE_VM_RESUME, 0xffffffffu };
    for (size_t i = 0; i < sizeof not_disk / sizeof not_disk[0]; i++) {
        assert_int_equal(tvd_disk_record_size(not_disk[i]), 0);
        memset(&d, 0, sizeof d);
        d.call = TV_HC_DISK_START;
        d.arg = not_disk[i];
        d.in = 0x10000;
        d.in_size = 544;
        assert_false(tvd_check_disk(&d));
    }
    struct tvdev_disk good;
    memset(&good, 0, sizeof good);
    good.call = TV_HC_DISK_START;
    good.arg = TV_TASK_TYPE_DISK_CHECK;
    good.in = 0x10000;
    good.in_size = 544;
    assert_true(tvd_check_disk(&good));
    d = good; d.in = 0;                       assert_false(tvd_check_disk(&d));
    d = good; d.in = UINT64_MAX - 100;        assert_false(tvd_check_disk(&d)); /* wraps */
    d = good; d.out = 0x2000;                 assert_false(tvd_check_disk(&d));
    d = good; d.out_size = 8;                 assert_false(tvd_check_disk(&d));
    d = good; d.reserved0 = 1;                assert_false(tvd_check_disk(&d));
    d = good; d.reserved[0] = 1;              assert_false(tvd_check_disk(&d));
    d = good; d.reserved[1] = 1;              assert_false(tvd_check_disk(&d));
    /* DIR_CREATE: a path of 1..1023 bytes, no argument, no output. */
    struct tvdev_disk dir;
    memset(&dir, 0, sizeof dir);
    dir.call = TV_HC_DIR_CREATE;
    dir.in = 0x10000;
    dir.in_size = 11;
    assert_true(tvd_check_disk(&dir));
    d = dir; d.in_size = TVDEV_DIR_PATH_MAX;  assert_true(tvd_check_disk(&d));
    d = dir; d.in_size = TVDEV_DIR_PATH_MAX + 1; assert_false(tvd_check_disk(&d));
    d = dir; d.in_size = 0;                   assert_false(tvd_check_disk(&d));
    d = dir; d.arg = 1;                       assert_false(tvd_check_disk(&d));
    d = dir; d.in = 0;                        assert_false(tvd_check_disk(&d));
    d = dir; d.in = UINT64_MAX - 4;           assert_false(tvd_check_disk(&d)); /* wraps */
    d = dir; d.out = 0x2000;                  assert_false(tvd_check_disk(&d));
    d = dir; d.out_size = 8;                  assert_false(tvd_check_disk(&d));
    d = dir; d.reserved0 = 1;                 assert_false(tvd_check_disk(&d));
    d = dir; d.reserved[1] = 1;               assert_false(tvd_check_disk(&d));
    /* Calls the class does not carry (yet): the image store's others, the VM calls. */
    d = good; d.call = 0x200;                 assert_false(tvd_check_disk(&d));
    d = good; d.call = 0x211;                 assert_false(tvd_check_disk(&d));
    d = good; d.call = TV_HC_VM_STARTUP;      assert_false(tvd_check_disk(&d));
}

static void vm_checks(void **state)
{
    (void)state;
    struct tvdev_vm_list l;
    memset(&l, 0, sizeof l);
    l.count = 5; /* outputs: anything */
    l.total = 6;
    l.status = 3;
    assert_true(tvd_check_vm_list(&l)); /* count only: no array */
    l.capacity = 1;
    assert_false(tvd_check_vm_list(&l)); /* no array */
    l.entries = 0x4000;
    assert_true(tvd_check_vm_list(&l));
    l.capacity = TVDEV_VM_LIST_MAX;
    assert_true(tvd_check_vm_list(&l));
    l.capacity = TVDEV_VM_LIST_MAX + 1;
    assert_false(tvd_check_vm_list(&l));
    l.capacity = 2;
    l.entries = UINT64_MAX - 900; /* 976 bytes wrap */
    assert_false(tvd_check_vm_list(&l));
    l.entries = 0x4000;
    l.reserved[0] = 1;
    assert_false(tvd_check_vm_list(&l));
    l.reserved[0] = 0;
    l.reserved[1] = 1;
    assert_false(tvd_check_vm_list(&l));

    assert_int_equal(tvd_vm_list_written(3, 8), 3);
    assert_int_equal(tvd_vm_list_written(8, 3), 3);
    assert_int_equal(tvd_vm_list_written(UINT64_MAX, 64), 64); /* a monitor gone wrong */
    assert_int_equal(tvd_vm_list_written(5, 0), 0);

    struct tvdev_vm_query q;
    memset(&q, 0, sizeof q);
    q.id = 3;
    q.info.id = 9; /* output space */
    assert_true(tvd_check_vm_query(&q));
    q.reserved[1] = 1;
    assert_false(tvd_check_vm_query(&q));

    struct tvdev_vm_op o;
    const uint32_t calls[] = { TV_HC_VM_STARTUP, TV_HC_VM_TURN_OFF, TV_HC_VM_RESET,
                               TV_HC_VM_PAUSE,   TV_HC_VM_RESUME,   TV_HC_VM_SHUTDOWN,
                               TV_HC_VM_RESTART, TV_HC_VM_LOGOFF,   TV_HC_VM_CAN_SHUTDOWN,
                               TV_HC_VM_SAVE };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        bool forceable = calls[i] == TV_HC_VM_SHUTDOWN || calls[i] == TV_HC_VM_RESTART;
        memset(&o, 0, sizeof o);
        o.call = calls[i];
        o.id = 2;
        o.task = 44;
        assert_true(tvd_check_vm_op(&o));
        /* only shutdown and restart take a flag, and only FORCE */
        o.flags = TV_VM_OP_F_FORCE;
        assert_int_equal(tvd_check_vm_op(&o), forceable);
        o.flags = 2;
        assert_false(tvd_check_vm_op(&o));
        o.flags = 0;
        o.reserved[1] = 1;
        assert_false(tvd_check_vm_op(&o));
    }
    memset(&o, 0, sizeof o);
    const uint32_t not_ops[] = { TV_HC_VM_LIST, TV_HC_VM_QUERY, TV_HC_VM_SAVE + 1,
                                 TV_HC_AGENT_ANNOUNCE, TV_HC_TASK_CANCEL, TV_HC_DISK_START,
                                 TV_HC_POWER_OFF };
    for (size_t i = 0; i < sizeof not_ops / sizeof not_ops[0]; i++) {
        o.call = not_ops[i];
        assert_false(tvd_check_vm_op(&o));
    }
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
        cmocka_unit_test(disk_checks),
        cmocka_unit_test(vm_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
