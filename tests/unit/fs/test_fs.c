/* FAT32, FAT16 and FAT12 (each test runs once per width): images made by
 * mkfs.vfat/mtools read back; our writes pass fsck.fat -n and read back
 * through mtools; the per-file limit; FAT12/16's fixed root directory and
 * FAT12's unallocated sector-straddling entries; a power cut after every
 * write and flush of a sequence of operations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_test_util.h"
#include "mem_blockdev.h"
#include "storage/fs/fs.h"

static char out[65536];

/* One FAT width and the image geometry each test uses for it: sizes and
 * cluster sizes chosen so that the cluster count (which alone decides the
 * type) lands in the width's range. */
struct width {
    unsigned bits;
    int kind;
    unsigned mtools_mib, mtools_spc; /* test_reads_mkfs_mtools */
    unsigned ops_mib, ops_spc;       /* test_operations_fsck_clean */
    unsigned lim_mib, lim_spc;       /* test_file_limit */
    unsigned cut_mib, cut_spc;       /* test_power_cut */
};
static const struct width w32 = { 32, FS_KIND_FAT32, 40, 1, 40, 1, 8, 8, 2, 2 };
static const struct width w16 = { 16, FS_KIND_FAT16, 16, 4, 16, 2, 8, 1, 5, 2 };
static const struct width w12 = { 12, FS_KIND_FAT12, 4, 4, 6, 4, 8, 8, 2, 2 };

static void mkfs_img(const struct width *w, const char *img, unsigned mib, unsigned spc, const char *label,
                     const char *extra)
{
    int rc = fs_test_sh(out, sizeof out, "rm -f %s; truncate -s %uM %s && mkfs.vfat -F %u -s %u -n %s %s %s", img,
                        mib, img, w->bits, spc, label, extra, img);
    if (rc)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
}

static mem_bdev_t *mkfs_fat(const struct width *w, const char *name, unsigned mib, unsigned spc)
{
    char img[512];
    snprintf(img, sizeof img, "%s/%s", fs_test_dir(), name);
    mkfs_img(w, img, mib, spc, "TVTEST", "");
    return mem_bdev_from_file(img, 512);
}

static void read_all(fs_volume_t *v, const char *path, uint8_t **data, size_t *len)
{
    fs_file_t *f;
    assert_int_equal(fs_open(v, path, false, &f), TV_OK);
    *len = (size_t)fs_size(f);
    *data = malloc(*len + 1);
    assert_int_equal(fs_read(f, 0, *data, *len), TV_OK);
    fs_close(f);
}

static void put_file(fs_volume_t *v, const char *path, const uint8_t *d, size_t n)
{
    fs_file_t *f;
    assert_int_equal(fs_create(v, path, &f), TV_OK);
    assert_int_equal(fs_write(f, 0, d, n), TV_OK);
    assert_int_equal(fs_flush(f), TV_OK);
    fs_close(f);
}

/* mtools, like us, takes the type from the cluster count: FAT32 needs a real
 * FAT32 count (>= 65525), 40 MiB of 512-byte clusters. */
static void test_reads_mkfs_mtools(void **state)
{
    const struct width *w = *state;
    const char *d = fs_test_dir();
    char img[300];
    snprintf(img, sizeof img, "%s/m.img", d);
    mkfs_img(w, img, w->mtools_mib, w->mtools_spc, "MTOOLSV", "");
    uint8_t *big = malloc(300000);
    fs_test_fill(big, 300000, 7);
    char p[400];
    snprintf(p, sizeof p, "%s/big.bin", d);
    FILE *f = fopen(p, "wb");
    fwrite(big, 1, 300000, f);
    fclose(f);
    assert_int_equal(fs_test_sh(out, sizeof out,
        "cd %s && printf 'hello\\n' > h.txt && mcopy -i %s h.txt ::/HELLO.TXT && "
        "mcopy -i %s big.bin '::/A Long File Name, with spaces.vhd' && mmd -i %s ::/sub && "
        "mcopy -i %s h.txt ::/sub/inner.txt && mcopy -i %s h.txt ::/lower.txt", d, img, img, img, img, img), 0);
    mem_bdev_t *m = mem_bdev_from_file(img, 512);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, false, &v), TV_OK);
    assert_int_equal(fs_kind(v), w->kind);
    assert_string_equal(fs_label(v), "MTOOLSV");
    uint8_t *data;
    size_t len;
    read_all(v, "HELLO.TXT", &data, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(data, "hello\n", 6);
    free(data);
    read_all(v, "/a long file name, WITH spaces.vhd", &data, &len);
    assert_int_equal(len, 300000);
    assert_memory_equal(data, big, 300000);
    free(data);
    read_all(v, "sub/inner.txt", &data, &len);
    assert_int_equal(len, 6);
    free(data);
    read_all(v, "lower.txt", &data, &len);
    free(data);
    fs_file_t *h;
    assert_int_equal(fs_open(v, "nope.txt", false, &h), TV_E_NOT_FOUND);
    assert_int_equal(fs_open(v, "HELLO.TXT", true, &h), TV_E_READ_ONLY);
    assert_int_equal(fs_unmount(v), TV_OK);
    /* The same volume mounted writable, changed, then checked by the host. */
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    assert_int_equal(fs_remove(v, "HELLO.TXT"), TV_OK);
    put_file(v, "sub/Ours with a long name.bin", big, 100000);
    assert_int_equal(fs_unmount(v), TV_OK);
    assert_true(mem_bdev_save(m, img));
    assert_int_equal(fs_test_sh(out, sizeof out, "fsck.fat -n %s", img), 0);
    assert_int_equal(fs_test_sh(out, sizeof out, "mcopy -n -i %s '::/sub/Ours with a long name.bin' %s/o.bin", img, d), 0);
    snprintf(p, sizeof p, "%s/o.bin", d);
    data = fs_test_slurp(p, &len);
    assert_non_null(data);
    assert_int_equal(len, 100000);
    assert_memory_equal(data, big, 100000);
    free(data);
    assert_int_not_equal(fs_test_sh(out, sizeof out, "mdir -i %s ::/HELLO.TXT", img), 0);
    free(big);
    mem_bdev_free(m);
}

static bool count_entry(void *ctx, const fs_dirent_t *e)
{
    (void)e;
    (*(int *)ctx)++;
    return true;
}

static void test_operations_fsck_clean(void **state)
{
    const struct width *w = *state;
    mem_bdev_t *m = mkfs_fat(w, "ops.img", w->ops_mib, w->ops_spc);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    uint64_t total, free0, free1;
    assert_int_equal(fs_space(v, &total, &free0), TV_OK);
    uint8_t buf[70000];
    fs_test_fill(buf, sizeof buf, 3);
    put_file(v, "short.vhd", buf, 1000);
    put_file(v, "DOS.TXT", buf, 513);
    assert_int_equal(fs_mkdir(v, "Disks"), TV_OK);
    assert_int_equal(fs_mkdir(v, "Disks"), TV_E_EXISTS);
    put_file(v, "Disks/a rather long name for a disk image.vhd", buf, sizeof buf);
    fs_file_t *f;
    assert_int_equal(fs_open(v, "Disks/A RATHER long name for a disk image.vhd", true, &f), TV_OK);
    assert_int_equal(fs_truncate(f, 200000), TV_OK);   /* extend: zeros */
    assert_int_equal(fs_truncate(f, 5000), TV_OK);     /* shrink */
    assert_int_equal(fs_write(f, 10000, buf, 100), TV_OK); /* gap reads zero */
    uint8_t r[10100];
    assert_int_equal(fs_read(f, 0, r, sizeof r), TV_OK);
    assert_memory_equal(r, buf, 5000);
    for (int i = 5000; i < 10000; i++)
        assert_int_equal(r[i], 0);
    assert_memory_equal(r + 10000, buf, 100);
    assert_int_equal(fs_read(f, 10000, r, 101), TV_E_INVALID_ARGUMENT);
    fs_close(f);
    assert_int_equal(fs_rename(v, "short.vhd", "renamed.vhd"), TV_OK);  /* in place */
    assert_int_equal(fs_rename(v, "DOS.TXT", "renamed.vhd"), TV_OK);    /* replaces */
    assert_int_equal(fs_rename(v, "renamed.vhd", "Disks/moved.vhd"), TV_OK); /* other dir */
    assert_int_equal(fs_open(v, "renamed.vhd", false, &f), TV_E_NOT_FOUND);
    assert_int_equal(fs_remove(v, "Disks"), TV_E_BUSY);
    /* Many files: the directory grows past a cluster. */
    for (int i = 0; i < 40; i++) {
        char n[64];
        snprintf(n, sizeof n, "Disks/file number %d.bin", i);
        put_file(v, n, buf, (size_t)i * 100);
    }
    int count = 0;
    assert_int_equal(fs_list(v, "Disks", count_entry, &count), TV_OK);
    assert_int_equal(count, 42);
    assert_int_equal(fs_unmount(v), TV_OK);
    char img[300];
    snprintf(img, sizeof img, "%s/ops.img", fs_test_dir());
    assert_true(mem_bdev_save(m, img));
    int rc = fs_test_sh(out, sizeof out, "fsck.fat -n %s", img);
    if (rc)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    assert_int_equal(fs_test_sh(out, sizeof out, "mcopy -n -i %s ::/Disks/moved.vhd %s/mv.bin && cmp -n 513 %s/mv.bin - < /dev/null; true", img, fs_test_dir(), fs_test_dir()), 0);
    size_t len;
    char p[300];
    snprintf(p, sizeof p, "%s/mv.bin", fs_test_dir());
    uint8_t *d = fs_test_slurp(p, &len);
    assert_int_equal(len, 513);
    assert_memory_equal(d, buf, 513);
    free(d);
    /* Free space: everything removed gives back what it took. */
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    for (int i = 0; i < 40; i++) {
        char n[64];
        snprintf(n, sizeof n, "Disks/file number %d.bin", i);
        assert_int_equal(fs_remove(v, n), TV_OK);
    }
    assert_int_equal(fs_remove(v, "Disks/moved.vhd"), TV_OK);
    assert_int_equal(fs_remove(v, "Disks/a rather long name for a disk image.vhd"), TV_OK);
    assert_int_equal(fs_remove(v, "Disks"), TV_OK);
    assert_int_equal(fs_space(v, &total, &free1), TV_OK);
    assert_int_equal(free1, free0);
    assert_int_equal(fs_unmount(v), TV_OK);
    assert_true(mem_bdev_save(m, img));
    assert_int_equal(fs_test_sh(out, sizeof out, "fsck.fat -n %s", img), 0);
    mem_bdev_free(m);
}

static void test_file_limit(void **state)
{
    const struct width *w = *state;
    mem_bdev_t *m = mkfs_fat(w, "lim.img", w->lim_mib, w->lim_spc);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    assert_int_equal(fs_kind(v), w->kind);
    fs_file_t *f;
    assert_int_equal(fs_create(v, "big.vhd", &f), TV_OK);
    assert_int_equal(fs_truncate(f, 0x100000000ull), TV_E_FILE_TOO_LARGE);
    assert_int_equal(fs_write(f, 0xFFFFFFFFull, "x", 1), TV_E_FILE_TOO_LARGE);
    assert_int_equal(fs_truncate(f, 0xFFFFFFFFull), TV_E_NO_SPACE); /* allowed size, small volume */
    assert_int_equal(fs_size(f), 0);
    fs_close(f);
    assert_int_equal(fs_unmount(v), TV_OK);
    mem_bdev_free(m);
}

/* FAT12/16: the fixed root directory fills up (a clear LIMIT, the volume
 * still clean), subdirectories still grow; the type follows the cluster
 * count, not BS_FilSysType. */
static void test_fixed_root(void **state)
{
    const struct width *w = *state;
    char img[300];
    snprintf(img, sizeof img, "%s/root.img", fs_test_dir());
    mkfs_img(w, img, w->ops_mib, w->ops_spc, "SMALLROOT", "-r 16");
    mem_bdev_t *m = mem_bdev_from_file(img, 512);
    /* The type string says the other width: it must not matter. */
    memcpy(mem_bdev_data(m) + 54, w->bits == 12 ? "FAT16   " : "FAT12   ", 8);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    assert_int_equal(fs_kind(v), w->kind);
    assert_string_equal(fs_label(v), "SMALLROOT");
    uint8_t buf[3000];
    fs_test_fill(buf, sizeof buf, 5);
    /* mkfs rounds "-r 16" up to whole sectors (and alignment): the slots
     * the BPB states, one of them the label, hold that many short names. */
    int slots = mem_bdev_data(m)[17] | mem_bdev_data(m)[18] << 8;
    assert_true(slots >= 16 && slots <= 512);
    int made = 0;
    tv_status_t st = TV_OK;
    for (int i = 0; i < slots + 5 && st == TV_OK; i++) {
        char n[32];
        snprintf(n, sizeof n, "F%d.BIN", i);
        fs_file_t *f;
        st = fs_create(v, n, &f);
        if (st == TV_OK) {
            assert_int_equal(fs_write(f, 0, buf, (size_t)(i % 30) * 100), TV_OK);
            fs_close(f);
            made++;
        }
    }
    assert_int_equal(st, TV_E_LIMIT);
    assert_int_equal(made, slots - 1);
    assert_int_equal(fs_mkdir(v, "Full"), TV_E_LIMIT);
    assert_int_equal(fs_remove(v, "F0.BIN"), TV_OK);
    assert_int_equal(fs_mkdir(v, "Sub"), TV_E_LIMIT); /* a long name needs 2 slots */
    assert_int_equal(fs_mkdir(v, "SUB"), TV_OK);
    for (int i = 0; i < 40; i++) {
        char n[64];
        snprintf(n, sizeof n, "SUB/a long name in a subdirectory %d.bin", i);
        put_file(v, n, buf, sizeof buf);
    }
    int count = 0;
    assert_int_equal(fs_list(v, "/", count_entry, &count), TV_OK);
    assert_int_equal(count, slots - 1);
    assert_int_equal(fs_rename(v, "F5.BIN", "SUB/five.bin"), TV_OK);
    assert_int_equal(fs_unmount(v), TV_OK);
    assert_true(mem_bdev_save(m, img));
    int rc = fs_test_sh(out, sizeof out, "fsck.fat -n %s", img);
    if (rc)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    assert_int_equal(fs_test_sh(out, sizeof out, "mcopy -n -i %s ::/SUB/five.bin %s/five.bin", img, fs_test_dir()), 0);
    char p[300];
    snprintf(p, sizeof p, "%s/five.bin", fs_test_dir());
    size_t len;
    uint8_t *d = fs_test_slurp(p, &len);
    assert_int_equal(len, 500);
    assert_memory_equal(d, buf, 500);
    free(d);
    mem_bdev_free(m);
}

/* FAT12 entry of cluster c, read from the image's first FAT. */
static unsigned fat12_entry(const uint8_t *img, unsigned c)
{
    unsigned fat = (unsigned)(img[14] | img[15] << 8) * 512u, o = fat + c + c / 2;
    unsigned x = (unsigned)(img[o] | img[o + 1] << 8);
    return (c & 1) ? x >> 4 : x & 0xFFF;
}

/* FAT12: a volume filled to the last cluster never allocates a cluster
 * whose entry straddles a sector boundary; free space counts without them
 * and ends at 0; fsck and mtools agree with the result. */
static void test_fat12_fill(void **state)
{
    const struct width *w = *state;
    mem_bdev_t *m = mkfs_fat(w, "fill.img", 2, 2);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    assert_int_equal(fs_kind(v), FS_KIND_FAT12);
    uint64_t total, free_;
    assert_int_equal(fs_space(v, &total, &free_), TV_OK);
    unsigned clusters = (unsigned)(total / 1024), straddlers = 0;
    for (unsigned c = 2; c < clusters + 2; c++)
        straddlers += (c + c / 2) % 512 == 511;
    assert_int_equal(straddlers, 4); /* 2 in every 1024 clusters */
    assert_int_equal(free_, (uint64_t)(clusters - straddlers) * 1024);
    static uint8_t big[2u << 20];
    fs_test_fill(big, sizeof big, 9);
    fs_file_t *f;
    assert_int_equal(fs_create(v, "fill.bin", &f), TV_OK);
    size_t at = 0;
    while (at < sizeof big && fs_write(f, at, big + at, 10240) == TV_OK)
        at += 10240;
    /* The last whole clusters, one at a time. */
    while (at < sizeof big && fs_write(f, at, big + at, 1024) == TV_OK)
        at += 1024;
    assert_int_equal(fs_write(f, at, big + at, 1024), TV_E_NO_SPACE);
    assert_int_equal(fs_flush(f), TV_OK);
    fs_close(f);
    assert_int_equal(fs_space(v, &total, &free_), TV_OK);
    assert_int_equal(free_, 0);
    assert_int_equal(at, (size_t)(clusters - straddlers) * 1024);
    assert_int_equal(fs_unmount(v), TV_OK);
    const uint8_t *raw = mem_bdev_data(m);
    for (unsigned c = 2; c < clusters + 2; c++) {
        unsigned e = fat12_entry(raw, c);
        if ((c + c / 2) % 512 == 511)
            assert_int_equal(e, 0);
        else
            assert_int_not_equal(e, 0);
    }
    char img[300];
    snprintf(img, sizeof img, "%s/fill.img", fs_test_dir());
    assert_true(mem_bdev_save(m, img));
    int rc = fs_test_sh(out, sizeof out, "fsck.fat -n %s", img);
    if (rc)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    assert_int_equal(fs_test_sh(out, sizeof out, "mcopy -n -i %s ::/fill.bin %s/fill.out", img, fs_test_dir()), 0);
    char p[300];
    snprintf(p, sizeof p, "%s/fill.out", fs_test_dir());
    size_t len;
    uint8_t *d = fs_test_slurp(p, &len);
    assert_int_equal(len, at);
    assert_memory_equal(d, big, at);
    free(d);
    /* Shrunk and grown again: the freed clusters come back, the straddlers stay out. */
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    assert_int_equal(fs_open(v, "fill.bin", true, &f), TV_OK);
    assert_int_equal(fs_truncate(f, 100 * 1024), TV_OK);
    fs_close(f);
    assert_int_equal(fs_space(v, &total, &free_), TV_OK);
    assert_int_equal(free_, (uint64_t)(clusters - straddlers - 100) * 1024);
    assert_int_equal(fs_remove(v, "fill.bin"), TV_OK);
    assert_int_equal(fs_space(v, &total, &free_), TV_OK);
    assert_int_equal(free_, (uint64_t)(clusters - straddlers) * 1024);
    assert_int_equal(fs_unmount(v), TV_OK);
    mem_bdev_free(m);
}

/* ---- power cuts ---- */

struct model {
    const char *names[4];
    uint8_t *data[4];
    size_t len[4]; /* SIZE_MAX = absent */
    int dirs[2];   /* entries of each crash_dirs folder, -1 = absent */
};

#define NFILES 3
static const char *crash_names[NFILES] = { "Disk image one.vhd", "disk2.vhd.tvtmp", "disk2.vhd" };

/* Folders made by the mkdir operations (a long name: LFN entries). */
static const char *crash_dirs[2] = { "Virtual disks folder", "Virtual disks folder/inner" };

static void snapshot(fs_volume_t *v, struct model *s)
{
    for (int i = 0; i < 2; i++) {
        int n = 0;
        s->dirs[i] = fs_list(v, crash_dirs[i], count_entry, &n) == TV_OK ? n : -1;
    }
    for (int i = 0; i < NFILES; i++) {
        fs_file_t *f;
        s->names[i] = crash_names[i];
        s->data[i] = NULL;
        s->len[i] = SIZE_MAX;
        if (fs_open(v, crash_names[i], false, &f) != TV_OK)
            continue;
        s->len[i] = (size_t)fs_size(f);
        s->data[i] = malloc(s->len[i] + 1);
        assert_int_equal(fs_read(f, 0, s->data[i], s->len[i]), TV_OK);
        fs_close(f);
    }
}

static void model_free(struct model *s)
{
    for (int i = 0; i < NFILES; i++)
        free(s->data[i]);
}

static bool same(const struct model *a, const struct model *b, int i)
{
    return a->len[i] == b->len[i] && (a->len[i] == SIZE_MAX || memcmp(a->data[i], b->data[i], a->len[i]) == 0);
}

static uint8_t payload[40000];

static tv_status_t write_op(fs_volume_t *v, const char *name, uint64_t off, const uint8_t *d, size_t n)
{
    fs_file_t *f;
    tv_status_t st = fs_open(v, name, true, &f);
    if (st != TV_OK)
        return st;
    st = fs_write(f, off, d, n);
    if (st == TV_OK)
        st = fs_flush(f);
    fs_close(f);
    return st;
}

static tv_status_t create_op(fs_volume_t *v, const char *name)
{
    fs_file_t *f;
    tv_status_t st = fs_create(v, name, &f);
    if (st == TV_OK)
        fs_close(f);
    return st;
}

static tv_status_t truncate_op(fs_volume_t *v, const char *name, uint64_t size)
{
    fs_file_t *f;
    tv_status_t st = fs_open(v, name, true, &f);
    if (st != TV_OK)
        return st;
    st = fs_truncate(f, size);
    fs_close(f);
    return st;
}

/* Each operation is one seam call (writes followed by a flush), so its
 * before and after states are durable. */
static tv_status_t run_op(fs_volume_t *v, int op)
{
    switch (op) {
    case 0: return create_op(v, crash_names[0]);
    case 1: return write_op(v, crash_names[0], 0, payload, 20000);          /* several clusters */
    case 2: return write_op(v, crash_names[0], 20000, payload + 20000, 20000); /* extend */
    case 3: return create_op(v, crash_names[2]);
    case 4: return write_op(v, crash_names[2], 0, payload, 3000);
    case 5: return create_op(v, crash_names[1]);
    case 6: return write_op(v, crash_names[1], 0, payload + 5, 9000);
    case 7: return fs_rename(v, crash_names[1], crash_names[2]);           /* over the target */
    case 8: return truncate_op(v, crash_names[0], 4500);                   /* shrink */
    case 9: return truncate_op(v, crash_names[0], 30000);                  /* grow with zeros */
    case 10: return fs_remove(v, crash_names[0]);
    case 11: return fs_mkdir(v, crash_dirs[0]);
    case 12: return fs_mkdir(v, crash_dirs[1]);                            /* inside the new one */
    }
    return TV_E_INVALID_ARGUMENT;
}
#define NOPS 13
#define RENAME_OP 7


/* fsck.fat -n on a raw crash state may only report what the crash order
 * allows: lost clusters, FAT 2 behind FAT 1, a chain longer than its file. */
static bool fsck_benign(const char *text)
{
    static const char *ok[] = {
        "fsck.fat ", "Warning: Filesystem is FAT32", "  but has only", "  This may lead", "FATs differ but appear to be intact.",
        "  Using first FAT.", "Reclaimed ", "Leaving filesystem unchanged.", "Free cluster summary uninitialized",
        "  File size is ", "  Truncating file to ", "/", "",
    };
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool good = strstr(p, ".img: ") && strstr(p, "files,") && (size_t)(strstr(p, "files,") - p) < n;
        for (size_t i = 0; !good && i < sizeof ok / sizeof *ok; i++)
            if (strncmp(p, ok[i], strlen(ok[i])) == 0 && (ok[i][0] || n == 0))
                good = true;
        if (!good) {
            fprintf(stderr, "# fsck: %.*s\n", (int)n, p);
            return false;
        }
        p += n + (e ? 1 : 0);
    }
    return true;
}

static void check_state(const struct model *got, const struct model *before, const struct model *after, int op)
{
    for (int i = 0; i < NFILES; i++) {
        if (same(got, before, i) || same(got, after, i))
            continue;
        fprintf(stderr, "# op %d: %s is neither before nor after (len %zu)\n", op, crash_names[i], got->len[i]);
        fail();
    }
    /* A folder is there (with its entries) or not, never half made. */
    for (int i = 0; i < 2; i++) {
        if (got->dirs[i] == before->dirs[i] || got->dirs[i] == after->dirs[i])
            continue;
        fprintf(stderr, "# op %d: folder %s is neither before nor after (%d entries)\n", op, crash_dirs[i],
                got->dirs[i]);
        fail();
    }
    /* Rename's one intermediate state: the source gone, the target as before. */
    if (op == RENAME_OP && !same(got, after, 1) && !same(got, before, 2))
        fail();
}

static void test_power_cut(void **state)
{
    const struct width *w = *state;
    fs_test_fill(payload, sizeof payload, 11);
    mem_bdev_t *base = mkfs_fat(w, "crash.img", w->cut_mib, w->cut_spc);
    char img[300];
    snprintf(img, sizeof img, "%s/crash-state.img", fs_test_dir());
    if (w->bits == 12) {
        /* A FAT12 filler of 330 clusters: the operations then allocate past
         * cluster 341, whose entry straddles the first FAT sector boundary. */
        char src[300];
        snprintf(src, sizeof src, "%s/crash.img", fs_test_dir());
        assert_int_equal(fs_test_sh(out, sizeof out, "head -c %u /dev/zero > %s/filler && mcopy -i %s %s/filler ::/FILLER",
                                    330u * 1024, fs_test_dir(), src, fs_test_dir()), 0);
        mem_bdev_free(base);
        base = mem_bdev_from_file(src, 512);
    }
    unsigned states = 0, dirty_states = 0;
    for (int op = 0; op < NOPS; op++) {
        struct model before, after;
        fs_volume_t *v;
        mem_bdev_t *m = mem_bdev_clone(base);
        assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
        snapshot(v, &before);
        mem_bdev_set_crash(m, 0);
        assert_int_equal(run_op(v, op), TV_OK);
        uint64_t events = mem_bdev_events(m);
        snapshot(v, &after);
        assert_int_equal(fs_unmount(v), TV_OK);
        /* FAT32 takes every keep mode at every crash point; FAT12/16 (the
         * same code but for entry width and root) rotate through them. */
        for (uint64_t k = 1; k <= events; k++)
            for (int keep = w->bits == 32 ? 0 : (int)(k % 3); keep < (w->bits == 32 ? 3 : (int)(k % 3) + 1); keep++) {
                mem_bdev_t *c = mem_bdev_clone(base);
                assert_int_equal(fs_mount(mem_bdev_dev(c), &fs_test_env, true, &v), TV_OK);
                mem_bdev_set_crash(c, k);
                (void)run_op(v, op);
                (void)fs_unmount(v); /* power is already cut: frees only */
                mem_bdev_power_cycle(c, keep, k * 3 + (uint64_t)keep);
                assert_true(mem_bdev_save(c, img));
                int rc = fs_test_sh(out, sizeof out, "fsck.fat -n %s", img);
                if (rc != 0) {
                    dirty_states++;
                    if (!fsck_benign(out)) {
                        fprintf(stderr, "# op %d event %llu keep %d:\n%s", op, (unsigned long long)k, keep, out);
                        fail();
                    }
                }
                /* Our writable mount repairs; then the volume is fully clean. */
                assert_int_equal(fs_mount(mem_bdev_dev(c), &fs_test_env, true, &v), TV_OK);
                struct model got;
                snapshot(v, &got);
                check_state(&got, &before, &after, op);
                model_free(&got);
                assert_int_equal(fs_unmount(v), TV_OK);
                assert_true(mem_bdev_save(c, img));
                rc = fs_test_sh(out, sizeof out, "fsck.fat -n %s", img);
                if (rc != 0) {
                    fprintf(stderr, "# after repair, op %d event %llu keep %d:\n%s", op, (unsigned long long)k, keep, out);
                    fail();
                }
                mem_bdev_free(c);
                states++;
            }
        model_free(&before);
        model_free(&after);
        mem_bdev_free(base);
        base = m;
    }
    fprintf(stderr, "# %u crash states, %u with benign fsck findings before repair\n", states, dirty_states);
    mem_bdev_free(base);
}

int main(void)
{
#define EACH_WIDTH(t) cmocka_unit_test_prestate(t, (void *)&w32), cmocka_unit_test_prestate(t, (void *)&w16), \
                      cmocka_unit_test_prestate(t, (void *)&w12)
    const struct CMUnitTest tests[] = {
        EACH_WIDTH(test_reads_mkfs_mtools),
        EACH_WIDTH(test_operations_fsck_clean),
        EACH_WIDTH(test_file_limit),
        cmocka_unit_test_prestate(test_fixed_root, (void *)&w16),
        cmocka_unit_test_prestate(test_fixed_root, (void *)&w12),
        cmocka_unit_test_prestate(test_fat12_fill, (void *)&w12),
        EACH_WIDTH(test_power_cut),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char c[300];
    snprintf(c, sizeof c, "rm -rf %s", fs_test_dir());
    if (system(c) != 0)
        rc = 1;
    return rc;
}
