/* Block self-test: see blk_selftest.h.  Disk layout (mkdisk.py):
 *   sector 0: "TVBLKTST", u32 version 1, u32 pattern_lba, u32 pattern_count,
 *             u32 scratch_lba, u32 scratch_count, u32 0, u64 image sectors
 *   pattern sector L: u64 L, "TVPATTRN", byte j >= 16 = (7L + 13j + 0x3c) & 0xff
 * The test writes scratch sector L as u64 L, "TVWROTE!", (11L + 5j + 0xa7) & 0xff,
 * which the runner checks in the image file after the run. */
#include "testing/blk_selftest.h"
#include "drivers/block/block.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "testing/verdict.h"
#include "tv_status.h"
#include "tv_string.h"

#define SECT 512u
#define INFLIGHT 8

struct layout {
    uint32_t pattern_lba, pattern_count, scratch_lba, scratch_count;
    uint64_t sectors;
};

static uint32_t passed, failed;
static uint64_t expect_devs;
static bool fault_test, error_test;

static void check(const struct blk_dev *d, bool ok, const char *what, tv_status_t st)
{
    log_info("blk selftest %s: %s: %s (%s)", d->name, what, ok ? "PASS" : "FAIL",
             tv_status_name(st));
    if (ok) passed++; else failed++;
}

static uint64_t rd64(const uint8_t *p) { uint64_t v; tv_memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; tv_memcpy(&v, p, 4); return v; }

static bool pattern_ok(const uint8_t *s, uint64_t lba)
{
    if (rd64(s) != lba || tv_memcmp(s + 8, "TVPATTRN", 8) != 0)
        return false;
    for (unsigned j = 16; j < SECT; j++)
        if (s[j] != (uint8_t)(7 * lba + 13 * j + 0x3c))
            return false;
    return true;
}

static void fill_written(uint8_t *s, uint64_t lba)
{
    tv_memcpy(s, &lba, 8);
    tv_memcpy(s + 8, "TVWROTE!", 8);
    for (unsigned j = 16; j < SECT; j++)
        s[j] = (uint8_t)(11 * lba + 5 * j + 0xa7);
}

static bool parse_header(const uint8_t *s0, struct layout *l)
{
    if (tv_memcmp(s0, "TVBLKTST", 8) != 0 || rd32(s0 + 8) != 1)
        return false;
    l->pattern_lba = rd32(s0 + 12);
    l->pattern_count = rd32(s0 + 16);
    l->scratch_lba = rd32(s0 + 20);
    l->scratch_count = rd32(s0 + 24);
    l->sectors = rd64(s0 + 32);
    return l->pattern_count && l->pattern_count <= 256 && l->scratch_count &&
           l->scratch_count <= 256;
}

static void test_patterns(struct blk_dev *d, const struct layout *l, uint8_t *buf)
{
    tv_status_t st = blk_read(d, l->pattern_lba, l->pattern_count, buf);
    bool ok = st == TV_OK;
    for (uint32_t i = 0; ok && i < l->pattern_count; i++)
        ok = pattern_ok(buf + i * SECT, l->pattern_lba + i);
    check(d, ok, "read the host's pattern", st);
}

/* Several single-sector reads submitted before any is waited for, in
 * reverse order, each into its own buffer.  Interrupts stay off while they
 * are submitted (up to the queue depth), so no completion is reaped in
 * between: the device holds them all at once. */
static void test_in_flight(struct blk_dev *d, const struct layout *l, uint8_t *buf)
{
    struct blk_req req[INFLIGHT];
    uint32_t n = l->pattern_count < INFLIGHT ? l->pattern_count : INFLIGHT;
    if (n > d->queue_depth)
        n = d->queue_depth;
    uint32_t peak = 0;
    bool irq = irq_save();
    tv_memset(buf, 0, n * SECT);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = n - 1 - i;
        req[i] = (struct blk_req){ .op = BLK_READ, .lba = l->pattern_lba + k, .count = 1,
                                   .buf = buf + k * SECT };
        blk_submit(d, &req[i]);
        if (d->in_flight > peak)
            peak = d->in_flight;
    }
    irq_restore(irq);
    tv_status_t first_err = TV_OK;
    for (uint32_t i = 0; i < n; i++) {
        tv_status_t st = blk_wait(&req[i]);
        if (st != TV_OK && first_err == TV_OK)
            first_err = st;
    }
    bool ok = first_err == TV_OK;
    for (uint32_t k = 0; ok && k < n; k++)
        ok = pattern_ok(buf + k * SECT, l->pattern_lba + k);
    log_info("blk selftest %s: %u reads submitted at once, %u in flight at the peak (depth %u)",
             d->name, n, peak, d->queue_depth);
    check(d, ok && peak == n, "several reads in flight", first_err);
}

/* The scratch area in four writes in flight, a flush, then read back. */
static void test_write(struct blk_dev *d, const struct layout *l, uint8_t *buf)
{
    uint32_t n = l->scratch_count, parts = n >= 4 ? 4 : 1, per = n / parts;
    for (uint32_t i = 0; i < n; i++)
        fill_written(buf + i * SECT, l->scratch_lba + i);
    struct blk_req req[4];
    for (uint32_t p = 0; p < parts; p++) {
        uint32_t cnt = p == parts - 1 ? n - per * p : per;
        req[p] = (struct blk_req){ .op = BLK_WRITE, .lba = l->scratch_lba + per * p,
                                   .count = cnt, .buf = buf + per * p * SECT };
        if (cnt > d->max_sectors)
            req[p].count = d->max_sectors;   /* the test area is small; never hit */
        blk_submit(d, &req[p]);
    }
    tv_status_t st = TV_OK;
    for (uint32_t p = 0; p < parts; p++) {
        tv_status_t s = blk_wait(&req[p]);
        if (st == TV_OK)
            st = s;
    }
    check(d, st == TV_OK, "write the scratch area (requests in flight)", st);
    st = blk_flush(d);
    check(d, st == TV_OK, "flush", st);
    uint8_t *back = buf + n * SECT;
    tv_memset(back, 0, n * SECT);
    st = blk_read(d, l->scratch_lba, n, back);
    check(d, st == TV_OK && tv_memcmp(buf, back, n * SECT) == 0, "read the written data back", st);
}

static void test_bounds(struct blk_dev *d, uint8_t *buf)
{
    tv_status_t st = blk_read(d, d->sectors, 1, buf);
    check(d, st == TV_E_INVALID_ARGUMENT, "a read past the end is refused", st);
}

#ifdef TV_TEST_BUILD
/* A device error: a read past the end that the block layer lets through
 * (test hook) must come back from the device as TV_E_IO, and the device must
 * work afterwards (AHCI restarts its port, ATA clears the error). */
static void test_device_error(struct blk_dev *d, const struct layout *l, uint8_t *buf)
{
    d->fault_no_bounds = true;
    tv_status_t st = blk_read(d, d->sectors, 1, buf);
    d->fault_no_bounds = false;
    check(d, st == TV_E_IO, "a device error gives TV_E_IO", st);
    st = blk_read(d, l->pattern_lba + 2, 1, buf);
    check(d, st == TV_OK && pattern_ok(buf, l->pattern_lba + 2),
          "the device works after its error", st);
}

static void test_timeout(struct blk_dev *d, const struct layout *l, uint8_t *buf)
{
    d->fault_no_doorbell = true;
    uint64_t t0 = time_now_ns();
    tv_status_t st = blk_read(d, l->pattern_lba, 1, buf);
    uint64_t took = time_now_ns() - t0;
    d->fault_no_doorbell = false;
    /* The bound: the timeout plus 100 ms of slack for timer and scheduling
     * delays under an emulator (TCG delivers timer interrupts late by tens
     * of milliseconds when the host is busy). */
    uint64_t bound = d->timeout_ns + 100000000ull;
    log_info("blk selftest %s: silent device answered %s after %llu ms (timeout %llu ms)",
             d->name, tv_status_name(st), (unsigned long long)(took / 1000000),
             (unsigned long long)(d->timeout_ns / 1000000));
    check(d, st == TV_E_TIMEOUT && took >= d->timeout_ns && took <= bound,
          "a device that does not answer times out within the bound", st);
    /* The device works again once it is told: the next request's doorbell
     * also brings the abandoned one in, whose slot is then freed. */
    st = blk_read(d, l->pattern_lba + 1, 1, buf);
    check(d, st == TV_OK && pattern_ok(buf, l->pattern_lba + 1), "the device answers again", st);
}
#endif

static void selftest_thread(void *arg)
{
    (void)arg;
    uint8_t *buf = kmalloc(2 * 256 * SECT);
    uint32_t tested = 0;
    for (unsigned i = 0; buf && i < blk_count(); i++) {
        struct blk_dev *d = blk_get(i);
        if (d->sector_size != SECT) {
            log_info("blk selftest %s: sector size %u, skipped", d->name, d->sector_size);
            continue;
        }
        tv_status_t st = blk_read(d, 0, 1, buf);
        struct layout l;
        if (st != TV_OK || !parse_header(buf, &l)) {
            log_info("blk selftest %s: no test signature in sector 0 (%s), skipped", d->name,
                     tv_status_name(st));
            continue;
        }
        tested++;
        uint64_t t0 = time_now_ns(), irqs0 = d->stat_irqs, late0 = d->stat_late;
        check(d, l.sectors == d->sectors, "capacity matches the image", TV_OK);
        test_patterns(d, &l, buf);
        test_in_flight(d, &l, buf);
        if (d->read_only) {
            /* A read-only disk: the write is refused before it reaches the
             * device (the runner checks the image is unchanged). */
            fill_written(buf, l.scratch_lba);
            tv_status_t ws = blk_write(d, l.scratch_lba, 1, buf);
            check(d, ws == TV_E_READ_ONLY, "a write to a read-only disk is refused", ws);
        } else {
            test_write(d, &l, buf);
        }
        test_bounds(d, buf);
        /* Completions must come from the device's interrupt (or the poll
         * timer), never from a waiter that reaped at its deadline. */
        uint64_t took = time_now_ns() - t0;
        log_info("blk selftest %s: the tests above took %llu ms, %llu interrupts, %llu found "
                 "only at a deadline", d->name, (unsigned long long)(took / 1000000),
                 (unsigned long long)(d->stat_irqs - irqs0),
                 (unsigned long long)(d->stat_late - late0));
        check(d, d->stat_late == late0 && (!d->has_irq || d->stat_irqs > irqs0),
              d->has_irq ? "completed by the device's interrupt" : "completed by the poll timer",
              TV_OK);
#ifdef TV_TEST_BUILD
        if (fault_test)
            test_timeout(d, &l, buf);
        if (error_test)
            test_device_error(d, &l, buf);
#endif
        log_info("blk selftest %s: %llu completions, %llu interrupts, %llu errors, %llu timeouts",
                 d->name, (unsigned long long)d->stat_done, (unsigned long long)d->stat_irqs,
                 (unsigned long long)d->stat_errors, (unsigned long long)d->stat_timeouts);
    }
    bool ok = tested >= expect_devs;
    log_info("blk selftest: %u test disks found, %llu expected: %s", tested,
             (unsigned long long)expect_devs, ok ? "PASS" : "FAIL");
    if (ok) passed++; else failed++;
    kfree(buf);
    verdict_release(passed, failed);
}

void blk_selftest_start(const char *options)
{
    expect_devs = option_get_u64(options, "blk_selftest", 0);
    if (!expect_devs)
        return;
    char f[16];
    fault_test = option_get(options, "blk_selftest_fault", f, sizeof f) &&
                 tv_strcmp(f, "no_doorbell") == 0;
    error_test = option_get(options, "blk_selftest_fault", f, sizeof f) &&
                 tv_strcmp(f, "device_error") == 0;
    verdict_hold();
    if (!thread_create("blk-selftest", CLASS_TASK, selftest_thread, 0)) {
        log_err("blk selftest: cannot create its thread");
        verdict_release(0, 1);
    }
}
