/* Hosted tests of the block-device adapter (vmm/services/blk_fsdev.c):
 * ranges from an untrusted volume, read-only devices, the refusal to wait
 * on a thread that must not block, sector sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "services/blk_fsdev.h"

struct fake {
    uint8_t data[64 * 512];
    unsigned reads, writes, flushes;
    bool blocking_ok;
};

static tv_status_t f_read(void *dev, uint64_t lba, uint32_t count, void *buf)
{
    struct fake *f = dev;
    f->reads++;
    memcpy(buf, f->data + lba * 512, count * 512u);
    return TV_OK;
}

static tv_status_t f_write(void *dev, uint64_t lba, uint32_t count, const void *buf)
{
    struct fake *f = dev;
    f->writes++;
    memcpy(f->data + lba * 512, buf, count * 512u);
    return TV_OK;
}

static tv_status_t f_flush(void *dev)
{
    ((struct fake *)dev)->flushes++;
    return TV_E_IO; /* passed through unchanged */
}

static bool f_may_block(void *dev)
{
    return ((struct fake *)dev)->blocking_ok;
}

static struct blkfs_backend backend(struct fake *f)
{
    return (struct blkfs_backend){ f, 512, 64, false, f_read, f_write, f_flush, f_may_block };
}

static void test_ranges(void **state)
{
    (void)state;
    static struct fake f;
    memset(&f, 0, sizeof f);
    f.blocking_ok = true;
    struct blkfs a;
    struct blkfs_backend b = backend(&f);
    assert_int_equal(blkfs_init(&a, &b), TV_OK);
    assert_ptr_equal(a.fs.ctx, &a);
    assert_int_equal(a.fs.sectors, 64);
    uint8_t buf[2 * 512];
    memset(buf, 0xab, sizeof buf);
    assert_int_equal(a.fs.write(a.fs.ctx, 62, 2, buf), TV_OK);
    assert_int_equal(f.data[63 * 512 + 511], 0xab);
    assert_int_equal(a.fs.read(a.fs.ctx, 62, 2, buf), TV_OK);
    /* Past the end, and a sector number that would wrap around. */
    assert_int_equal(a.fs.read(a.fs.ctx, 63, 2, buf), TV_E_INVALID_ARGUMENT);
    assert_int_equal(a.fs.write(a.fs.ctx, 65, 1, buf), TV_E_INVALID_ARGUMENT);
    assert_int_equal(a.fs.read(a.fs.ctx, UINT64_MAX, 2, buf), TV_E_INVALID_ARGUMENT);
    assert_int_equal(f.reads, 1);
    assert_int_equal(f.writes, 1);
    /* A zero-length transfer reaches no driver. */
    assert_int_equal(a.fs.read(a.fs.ctx, 64, 0, buf), TV_OK);
    assert_int_equal(f.reads, 1);
    assert_int_equal(a.fs.flush(a.fs.ctx), TV_E_IO);
    assert_int_equal(f.flushes, 1);
}

static void test_read_only_and_context(void **state)
{
    (void)state;
    static struct fake f;
    memset(&f, 0, sizeof f);
    struct blkfs a;
    struct blkfs_backend b = backend(&f);
    b.read_only = true;
    b.write = NULL;
    assert_int_equal(blkfs_init(&a, &b), TV_OK);
    assert_true(a.fs.read_only);
    uint8_t buf[512] = { 0 };
    assert_int_equal(a.fs.write(a.fs.ctx, 0, 1, buf), TV_E_READ_ONLY);
    /* A thread that must not wait (a vCPU's) is refused before the driver. */
    f.blocking_ok = false;
    assert_int_equal(a.fs.read(a.fs.ctx, 0, 1, buf), TV_E_INVALID_STATE);
    assert_int_equal(a.fs.flush(a.fs.ctx), TV_E_INVALID_STATE);
    assert_int_equal(a.refused, 2);
    assert_int_equal(f.reads + f.flushes, 0);
    f.blocking_ok = true;
    assert_int_equal(a.fs.read(a.fs.ctx, 0, 1, buf), TV_OK);
}

static void test_init_checks(void **state)
{
    (void)state;
    static struct fake f;
    struct blkfs a;
    struct blkfs_backend b = backend(&f);
    b.sector_size = 520;
    assert_int_equal(blkfs_init(&a, &b), TV_E_UNSUPPORTED);
    b.sector_size = 8192;
    assert_int_equal(blkfs_init(&a, &b), TV_E_UNSUPPORTED);
    b.sector_size = 4096;
    assert_int_equal(blkfs_init(&a, &b), TV_OK);
    b.sectors = 0;
    assert_int_equal(blkfs_init(&a, &b), TV_E_INVALID_ARGUMENT);
    b = backend(&f);
    b.write = NULL;
    assert_int_equal(blkfs_init(&a, &b), TV_E_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_read_only_and_context),
        cmocka_unit_test(test_init_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
