/* Unit tests for the engine's guards (issue 10): sizes every reader agrees
 * on, merge journals relative to their directory, parents resolved once,
 * locks on images in use, siblings of a merged child, aliased BAT entries,
 * parents whose size changed, FIFOs, and a write that runs out of space. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/storage_file.h"
#include "mem_storage.h"
#include "vhd_internal.h"
#include "vhd_test_util.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

static mem_fs_t *fs;
static tv_storage_t st;

static int setup(void **state)
{
    (void)state;
    fs = mem_fs_new();
    mem_fs_storage(fs, &st);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mem_fs_free(fs);
    return 0;
}

static void expect_contents(const char *name, const uint8_t *model, uint64_t size)
{
    uint64_t got;
    uint8_t *all = tu_read_all(&st, name, 0, &got);
    assert_non_null(all);
    assert_int_equal(got, size);
    assert_memory_equal(all, model, size);
    free(all);
}

/* Item 4: writers lock; a second writer is refused at once (TV_E_BUSY). */
static void images_in_use_are_locked(void **state)
{
    (void)state;
    uint64_t size = 8 * MiB;
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, "x.vhd", TV_VHD_DYNAMIC, size, 512 * KiB, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "x.vhd", 0, 2 * MiB, 1, model), TV_OK);
    /* A write during a compact: refused, the compact's result complete. */
    tv_vhd_op_t *op, *op2;
    assert_int_equal(tv_vhd_op_compact(&st, "x.vhd", &op), TV_OK);
    assert_int_equal(tv_vhd_op_step(op), TV_E_CONTINUE);
    assert_int_equal(tu_write(&st, "x.vhd", 4 * MiB, 4 * KiB, 9, NULL), TV_E_BUSY);
    /* Two compacts of one file: the second is busy, not "no such file". */
    assert_int_equal(tv_vhd_op_compact(&st, "x.vhd", &op2), TV_OK);
    assert_int_equal(tu_run(&st, op2), TV_E_BUSY);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("x.vhd", model, size);
    /* Two converts to one target: the second is busy and leaves the first's
     * temporary alone. */
    assert_int_equal(tv_vhd_op_convert(&st, "x.vhd", false, "t.vhd", TV_VHD_FIXED, 0, &op), TV_OK);
    assert_int_equal(tv_vhd_op_step(op), TV_E_CONTINUE);
    assert_int_equal(tv_vhd_op_convert(&st, "x.vhd", false, "t.vhd", TV_VHD_DYNAMIC, 0, &op2), TV_OK);
    assert_int_equal(tu_run(&st, op2), TV_E_BUSY);
    assert_true(mem_fs_exists(fs, "t.vhd.tvtmp"));
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("t.vhd", model, size);
    /* Readers share; a reader keeps writers out; a writer keeps readers out. */
    tv_vhd_t *r1, *r2, *w;
    assert_int_equal(tv_vhd_open(&st, "x.vhd", 0, &r1), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "x.vhd", 0, &r2), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "x.vhd", TV_VHD_OPEN_WRITE, &w), TV_E_BUSY);
    tv_vhd_close(r1);
    tv_vhd_close(r2);
    assert_int_equal(tv_vhd_open(&st, "x.vhd", TV_VHD_OPEN_WRITE, &w), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "x.vhd", 0, &r1), TV_E_BUSY);
    tv_vhd_close(w);
    /* A stale temporary (nobody holds it) is still cleared. */
    mem_fs_put(fs, "s.vhd.tvtmp", "junk", 4);
    assert_int_equal(tv_vhd_op_convert(&st, "x.vhd", false, "s.vhd", TV_VHD_DYNAMIC, 0, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("s.vhd", model, size);
    assert_int_equal(mem_fs_opens(fs, "x.vhd"), 0);
    free(model);
}

/* Item 6: the hosted seam refuses a FIFO at once (it would block in open). */
static void fifo_refused_by_hosted_seam(void **state)
{
    (void)state;
    char dir[] = "/tmp/tv_fifoXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], file[64];
    snprintf(path, sizeof path, "%s/f.vhd", dir);
    snprintf(file, sizeof file, "%s/r.vhd", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    tv_storage_t hs;
    tv_storage_file_init(&hs, false);
    alarm(10); /* a hang fails the test instead of stalling the suite */
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&hs, path, 0, &v), TV_E_WRONG_TYPE);
    assert_int_equal(tv_vhd_open(&hs, path, TV_VHD_OPEN_WRITE, &v), TV_E_WRONG_TYPE);
    assert_int_equal(tv_vhd_open(&hs, dir, 0, &v), TV_E_WRONG_TYPE);
    alarm(0);
    /* Host locks: two opens in one process conflict like two processes. */
    struct tv_vhd_create_params p = { .kind = TV_VHD_DYNAMIC, .size = 4 * MiB };
    assert_int_equal(tv_vhd_create(&hs, file, &p, 0, NULL), TV_OK);
    tv_vhd_t *w, *r;
    assert_int_equal(tv_vhd_open(&hs, file, TV_VHD_OPEN_WRITE, &w), TV_OK);
    assert_int_equal(tv_vhd_open(&hs, file, 0, &r), TV_E_BUSY);
    tv_vhd_close(w);
    assert_int_equal(tv_vhd_open(&hs, file, 0, &r), TV_OK);
    tv_vhd_close(r);
    unlink(file);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(images_in_use_are_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(fifo_refused_by_hosted_seam, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
