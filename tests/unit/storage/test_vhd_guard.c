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

static char *report_out;
static size_t report_size;

static void report(void *ctx, bool error, const char *line)
{
    (void)ctx;
    (void)error;
    strncat(report_out, line, report_size - strlen(report_out) - 2);
    strcat(report_out, "\n");
}

/* Runs check (optionally repairing): errors left; the findings in out. */
static int check_text(const char *name, bool repair, char *out, size_t size)
{
    struct tv_vhd_check_result r;
    tv_vhd_op_t *op;
    out[0] = 0;
    report_out = out;
    report_size = size;
    assert_int_equal(tv_vhd_op_check(&st, name, repair, report, NULL, &r, &op), TV_OK);
    tv_status_t s = tv_vhd_op_run(op, NULL, NULL);
    tv_vhd_op_destroy(op);
    assert_true(s == TV_OK || s == TV_E_CORRUPT);
    return (int)(r.errors - r.repaired);
}

static void footer_of(const char *name, struct vhd_footer *f)
{
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, name, TV_VHD_OPEN_NO_PARENT, &v), TV_OK);
    *f = v->footer;
    tv_vhd_close(v);
}

/* Rewrites an image's footers with another creator (what other tools write). */
static void set_creator(const char *name, const char *app)
{
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, name, TV_VHD_OPEN_WRITE | TV_VHD_OPEN_NO_PARENT, &v), TV_OK);
    memcpy(v->footer.creator_app, app, 4);
    assert_int_equal(vhd_write_footers(v), TV_OK);
    assert_int_equal(tv_vhd_close(v), TV_OK);
}

/* Item 1: a child of a force_size parent ("qem2", no CHS product) and every
 * output of its chain keep a size qemu reads as the current size. */
static void sizes_agree_over_force_size_parent(void **state)
{
    (void)state;
    uint64_t size = 104859136; /* 100 MiB + 1 KiB, as qemu-img force_size=on keeps it */
    assert_int_equal(tu_create(&st, "q.vhd", TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
    set_creator("q.vhd", "qem2");
    struct vhd_footer f;
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 0, "q.vhd"), TV_OK);
    footer_of("c.vhd", &f);
    assert_int_equal(f.current_size, size);
    assert_memory_equal(f.creator_app, "qem2", 4); /* inherited: qemu trusts its size */
    assert_true(vhd_size_agreed(&f));
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_write(&st, "c.vhd", size - 512, 512, 7, model), TV_OK);

    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_merge_to(&st, "c.vhd", "m.vhd", TV_VHD_DYNAMIC, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    footer_of("m.vhd", &f);
    assert_int_equal(f.current_size, size);
    assert_true(vhd_size_agreed(&f));
    expect_contents("m.vhd", model, size);
    assert_int_equal(tv_vhd_op_convert(&st, "m.vhd", false, "f.vhd", TV_VHD_FIXED, 0, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    footer_of("f.vhd", &f);
    assert_true(vhd_size_agreed(&f));

    /* A child made by an older tvdisk ("tvsr" with an exact size) is mended
     * by compact: the rewritten disk gets a creator qemu trusts. */
    set_creator("c.vhd", "tvsr");
    footer_of("c.vhd", &f);
    assert_false(vhd_size_agreed(&f));
    assert_int_equal(tv_vhd_op_compact(&st, "c.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    footer_of("c.vhd", &f);
    assert_true(vhd_size_agreed(&f));
    expect_contents("c.vhd", model, size);

    /* --exact without a trusted source: Hyper-V's creator, size as given. */
    assert_int_equal(tu_create(&st, "e.vhd", TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
    footer_of("e.vhd", &f);
    assert_memory_equal(f.creator_app, "win ", 4);
    /* A CHS-product size keeps our own creator. */
    struct tv_vhd_create_params p = { .kind = TV_VHD_DYNAMIC, .size = 64 * MiB };
    assert_int_equal(tv_vhd_create(&st, "r.vhd", &p, 0, NULL), TV_OK);
    footer_of("r.vhd", &f);
    assert_memory_equal(f.creator_app, "tvsr", 4);
    free(model);
}

/* Stops a merge right after its commit point, as a kill would. */
static void merge_until_commit(const char *child)
{
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_merge(&st, child, &op), TV_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tv_vhd_op_step(op), TV_E_CONTINUE);
    assert_false(op->cancelable);
    tv_vhd_op_destroy(op);
}

static void move(const char *from, const char *to)
{
    uint8_t *d;
    size_t n;
    assert_true(mem_fs_get(fs, from, &d, &n));
    mem_fs_put(fs, to, d, n);
    assert_int_equal(st.remove(st.ctx, from), TV_OK);
    free(d);
}

/* Item 2: the journal names the child relative to its own directory, so
 * recovery finds it wherever the names are taken from (here: the whole
 * directory moved, as "cd vms" changes every relative name). */
static void journal_relative_to_its_directory(void **state)
{
    (void)state;
    uint64_t size = 8 * MiB;
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, "vms/p.vhd", TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "vms/p.vhd", 0, 64 * KiB, 1, model), TV_OK);
    assert_int_equal(tu_create(&st, "vms/c.vhd", TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "vms/c.vhd", 3 * MiB, 300 * KiB, 2, model), TV_OK);
    merge_until_commit("vms/c.vhd");
    uint8_t *j;
    size_t n;
    assert_true(mem_fs_get(fs, "vms/p.vhd.tvjournal", &j, &n));
    assert_int_equal(n, 2048);
    assert_memory_equal(j + 72, "c.vhd", 6); /* relative, with its terminator */
    free(j);
    move("vms/p.vhd", "elsewhere/p.vhd");
    move("vms/c.vhd", "elsewhere/c.vhd");
    move("vms/p.vhd.tvjournal", "elsewhere/p.vhd.tvjournal");
    char text[4096];
    assert_true(check_text("elsewhere/p.vhd", false, text, sizeof text) > 0);
    assert_non_null(strstr(text, "pending"));
    assert_int_equal(check_text("elsewhere/p.vhd", true, text, sizeof text), 0);
    assert_false(mem_fs_exists(fs, "elsewhere/p.vhd.tvjournal"));
    assert_false(mem_fs_exists(fs, "elsewhere/c.vhd"));
    expect_contents("elsewhere/p.vhd", model, size);
    free(model);
}

/* Item 2: a journal whose child is missing (or another disk) is reported;
 * check --repair clears it and gives the parent a new id, so a sibling
 * does not read the half-merged parent silently. */
static void journal_with_missing_or_wrong_child(void **state)
{
    (void)state;
    uint64_t size = 8 * MiB;
    for (int wrong = 0; wrong < 2; wrong++) {
        const char *c = wrong ? "w/c.vhd" : "m/c.vhd", *p = wrong ? "w/p.vhd" : "m/p.vhd";
        const char *sib = wrong ? "w/s.vhd" : "m/s.vhd", *jn = wrong ? "w/p.vhd.tvjournal" : "m/p.vhd.tvjournal";
        assert_int_equal(tu_create(&st, p, TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
        assert_int_equal(tu_create(&st, c, TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
        assert_int_equal(tu_create(&st, sib, TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
        assert_int_equal(tu_write(&st, c, MiB, 64 * KiB, 3, NULL), TV_OK);
        merge_until_commit(c);
        assert_int_equal(st.remove(st.ctx, c), TV_OK);
        if (wrong) /* another disk under the child's name (p.vhd cannot get a new child now) */
            assert_int_equal(tu_create(&st, c, TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
        tv_vhd_t *v;
        assert_int_equal(tv_vhd_open(&st, p, TV_VHD_OPEN_WRITE, &v), TV_E_INVALID_STATE);
        char text[4096];
        assert_true(check_text(p, false, text, sizeof text) > 0);
        assert_non_null(strstr(text, wrong ? "different disk" : "missing"));
        assert_true(mem_fs_exists(fs, jn));
        assert_int_equal(check_text(p, true, text, sizeof text), 0);
        assert_false(mem_fs_exists(fs, jn));
        assert_int_equal(tv_vhd_open(&st, p, TV_VHD_OPEN_WRITE, &v), TV_OK);
        tv_vhd_close(v);
        assert_int_equal(tv_vhd_open(&st, sib, 0, &v), TV_E_PARENT_MODIFIED);
    }
}

/* Item 3: compact of a differencing disk named with a directory. */
static void compact_resolves_parent_once(void **state)
{
    (void)state;
    uint64_t size = 8 * MiB;
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, "vms/p.vhd", TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "vms/p.vhd", 0, 64 * KiB, 1, model), TV_OK);
    assert_int_equal(tu_create(&st, "vms/c.vhd", TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "vms/c.vhd", 2 * MiB, 64 * KiB, 2, model), TV_OK);
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_compact(&st, "vms/c.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("vms/c.vhd", model, size);
    assert_int_equal(tu_check_errors(&st, "vms/c.vhd"), 0);
    free(model);
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

/* Item 5: merging one child gives the parent a new id: its sibling refuses
 * to open as "parent changed" (until the caller accepts it), and a merge
 * while a sibling is open is refused as busy. */
static void merge_changes_parent_identity(void **state)
{
    (void)state;
    uint64_t size = 8 * MiB;
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, "p.vhd", TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "p.vhd", 0, 64 * KiB, 1, model), TV_OK);
    assert_int_equal(tu_create(&st, "c1.vhd", TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
    assert_int_equal(tu_create(&st, "c2.vhd", TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "c1.vhd", 0, 4 * KiB, 2, NULL), TV_OK);
    struct vhd_footer before, after;
    footer_of("p.vhd", &before);
    /* c2 in use (its chain open): the merge into p is refused, nothing changed. */
    tv_vhd_t *v;
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_open(&st, "c2.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_op_merge(&st, "c1.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_BUSY);
    tv_vhd_close(v);
    assert_true(mem_fs_exists(fs, "c1.vhd"));
    assert_false(mem_fs_exists(fs, "p.vhd.tvjournal"));
    expect_contents("c2.vhd", model, size);
    /* Merge, then c2 sees a changed parent. */
    assert_int_equal(tv_vhd_op_merge(&st, "c1.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    footer_of("p.vhd", &after);
    assert_memory_not_equal(after.uid, before.uid, 16);
    assert_int_equal(tv_vhd_open(&st, "c2.vhd", 0, &v), TV_E_PARENT_MODIFIED);
    assert_true(tu_check_errors(&st, "c2.vhd") > 0);
    /* Accepting the change (Startup2's fix) records the new id. */
    assert_int_equal(tv_vhd_open(&st, "c2.vhd", TV_VHD_OPEN_WRITE | TV_VHD_OPEN_FIX_PARENT, &v), TV_OK);
    tv_vhd_close(v);
    assert_int_equal(tu_check_errors(&st, "c2.vhd"), 0);
    free(model);
}

/* Item 5 with a crash: the new id recorded in the journal is the one a
 * redo gives, and a pending merge's child still reads its parent. */
static void merge_redo_gives_the_same_identity(void **state)
{
    (void)state;
    uint64_t size = 8 * MiB;
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, "p.vhd", TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "c.vhd", MiB, 64 * KiB, 2, model), TV_OK);
    merge_until_commit("c.vhd");
    uint8_t *j;
    size_t n;
    assert_true(mem_fs_get(fs, "p.vhd.tvjournal", &j, &n));
    expect_contents("c.vhd", model, size);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "p.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    assert_memory_equal(tv_vhd_uid(v), j + 52, 16);
    tv_vhd_close(v);
    free(j);
    expect_contents("p.vhd", model, size);
    free(model);
}

/* Writes BAT entry `entry` of a dynamic image directly. */
static void poke_bat(const char *name, uint32_t entry, uint32_t value)
{
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, name, TV_VHD_OPEN_NO_PARENT, &v), TV_OK);
    uint64_t at = v->header.bat_offset + 4ull * entry;
    tv_vhd_close(v);
    uint8_t *d;
    size_t len;
    assert_true(mem_fs_get(fs, name, &d, &len));
    vhd_put32(d + at, value);
    mem_fs_put(fs, name, d, len);
    free(d);
}

/* Item 6: two BAT entries pointing at one block: writes refused, readers
 * warned, check reports it. */
static void aliased_bat_entries_refused(void **state)
{
    (void)state;
    uint64_t size = 8 * MiB;
    assert_int_equal(tu_create(&st, "a.vhd", TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "a.vhd", 0, 4 * KiB, 1, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "a.vhd", 2 * MiB, 4 * KiB, 2, NULL), TV_OK);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "a.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_warnings(v), 0);
    uint32_t first = v->bat[0];
    tv_vhd_close(v);
    poke_bat("a.vhd", 1, first);
    assert_int_equal(tv_vhd_open(&st, "a.vhd", TV_VHD_OPEN_WRITE, &v), TV_E_CORRUPT);
    assert_int_equal(tv_vhd_open(&st, "a.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_warnings(v), TV_VHD_WARN_BAT_ALIASED);
    tv_vhd_close(v);
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_compact(&st, "a.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_CORRUPT);
    char text[4096];
    assert_true(check_text("a.vhd", false, text, sizeof text) > 0);
    assert_non_null(strstr(text, "overlap"));
    /* A differencing child of it: its chain carries the warning. */
    assert_int_equal(tu_create(&st, "ac.vhd", TV_VHD_DIFF, 0, 0, "a.vhd"), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "ac.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    assert_int_equal(tv_vhd_warnings(v), TV_VHD_WARN_BAT_ALIASED);
    tv_vhd_close(v);
}

/* Item 6: a parent with the right id but another size is reported. */
static void parent_size_mismatch_reported(void **state)
{
    (void)state;
    assert_int_equal(tu_create(&st, "p.vhd", TV_VHD_DYNAMIC, 8 * MiB, 0, NULL), TV_OK);
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "c.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_warnings(v), 0);
    tv_vhd_close(v);
    /* Shrink the parent's footer size (its BAT still covers 8 MiB). */
    assert_int_equal(tv_vhd_open(&st, "p.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    v->footer.current_size = v->footer.original_size = 4 * MiB;
    assert_int_equal(vhd_write_footers(v), TV_OK);
    v->flags = 0;
    tv_vhd_close(v);
    assert_int_equal(tv_vhd_open(&st, "c.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_warnings(v), TV_VHD_WARN_PARENT_SIZE);
    tv_vhd_close(v);
    char text[4096];
    assert_true(check_text("c.vhd", false, text, sizeof text) > 0);
    assert_non_null(strstr(text, "resized"));
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

/* Item 7: a write that runs out of space inside the sparse, extended file
 * leaves the image as it was: old length, end footer, clean check. */
static void no_space_write_rolls_back(void **state)
{
    (void)state;
    uint64_t size = 16 * MiB;
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, "d.vhd", TV_VHD_DYNAMIC, size, 0, NULL), TV_OK);
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 0, "d.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "d.vhd", 0, 64 * KiB, 1, model), TV_OK);
    const char *names[] = { "d.vhd", "c.vhd" };
    mem_fs_set_sparse(fs, true);
    for (int i = 0; i < 2; i++) {
        uint8_t *img;
        size_t before;
        assert_true(mem_fs_get(fs, names[i], &img, &before));
        free(img);
        uint64_t used = 0;
        for (size_t k = 0; mem_fs_name(fs, k); k++) {
            size_t n;
            assert_true(mem_fs_get(fs, mem_fs_name(fs, k), &img, &n));
            used += n;
            free(img);
        }
        mem_fs_set_space(fs, used + 8 * KiB); /* less than one new block's data */
        assert_int_equal(tu_write(&st, names[i], 5 * MiB, MiB, 2, NULL), TV_E_NO_SPACE);
        mem_fs_set_space(fs, 0);
        size_t after;
        assert_true(mem_fs_get(fs, names[i], &img, &after));
        free(img);
        assert_int_equal(after, before);
        assert_int_equal(tu_check_errors(&st, names[i]), 0);
        expect_contents(names[i], model, size);
    }
    free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sizes_agree_over_force_size_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(journal_relative_to_its_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(journal_with_missing_or_wrong_child, setup, teardown),
        cmocka_unit_test_setup_teardown(compact_resolves_parent_once, setup, teardown),
        cmocka_unit_test_setup_teardown(images_in_use_are_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(merge_changes_parent_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(merge_redo_gives_the_same_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(aliased_bat_entries_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(parent_size_mismatch_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(fifo_refused_by_hosted_seam, setup, teardown),
        cmocka_unit_test_setup_teardown(no_space_write_rolls_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
