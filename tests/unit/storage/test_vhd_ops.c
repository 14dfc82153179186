/* Unit tests for the VHD operations: create, convert, merge, merge-to,
 * compact, check/repair, cancel and pause through the task subsystem, and
 * the errors users meet (wrong type, missing parent, no space). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem_storage.h"
#include "task_mgr.h"
#include "vhd_internal.h"
#include "vhd_task.h"
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

/* A dynamic disk with data in some blocks, one block of zeros, and a model. */
static uint8_t *make_dynamic(const char *name, uint64_t size, uint32_t block)
{
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, name, TV_VHD_DYNAMIC, size, block, NULL), TV_OK);
    assert_int_equal(tu_write(&st, name, 0, 8192, 1, model), TV_OK);
    assert_int_equal(tu_write(&st, name, size / 2 + 4096, 70000 / 512 * 512, 2, model), TV_OK);
    assert_int_equal(tu_write(&st, name, size - 1024, 1024, 3, model), TV_OK);
    tv_vhd_t *v;
    uint8_t *z = calloc(1, block);
    assert_int_equal(tv_vhd_open(&st, name, TV_VHD_OPEN_WRITE, &v), TV_OK);
    assert_int_equal(tv_vhd_write(v, (uint64_t)block * 2, model, 512), TV_OK); /* allocate... */
    assert_int_equal(tv_vhd_write(v, (uint64_t)block * 2, z, block), TV_OK);  /* ...then zero it */
    assert_int_equal(tv_vhd_close(v), TV_OK);
    free(z);
    return model;
}

static void expect_contents(const char *name, unsigned flags, const uint8_t *model, uint64_t size)
{
    uint64_t got;
    uint8_t *all = tu_read_all(&st, name, flags, &got);
    assert_non_null(all);
    assert_int_equal(got, size);
    assert_memory_equal(all, model, size);
    free(all);
}

static void convert_round_trips(void **state)
{
    (void)state;
    uint64_t size = 6 * MiB;
    uint8_t *model = make_dynamic("d.vhd", size, 512 * KiB);
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_convert(&st, "d.vhd", false, "f.vhd", TV_VHD_FIXED, 0, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("f.vhd", 0, model, size);
    assert_int_equal(tv_vhd_op_convert(&st, "f.vhd", false, "d2.vhd", TV_VHD_DYNAMIC, 256 * KiB, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("d2.vhd", 0, model, size);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "d2.vhd", 0, &v), TV_OK);
    /* data at 0..8K, 3M+4K..+70000, last 1K: 1 + 1 + 1 blocks of 256K (the zero block is gone) */
    assert_int_equal(tv_vhd_allocated_blocks(v), 3);
    assert_int_equal(tv_vhd_block_size(v), 256 * KiB);
    tv_vhd_close(v);
    assert_int_equal(tv_vhd_op_convert(&st, "d2.vhd", false, "r.raw", TV_VHD_RAW, 0, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("r.raw", TV_VHD_OPEN_RAW, model, size);
    assert_int_equal(tv_vhd_op_convert(&st, "r.raw", true, "back.vhd", TV_VHD_DYNAMIC, 0, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    uint64_t got;
    uint8_t *all = tu_read_all(&st, "back.vhd", 0, &got);
    assert_true(got >= size); /* raw import rounds up to a CHS size */
    assert_memory_equal(all, model, size);
    assert_true(vhd_is_zero(all + size, got - size));
    free(all);
    /* Target exists; differencing source refused; bad target type. */
    assert_int_equal(tv_vhd_op_convert(&st, "d.vhd", false, "f.vhd", TV_VHD_FIXED, 0, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_EXISTS);
    assert_int_equal(tv_vhd_op_convert(&st, "d.vhd", false, "x.vhd", TV_VHD_DIFF, 0, &op), TV_E_WRONG_TYPE);
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 0, "d.vhd"), TV_OK);
    assert_int_equal(tv_vhd_op_convert(&st, "c.vhd", false, "x.vhd", TV_VHD_FIXED, 0, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_WRONG_TYPE);
    assert_false(mem_fs_exists(fs, "x.vhd"));
    assert_false(mem_fs_exists(fs, "x.vhd.tvtmp"));
    free(model);
}

static void merge_into_parent(void **state)
{
    (void)state;
    uint64_t size = 4 * MiB;
    uint8_t *model = make_dynamic("p.vhd", size, 512 * KiB);
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 64 * KiB, "p.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "c.vhd", 512, 1024, 10, model), TV_OK);          /* partial sectors */
    assert_int_equal(tu_write(&st, "c.vhd", MiB + 512, 200 * KiB, 11, model), TV_OK); /* new parent block */
    uint8_t z[4096] = { 0 };
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "c.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    assert_int_equal(tv_vhd_write(v, 0, z, sizeof z), TV_OK); /* zeros over parent data */
    memset(model, 0, sizeof z);
    assert_int_equal(tv_vhd_close(v), TV_OK);
    expect_contents("c.vhd", 0, model, size);
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_merge(&st, "c.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("p.vhd", 0, model, size);
    assert_false(mem_fs_exists(fs, "c.vhd"));
    assert_false(mem_fs_exists(fs, "p.vhd.tvjournal"));
    assert_int_equal(tu_check_errors(&st, "p.vhd"), 0);
    /* Merge into a fixed parent; into a differencing parent (3 levels). */
    tv_vhd_op_t *cv;
    assert_int_equal(tv_vhd_op_convert(&st, "p.vhd", false, "fp.vhd", TV_VHD_FIXED, 0, &cv), TV_OK);
    assert_int_equal(tu_run(&st, cv), TV_OK);
    assert_int_equal(tu_create(&st, "mid.vhd", TV_VHD_DIFF, 0, 0, "fp.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "mid.vhd", 2 * MiB, 4096, 12, model), TV_OK);
    assert_int_equal(tu_create(&st, "top.vhd", TV_VHD_DIFF, 0, 0, "mid.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "top.vhd", 2 * MiB + 512, 512, 13, model), TV_OK);
    assert_int_equal(tv_vhd_op_merge(&st, "top.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("mid.vhd", 0, model, size);
    assert_int_equal(tv_vhd_op_merge(&st, "mid.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("fp.vhd", 0, model, size);
    /* Wrong type: merging a disk that is not differencing. */
    assert_int_equal(tv_vhd_op_merge(&st, "fp.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_WRONG_TYPE);
    free(model);
}

static void merge_to_new_disk(void **state)
{
    (void)state;
    uint64_t size = 4 * MiB;
    uint8_t *model = make_dynamic("p.vhd", size, 512 * KiB);
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "c.vhd", 3 * MiB, 4096, 20, model), TV_OK);
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_merge_to(&st, "c.vhd", "flat.vhd", TV_VHD_FIXED, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("flat.vhd", 0, model, size);
    assert_int_equal(tv_vhd_op_merge_to(&st, "c.vhd", "flatd.vhd", TV_VHD_DYNAMIC, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    expect_contents("flatd.vhd", 0, model, size);
    expect_contents("c.vhd", 0, model, size); /* source untouched */
    assert_int_equal(tv_vhd_op_merge_to(&st, "p.vhd", "x.vhd", TV_VHD_FIXED, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_WRONG_TYPE);
    free(model);
}

static void compact_drops_zero_blocks(void **state)
{
    (void)state;
    uint64_t size = 4 * MiB;
    uint8_t *model = make_dynamic("d.vhd", size, 512 * KiB);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "d.vhd", 0, &v), TV_OK);
    uint32_t before = tv_vhd_allocated_blocks(v);
    uint64_t fsize = tv_vhd_file_size(v);
    tv_vhd_close(v);
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_compact(&st, "d.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "d.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_allocated_blocks(v), before - 1);
    assert_true(tv_vhd_file_size(v) < fsize);
    tv_vhd_close(v);
    expect_contents("d.vhd", 0, model, size);

    /* Differencing: a zero block over parent data stays, one over zeros goes. */
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 512 * KiB, "d.vhd"), TV_OK);
    uint8_t *z = calloc(1, 512 * KiB);
    assert_int_equal(tv_vhd_open(&st, "c.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    assert_int_equal(tv_vhd_write(v, 0, z, 4096), TV_OK);           /* masks parent data */
    assert_int_equal(tv_vhd_write(v, MiB, z, 512 * KiB), TV_OK);    /* parent has zeros */
    assert_int_equal(tv_vhd_close(v), TV_OK);
    memset(model, 0, 4096);
    assert_int_equal(tv_vhd_op_compact(&st, "c.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "c.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_allocated_blocks(v), 1);
    tv_vhd_close(v);
    expect_contents("c.vhd", 0, model, size);
    free(z);
    /* Wrong type. */
    tv_vhd_op_t *cv;
    assert_int_equal(tv_vhd_op_convert(&st, "d.vhd", false, "f.vhd", TV_VHD_FIXED, 0, &cv), TV_OK);
    assert_int_equal(tu_run(&st, cv), TV_OK);
    assert_int_equal(tv_vhd_op_compact(&st, "f.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_WRONG_TYPE);
    free(model);
}

/* ---- check and repair ---------------------------------------------------- */

struct findings {
    char text[4096];
};

static void collect(void *ctx, bool error, const char *line)
{
    struct findings *f = ctx;
    (void)error;
    strncat(f->text, line, sizeof f->text - strlen(f->text) - 2);
    strcat(f->text, "\n");
}

static tv_status_t check(const char *name, bool repair, struct tv_vhd_check_result *r, struct findings *f)
{
    tv_vhd_op_t *op;
    memset(f, 0, sizeof *f);
    assert_int_equal(tv_vhd_op_check(&st, name, repair, collect, f, r, &op), TV_OK);
    tv_status_t s = tv_vhd_op_run(op, NULL, NULL);
    tv_vhd_op_destroy(op);
    return s;
}

static uint8_t *image(const char *name, size_t *len)
{
    uint8_t *img;
    assert_true(mem_fs_get(fs, name, &img, len));
    return img;
}

static void check_and_repair(void **state)
{
    (void)state;
    uint64_t size = 4 * MiB;
    uint8_t *model = make_dynamic("d.vhd", size, 512 * KiB);
    struct tv_vhd_check_result r;
    struct findings f;
    assert_int_equal(check("d.vhd", false, &r, &f), TV_OK);
    assert_int_equal(r.errors, 0);
    size_t len;
    uint8_t *good = image("d.vhd", &len);

    /* 1. End footer missing (cut) -> restored from the copy at offset 0. */
    mem_fs_put(fs, "d.vhd", good, len - 512);
    assert_int_equal(check("d.vhd", false, &r, &f), TV_E_CORRUPT);
    assert_non_null(strstr(f.text, "end footer missing"));
    assert_int_equal(check("d.vhd", true, &r, &f), TV_OK);
    assert_int_equal(r.repaired, r.errors);
    assert_int_equal(check("d.vhd", false, &r, &f), TV_OK);
    expect_contents("d.vhd", 0, model, size);

    /* 2. Copy at offset 0 corrupt -> restored from the end footer. */
    uint8_t *img = image("d.vhd", &len);
    img[64] ^= 0x55;
    mem_fs_put(fs, "d.vhd", img, len);
    free(img);
    assert_int_equal(check("d.vhd", false, &r, &f), TV_E_CORRUPT);
    assert_non_null(strstr(f.text, "footer copy at offset 0 corrupt"));
    assert_int_equal(check("d.vhd", true, &r, &f), TV_OK);
    assert_int_equal(check("d.vhd", false, &r, &f), TV_OK);

    /* 3. Stale end footer (differs from the copy) -> rewritten. */
    img = image("d.vhd", &len);
    struct vhd_footer ft;
    vhd_footer_decode(img + len - 512, &ft, NULL);
    ft.timestamp ^= 1;
    vhd_footer_encode(&ft, img + len - 512);
    mem_fs_put(fs, "d.vhd", img, len);
    free(img);
    assert_int_equal(check("d.vhd", false, &r, &f), TV_E_CORRUPT);
    assert_int_equal(check("d.vhd", true, &r, &f), TV_OK);
    assert_int_equal(check("d.vhd", false, &r, &f), TV_OK);

    /* 4. BAT entry pointing outside the file -> cleared, data lost. */
    img = image("d.vhd", &len);
    struct vhd_header h;
    vhd_header_decode(img + 512, &h, NULL);
    vhd_put32(img + h.bat_offset + 4 * 5, (uint32_t)(len / 512 + 100));
    vhd_header_encode(&h, img + 512);
    mem_fs_put(fs, "d.vhd", img, len);
    free(img);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "d.vhd", 0, &v), TV_E_CORRUPT);
    assert_int_equal(check("d.vhd", false, &r, &f), TV_E_CORRUPT);
    assert_non_null(strstr(f.text, "BAT entry 5 (sector"));
    assert_int_equal(check("d.vhd", true, &r, &f), TV_OK);
    assert_int_equal(r.lost_bytes, 512 * KiB);
    assert_non_null(strstr(f.text, "data lost"));
    assert_int_equal(check("d.vhd", false, &r, &f), TV_OK);
    expect_contents("d.vhd", 0, model, size); /* block 5 held nothing */

    /* 5. File cut short during block allocation (block partly written, no
     *    footer): entry cleared, file trimmed back to a consistent end. */
    img = image("d.vhd", &len);
    uint8_t *cut = malloc(len + 512 * KiB);
    memcpy(cut, img, len);
    vhd_header_decode(img + 512, &h, NULL);
    vhd_put32(cut + h.bat_offset + 4 * 6, (uint32_t)((len - 512) / 512));
    memset(cut + len - 512, 0xAB, 100 * KiB); /* half a block, footer overwritten */
    mem_fs_put(fs, "d.vhd", cut, len - 512 + 100 * KiB);
    assert_int_equal(check("d.vhd", true, &r, &f), TV_OK);
    assert_int_equal(check("d.vhd", false, &r, &f), TV_OK);
    size_t len2;
    free(image("d.vhd", &len2));
    assert_int_equal(len2, len); /* trimmed back to where it was */
    expect_contents("d.vhd", 0, model, size);
    free(cut);

    /* 6. Long file (orphaned block after a crash) -> trimmed. */
    cut = malloc(len + 600 * KiB);
    memcpy(cut, img, len - 512);
    memset(cut + len - 512, 0x11, 600 * KiB);
    memcpy(cut + len - 512 + 600 * KiB, img + len - 512, 512);
    mem_fs_put(fs, "d.vhd", cut, len + 600 * KiB);
    assert_int_equal(check("d.vhd", true, &r, &f), TV_OK);
    assert_non_null(strstr(f.text, "after the last block: trimmed"));
    free(image("d.vhd", &len2));
    assert_int_equal(len2, len);
    free(cut);

    /* 7. Overlapping blocks and a bad header checksum are reported. */
    free(img);
    img = image("d.vhd", &len);
    vhd_header_decode(img + 512, &h, NULL);
    uint32_t first = vhd_be32(img + h.bat_offset);
    vhd_put32(img + h.bat_offset + 4 * 3, first + 8);
    mem_fs_put(fs, "d.vhd", img, len);
    assert_int_equal(check("d.vhd", true, &r, &f), TV_E_CORRUPT);
    assert_non_null(strstr(f.text, "overlap"));
    img[512 + 100] ^= 1;
    mem_fs_put(fs, "d.vhd", img, len);
    assert_int_equal(check("d.vhd", false, &r, &f), TV_E_CORRUPT);
    free(img);
    free(good);
    free(model);
}

static void check_parent_chain(void **state)
{
    (void)state;
    struct tv_vhd_check_result r;
    struct findings f;
    assert_int_equal(tu_create(&st, "a.vhd", TV_VHD_DYNAMIC, 2 * MiB, 0, NULL), TV_OK);
    assert_int_equal(tu_create(&st, "b.vhd", TV_VHD_DIFF, 0, 0, "a.vhd"), TV_OK);
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 0, "b.vhd"), TV_OK);
    assert_int_equal(check("c.vhd", false, &r, &f), TV_OK);
    assert_non_null(strstr(f.text, "parent b.vhd"));
    assert_non_null(strstr(f.text, "parent a.vhd"));
    /* Make a loop: a.vhd becomes a child of c.vhd (same name, c's uid). */
    size_t len;
    uint8_t *cimg = image("c.vhd", &len);
    uint8_t *bimg;
    size_t blen;
    bimg = image("b.vhd", &blen);
    /* a.vhd := copy of b.vhd pointing at "c.vhd", with a fresh uid. */
    struct vhd_footer ft;
    struct vhd_header h;
    vhd_footer_decode(cimg + len - 512, &ft, NULL);
    uint8_t cuid[16];
    memcpy(cuid, ft.uid, 16);
    vhd_header_decode(bimg + 512, &h, NULL);
    memcpy(h.parent_uid, cuid, 16);
    memset(h.loc, 0, sizeof h.loc);
    size_t n;
    memset(h.parent_name, 0, sizeof h.parent_name);
    assert_int_equal(vhd_utf8_to_utf16("c.vhd", h.parent_name, sizeof h.parent_name, true, &n), TV_OK);
    vhd_header_encode(&h, bimg + 512);
    uint8_t *aimg;
    size_t alen;
    aimg = image("a.vhd", &alen);
    struct vhd_footer aft;
    vhd_footer_decode(aimg, &aft, NULL);
    free(aimg);
    vhd_footer_decode(bimg, &ft, NULL);
    memcpy(ft.uid, aft.uid, 16); /* keep a's identity so b still accepts it */
    vhd_footer_encode(&ft, bimg);
    memcpy(bimg + blen - 512, bimg, 512);
    mem_fs_put(fs, "a.vhd", bimg, blen);
    assert_int_equal(check("c.vhd", false, &r, &f), TV_E_CORRUPT);
    if (!strstr(f.text, "loop"))
        fail_msg("%s", f.text);
    tv_vhd_t *v;
    assert_int_not_equal(tv_vhd_open(&st, "c.vhd", 0, &v), TV_OK);
    free(cimg);
    free(bimg);
    /* Missing parent. */
    st.remove(st.ctx, "a.vhd");
    assert_int_equal(check("b.vhd", false, &r, &f), TV_E_CORRUPT);
    assert_non_null(strstr(f.text, "parent disk not found") ? strstr(f.text, "parent disk not found")
                                                            : strstr(f.text, "parent of b.vhd"));
}

static void interrupted_merge_finished_on_open(void **state)
{
    (void)state;
    uint64_t size = 2 * MiB;
    uint8_t *model = make_dynamic("p.vhd", size, 256 * KiB);
    assert_int_equal(tu_create(&st, "c.vhd", TV_VHD_DIFF, 0, 0, "p.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "c.vhd", 0, 300 * KiB, 30, model), TV_OK);
    assert_int_equal(tu_write(&st, "c.vhd", MiB, 300 * KiB, 31, model), TV_OK);
    /* Run the merge past its commit point and stop (as a crash would). */
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_merge(&st, "c.vhd", &op), TV_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tv_vhd_op_step(op), TV_E_CONTINUE);
    assert_false(op->cancelable);
    assert_int_equal(tv_vhd_op_cancel(op), TV_E_NOT_CANCELABLE);
    /* Leak the op's state the way a power cut would: close files only. */
    tv_vhd_op_destroy(op);
    assert_true(mem_fs_exists(fs, "p.vhd.tvjournal"));
    /* Read-only open of the parent alone is refused while the merge is pending. */
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "p.vhd", 0, &v), TV_E_INVALID_STATE);
    /* Through the child it reads correctly. */
    expect_contents("c.vhd", 0, model, size);
    /* Check reports it; a writable open finishes it. */
    assert_true(tu_check_errors(&st, "p.vhd") > 0);
    assert_int_equal(tv_vhd_open(&st, "p.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    tv_vhd_close(v);
    assert_false(mem_fs_exists(fs, "p.vhd.tvjournal"));
    assert_false(mem_fs_exists(fs, "c.vhd"));
    expect_contents("p.vhd", 0, model, size);
    free(model);
}

/* ---- tasks: progress, pause, cancel -------------------------------------- */

struct gate {
    tv_storage_t inner;
    int steps_seen;
};

static void run_as_task(tv_vhd_op_t *op, uint32_t type, bool cancel, struct tv_vhd_task_report *rep,
                        struct tv_task_info *info)
{
    struct task_mgr_config cfg = { .workers = 0 };
    struct task_mgr *mgr;
    uint64_t id;
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    assert_int_equal(tv_vhd_task_start(mgr, op, type, "test", rep, &id), TV_OK);
    if (cancel) {
        /* Cancel before it runs: the driver cleans up, nothing is written. */
        assert_int_equal(task_cancel(mgr, id), TV_OK);
    } else {
        assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    }
    assert_int_equal(task_query(mgr, id, info), TV_OK);
    task_mgr_destroy(mgr);
}

static void operations_as_tasks(void **state)
{
    (void)state;
    uint64_t size = 4 * MiB;
    uint8_t *model = make_dynamic("d.vhd", size, 512 * KiB);
    struct tv_vhd_task_report rep;
    struct tv_task_info info;
    tv_vhd_op_t *op;

    assert_int_equal(tv_vhd_op_convert(&st, "d.vhd", false, "f.vhd", TV_VHD_FIXED, 0, &op), TV_OK);
    run_as_task(op, TV_TASK_TYPE_DISK_CONVERT, false, &rep, &info);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_COMMITTED);
    assert_int_equal(info.total, size);
    assert_int_equal(info.done, size);
    assert_true(rep.done);
    expect_contents("f.vhd", 0, model, size);

    assert_int_equal(tv_vhd_op_convert(&st, "d.vhd", false, "g.vhd", TV_VHD_FIXED, 0, &op), TV_OK);
    run_as_task(op, TV_TASK_TYPE_DISK_CONVERT, true, &rep, &info);
    assert_int_equal(info.state, TV_TASK_CANCELLED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_UNTOUCHED);
    assert_false(mem_fs_exists(fs, "g.vhd"));

    /* A failing task: wrong type, outcome untouched, disk result. */
    assert_int_equal(tv_vhd_op_compact(&st, "f.vhd", &op), TV_OK);
    run_as_task(op, TV_TASK_TYPE_DISK_COMPACT, false, &rep, &info);
    assert_int_equal(info.state, TV_TASK_FAILED);
    assert_int_equal(info.error, TV_E_WRONG_TYPE);
    assert_int_equal(info.result, TV_TASK_RESULT_DISK);
    free(model);
}

/* A slow disk: every read takes 10 ms, so a job of 8 reads cannot finish
 * before the test has paused it. */
static tv_status_t (*fast_read)(tv_sfile_t *f, uint64_t off, void *buf, size_t len);
static tv_status_t slow_read(tv_sfile_t *f, uint64_t off, void *buf, size_t len)
{
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    return fast_read(f, off, buf, len);
}

/* Pause holds the job at a checkpoint; resume finishes it. */
static void pause_and_resume_task(void **state)
{
    (void)state;
    uint64_t size = 32 * MiB;
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, "d.vhd", TV_VHD_FIXED, size, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "d.vhd", 5 * MiB, 8192, 1, model), TV_OK);
    fast_read = st.read;
    st.read = slow_read;
    struct task_mgr_config cfg = { .workers = 1 };
    struct task_mgr *mgr;
    struct tv_vhd_task_report rep;
    struct tv_task_info info;
    uint64_t id;
    tv_vhd_op_t *op;
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    assert_int_equal(tv_vhd_op_convert(&st, "d.vhd", false, "f.vhd", TV_VHD_DYNAMIC, 0, &op), TV_OK);
    assert_int_equal(tv_vhd_task_start(mgr, op, TV_TASK_TYPE_DISK_CONVERT, "convert", &rep, &id), TV_OK);
    assert_int_equal(task_pause(mgr, id), TV_OK);
    assert_int_equal(task_wait(mgr, id, 100), TV_E_TIMEOUT); /* held */
    assert_int_equal(task_query(mgr, id, &info), TV_OK);
    assert_int_equal(info.state, TV_TASK_PAUSED);
    assert_true(info.done < size);
    assert_false(mem_fs_exists(fs, "f.vhd"));
    assert_int_equal(task_resume(mgr, id), TV_OK);
    assert_int_equal(task_wait(mgr, id, 60000), TV_OK);
    assert_int_equal(task_query(mgr, id, &info), TV_OK);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    task_mgr_destroy(mgr);
    st.read = fast_read;
    expect_contents("f.vhd", 0, model, size);
    free(model);
}

/* Cancel in the middle (the op API the driver uses), and no space. */
static void cancel_midway_and_no_space(void **state)
{
    (void)state;
    uint64_t size = 8 * MiB;
    uint8_t *model = make_dynamic("d.vhd", size, 512 * KiB);
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_convert(&st, "d.vhd", false, "f.vhd", TV_VHD_DYNAMIC, 64 * KiB, &op), TV_OK);
    assert_int_equal(tv_vhd_op_step(op), TV_E_CONTINUE);
    assert_int_equal(tv_vhd_op_step(op), TV_E_CONTINUE);
    assert_true(op->done > 0 && op->done < op->total);
    assert_true(mem_fs_exists(fs, "f.vhd.tvtmp"));
    assert_int_equal(tv_vhd_op_cancel(op), TV_OK);
    assert_int_equal(op->outcome, TV_VHD_OUTCOME_UNCHANGED);
    assert_int_equal(op->status, TV_E_CANCELLED);
    assert_false(mem_fs_exists(fs, "f.vhd.tvtmp"));
    assert_false(mem_fs_exists(fs, "f.vhd"));
    tv_vhd_op_destroy(op);

    size_t len;
    free(image("d.vhd", &len));
    mem_fs_set_space(fs, len + 2 * MiB);
    assert_int_equal(tv_vhd_op_convert(&st, "d.vhd", false, "f.vhd", TV_VHD_FIXED, 0, &op), TV_OK);
    assert_int_equal(tv_vhd_op_run(op, NULL, NULL), TV_E_NO_SPACE);
    assert_int_equal(op->outcome, TV_VHD_OUTCOME_UNCHANGED);
    tv_vhd_op_destroy(op);
    assert_false(mem_fs_exists(fs, "f.vhd"));
    assert_false(mem_fs_exists(fs, "f.vhd.tvtmp"));
    expect_contents("d.vhd", 0, model, size);
    free(model);
}

static void create_operations(void **state)
{
    (void)state;
    tv_vhd_op_t *op;
    struct tv_vhd_create_params p = { .kind = TV_VHD_FIXED, .size = 5 * MiB };
    assert_int_equal(tv_vhd_op_create(&st, "f.vhd", &p, &op), TV_OK);
    unsigned steps = 0;
    tv_status_t s;
    while ((s = tv_vhd_op_step(op)) == TV_E_CONTINUE)
        steps++;
    assert_int_equal(s, TV_OK);
    assert_true(steps >= 2); /* zero-filled in bounded steps */
    assert_true(op->total >= 5 * MiB && op->done == op->total);
    tv_vhd_op_destroy(op);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "f.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_kind(v), TV_VHD_FIXED);
    uint64_t sz = tv_vhd_size(v);
    assert_int_equal(sz, vhd_round_to_chs(5 * MiB));
    tv_vhd_close(v);
    p.kind = TV_VHD_DIFF;
    p.parent = "nothere.vhd";
    assert_int_equal(tv_vhd_op_create(&st, "c.vhd", &p, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_PARENT_MISSING);
    assert_false(mem_fs_exists(fs, "c.vhd"));
    p.parent = "f.vhd";
    assert_int_equal(tv_vhd_op_create(&st, "c.vhd", &p, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    assert_int_equal(tv_vhd_op_create(&st, "c.vhd", &p, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_EXISTS);
    p.kind = TV_VHD_DYNAMIC;
    p.size = 0;
    assert_int_equal(tv_vhd_op_create(&st, "z.vhd", &p, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_E_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(convert_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(merge_into_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(merge_to_new_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(compact_drops_zero_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(check_and_repair, setup, teardown),
        cmocka_unit_test_setup_teardown(check_parent_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(interrupted_merge_finished_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(operations_as_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(pause_and_resume_task, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_midway_and_no_space, setup, teardown),
        cmocka_unit_test_setup_teardown(create_operations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
