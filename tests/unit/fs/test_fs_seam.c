/* The VHD engine, unchanged, on the storage seam over a FAT32 and an exFAT
 * volume: create dynamic and differencing disks, write, merge, convert and
 * compact; locks; then the volume is unmounted, checked by fsck (and our
 * exFAT checker), the images copied out through mtools / exfat-fuse and
 * compared with qemu-img against a raw model of the disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exfat_check.h"
#include "fs_test_util.h"
#include "mem_blockdev.h"
#include "storage/fs/fs.h"
#include "storage/fs/fs_storage.h"
#include "vhd_test_util.h"

static char out[65536];
static char report[8192];

static const char *path_in(const char *name)
{
    static char p[4][400];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", fs_test_dir(), name);
    return p[k];
}

static void sh_ok(const char *fmt, const char *a)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, a, a, a);
    int rc = fs_test_sh(out, sizeof out, "cd %s && %s", fs_test_dir(), cmd);
    if (rc)
        fprintf(stderr, "# %s\n%s", cmd, out);
    assert_int_equal(rc, 0);
}

static void *p_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n ? n : 1); }
static void p_free(void *ctx, void *p) { (void)ctx; free(p); }
static uint32_t p_now(void *ctx) { (void)ctx; return 816000000u; }
static void p_entropy(void *ctx, void *buf, size_t len)
{
    static uint64_t x = 0x1234567887654321ull;
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        ((uint8_t *)buf)[i] = (uint8_t)x;
    }
}
static const tv_storage_t platform = {
    .alloc = p_alloc, .free = p_free, .now = p_now, .entropy = p_entropy, .flushes = true,
};

/* Reports every seam call that fails (for diagnosis; the test's
 * assertions decide). */
static tv_storage_t inner;
static bool verbose;
#define LOGF(what, s) do { if ((s) != TV_OK && verbose) fprintf(stderr, "# seam %s -> %d\n", what, (int)(s)); } while (0)
static tv_status_t w_open(void *c, const char *n, unsigned m, tv_sfile_t **o) { tv_status_t s = inner.open(c, n, m, o); if (verbose && s) fprintf(stderr, "# open %s -> %d\n", n, (int)s); return s; }
static tv_status_t w_create(void *c, const char *n, tv_sfile_t **o) { tv_status_t s = inner.create(c, n, o); LOGF("create", s); return s; }
static tv_status_t w_read(tv_sfile_t *f, uint64_t off, void *b, size_t l) { tv_status_t s = inner.read(f, off, b, l); LOGF("read", s); return s; }
static tv_status_t w_write(tv_sfile_t *f, uint64_t off, const void *b, size_t l) { tv_status_t s = inner.write(f, off, b, l); LOGF("write", s); return s; }
static tv_status_t w_flush(tv_sfile_t *f) { tv_status_t s = inner.flush(f); LOGF("flush", s); return s; }
static tv_status_t w_size(tv_sfile_t *f, uint64_t *o) { tv_status_t s = inner.size(f, o); LOGF("size", s); return s; }
static tv_status_t w_truncate(tv_sfile_t *f, uint64_t z) { tv_status_t s = inner.truncate(f, z); LOGF("truncate", s); return s; }
static tv_status_t w_rename(void *c, const char *a, const char *b) { tv_status_t s = inner.rename(c, a, b); LOGF("rename", s); return s; }
static tv_status_t w_remove(void *c, const char *n) { tv_status_t s = inner.remove(c, n); LOGF("remove", s); return s; }
static void wrap(tv_storage_t *st)
{
    inner = *st;
    verbose = getenv("SEAM_LOG") != NULL;
    st->open = w_open; st->create = w_create; st->read = w_read; st->write = w_write; st->flush = w_flush;
    st->size = w_size; st->truncate = w_truncate; st->rename = w_rename; st->remove = w_remove;
}

#define DISK (24u << 20)

static void save_raw(const char *name, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path_in(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
}

static void compare(const char *vhd, const char *raw)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "qemu-img compare -q -f vpc -F raw %s %s", path_in(vhd), path_in(raw));
    int rc = fs_test_sh(out, sizeof out, "%s", cmd);
    if (rc)
        fprintf(stderr, "# %s\n%s", cmd, out);
    assert_int_equal(rc, 0);
}

/* Runs the engine on the volume in img; is_exfat picks checks and copy-out. */
static void engine_on(const char *img, bool is_exfat)
{
    mem_bdev_t *m = mem_bdev_from_file(path_in(img), 512);
    assert_non_null(m);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    assert_int_equal(fs_mkdir(v, "vms"), TV_OK);
    fs_store_t *s;
    tv_storage_t st;
    assert_int_equal(fs_store_new(v, &platform, &s, &st), TV_OK);
    wrap(&st);

    uint8_t *base = calloc(1, DISK), *child = NULL;
    assert_int_equal(tu_create(&st, "Base disk.vhd", TV_VHD_DYNAMIC, DISK, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&st, "Base disk.vhd", 0, 70144, 1, base), TV_OK);
    assert_int_equal(tu_write(&st, "Base disk.vhd", 5u << 20, 300032, 2, base), TV_OK);
    assert_int_equal(tu_write(&st, "Base disk.vhd", DISK - 4096, 4096, 3, base), TV_OK);
    child = malloc(DISK);
    memcpy(child, base, DISK);
    assert_int_equal(tu_create(&st, "vms/child.vhd", TV_VHD_DIFF, 0, 0, "../Base disk.vhd"), TV_OK);
    assert_int_equal(tu_write(&st, "vms/child.vhd", 60416, 20480, 4, child), TV_OK);
    assert_int_equal(tu_write(&st, "vms/child.vhd", 9u << 20, 1u << 20, 5, child), TV_OK);

    /* Locks through the seam: never waiting. */
    tv_sfile_t *a, *b;
    assert_int_equal(st.open(st.ctx, "Base disk.vhd", TV_ST_SHARED, &a), TV_OK);
    assert_int_equal(st.open(st.ctx, "/base DISK.vhd", TV_ST_SHARED, &b), TV_OK);
    st.close(b);
    assert_int_equal(st.open(st.ctx, "Base disk.vhd", TV_ST_WRITE | TV_ST_EXCLUSIVE, &b), TV_E_BUSY);
    assert_int_equal(tu_write(&st, "Base disk.vhd", 0, 512, 9, NULL), TV_E_BUSY);
    st.close(a);
    assert_int_equal(st.open(st.ctx, "vms", 0, &a), TV_E_WRONG_TYPE);
    assert_int_equal(st.open(st.ctx, "nothing.vhd", 0, &a), TV_E_NOT_FOUND);
    assert_int_equal(st.create(st.ctx, "vms/child.vhd", &a), TV_E_EXISTS);

    /* A copy of the chain flattened (merge-to), then the child merged into its parent. */
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_merge_to(&st, "vms/child.vhd", "vms/flat.vhd", TV_VHD_DYNAMIC, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    assert_int_equal(tv_vhd_op_merge(&st, "vms/child.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    assert_int_equal(st.open(st.ctx, "vms/child.vhd", 0, &a), TV_E_NOT_FOUND);
    /* Convert the merged disk to fixed, and compact it in place. */
    assert_int_equal(tv_vhd_op_convert(&st, "Base disk.vhd", false, "fixed.vhd", TV_VHD_FIXED, 0, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    assert_int_equal(tu_write(&st, "Base disk.vhd", 12u << 20, 2u << 20, 0, NULL), TV_OK); /* not zero: seed 0 pattern */
    uint8_t *z = calloc(1, 2u << 20);
    tv_vhd_t *h;
    assert_int_equal(tv_vhd_open(&st, "Base disk.vhd", TV_VHD_OPEN_WRITE, &h), TV_OK);
    assert_int_equal(tv_vhd_write(h, 12u << 20, z, 2u << 20), TV_OK); /* an all-zero block compact drops */
    assert_int_equal(tv_vhd_close(h), TV_OK);
    free(z);
    assert_int_equal(tv_vhd_op_compact(&st, "Base disk.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    assert_int_equal(tu_check_errors(&st, "Base disk.vhd"), 0);
    assert_int_equal(tu_check_errors(&st, "fixed.vhd"), 0);
    uint64_t size;
    uint8_t *got = tu_read_all(&st, "vms/flat.vhd", 0, &size);
    assert_non_null(got);
    assert_int_equal(size, DISK);
    assert_memory_equal(got, child, DISK);
    free(got);

    assert_int_equal(fs_store_free(s), TV_OK);
    assert_int_equal(fs_unmount(v), TV_OK);
    assert_true(mem_bdev_save(m, path_in(img)));
    mem_bdev_free(m);

    /* The host's view: fsck, then the files copied out and compared. */
    save_raw("child.raw", child, DISK);
    if (is_exfat) {
        int rc = fs_test_sh(out, sizeof out, "fsck.exfat -n %s", path_in(img));
        if (rc)
            fprintf(stderr, "%s", out);
        assert_int_equal(rc, 0);
        size_t len;
        uint8_t *raw = fs_test_slurp(path_in(img), &len);
        unsigned r = exfat_check(raw, len, report, sizeof report);
        free(raw);
        if (r)
            fprintf(stderr, "# checker:\n%s", report);
        assert_int_equal(r, 0);
        char cmd[1600];
        snprintf(cmd, sizeof cmd,
                 "mkdir -p mnt && L=$(losetup -f --show %s) || exit 99; mount.exfat-fuse $L mnt || { losetup -d $L; exit 98; }; "
                 "cp 'mnt/Base disk.vhd' base.vhd && cp mnt/fixed.vhd fixed.vhd && cp mnt/vms/flat.vhd flat.vhd; rc=$?; "
                 "umount mnt; losetup -d $L; exit $rc", img);
        sh_ok("%s", cmd);
    } else {
        sh_ok("fsck.fat -n %s >/dev/null && mcopy -n -i %s '::/Base disk.vhd' base.vhd && "
              "mcopy -n -i %s ::/fixed.vhd fixed.vhd && mcopy -n -i %s ::/vms/flat.vhd flat.vhd", path_in(img));
    }
    compare("base.vhd", "child.raw");
    compare("fixed.vhd", "child.raw");
    compare("flat.vhd", "child.raw");
    free(base);
    free(child);
}

static void test_engine_on_fat32(void **state)
{
    (void)state;
    sh_ok("rm -f %s && truncate -s 128M %s && mkfs.vfat -F 32 -s 2 -n VHDS %s >/dev/null", path_in("f.img"));
    engine_on("f.img", false);
}

static void test_engine_on_exfat(void **state)
{
    (void)state;
    sh_ok("rm -f %s && truncate -s 128M %s && mkfs.exfat -c 32K -L VHDS %s >/dev/null", path_in("x.img"));
    engine_on("x.img", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_on_fat32),
        cmocka_unit_test(test_engine_on_exfat),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char c[300];
    snprintf(c, sizeof c, "rm -rf %s", fs_test_dir());
    if (system(c) != 0)
        rc = 1;
    return rc;
}
