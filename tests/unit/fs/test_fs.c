/* FAT32: images made by mkfs.vfat/mtools read back; our writes pass
 * fsck.fat -n and read back through mtools; the per-file limit; a power cut
 * after every write and flush of a sequence of operations. */
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

static mem_bdev_t *mkfs_fat32(const char *name, unsigned mib, unsigned spc)
{
    char img[512];
    snprintf(img, sizeof img, "%s/%s", fs_test_dir(), name);
    int rc = fs_test_sh(out, sizeof out, "rm -f %s; truncate -s %uM %s && mkfs.vfat -F 32 -s %u -n TVTEST %s", img,
                        mib, img, spc, img);
    assert_int_equal(rc, 0);
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

/* mtools wants a real FAT32 cluster count (>= 65525): 40 MiB of 512-byte clusters. */
static void test_reads_mkfs_mtools(void **state)
{
    (void)state;
    const char *d = fs_test_dir();
    char img[300];
    snprintf(img, sizeof img, "%s/m.img", d);
    assert_int_equal(fs_test_sh(out, sizeof out, "rm -f %s; truncate -s 40M %s && mkfs.vfat -F 32 -s 1 -n MTOOLSV %s", img, img, img), 0);
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
    assert_int_equal(fs_kind(v), FS_KIND_FAT32);
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
    (void)state;
    mem_bdev_t *m = mkfs_fat32("ops.img", 40, 1);
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
    (void)state;
    mem_bdev_t *m = mkfs_fat32("lim.img", 8, 8);
    fs_volume_t *v;
    assert_int_equal(fs_mount(mem_bdev_dev(m), &fs_test_env, true, &v), TV_OK);
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
    (void)state;
    fs_test_fill(payload, sizeof payload, 11);
    mem_bdev_t *base = mkfs_fat32("crash.img", 2, 2);
    char img[300];
    snprintf(img, sizeof img, "%s/crash-state.img", fs_test_dir());
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
        for (uint64_t k = 1; k <= events; k++)
            for (int keep = 0; keep < 3; keep++) {
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_mkfs_mtools),
        cmocka_unit_test(test_operations_fsck_clean),
        cmocka_unit_test(test_file_limit),
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
