/* libFuzzer target: the decoding code of the Linux driver
 * (guests/linux/driver/tvdev_decode.c) over arbitrary ioctl structures,
 * CPUID answers, event rings written by the monitor and queue operations.
 * Aborts when a structure is accepted that breaks a rule of
 * include/taskvisor/tvdev.h, when the wait slicing can end early or run
 * past its deadline, when the ring consumer returns more than asked or
 * other entries than the ring's, when a disk or VM structure is accepted
 * with a record size that is not its type's, a call the class does not
 * carry or a reserved field set, or when a queue loses order or drops an
 * event without reporting the loss. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tvdev_decode.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct in {
    const uint8_t *p;
    size_t n;
};
static void take(struct in *in, void *out, size_t len)
{
    memset(out, 0, len);
    size_t k = in->n < len ? in->n : len;
    memcpy(out, in->p, k);
    in->p += k;
    in->n -= k;
}
static uint8_t byte(struct in *in)
{
    uint8_t b = 0;
    take(in, &b, 1);
    return b;
}

static void fuzz_structs(struct in *in)
{
    struct tvdev_task_list l;
    take(in, &l, sizeof l);
    if (tvd_check_list(&l)) {
        CHECK(!l.reserved[0] && !l.reserved[1] && l.capacity <= TVDEV_LIST_MAX);
        CHECK(!(l.flags & ~(uint32_t)TV_TASK_LIST_UNFINISHED));
        CHECK(l.capacity == 0 ||
              (l.entries && l.entries + (uint64_t)l.capacity * sizeof(struct tv_task_event) > l.entries));
    }
    struct tvdev_task_verb v;
    uint32_t code = 0;
    take(in, &v, sizeof v);
    if (tvd_check_verb(&v, &code))
        CHECK(v.verb < TV_TASK_VERB_COUNT && !v.reserved[0] && !v.reserved[1] &&
              code == TV_HC_TASK_CANCEL + v.verb);
    struct tvdev_task_query q;
    take(in, &q, sizeof q);
    CHECK(tvd_check_query(&q) == (q.reserved == 0));
    struct tvdev_events e;
    take(in, &e, sizeof e);
    if (tvd_check_events(&e)) {
        CHECK((e.enable & ~TVDEV_SUBSCRIBE_ALL) == 0);
        for (int i = 0; i < 7; i++)
            CHECK(e.reserved[i] == 0);
    }
    uint32_t st;
    take(in, &st, sizeof st);
    if (tvd_event_wanted(e.enable, st))
        CHECK((TV_EVENT_KIND(st) == TV_EVENT_KIND_TASK && (e.enable & TVDEV_SUBSCRIBE_TASKS)) ||
              (TV_EVENT_KIND(st) == TV_EVENT_KIND_VM && (e.enable & TVDEV_SUBSCRIBE_VMS)));
    struct tvdev_test_start t;
    take(in, &t, sizeof t);
    if (tvd_check_test_start(&t))
        CHECK(!t.reserved && !t.spec.reserved &&
              memchr(t.spec.description, 0, sizeof t.spec.description));
    struct tvdev_power_off p;
    take(in, &p, sizeof p);
    bool zero = true;
    for (int i = 0; i < 7; i++)
        zero = zero && p.reserved[i] == 0;
    CHECK(tvd_check_power_off(&p) == zero);
}

static void fuzz_wait(struct in *in)
{
    struct tvdev_task_wait w;
    take(in, &w, sizeof w);
    if (!tvd_check_wait(&w))
        return;
    CHECK(w.timeout_ms == -1 || (w.timeout_ms >= 0 && w.timeout_ms <= TV_TASK_WAIT_MAX_MS));
    uint64_t now;
    take(in, &now, sizeof now);
    now &= (1ull << 60) - 1;
    struct tvd_wait plan;
    tvd_wait_begin(&plan, w.timeout_ms, now);
    uint64_t deadline = now + (uint64_t)(w.timeout_ms < 0 ? 0 : w.timeout_ms) * 1000000u;
    for (int step = 0; step < 64; step++) {
        uint32_t slice = 0;
        bool last = tvd_wait_next(&plan, now, &slice);
        CHECK(slice <= TVD_WAIT_SLICE_MS);
        if (w.timeout_ms < 0) {
            CHECK(!last && slice == TVD_WAIT_SLICE_MS);
        } else if (last) {
            /* The last slice reaches the deadline; never past it by a ms. */
            CHECK(now + (uint64_t)slice * 1000000u >= deadline);
            CHECK(now >= deadline || now + (uint64_t)slice * 1000000u < deadline + 1000000u);
            break;
        } else {
            CHECK(slice == TVD_WAIT_SLICE_MS && now + (uint64_t)slice * 1000000u < deadline);
        }
        /* The slice took anything from 0 to a little over its length. */
        now += (uint64_t)byte(in) * 100000u;
    }
}

static void fuzz_ring(struct in *in)
{
    static struct tv_task_ring ring, before;
    take(in, &ring, sizeof ring.hdr);
    if (byte(in) & 1) {
        ring.hdr.magic = TV_TASK_RING_MAGIC;
        ring.hdr.capacity = TV_TASK_RING_CAPACITY - (byte(in) & 7);
        ring.hdr.tail = ring.hdr.head - (byte(in) % (ring.hdr.capacity + 4));
    }
    for (size_t i = 0; i < TV_TASK_RING_CAPACITY; i++)
        ring.entries[i].id = i + 1;
    before = ring;
    struct tv_task_event out[200];
    size_t cap = byte(in) % 200, n = 99;
    bool lost = false;
    bool okr = tvd_ring_take(&ring, out, cap, &n, &lost);
    if (!okr) {
        CHECK(n == 0);
        CHECK(before.hdr.magic != TV_TASK_RING_MAGIC || before.hdr.capacity == 0 ||
              before.hdr.capacity > TV_TASK_RING_CAPACITY);
        CHECK(!memcmp(&ring, &before, sizeof ring));
        return;
    }
    uint32_t c = before.hdr.capacity, avail = before.hdr.head - before.hdr.tail;
    uint32_t start = before.hdr.tail;
    if (avail > c) {
        CHECK(lost);
        start = before.hdr.head - c;
        avail = c;
    }
    CHECK(n <= cap && n == (avail < cap ? avail : cap));
    for (size_t k = 0; k < n; k++)
        CHECK(out[k].id == (uint32_t)(start + k) % c + 1);
    CHECK(ring.hdr.tail == (uint32_t)(start + n) && ring.hdr.overflow == 0);
    if (before.hdr.overflow)
        CHECK(lost);
}

static void fuzz_queue(struct in *in)
{
    static struct tvd_queue q;
    tvd_queue_init(&q);
    uint64_t next_push = 1, next_pop = 1; /* ids in push order */
    bool loss_pending = false;
    while (in->n) {
        uint8_t op = byte(in);
        if (op < 0x90) {
            struct tv_task_event ev = { next_push, next_push, op & 7, op };
            bool full = q.head - q.tail >= TVD_QUEUE_LEN;
            tvd_queue_push(&q, &ev);
            if (full)
                loss_pending = true;
            next_push++;
        } else if (op < 0xf8) {
            struct tvdev_event out;
            bool got = tvd_queue_pop(&q, &out);
            if (loss_pending) {
                CHECK(got && out.id == 0 && out.flags == TVDEV_EVENT_LOST);
                loss_pending = false;
                next_pop = next_push; /* what was queued is dropped with the marker */
            } else if (got) {
                /* In order, nothing skipped without a marker. */
                CHECK(out.flags == 0 && out.id == next_pop);
                next_pop++;
            } else {
                CHECK(next_pop == next_push && tvd_queue_empty(&q));
            }
        } else {
            tvd_queue_mark_lost(&q);
            loss_pending = true;
        }
        CHECK(q.head - q.tail <= TVD_QUEUE_LEN);
    }
}

static void fuzz_probe(struct in *in)
{
    struct tvd_cpuid vendor, base, version;
    take(in, &vendor, sizeof vendor);
    take(in, &base, sizeof base);
    take(in, &version, sizeof version);
    uint8_t b = byte(in);
    if (b & 1) {
        base.ebx = TV_CPUID_SIGNATURE_EBX;
        base.ecx = TV_CPUID_SIGNATURE_ECX;
        base.edx = TV_CPUID_SIGNATURE_EDX;
    }
    if (b & 2) {
        vendor.ebx = 0x68747541u;
        vendor.edx = 0x69746e65u;
        vendor.ecx = 0x444d4163u;
    }
    bool vmmcall = false;
    if (tvd_probe(&vendor, &base, &version, &vmmcall) == TVD_PROBE_OK)
        CHECK(base.ebx == TV_CPUID_SIGNATURE_EBX && base.ecx == TV_CPUID_SIGNATURE_ECX &&
              base.edx == TV_CPUID_SIGNATURE_EDX && base.eax >= TV_CPUID_LEAF_VERSION &&
              version.eax >> 16 == TV_ABI_VERSION_MAJOR);
}

/* The disk and VM classes: an accepted structure keeps every rule. */
static void fuzz_disk_vm(struct in *in)
{
    struct tvdev_disk d;
    take(in, &d, sizeof d);
    uint8_t b = byte(in);
    if (b & 1) /* steer towards a plausible call */
        d.call = TV_HC_DISK_START;
    if (b & 2)
        d.in_size = (uint32_t)tvd_disk_record_size(d.arg & 31);
    if (b & 16) /* and towards a folder to make */
        d.call = TV_HC_DIR_CREATE;
    if (tvd_check_disk(&d)) {
        CHECK(d.call == TV_HC_DISK_START || d.call == TV_HC_DIR_CREATE);
        if (d.call == TV_HC_DISK_START) {
            size_t want = tvd_disk_record_size(d.arg);
            CHECK(want != 0 && d.in_size == want && want <= TVDEV_DISK_IN_MAX);
            CHECK(d.arg != TV_TASK_TYPE_DISK_RECOVER);
        } else {
            CHECK(d.arg == 0 && d.in_size >= 1 && d.in_size <= TVDEV_DIR_PATH_MAX);
        }
        CHECK(d.in != 0 && d.in + d.in_size > d.in && d.out == 0 && d.out_size == 0);
        CHECK(!d.reserved0 && !d.reserved[0] && !d.reserved[1]);
    }
    struct tvdev_vm_list l;
    take(in, &l, sizeof l);
    if (b & 4)
        l.capacity &= 127;
    if (tvd_check_vm_list(&l)) {
        CHECK(!l.reserved[0] && !l.reserved[1] && l.capacity <= TVDEV_VM_LIST_MAX);
        CHECK(l.capacity == 0 ||
              (l.entries && l.entries + (uint64_t)l.capacity * sizeof(struct tv_vm_info) > l.entries));
    }
    uint64_t total;
    take(in, &total, sizeof total);
    uint32_t w = tvd_vm_list_written(total, l.capacity);
    CHECK(w <= l.capacity && w <= total && (w == l.capacity || w == total));
    struct tvdev_vm_query q;
    take(in, &q, sizeof q);
    CHECK(tvd_check_vm_query(&q) == (q.reserved[0] == 0 && q.reserved[1] == 0));
    struct tvdev_vm_op o;
    take(in, &o, sizeof o);
    if (b & 8)
        o.call = TV_HC_VM_LIST + (o.call & 15);
    if (tvd_check_vm_op(&o)) {
        bool forceable = o.call == TV_HC_VM_SHUTDOWN || o.call == TV_HC_VM_RESTART;
        CHECK(o.call >= TV_HC_VM_STARTUP && o.call <= TV_HC_VM_SAVE &&
              (forceable ? (o.flags & ~TV_VM_OP_F_FORCE) == 0 : o.flags == 0) &&
              !o.reserved[0] && !o.reserved[1]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = { data, size };
    switch (byte(&in) % 6) {
    case 0: fuzz_structs(&in); break;
    case 1: fuzz_wait(&in); break;
    case 2: fuzz_ring(&in); break;
    case 3: fuzz_queue(&in); break;
    case 5: fuzz_disk_vm(&in); break;
    default: fuzz_probe(&in); break;
    }
    return 0;
}
