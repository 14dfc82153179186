/* Unit tests for the VHD engine: format, create, read/write at 512-byte
 * granularity through differencing chains, locators, parent checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mem_storage.h"
#include "vhd_format.h"
#include "vhd_internal.h"
#include "vhd_test_util.h"

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

static void geometry_matches_spec(void **state)
{
    (void)state;
    uint16_t c;
    uint8_t h, s;
    vhd_geometry(1ull << 30, &c, &h, &s);
    assert_int_equal(c, 2080);
    assert_int_equal(h, 16);
    assert_int_equal(s, 63);
    vhd_geometry(3ull * MiB, &c, &h, &s); /* 6144 sectors: 17 spt, 4 heads */
    assert_int_equal(s, 17);
    assert_int_equal(h, 4);
    assert_int_equal(c, 90);
    vhd_geometry(VHD_MAX_SIZE, &c, &h, &s);
    assert_int_equal(c, 65535);
    assert_int_equal(h, 16);
    assert_int_equal(s, 255);
    /* Rounded sizes are exact CHS products. */
    for (uint64_t sz = 3 * MiB; sz < 5000 * MiB; sz = sz * 3 + 12345) {
        uint64_t r = vhd_round_to_chs(sz);
        vhd_geometry(r, &c, &h, &s);
        assert_true(r >= sz);
        assert_int_equal((uint64_t)c * h * s * 512, r);
    }
}

static void footer_roundtrip_and_checksum(void **state)
{
    (void)state;
    struct vhd_footer f = { .features = 2, .version = VHD_VERSION, .data_offset = 512, .timestamp = 7,
                            .original_size = 8 * MiB, .current_size = 8 * MiB, .type = VHD_TYPE_DYNAMIC };
    uint8_t raw[512];
    struct vhd_footer g;
    const char *why = NULL;
    vhd_footer_encode(&f, raw);
    assert_int_equal(vhd_footer_decode(raw, &g, &why), TV_OK);
    assert_int_equal(vhd_footer_validate(&g, raw, &why), TV_OK);
    assert_int_equal(g.current_size, 8 * MiB);
    raw[100] ^= 1;
    assert_int_equal(vhd_footer_validate(&g, raw, &why), TV_E_CORRUPT);
    assert_string_equal(why, "footer checksum mismatch");
    raw[0] = 'x';
    assert_int_equal(vhd_footer_decode(raw, &g, &why), TV_E_CORRUPT);
    /* Size above 2040 GiB refused. */
    f.current_size = VHD_MAX_SIZE + 512;
    vhd_footer_encode(&f, raw);
    vhd_footer_decode(raw, &g, NULL);
    assert_int_equal(vhd_footer_validate(&g, raw, NULL), TV_E_CORRUPT);
}

/* Random writes at 512-byte granularity against a flat model. */
static void random_io(enum tv_vhd_kind kind, uint32_t block, uint64_t size, const char *parent,
                      uint8_t *model, uint64_t seed, int rounds)
{
    const char *name = kind == TV_VHD_DIFF ? "child.vhd" : "disk.vhd";
    uint64_t rs = seed;
    uint8_t *buf = malloc(256 * 512);
    for (int r = 0; r < rounds; r++) {
        tv_vhd_t *v;
        assert_int_equal(tv_vhd_open(&st, name, TV_VHD_OPEN_WRITE, &v), TV_OK);
        for (int i = 0; i < 40; i++) {
            uint64_t sectors = 1 + tu_rand(&rs) % 200;
            uint64_t off = (tu_rand(&rs) % (size / 512 - sectors + 1)) * 512;
            size_t len = (size_t)sectors * 512;
            if (tu_rand(&rs) % 4 == 0)
                memset(buf, 0, len);
            else
                tu_pattern(buf, len, tu_rand(&rs));
            assert_int_equal(tv_vhd_write(v, off, buf, len), TV_OK);
            memcpy(model + off, buf, len);
            uint64_t roff = (tu_rand(&rs) % (size / 512 - sectors + 1)) * 512;
            assert_int_equal(tv_vhd_read(v, roff, buf, len), TV_OK);
            assert_memory_equal(buf, model + roff, len);
        }
        assert_int_equal(tv_vhd_close(v), TV_OK);
    }
    uint64_t got_size;
    uint8_t *all = tu_read_all(&st, name, 0, &got_size);
    assert_non_null(all);
    assert_int_equal(got_size, size);
    assert_memory_equal(all, model, size);
    free(all);
    free(buf);
    (void)parent;
    (void)block;
    assert_int_equal(tu_check_errors(&st, name), 0);
}

static void fixed_random_io(void **state)
{
    (void)state;
    uint64_t size = 6 * MiB;
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, "disk.vhd", TV_VHD_FIXED, size, 0, NULL), TV_OK);
    random_io(TV_VHD_FIXED, 0, size, NULL, model, 1, 3);
    free(model);
}

static void dynamic_random_io_block_sizes(void **state)
{
    (void)state;
    uint32_t blocks[] = { 4096, 512 * 1024, 2 * MiB, 8 * MiB };
    for (unsigned i = 0; i < 4; i++) {
        uint64_t size = 9 * MiB + 512 * 3; /* partial last block */
        uint8_t *model = calloc(1, size);
        mem_fs_free(fs);
        fs = mem_fs_new();
        mem_fs_storage(fs, &st);
        assert_int_equal(tu_create(&st, "disk.vhd", TV_VHD_DYNAMIC, size, blocks[i], NULL), TV_OK);
        random_io(TV_VHD_DYNAMIC, blocks[i], size, NULL, model, 7 + i, 3);
        free(model);
    }
}

static void differencing_chain_io(void **state)
{
    (void)state;
    uint64_t size = 5 * MiB;
    uint8_t *model = calloc(1, size);
    assert_int_equal(tu_create(&st, "dir/base.vhd", TV_VHD_DYNAMIC, size, 512 * 1024, NULL), TV_OK);
    for (int i = 0; i < 6; i++)
        assert_int_equal(tu_write(&st, "dir/base.vhd", (uint64_t)i * 777 * 512, 300 * 512, i, model), TV_OK);
    assert_int_equal(tu_create(&st, "dir/mid.vhd", TV_VHD_DIFF, 0, 512 * 1024, "base.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "dir/mid.vhd", 1000 * 512, 5000 * 512, 99, model), TV_OK);
    mem_fs_put(fs, "child.vhd", "", 0); /* placeholder name must not be taken */
    assert_int_equal(tv_vhd_open(&st, "child.vhd", 0, &(tv_vhd_t *){ NULL }), TV_E_CORRUPT);
    st.remove(st.ctx, "child.vhd");
    assert_int_equal(tu_create(&st, "child.vhd", TV_VHD_DIFF, 0, 4096, "dir/mid.vhd"), TV_OK);
    random_io(TV_VHD_DIFF, 4096, size, "dir/mid.vhd", model, 42, 3);
    /* Parents are untouched by writes to the child. */
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "child.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_kind(tv_vhd_parent(v)), TV_VHD_DIFF);
    assert_int_equal(tv_vhd_kind(tv_vhd_parent(tv_vhd_parent(v))), TV_VHD_DYNAMIC);
    tv_vhd_close(v);
    free(model);
}

static void both_footers_identical_and_aligned(void **state)
{
    (void)state;
    assert_int_equal(tu_create(&st, "disk.vhd", TV_VHD_DYNAMIC, 8 * MiB, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "disk.vhd", 3 * MiB, 4096, 1, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "disk.vhd", 0, 512, 2, NULL), TV_OK);
    uint8_t *img;
    size_t len;
    assert_true(mem_fs_get(fs, "disk.vhd", &img, &len));
    assert_memory_equal(img, img + len - 512, 512);
    struct vhd_header h;
    assert_int_equal(vhd_header_decode(img + 512, &h, NULL), TV_OK);
    for (uint32_t i = 0; i < h.max_entries; i++) {
        uint32_t e = vhd_be32(img + h.bat_offset + 4 * i);
        if (e != VHD_BAT_UNUSED)
            assert_int_equal(((uint64_t)e + 1) * 512 % 4096, 0);
    }
    free(img);
}

static void locators_written_and_resolved(void **state)
{
    (void)state;
    assert_int_equal(tu_create(&st, "/a/b/base.vhd", TV_VHD_DYNAMIC, 4 * MiB, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "/a/b/base.vhd", 0, 8192, 5, NULL), TV_OK);
    assert_int_equal(tu_create(&st, "/a/c/child.vhd", TV_VHD_DIFF, 0, 0, "/a/b/base.vhd"), TV_OK);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "/a/c/child.vhd", TV_VHD_OPEN_NO_PARENT, &v), TV_OK);
    assert_int_equal(v->header.loc[0].code, VHD_PLAT_W2KU);
    assert_int_equal(v->header.loc[1].code, VHD_PLAT_W2RU);
    char text[256];
    uint8_t raw[512];
    assert_int_equal(st.read(v->f, v->header.loc[1].offset, raw, v->header.loc[1].length), TV_OK);
    assert_int_equal(vhd_utf16_to_utf8(raw, v->header.loc[1].length, false, text, sizeof text), TV_OK);
    assert_string_equal(text, "..\\b\\base.vhd");
    assert_int_equal(st.read(v->f, v->header.loc[0].offset, raw, v->header.loc[0].length), TV_OK);
    assert_int_equal(vhd_utf16_to_utf8(raw, v->header.loc[0].length, false, text, sizeof text), TV_OK);
    assert_string_equal(text, "\\a\\b\\base.vhd");
    tv_vhd_close(v);

    /* Move both: the relative locator still finds the parent. */
    assert_int_equal(st.rename(st.ctx, "/a/b/base.vhd", "/x/b/base.vhd"), TV_OK);
    assert_int_equal(st.rename(st.ctx, "/a/c/child.vhd", "/x/c/child.vhd"), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "/x/c/child.vhd", 0, &v), TV_OK);
    assert_string_equal(tv_vhd_name(tv_vhd_parent(v)), "/x/b/base.vhd");
    tv_vhd_close(v);

    /* vhd-lib style: a relative POSIX path in a W2ku entry, nothing else. */
    assert_int_equal(tv_vhd_open(&st, "/x/c/child.vhd", TV_VHD_OPEN_WRITE | TV_VHD_OPEN_NO_PARENT, &v), TV_OK);
    size_t n;
    assert_int_equal(vhd_utf8_to_utf16("../b/base.vhd", raw, sizeof raw, false, &n), TV_OK);
    memset(v->header.loc, 0, sizeof v->header.loc);
    memset(v->header.parent_name, 0, sizeof v->header.parent_name);
    v->header.loc[0].code = VHD_PLAT_W2KU;
    v->header.loc[0].length = (uint32_t)n;
    v->header.loc[0].space = 512;
    v->header.loc[0].offset = 3 * 512 + 512; /* after the BAT (4 entries -> one sector) */
    assert_int_equal(st.write(v->f, v->header.loc[0].offset, raw, n), TV_OK);
    assert_int_equal(vhd_write_header(v), TV_OK);
    tv_vhd_close(v);
    tv_vhd_t *w;
    assert_int_equal(tv_vhd_open(&st, "/x/c/child.vhd", 0, &w), TV_OK);
    uint8_t sec[8192], want[8192];
    tu_pattern(want, sizeof want, 5);
    assert_int_equal(tv_vhd_read(w, 0, sec, sizeof sec), TV_OK);
    assert_memory_equal(sec, want, sizeof sec);
    tv_vhd_close(w);
}

static void parent_checks(void **state)
{
    (void)state;
    tv_vhd_t *v;
    assert_int_equal(tu_create(&st, "base.vhd", TV_VHD_DYNAMIC, 4 * MiB, 0, NULL), TV_OK);
    assert_int_equal(tu_create(&st, "child.vhd", TV_VHD_DIFF, 0, 0, "missing.vhd"), TV_E_PARENT_MISSING);
    assert_false(mem_fs_exists(fs, "child.vhd"));
    assert_int_equal(tu_create(&st, "child.vhd", TV_VHD_DIFF, 0, 0, "base.vhd"), TV_OK);
    /* Replace the parent by another disk: refused unless asked to fix. */
    st.remove(st.ctx, "base.vhd");
    assert_int_equal(tv_vhd_open(&st, "child.vhd", 0, &v), TV_E_PARENT_MISSING);
    assert_int_equal(tu_create(&st, "base.vhd", TV_VHD_DYNAMIC, 4 * MiB, 0, NULL), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "child.vhd", 0, &v), TV_E_PARENT_MODIFIED);
    assert_int_equal(tv_vhd_open(&st, "child.vhd", TV_VHD_OPEN_WRITE, &v), TV_E_PARENT_MODIFIED);
    assert_int_equal(tv_vhd_open(&st, "child.vhd", TV_VHD_OPEN_WRITE | TV_VHD_OPEN_FIX_PARENT, &v), TV_OK);
    tv_vhd_close(v);
    assert_int_equal(tv_vhd_open(&st, "child.vhd", 0, &v), TV_OK); /* fixed for good */
    tv_vhd_close(v);
    /* A disk that names itself as parent. */
    assert_int_equal(tu_create(&st, "self.vhd", TV_VHD_DIFF, 0, 0, "base.vhd"), TV_OK);
    assert_int_equal(st.rename(st.ctx, "base.vhd", "base2.vhd"), TV_OK);
    assert_int_equal(st.rename(st.ctx, "self.vhd", "base.vhd"), TV_OK);
    assert_int_not_equal(tv_vhd_open(&st, "base.vhd", 0, &v), TV_OK);
    assert_true(tu_check_errors(&st, "base.vhd") > 0);
}

static void big_sizes(void **state)
{
    (void)state;
    tv_vhd_t *v;
    struct tv_vhd_create_params p = { .kind = TV_VHD_DYNAMIC, .size = VHD_MAX_SIZE };
    assert_int_equal(tv_vhd_create(&st, "big.vhd", &p, 0, NULL), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "big.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    assert_int_equal(tv_vhd_size(v), VHD_MAX_SIZE);
    uint8_t buf[1024], back[1024];
    tu_pattern(buf, sizeof buf, 3);
    assert_int_equal(tv_vhd_write(v, VHD_MAX_SIZE - 1024, buf, 1024), TV_OK);
    assert_int_equal(tv_vhd_write(v, VHD_MAX_SIZE - 512, buf, 1024), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_vhd_close(v), TV_OK);
    assert_int_equal(tv_vhd_open(&st, "big.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_read(v, VHD_MAX_SIZE - 1024, back, 1024), TV_OK);
    assert_memory_equal(buf, back, 1024);
    assert_int_equal(tv_vhd_write(v, 0, buf, 512), TV_E_READ_ONLY);
    tv_vhd_close(v);
    p.size = VHD_MAX_SIZE + 512;
    assert_int_equal(tv_vhd_create(&st, "big2.vhd", &p, 0, NULL), TV_E_INVALID_ARGUMENT);
    /* Unaligned I/O refused. */
    assert_int_equal(tv_vhd_open(&st, "big.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    assert_int_equal(tv_vhd_write(v, 100, buf, 512), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_vhd_read(v, 0, buf, 100), TV_E_INVALID_ARGUMENT);
    tv_vhd_close(v);
}

static void raw_images(void **state)
{
    (void)state;
    uint8_t data[8192];
    tu_pattern(data, sizeof data, 11);
    mem_fs_put(fs, "disk.raw", data, sizeof data);
    uint64_t size;
    uint8_t *all = tu_read_all(&st, "disk.raw", TV_VHD_OPEN_RAW, &size);
    assert_non_null(all);
    assert_int_equal(size, sizeof data);
    assert_memory_equal(all, data, sizeof data);
    free(all);
    mem_fs_put(fs, "odd.raw", data, 1000);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "odd.raw", TV_VHD_OPEN_RAW, &v), TV_E_INVALID_ARGUMENT);
    /* A raw file is not a VHD. */
    assert_int_equal(tv_vhd_open(&st, "disk.raw", 0, &v), TV_E_CORRUPT);
}

static void lost_end_footer_restored_on_open(void **state)
{
    (void)state;
    assert_int_equal(tu_create(&st, "disk.vhd", TV_VHD_DYNAMIC, 4 * MiB, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "disk.vhd", 0, 4096, 1, NULL), TV_OK);
    uint8_t *img;
    size_t len;
    assert_true(mem_fs_get(fs, "disk.vhd", &img, &len));
    memset(img + len - 512, 0, 512);
    mem_fs_put(fs, "disk.vhd", img, len);
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&st, "disk.vhd", 0, &v), TV_OK); /* read-only: uses the copy */
    tv_vhd_close(v);
    assert_int_equal(tu_check_errors(&st, "disk.vhd"), 1);
    assert_int_equal(tv_vhd_open(&st, "disk.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    tv_vhd_close(v);
    assert_int_equal(tu_check_errors(&st, "disk.vhd"), 0);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(geometry_matches_spec),
        cmocka_unit_test(footer_roundtrip_and_checksum),
        cmocka_unit_test_setup_teardown(fixed_random_io, setup, teardown),
        cmocka_unit_test_setup_teardown(dynamic_random_io_block_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(differencing_chain_io, setup, teardown),
        cmocka_unit_test_setup_teardown(both_footers_identical_and_aligned, setup, teardown),
        cmocka_unit_test_setup_teardown(locators_written_and_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(parent_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(big_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(raw_images, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_end_footer_restored_on_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
