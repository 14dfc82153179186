/* exFAT: images made by mkfs.exfat with files copied in through exfat-fuse
 * read back byte for byte; our writes pass fsck.exfat -n and our own checker
 * and read back through exfat-fuse; NoFatChain files and the switch to a FAT
 * chain; a power cut after every write and flush of a sequence of
 * operations. */
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

static void mkfs_exfat(const char *name, unsigned mib, const char *cluster)
{
    const char *img = path_in(name);
    int rc = fs_test_sh(out, sizeof out, "rm -f %s; truncate -s %uM %s && mkfs.exfat -b 4K -c %s -L TVEXFAT %s", img, mib,
                        img, cluster, img);
    if (rc)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
}

/* Runs cmd in a shell with $M the image mounted through exfat-fuse over a
 * loop device (the FUSE driver refuses plain files). */
static int with_fuse(const char *name, const char *cmd)
{
    const char *img = path_in(name), *mnt = path_in("mnt");
    return fs_test_sh(out, sizeof out,
                      "mkdir -p %s && L=$(losetup -f --show %s) || exit 99; M=%s; "
                      "mount.exfat-fuse $L $M || { losetup -d $L; exit 98; }; "
                      "( cd %s && %s ); rc=$?; umount $M; losetup -d $L; exit $rc",
                      mnt, img, mnt, fs_test_dir(), cmd);
}

static void fsck_clean(const char *name)
{
    int rc = fs_test_sh(out, sizeof out, "fsck.exfat -n %s", path_in(name));
    if (rc)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    size_t len;
    uint8_t *img = fs_test_slurp(path_in(name), &len);
    assert_non_null(img);
    unsigned r = exfat_check(img, len, report, sizeof report);
    free(img);
    if (r)
        fprintf(stderr, "# checker:\n%s", report);
    assert_int_equal(r, 0);
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

static void write_host(const char *name, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path_in(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
}

static void check_host_file(const char *name, const uint8_t *d, size_t n)
{
    size_t len;
    uint8_t *got = fs_test_slurp(path_in(name), &len);
    assert_non_null(got);
    assert_int_equal(len, n);
    assert_memory_equal(got, d, n);
    free(got);
}

static void test_reads_fuse_files(void **state)
{
    (void)state;
    mkfs_exfat("r.img", 16, "4K");
    uint8_t *big = malloc(300000);
    fs_test_fill(big, 300000, 7);
    write_host("big.bin", big, 300000);
    /* A file preallocated past its valid data (fallocate keeps VDL short
     * on exfat-fuse? not guaranteed): dd with seek leaves a hole that
     * must read as zeros either way. */
    int rc = with_fuse("r.img",
        "printf 'hello\\n' > $M/hello.txt && cp big.bin \"$M/A Long File Name, with spaces.vhd\" && "
        "mkdir -p $M/sub/deeper && printf 'x' > $M/sub/deeper/inner.txt && : > $M/empty && "
        "E=$(printf '\\303\\251') && printf 'caf%s' $E > \"$M/${E}t${E}.txt\" && "
        "dd if=big.bin of=$M/holes.bin bs=1000 count=3 seek=50 2>/dev/null && "
        "for i in $(seq 1 40); do printf '%d' $i > \"$M/sub/file number $i\"; done");
    if (rc)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    fsck_clean("r.img");
    mem_bdev_t *m = mem_bdev_from_file(path_in("r.img"), 512);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, false, &v), TV_OK);
    assert_int_equal(fs_kind(v), FS_KIND_EXFAT);
    assert_string_equal(fs_label(v), "TVEXFAT");
    uint8_t *d;
    size_t len;
    read_all(v, "hello.txt", &d, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(d, "hello\n", 6);
    free(d);
    read_all(v, "/a long FILE name, with spaces.vhd", &d, &len);
    assert_int_equal(len, 300000);
    assert_memory_equal(d, big, 300000);
    free(d);
    read_all(v, "sub/deeper/inner.txt", &d, &len);
    assert_int_equal(len, 1);
    free(d);
    read_all(v, "empty", &d, &len);
    assert_int_equal(len, 0);
    free(d);
    read_all(v, "\xc3\x89T\xc3\x89.TXT", &d, &len); /* the up-case table folds e-acute */
    assert_int_equal(len, 5);
    free(d);
    read_all(v, "holes.bin", &d, &len);
    assert_int_equal(len, 53000);
    for (int i = 0; i < 50000; i++)
        assert_int_equal(d[i], 0);
    assert_memory_equal(d + 50000, big, 3000);
    free(d);
    char n[64];
    for (int i = 1; i <= 40; i += 13) {
        snprintf(n, sizeof n, "sub/File Number %d", i);
        read_all(v, n, &d, &len);
        char want[16];
        snprintf(want, sizeof want, "%d", i);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(d, want, len);
        free(d);
    }
    fs_file_t *f;
    assert_int_equal(fs_open(v, "nope", false, &f), TV_E_NOT_FOUND);
    assert_int_equal(fs_open(v, "hello.txt", true, &f), TV_E_READ_ONLY);
    assert_int_equal(fs_unmount(v), TV_OK);
    free(big);
    mem_bdev_free(m);
}

static bool count_entry(void *ctx, const fs_dirent_t *e)
{
    (void)e;
    (*(int *)ctx)++;
    return true;
}

static void test_writes_fsck_fuse(void **state)
{
    (void)state;
    mkfs_exfat("w.img", 16, "4K");
    assert_int_equal(with_fuse("w.img", "printf 'old' > $M/theirs.txt && mkdir $M/Disks"), 0);
    mem_bdev_t *m = mem_bdev_from_file(path_in("w.img"), 512);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    uint64_t total, free0, free1;
    assert_int_equal(fs_space(v, &total, &free0), TV_OK);
    static uint8_t buf[200000];
    fs_test_fill(buf, sizeof buf, 3);
    put_file(v, "Disks/a rather long name for a disk image, more than fifteen.vhd", buf, 70000);
    put_file(v, "small.bin", buf + 1, 513);
    assert_int_equal(fs_mkdir(v, "Disks/inner"), TV_OK);
    assert_int_equal(fs_mkdir(v, "Disks/inner"), TV_E_EXISTS);
    fs_file_t *f;
    assert_int_equal(fs_open(v, "disks/A RATHER long name for a disk image, more than fifteen.vhd", true, &f), TV_OK);
    assert_int_equal(fs_truncate(f, 150000), TV_OK);
    assert_int_equal(fs_truncate(f, 5000), TV_OK);
    assert_int_equal(fs_write(f, 10000, buf, 100), TV_OK);
    uint8_t r[10100];
    assert_int_equal(fs_read(f, 0, r, sizeof r), TV_OK);
    assert_memory_equal(r, buf, 5000);
    for (int i = 5000; i < 10000; i++)
        assert_int_equal(r[i], 0);
    assert_memory_equal(r + 10000, buf, 100);
    fs_close(f);
    assert_int_equal(fs_rename(v, "small.bin", "renamed.bin"), TV_OK);
    assert_int_equal(fs_rename(v, "theirs.txt", "renamed.bin"), TV_OK);
    assert_int_equal(fs_rename(v, "renamed.bin", "Disks/inner/moved.txt"), TV_OK);
    assert_int_equal(fs_remove(v, "Disks"), TV_E_BUSY);
    for (int i = 0; i < 200; i++) { /* the directory grows past a cluster */
        char n[64];
        snprintf(n, sizeof n, "Disks/file number %d.bin", i);
        put_file(v, n, buf, (size_t)i * 10);
    }
    int count = 0;
    assert_int_equal(fs_list(v, "Disks", count_entry, &count), TV_OK);
    assert_int_equal(count, 202);
    /* Two files grown in turns: the first stops being contiguous. */
    fs_file_t *a, *b;
    assert_int_equal(fs_create(v, "grow-a.vhd", &a), TV_OK);
    assert_int_equal(fs_create(v, "grow-b.vhd", &b), TV_OK);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(fs_write(a, (uint64_t)i * 9000, buf + i, 9000), TV_OK);
        assert_int_equal(fs_write(b, (uint64_t)i * 7000, buf + 2 * i, 7000), TV_OK);
    }
    fs_close(a);
    fs_close(b);
    assert_int_equal(fs_unmount(v), TV_OK);
    assert_true(mem_bdev_save(m, path_in("w.img")));
    fsck_clean("w.img");
    /* exfat-fuse reads what we wrote. */
    uint8_t *ga = malloc(54000), *gb = malloc(42000);
    for (int i = 0; i < 6; i++) {
        memcpy(ga + i * 9000, buf + i, 9000);
        memcpy(gb + i * 7000, buf + 2 * i, 7000);
    }
    assert_int_equal(with_fuse("w.img", "cp $M/grow-a.vhd a.out && cp $M/grow-b.vhd b.out && cp $M/Disks/inner/moved.txt m.out && "
                                        "cp \"$M/Disks/file number 199.bin\" n.out && test ! -e $M/theirs.txt"), 0);
    check_host_file("a.out", ga, 54000);
    check_host_file("b.out", gb, 42000);
    check_host_file("m.out", (const uint8_t *)"old", 3);
    check_host_file("n.out", buf, 1990);
    free(ga);
    free(gb);
    /* Everything removed gives back all it took. */
    mem_bdev_free(m);
    m = mem_bdev_from_file(path_in("w.img"), 512);
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    for (int i = 0; i < 200; i++) {
        char n[64];
        snprintf(n, sizeof n, "Disks/file number %d.bin", i);
        assert_int_equal(fs_remove(v, n), TV_OK);
    }
    assert_int_equal(fs_remove(v, "Disks/inner/moved.txt"), TV_OK);
    assert_int_equal(fs_remove(v, "Disks/inner"), TV_OK);
    assert_int_equal(fs_remove(v, "Disks/a rather long name for a disk image, more than fifteen.vhd"), TV_OK);
    assert_int_equal(fs_remove(v, "grow-a.vhd"), TV_OK);
    assert_int_equal(fs_remove(v, "grow-b.vhd"), TV_OK);
    assert_int_equal(fs_space(v, &total, &free1), TV_OK);
    /* Disks itself grew (it keeps its clusters); the files gave all back. */
    assert_true(free1 >= free0 - 16 * 4096);
    assert_int_equal(fs_remove(v, "Disks"), TV_OK);
    assert_int_equal(fs_space(v, &total, &free1), TV_OK);
    assert_int_equal(fs_unmount(v), TV_OK);
    assert_true(mem_bdev_save(m, path_in("w.img")));
    fsck_clean("w.img");
    /* theirs.txt and Disks were made by exfat-fuse, one cluster each. */
    assert_int_equal(free1, free0 + 2 * 4096);
    mem_bdev_free(m);
}

static void test_dirty_flag_and_limits(void **state)
{
    (void)state;
    mkfs_exfat("d.img", 8, "4K");
    mem_bdev_t *m = mem_bdev_from_file(path_in("d.img"), 512);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    /* VolumeDirty is set while mounted for writing. */
    assert_int_equal(mem_bdev_data(m)[106] & 2, 2);
    fs_file_t *f;
    char longname[260];
    memset(longname, 'n', 211);
    longname[211] = 0;
    assert_int_equal(fs_create(v, longname, &f), TV_E_INVALID_ARGUMENT); /* one sector per set */
    longname[210] = 0;
    assert_int_equal(fs_create(v, longname, &f), TV_OK);
    assert_int_equal(fs_truncate(f, 64ull << 20), TV_E_NO_SPACE);
    assert_int_equal(fs_size(f), 0);
    fs_close(f);
    assert_int_equal(fs_unmount(v), TV_OK);
    assert_int_equal(mem_bdev_data(m)[106] & 2, 0);
    assert_true(mem_bdev_save(m, path_in("d.img")));
    fsck_clean("d.img");
    /* A damaged main boot region: read-only from the backup, not writable. */
    mem_bdev_data(m)[100] ^= 1;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_E_CORRUPT);
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, false, &v), TV_OK);
    assert_int_equal(fs_open(v, longname, false, &f), TV_OK);
    fs_close(f);
    assert_int_equal(fs_unmount(v), TV_OK);
    mem_bdev_free(m);
}

/* The set of name in the root (our own parse, for patching). */
static uint8_t *root_set(uint8_t *img, const char *name)
{
    uint32_t bps = 1u << img[108], csize = bps << img[109];
    uint64_t heap = (uint64_t)(img[88] | img[89] << 8 | img[90] << 16 | (uint32_t)img[91] << 24) * bps;
    uint32_t root = img[96] | img[97] << 8 | img[98] << 16 | (uint32_t)img[99] << 24;
    uint8_t *d = img + heap + (uint64_t)(root - 2) * csize;
    for (uint32_t off = 0; off < csize; off += 32) {
        uint8_t *e = d + off;
        if (e[0] != 0x85)
            continue;
        size_t n = strlen(name);
        bool match = e[35] == n;
        for (size_t i = 0; match && i < n; i++)
            match = e[64 + 2 + 2 * (i % 15) + 32 * (i / 15)] == (uint8_t)name[i];
        if (match)
            return e;
    }
    return NULL;
}

static void reseal(uint8_t *set)
{
    uint32_t count = set[1] + 1u;
    uint16_t sum = 0;
    for (uint32_t i = 0; i < count * 32; i++)
        if (i != 2 && i != 3)
            sum = (uint16_t)(((sum & 1) ? 0x8000 : 0) + (sum >> 1) + set[i]);
    set[2] = (uint8_t)sum;
    set[3] = (uint8_t)(sum >> 8);
}

/* A file whose ValidDataLength ends before its size (as other writers may
 * leave it): the tail reads zeros, a write zeroes it on disk first, and a
 * move to another directory keeps what is valid. */
static void test_valid_data_length(void **state)
{
    (void)state;
    mkfs_exfat("v.img", 8, "4K");
    mem_bdev_t *m = mem_bdev_from_file(path_in("v.img"), 512);
    fs_volume_t *v;
    static uint8_t buf[10000];
    fs_test_fill(buf, sizeof buf, 5);
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    put_file(v, "short.bin", buf, sizeof buf);
    put_file(v, "other.bin", buf, sizeof buf);
    assert_int_equal(fs_mkdir(v, "sub"), TV_OK);
    assert_int_equal(fs_unmount(v), TV_OK);
    for (int i = 0; i < 2; i++) {
        uint8_t *set = root_set(mem_bdev_data(m), i ? "other.bin" : "short.bin");
        assert_non_null(set);
        set[32 + 8] = 0x00; /* ValidDataLength = 4096 */
        set[32 + 9] = 0x10;
        reseal(set);
    }
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
    uint8_t *d;
    size_t len;
    /* Moved without a write: still only 4096 bytes valid. */
    assert_int_equal(fs_rename(v, "other.bin", "sub/other moved.bin"), TV_OK);
    read_all(v, "sub/other moved.bin", &d, &len);
    assert_int_equal(len, sizeof buf);
    for (size_t i = 4096; i < len; i++)
        assert_int_equal(d[i], 0);
    free(d);
    read_all(v, "short.bin", &d, &len);
    assert_int_equal(len, sizeof buf);
    assert_memory_equal(d, buf, 4096);
    for (size_t i = 4096; i < len; i++)
        assert_int_equal(d[i], 0);
    free(d);
    fs_file_t *f;
    assert_int_equal(fs_open(v, "short.bin", true, &f), TV_OK);
    assert_int_equal(fs_write(f, 9000, "Z", 1), TV_OK);
    fs_close(f);
    assert_int_equal(fs_rename(v, "short.bin", "sub/moved.bin"), TV_OK);
    read_all(v, "sub/moved.bin", &d, &len);
    assert_int_equal(len, sizeof buf);
    assert_memory_equal(d, buf, 4096);
    for (size_t i = 4096; i < len; i++)
        assert_int_equal(d[i], i == 9000 ? 'Z' : 0);
    free(d);
    assert_int_equal(fs_unmount(v), TV_OK);
    assert_true(mem_bdev_save(m, path_in("v.img")));
    fsck_clean("v.img");
    memset(buf + 4096, 0, sizeof buf - 4096);
    buf[9000] = 'Z';
    assert_int_equal(with_fuse("v.img", "cp $M/sub/moved.bin v.out"), 0);
    check_host_file("v.out", buf, sizeof buf);
    mem_bdev_free(m);
}

/* ---- power cuts ---- */

struct model {
    uint8_t *data[3];
    size_t len[3]; /* SIZE_MAX = absent */
    int dirs[2];   /* entries of each crash_dirs folder, -1 = absent */
};

#define NFILES 3
static const char *crash_names[NFILES] = { "Disk image one.vhd", "disk2.vhd.tvtmp", "disk2.vhd" };

/* Folders made by the mkdir operations (a long name: several name entries). */
static const char *crash_dirs[2] = { "Virtual disks of a long folder name", "Virtual disks of a long folder name/inner" };

static void snapshot(fs_volume_t *v, struct model *s)
{
    for (int i = 0; i < 2; i++) {
        int n = 0;
        s->dirs[i] = fs_list(v, crash_dirs[i], count_entry, &n) == TV_OK ? n : -1;
    }
    for (int i = 0; i < NFILES; i++) {
        fs_file_t *f;
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

static tv_status_t run_op(fs_volume_t *v, int op)
{
    switch (op) {
    case 0: return create_op(v, crash_names[0]);
    case 1: return write_op(v, crash_names[0], 0, payload, 20000);               /* contiguous */
    case 2: return create_op(v, crash_names[2]);
    case 3: return write_op(v, crash_names[2], 0, payload, 3000);                /* right behind it */
    case 4: return write_op(v, crash_names[0], 20000, payload + 20000, 20000);  /* stops being contiguous */
    case 5: return create_op(v, crash_names[1]);
    case 6: return write_op(v, crash_names[1], 0, payload + 5, 9000);
    case 7: return fs_rename(v, crash_names[1], crash_names[2]);                /* over the target */
    case 8: return truncate_op(v, crash_names[0], 4500);                        /* shrink a chain */
    case 9: return truncate_op(v, crash_names[0], 30000);                       /* grow with zeros */
    case 10: return truncate_op(v, crash_names[2], 1000);                       /* shrink an extent */
    case 11: return fs_remove(v, crash_names[0]);
    case 12: return fs_mkdir(v, crash_dirs[0]);
    case 13: return fs_mkdir(v, crash_dirs[1]);                                 /* inside the new one */
    }
    return TV_E_INVALID_ARGUMENT;
}
#define NOPS 14
#define RENAME_OP 7

/* What fsck.exfat -n may say about a raw crash state: a FAT chain longer
 * than its file (a chained file between its link and its entry's new size,
 * or between its entry's smaller size and the cut), which loses nothing and
 * our next writable mount trims.  It does not look at VolumeDirty or at the
 * bitmap (leaks are our checker's to see). */
static bool fsck_benign(const char *text)
{
    static const char *ok[] = {
        "exfatprogs version", "ERROR: ", "", NULL,
    };
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool good = false;
        if (strncmp(p, "ERROR: ", 7) == 0)
            good = strstr(p, "more clusters are allocated. truncate to") && strstr(p, "? n") &&
                   (size_t)(strstr(p, "? n") - p) < n;
        else if (strstr(p, ": corrupted. directories ") || strstr(p, ": files corrupted "))
            good = (size_t)(strstr(p, "corrupted") - p) < n;
        for (int i = 0; !good && ok[i]; i++)
            if (i != 1 && strncmp(p, ok[i], strlen(ok[i])) == 0 && (ok[i][0] || n == 0))
                good = true;
        if (!good)
            return false;
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
    if (op == RENAME_OP && !same(got, after, 1) && !same(got, before, 2))
        fail();
}

static void test_power_cut(void **state)
{
    (void)state;
    fs_test_fill(payload, sizeof payload, 11);
    mkfs_exfat("crash.img", 2, "2K");
    mem_bdev_t *base = mem_bdev_from_file(path_in("crash.img"), 512);
    const char *img = path_in("crash-state.img");
    unsigned states = 0, flagged = 0, fsck_noisy = 0;
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
        for (uint64_t k = 1; k <= events; k++)
            for (int keep = 0; keep < 3; keep++) {
                mem_bdev_t *c = mem_bdev_clone(base);
                assert_int_equal(fs_mount(mem_bdev_dev(c), &fs_test_env, true, &v), TV_OK);
                mem_bdev_set_crash(c, k);
                (void)run_op(v, op);
                (void)fs_unmount(v);
                mem_bdev_power_cycle(c, keep, k * 3 + (uint64_t)keep);
                /* Our checker: only the benign findings of the crash order. */
                unsigned r = exfat_check(mem_bdev_data(c), mem_bdev_size(c), report, sizeof report);
                if (r & EXC_FATAL) {
                    fprintf(stderr, "# op %d event %llu keep %d:\n%s", op, (unsigned long long)k, keep, report);
                    fail();
                }
                flagged += (r & ~EXC_DIRTY) != 0;
                assert_true(mem_bdev_save(c, img));
                if (fs_test_sh(out, sizeof out, "fsck.exfat -n %s", img) != 0) {
                    fsck_noisy++;
                    if (!(r & EXC_LONG_CHAIN) || !fsck_benign(out)) {
                        fprintf(stderr, "# fsck.exfat, op %d event %llu keep %d:\n%s", op, (unsigned long long)k, keep, out);
                        fail();
                    }
                }
                assert_int_equal(fs_mount(mem_bdev_dev(c), &fs_test_env, true, &v), TV_OK);
                struct model got;
                snapshot(v, &got);
                check_state(&got, &before, &after, op);
                model_free(&got);
                assert_int_equal(fs_unmount(v), TV_OK);
                r = exfat_check(mem_bdev_data(c), mem_bdev_size(c), report, sizeof report);
                if (r) {
                    fprintf(stderr, "# after repair, op %d event %llu keep %d:\n%s", op, (unsigned long long)k, keep, report);
                    fail();
                }
                /* fsck.exfat after the repair on the random subsets (our
                 * checker, stricter, ran on every state above). */
                if (keep == MB_KEEP_RANDOM && mem_bdev_save(c, img) &&
                    fs_test_sh(out, sizeof out, "fsck.exfat -n %s", img) != 0) {
                    fprintf(stderr, "# fsck.exfat after repair, op %d event %llu keep %d:\n%s", op,
                            (unsigned long long)k, keep, out);
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
    fprintf(stderr, "# %u crash states, %u with benign checker findings (leaks, long chains) before repair, %u fsck findings\n",
            states, flagged, fsck_noisy);
    mem_bdev_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_fuse_files),
        cmocka_unit_test(test_writes_fsck_fuse),
        cmocka_unit_test(test_dirty_flag_and_limits),
        cmocka_unit_test(test_valid_data_length),
        cmocka_unit_test(test_power_cut),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char c[300];
    snprintf(c, sizeof c, "rm -rf %s", fs_test_dir());
    if (system(c) != 0)
        rc = 1;
    return rc;
}
