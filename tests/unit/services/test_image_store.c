/* Hosted tests of the image store's portable parts over the scenario's own
 * disk (tests/integration/mkstore.sh: GPT, FAT32 "TVFAT" and exFAT
 * "TVEXFAT" made by mkfs.vfat/mtools and mkfs.exfat/exfat-fuse, an exFAT
 * volume without a label, VHDs made by qemu-img) in memory, reached through
 * the block-device adapter: names, uniqueness, path resolution, listings
 * with paging and times, disk info, the locked seam, clean unmount; and the
 * three hypercalls under the one dispatcher (argument checks, permission,
 * continuation, an abandoned request). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fake_guest_mem.h"
#include "fs_test_util.h"
#include "mem_blockdev.h"
#include "hcall/hcall.h"
#include "services/blk_fsdev.h"
#include "services/store_core.h"
#include "services/volume_calls.h"
#include "task/task_mgr.h"
#include "task/task_platform.h"
#include "libtaskvisor.h"
#include "loopback.h"

#define P2_FIRST ((2048 + 40 * 2048) * 512ull)   /* the exFAT partition, bytes */

static char img[512];
static int64_t built_at;

static void *p_alloc(void *ctx, size_t n) { (void)ctx; return calloc(1, n); }
static void p_free(void *ctx, void *p) { (void)ctx; free(p); }
static uint32_t p_now(void *ctx) { (void)ctx; return (uint32_t)(time(NULL) - 946684800); }
static void p_entropy(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)buf)[i] = (uint8_t)rand();
}
static const tv_storage_t platform = { .alloc = p_alloc, .free = p_free, .now = p_now,
                                       .entropy = p_entropy, .flushes = true };

/* The adapter over a memory disk. */
static tv_status_t m_read(void *dev, uint64_t lba, uint32_t n, void *buf)
{
    fs_blockdev_t *d = mem_bdev_dev(dev);
    return d->read(d->ctx, lba, n, buf);
}
static tv_status_t m_write(void *dev, uint64_t lba, uint32_t n, const void *buf)
{
    fs_blockdev_t *d = mem_bdev_dev(dev);
    return d->write(d->ctx, lba, n, buf);
}
static tv_status_t m_flush(void *dev)
{
    fs_blockdev_t *d = mem_bdev_dev(dev);
    return d->flush(d->ctx);
}

struct disk {
    mem_bdev_t *m;
    struct blkfs a;
};

static void disk_open(struct disk *d)
{
    d->m = mem_bdev_from_file(img, 512);
    assert_non_null(d->m);
    struct blkfs_backend b = { d->m, 512, mem_bdev_size(d->m) / 512, false, m_read, m_write,
                               m_flush, NULL };
    assert_int_equal(blkfs_init(&d->a, &b), TV_OK);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(img, sizeof img, "%s/store.img", fs_test_dir());
    char out[4096];
    built_at = time(NULL);
    int rc = fs_test_sh(out, sizeof out, "tests/integration/mkstore.sh create %s", img);
    if (rc != 0)
        fprintf(stderr, "mkstore.sh: %s\n", out);
    return rc;
}

static struct store *open_store(struct disk *d)
{
    struct store *s = 0;
    assert_int_equal(store_create(&platform, &s), TV_OK);
    disk_open(d);
    unsigned m = 0, k = 0;
    assert_int_equal(store_add_disk(s, &d->a.fs, "vblk0", 0, &m, &k), TV_OK);
    assert_int_equal(m, 3);
    assert_int_equal(k, 0);
    return s;
}

static void test_names_and_info(void **state)
{
    (void)state;
    struct disk d, d2;
    struct store *s = open_store(&d);
    assert_int_equal(store_count(s), 3);
    struct tv_volume_info v;
    assert_int_equal(store_info(s, 0, &v), TV_OK);
    assert_string_equal(v.name, "TVFAT");
    assert_string_equal(v.label, "TVFAT");
    assert_string_equal(v.device, "vblk0");
    assert_int_equal(v.fs_type, TV_FS_FAT32);
    assert_int_equal(v.partition, 1);
    assert_int_equal(v.first_sector, 2048);
    assert_int_equal(v.flags, TV_VOLUME_F_GPT);
    assert_true(v.size_bytes > 30u << 20 && v.size_bytes <= 40u << 20);
    assert_true(v.free_bytes > 10u << 20 && v.free_bytes < v.size_bytes);
    assert_int_equal(store_info(s, 1, &v), TV_OK);
    assert_string_equal(v.name, "TVEXFAT");
    assert_int_equal(v.fs_type, TV_FS_EXFAT);
    assert_int_equal(v.partition, 2);
    assert_int_equal(store_info(s, 2, &v), TV_OK);
    assert_string_equal(v.name, "0FC63DAF-8483-4772-8E79-3D69D8470001");
    assert_string_equal(v.label, "");
    assert_int_equal(store_info(s, 3, &v), TV_E_NOT_FOUND);
    /* A second copy of the disk: every name gets "~2". */
    disk_open(&d2);
    unsigned m = 0;
    assert_int_equal(store_add_disk(s, &d2.a.fs, "vblk1", 1, &m, NULL), TV_OK);
    assert_int_equal(m, 3);
    assert_int_equal(store_info(s, 3, &v), TV_OK);
    assert_string_equal(v.name, "TVFAT~2");
    assert_int_equal(store_info(s, 5, &v), TV_OK);
    assert_string_equal(v.name, "0FC63DAF-8483-4772-8E79-3D69D8470001~2");
    assert_string_equal(v.device, "vblk1");
    /* Mounted writable: exFAT's VolumeDirty is set until the clean unmount. */
    uint8_t *raw = mem_bdev_data(d.m);
    assert_true(raw[P2_FIRST + 106] & 2);
    assert_int_equal(store_destroy(s), TV_OK);
    assert_false(raw[P2_FIRST + 106] & 2);
    char out[4096];
    assert_true(mem_bdev_save(d.m, img));
    assert_int_equal(fs_test_sh(out, sizeof out, "tests/integration/mkstore.sh check %s", img), 0);
    mem_bdev_free(d.m);
    mem_bdev_free(d2.m);
}

static void test_resolve(void **state)
{
    (void)state;
    struct disk d;
    struct store *s = open_store(&d);
    unsigned i = 99;
    const char *in = 0;
    assert_int_equal(store_resolve(s, "TVFAT:/images/base.vhd", &i, &in), TV_OK);
    assert_int_equal(i, 0);
    assert_string_equal(in, "/images/base.vhd");
    assert_int_equal(store_resolve(s, "tvexfat:/", &i, &in), TV_OK);   /* case ignored */
    assert_int_equal(i, 1);
    assert_string_equal(in, "/");
    assert_int_equal(store_resolve(s, "0fc63daf-8483-4772-8e79-3d69d8470001:/x", &i, &in), TV_OK);
    assert_int_equal(i, 2);
    assert_int_equal(store_resolve(s, "NOPE:/x", &i, &in), TV_E_NOT_FOUND);
    assert_int_equal(store_resolve(s, "TVFA:/x", &i, &in), TV_E_NOT_FOUND);
    assert_int_equal(store_resolve(s, "TVFATX:/x", &i, &in), TV_E_NOT_FOUND);
    static const char *bad[] = { "TVFAT", ":/x", "TVFAT:", "TVFAT:x", "TVFAT:/a/../b",
                                 "TVFAT:/./b", "TVFAT:/..", "TVFAT:/a\\b", "TVFAT:/a\tb", "" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_int_equal(store_resolve(s, bad[k], &i, &in), TV_E_INVALID_ARGUMENT);
    assert_int_equal(store_resolve(s, NULL, &i, &in), TV_E_INVALID_ARGUMENT);
    char longp[STORE_PATH_MAX + 8];
    memset(longp, 'a', sizeof longp);
    memcpy(longp, "TVFAT:/", 7);
    longp[sizeof longp - 1] = 0;
    assert_int_equal(store_resolve(s, longp, &i, &in), TV_E_INVALID_ARGUMENT);
    assert_int_equal(store_resolve(s, "TVFAT:/a/.b/..c", &i, &in), TV_OK);   /* names, not dots */
    assert_int_equal(store_destroy(s), TV_OK);
    mem_bdev_free(d.m);
}

static void test_list_dir(void **state)
{
    (void)state;
    struct disk d;
    struct store *s = open_store(&d);
    struct tv_dir_entry e[4];
    uint32_t got = 0;
    uint64_t next = 9;
    assert_int_equal(store_list_dir(s, 0, "/", 0, e, 4, &got, &next), TV_OK);
    assert_int_equal(got, 2);
    assert_int_equal(next, 0);
    /* Directory order (mkstore.sh makes /images first). */
    assert_string_equal(e[0].name, "images");
    assert_true(e[0].flags & TV_DIR_F_DIR);
    assert_string_equal(e[1].name, "README.TXT");
    assert_int_equal(e[1].size, 34);
    assert_int_equal(e[1].flags & TV_DIR_F_DIR, 0);
    /* mkstore.sh stamps it 2024-02-29 13:37:42 UTC (mcopy -m, TZ=UTC). */
    assert_true(e[1].flags & TV_DIR_F_TIME_VALID);
    assert_int_equal(e[1].mtime, 1709213862);
    /* Paging: one at a time. */
    assert_int_equal(store_list_dir(s, 0, "/", 0, e, 1, &got, &next), TV_OK);
    assert_int_equal(got, 1);
    assert_int_equal(next, 1);
    assert_int_equal(store_list_dir(s, 0, "/", 1, e, 1, &got, &next), TV_OK);
    assert_int_equal(got, 1);
    assert_string_equal(e[0].name, "README.TXT");
    assert_int_equal(next, 0);
    assert_int_equal(store_list_dir(s, 0, "/", 2, e, 1, &got, &next), TV_OK);
    assert_int_equal(got, 0);
    assert_int_equal(store_list_dir(s, 0, "/", 3, e, 1, &got, &next), TV_E_INVALID_ARGUMENT);
    /* exFAT: a long name with spaces, its time stamp (exfat-fuse writes UTC
     * with the offset stated). */
    assert_int_equal(store_list_dir(s, 1, "/Long name directory", 0, e, 4, &got, &next), TV_OK);
    assert_int_equal(got, 1);
    assert_string_equal(e[0].name, "notes.txt");
    assert_int_equal(e[0].size, 15);
    assert_true(e[0].flags & TV_DIR_F_TIME_VALID);
    assert_true(llabs(e[0].mtime - built_at) < 86400);
    assert_int_equal(store_list_dir(s, 1, "/nope", 0, e, 4, &got, &next), TV_E_NOT_FOUND);
    assert_int_equal(store_list_dir(s, 1, "/dyn.vhd", 0, e, 4, &got, &next), TV_E_WRONG_TYPE);
    assert_int_equal(store_destroy(s), TV_OK);
    mem_bdev_free(d.m);
}

/* qemu-img info's virtual size and the file size of a VHD mkstore.sh made. */
static void expected(const char *path, uint64_t *vsize, uint64_t *fsize)
{
    char name[600], p[300], kind[32];
    snprintf(name, sizeof name, "%s.vhds", img);
    FILE *f = fopen(name, "r");
    assert_non_null(f);
    unsigned long long v, fs;
    bool found = false;
    while (!found && fscanf(f, "%299s %31s %llu %llu", p, kind, &v, &fs) == 4)
        found = strcmp(p, path) == 0;
    fclose(f);
    assert_true(found);
    *vsize = v;
    *fsize = fs;
}

static void test_disk_info(void **state)
{
    (void)state;
    struct disk d;
    struct store *s = open_store(&d);
    struct tv_disk_info di;
    uint64_t vs, fsz;
    assert_int_equal(store_disk_info(s, "TVFAT:/images/fixed.vhd", &di), TV_OK);
    expected("TVFAT:/images/fixed.vhd", &vs, &fsz);
    assert_int_equal(di.type, TV_DISK_FIXED);
    assert_int_equal(di.virtual_size, vs);
    assert_int_equal(di.file_size, fsz);
    assert_int_equal(di.depth, 0);
    assert_int_equal(store_disk_info(s, "TVFAT:/images/base.vhd", &di), TV_OK);
    expected("TVFAT:/images/base.vhd", &vs, &fsz);
    assert_int_equal(di.type, TV_DISK_DYNAMIC);
    assert_int_equal(di.virtual_size, vs);
    assert_int_equal(di.file_size, fsz);
    assert_int_equal(di.block_size, 2u << 20);
    assert_int_equal(di.allocated_blocks, 0);
    /* tvdisk's differencing child: its parent named on the volume. */
    assert_int_equal(store_disk_info(s, "TVFAT:/images/child.vhd", &di), TV_OK);
    expected("TVFAT:/images/child.vhd", &vs, &fsz);
    assert_int_equal(di.type, TV_DISK_DIFFERENCING);
    assert_int_equal(di.virtual_size, vs);
    assert_int_equal(di.file_size, fsz);
    assert_int_equal(di.allocated_blocks, 1);
    assert_int_equal(di.depth, 1);
    assert_string_equal(di.parents[0], "TVFAT:/images/base.vhd");
    assert_int_equal(di.flags, 0);
    assert_int_equal(store_disk_info(s, "TVEXFAT:/dyn.vhd", &di), TV_OK);
    expected("TVEXFAT:/dyn.vhd", &vs, &fsz);
    assert_int_equal(di.type, TV_DISK_DYNAMIC);
    assert_int_equal(di.virtual_size, vs);
    assert_int_equal(store_disk_info(s, "TVEXFAT:/missing.vhd", &di), TV_E_NOT_FOUND);
    assert_int_equal(store_disk_info(s, "NOPE:/x.vhd", &di), TV_E_NOT_FOUND);
    assert_int_equal(store_disk_info(s, "TVFAT:/README.TXT", &di), TV_E_CORRUPT);
    assert_int_equal(store_destroy(s), TV_OK);
    mem_bdev_free(d.m);
}

static void test_locked_seam(void **state)
{
    (void)state;
    struct disk d;
    struct store *s = open_store(&d);
    unsigned i;
    const char *in;
    assert_int_equal(store_resolve(s, "TVEXFAT:/new.bin", &i, &in), TV_OK);
    const tv_storage_t *st = store_seam(s, i);
    tv_sfile_t *f;
    assert_int_equal(st->create(st->ctx, in, &f), TV_OK);
    assert_int_equal(st->write(f, 0, "image store", 11), TV_OK);
    assert_int_equal(st->flush(f), TV_OK);
    char buf[12] = { 0 };
    assert_int_equal(st->read(f, 0, buf, 11), TV_OK);
    assert_string_equal(buf, "image store");
    /* The store keeps its file open: no clean unmount of that volume. */
    assert_int_equal(store_destroy(s), TV_E_BUSY);
    st->close(f);
    assert_int_equal(st->remove(st->ctx, in), TV_OK);
    assert_int_equal(store_destroy(s), TV_OK);
    mem_bdev_free(d.m);
}

static void test_dos_time(void **state)
{
    (void)state;
    int64_t t;
    /* 2026-12-02 12:06:22 = date (46 << 9 | 12 << 5 | 2), time (12 << 11 | 6 << 5 | 11). */
    uint32_t dos = (uint32_t)(46 << 9 | 12 << 5 | 2) << 16 | (12 << 11 | 6 << 5 | 11);
    assert_true(store_dos_to_unix(dos, INT16_MIN, 0, &t));
    assert_int_equal(t, 1796213182);
    assert_true(store_dos_to_unix(dos, 60, 0, &t));   /* stamped at UTC+1 */
    assert_int_equal(t, 1796213182 - 3600);
    assert_true(store_dos_to_unix(dos, -300, 0, &t));
    assert_int_equal(t, 1796213182 + 18000);
    assert_true(store_dos_to_unix(dos, INT16_MIN, 150, &t));   /* exFAT's 1.5 s more */
    assert_int_equal(t, 1796213183);
    assert_false(store_dos_to_unix(0, INT16_MIN, 0, &t));
    assert_false(store_dos_to_unix((uint32_t)(46 << 9 | 13 << 5 | 2) << 16, INT16_MIN, 0, &t));
    assert_false(store_dos_to_unix((uint32_t)(46 << 9 | 2 << 5 | 30) << 16, INT16_MIN, 0, &t));
    assert_false(store_dos_to_unix((uint32_t)(46 << 9 | 1 << 5 | 1) << 16 | 24 << 11, INT16_MIN, 0, &t));
}

/* ---- The hypercalls ------------------------------------------------------ */

static struct fake_guest_mem mem;
static struct volume_call_state *vcs;
static const struct hcall_section *sec_ptr;
static unsigned continuations;
static bool pending_irq;

static void *vc_state(void *owner, const struct hcall_caller *caller)
{
    (void)owner;
    return caller->is_control ? vcs : NULL;
}

static bool irq_pending(uint32_t id)
{
    (void)id;
    return pending_irq;
}

static tv_status_t hc(bool control, uint64_t code, uint64_t a0, uint64_t a1, uint64_t a2,
                      uint64_t a3, uint64_t a4, uint64_t *o0, bool once)
{
    static const struct hcall_section sec = { volume_calls, VOLUME_CALL_COUNT, vc_state, 0 };
    sec_ptr = &sec;
    struct hcall_table table = { &sec, 1 };
    struct hcall_env env = { &table, NULL, NULL };
    struct hcall_caller caller = { .partition_id = 1, .is_control = control, .cpl = 0,
                                   .wide = true, .mem = &mem.view };
    struct hcall_regs r = { .rax = code, .rdi = a0, .rsi = a1, .rdx = a2, .r10 = a3, .r8 = a4 };
    for (;;) {
        enum hcall_action act = hcall_dispatch(&env, &caller, &r);
        if (act != HCALL_CONTINUE)
            break;
        continuations++;
        if (once)
            return TV_E_CONTINUE;
    }
    if (o0)
        *o0 = r.rdx;
    return (tv_status_t)r.rax;
}

static uint64_t put_path(const char *p)
{
    memcpy(mem.low, p, strlen(p));
    return FAKE_LOW_GPA;
}

#define BUF_GPA (FAKE_LOW_GPA + 0x1000)
#define BUF ((void *)(mem.low + 0x1000))

static void test_calls(void **state)
{
    (void)state;
    struct disk d;
    struct store *s = open_store(&d);
    fake_guest_mem_init(&mem);
    uint64_t vs, fsz;
    assert_int_equal(volume_calls_start(s, NULL, NULL, 1000000, irq_pending, &vcs), TV_OK);
    uint64_t o = 0;
    /* VOLUME_LIST: all, then from index 2 with room for one. */
    assert_int_equal(hc(true, TV_HC_VOLUME_LIST, 0, BUF_GPA, 32, 0, 0, &o, false), TV_OK);
    assert_int_equal(o, 3);
    struct tv_volume_info *vi = BUF;
    assert_string_equal(vi[0].name, "TVFAT");
    assert_string_equal(vi[1].name, "TVEXFAT");
    memset(BUF, 0, 4096);
    assert_int_equal(hc(true, TV_HC_VOLUME_LIST, 2, BUF_GPA, 1, 0, 0, &o, false), TV_OK);
    assert_string_equal(vi[0].name, "0FC63DAF-8483-4772-8E79-3D69D8470001");
    assert_string_equal(vi[1].name, "");
    /* Not the control partition; bad arguments; a buffer outside RAM. */
    assert_int_equal(hc(false, TV_HC_VOLUME_LIST, 0, BUF_GPA, 32, 0, 0, &o, false), TV_E_ACCESS_DENIED);
    assert_int_equal(hc(true, TV_HC_VOLUME_LIST, 0, BUF_GPA + 4, 1, 0, 0, &o, false), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(true, TV_HC_VOLUME_LIST, 0, BUF_GPA, 33, 0, 0, &o, false), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(true, TV_HC_VOLUME_LIST, 0, BUF_GPA, 1, 1, 0, &o, false), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(true, TV_HC_VOLUME_LIST, 0, FAKE_HIGH_GPA, 32, 0, 0, &o, false),
                     TV_E_INVALID_ARGUMENT);
    /* DIR_LIST: the root of TVFAT in two pages. */
    uint64_t p = put_path("TVFAT:/");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 7, BUF_GPA, 1, 0, &o, false), TV_OK);
    assert_int_equal(o, 1);
    struct tv_dir_entry *de = BUF;
    assert_string_equal(de[0].name, "images");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 7, BUF_GPA, 1, 1, &o, false), TV_OK);
    assert_int_equal(o, 1);
    assert_string_equal(de[0].name, "README.TXT");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 7, BUF_GPA, 16, 2, &o, false), TV_OK);
    assert_int_equal(o, 0);
    p = put_path("TVFAT:/images");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 13, BUF_GPA, 16, 0, &o, false), TV_OK);
    assert_int_equal(o, 3);
    assert_string_equal(de[0].name, "fixed.vhd");
    expected("TVFAT:/images/fixed.vhd", &vs, &fsz);
    assert_int_equal(de[0].size, fsz);
    assert_string_equal(de[1].name, "base.vhd");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 0, BUF_GPA, 16, 0, &o, false), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 13, BUF_GPA, 17, 0, &o, false), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 13, BUF_GPA, 0, 0, &o, false), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 13, FAKE_LOW_GPA + FAKE_LOW_SIZE - 792, 2, 0, &o, false),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(true, TV_HC_DIR_LIST, FAKE_HIGH_GPA + FAKE_HIGH_SIZE - 4, 13, BUF_GPA, 1, 0, &o, false),
                     TV_E_INVALID_ARGUMENT);
    /* A NUL inside the path; an unknown volume; a malformed path. */
    memcpy(mem.low, "TVFAT:/\0mages", 13);
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 13, BUF_GPA, 1, 0, &o, false), TV_E_INVALID_ARGUMENT);
    p = put_path("NOPE:/");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 6, BUF_GPA, 1, 0, &o, false), TV_E_NOT_FOUND);
    p = put_path("TVFAT:images");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 12, BUF_GPA, 1, 0, &o, false), TV_E_INVALID_ARGUMENT);
    /* DISK_INFO: a dynamic disk; a buffer too small says the size. */
    p = put_path("TVEXFAT:/dyn.vhd");
    assert_int_equal(hc(true, TV_HC_DISK_INFO, p, 16, BUF_GPA, sizeof(struct tv_disk_info), 0, &o, false), TV_OK);
    assert_int_equal(o, sizeof(struct tv_disk_info));
    struct tv_disk_info *di = BUF;
    expected("TVEXFAT:/dyn.vhd", &vs, &fsz);
    assert_int_equal(di->type, TV_DISK_DYNAMIC);
    assert_int_equal(di->virtual_size, vs);
    assert_int_equal(di->file_size, fsz);
    assert_int_equal(hc(true, TV_HC_DISK_INFO, p, 16, BUF_GPA, 100, 0, &o, false), TV_E_BUFFER_TOO_SMALL);
    assert_int_equal(o, sizeof(struct tv_disk_info));
    assert_int_equal(hc(true, TV_HC_DISK_INFO, p, 16, BUF_GPA, sizeof(struct tv_disk_info), 1, &o, false),
                     TV_E_INVALID_ARGUMENT);
    /* With an interrupt pending the vCPU never waits: the call continues,
     * and an abandoned request does not disturb the next call. */
    pending_irq = true;
    continuations = 0;
    p = put_path("TVFAT:/images");
    tv_status_t r = hc(true, TV_HC_DIR_LIST, p, 13, BUF_GPA, 16, 0, &o, true);
    assert_int_equal(r, TV_E_CONTINUE);
    assert_int_equal(continuations, 1);
    assert_int_equal(hc(true, TV_HC_VOLUME_LIST, 0, BUF_GPA, 32, 0, 0, &o, false), TV_OK);
    assert_int_equal(o, 3);
    assert_string_equal(vi[0].name, "TVFAT");
    assert_true(continuations >= 1);
    pending_irq = false;
    /* Unmount (power-off): later calls see no volumes. */
    assert_int_equal(volume_calls_unmount(vcs, 5000000000ull), TV_OK);
    assert_int_equal(hc(true, TV_HC_VOLUME_LIST, 0, BUF_GPA, 32, 0, 0, &o, false), TV_OK);
    assert_int_equal(o, 0);
    p = put_path("TVFAT:/");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 7, BUF_GPA, 1, 0, &o, false), TV_E_NOT_FOUND);
    volume_calls_stop(vcs);
    mem_bdev_free(d.m);
}

/* DIR_CREATE on both file systems: made, listed, refused when it exists,
 * its parent is missing, the name breaks the path rules, the volume is the
 * root or unknown; fsck clean after. */
static void test_dir_create(void **state)
{
    (void)state;
    struct disk d;
    struct store *s = open_store(&d);
    fake_guest_mem_init(&mem);
    assert_int_equal(volume_calls_start(s, NULL, NULL, 1000000, NULL, &vcs), TV_OK);
    uint64_t o = 0;
    static const struct { const char *path; tv_status_t want; } cases[] = {
        { "TVFAT:/vms", TV_OK },
        { "TVFAT:/vms", TV_E_EXISTS },
        { "tvfat:/VMS", TV_E_EXISTS },                  /* names ignore case */
        { "TVFAT:/README.TXT", TV_E_EXISTS },           /* a file has the name */
        { "TVFAT:/vms/Windows 98 disks", TV_OK },       /* a long name */
        { "TVFAT:/nope/sub", TV_E_NOT_FOUND },          /* parent first */
        { "TVFAT:/README.TXT/sub", TV_E_NOT_FOUND },    /* a file is no parent */
        { "TVEXFAT:/Long name directory/sub", TV_OK },
        { "TVEXFAT:/many/file01.txt", TV_E_EXISTS },
        { "TVFAT:/", TV_E_BAD_PATH },                   /* the root */
        { "TVFAT:/a*b", TV_E_BAD_PATH },
        { "TVFAT:/a/../b", TV_E_BAD_PATH },
        { "TVFAT:/vms/", TV_E_BAD_PATH },               /* an empty component */
        { "TVFAT:vms", TV_E_BAD_PATH },
        { "NOPE:/vms", TV_E_NOT_FOUND },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(mem.low, 0, 1024);
        uint64_t p = put_path(cases[i].path);
        tv_status_t r = hc(true, TV_HC_DIR_CREATE, p, strlen(cases[i].path), 0, 0, 0, &o, false);
        if (r != cases[i].want)
            fail_msg("DIR_CREATE %s: %d, wanted %d", cases[i].path, r, cases[i].want);
    }
    /* 260 characters or more: Virtual PC's MAX_PATH. */
    char longp[300] = "TVFAT:/";
    memset(longp + 7, 'a', 280);
    longp[287] = 0;
    uint64_t p = put_path(longp);
    assert_int_equal(hc(true, TV_HC_DIR_CREATE, p, strlen(longp), 0, 0, 0, &o, false), TV_E_BAD_PATH);
    /* Arguments: reserved ones, the caller. */
    p = put_path("TVFAT:/x");
    assert_int_equal(hc(true, TV_HC_DIR_CREATE, p, 8, 1, 0, 0, &o, false), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(true, TV_HC_DIR_CREATE, p, 0, 0, 0, 0, &o, false), TV_E_INVALID_ARGUMENT);
    assert_int_equal(hc(false, TV_HC_DIR_CREATE, p, 8, 0, 0, 0, &o, false), TV_E_ACCESS_DENIED);
    /* The folders are there, empty. */
    struct tv_dir_entry *de = BUF;
    p = put_path("TVFAT:/vms");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 10, BUF_GPA, 16, 0, &o, false), TV_OK);
    assert_int_equal(o, 1);
    assert_string_equal(de[0].name, "Windows 98 disks");
    assert_true(de[0].flags & TV_DIR_F_DIR);
    memset(mem.low, 0, 1024);
    p = put_path("TVEXFAT:/Long name directory/sub");
    assert_int_equal(hc(true, TV_HC_DIR_LIST, p, 32, BUF_GPA, 16, 0, &o, false), TV_OK);
    assert_int_equal(o, 0);
    /* An image can be created in the new folder through the seam. */
    unsigned idx;
    const char *inner;
    assert_int_equal(store_resolve(s, "TVFAT:/vms/Windows 98 disks/a.vhd", &idx, &inner), TV_OK);
    const tv_storage_t *seam = store_seam(s, idx);
    tv_sfile_t *f;
    assert_int_equal(seam->create(seam->ctx, inner, &f), TV_OK);
    seam->close(f);
    assert_int_equal(volume_calls_unmount(vcs, 5000000000ull), TV_OK);
    volume_calls_stop(vcs);
    char copy[600], out[4096];
    snprintf(copy, sizeof copy, "%s.mkdir", img);
    assert_true(mem_bdev_save(d.m, copy));
    if (fs_test_sh(out, sizeof out, "tests/integration/mkstore.sh check %s", copy) != 0)
        fail_msg("fsck after mkdir: %s", out);
    mem_bdev_free(d.m);
}

/* libtaskvisor's calls over the loopback transport: the monitor's
 * dispatcher with the task calls and the image store calls in one table. */
static void test_client(void **state)
{
    (void)state;
    struct disk d;
    struct store *s = open_store(&d);
    assert_int_equal(volume_calls_start(s, NULL, NULL, 1000000, NULL, &vcs), TV_OK);
    struct task_mgr *mgr;
    struct task_mgr_config cfg = { .workers = 1, .max_running = 1 };
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    struct tv_loopback *lb;
    assert_int_equal(tv_loopback_create(mgr, 64 * 1024, 1000000, &lb), TV_OK);
    static const struct hcall_section sec = { volume_calls, VOLUME_CALL_COUNT, vc_state, 0 };
    assert_int_equal(tv_loopback_add_section(lb, &sec), TV_OK);
    assert_int_equal(tv_loopback_add_section(lb, &sec), TV_E_EXISTS); /* codes twice */
    struct tv_client c;
    assert_int_equal(tv_client_init(&c, tv_loopback_transport(lb)), TV_OK);

    struct tv_volume_info v[4];
    size_t n = 0;
    uint32_t total = 0;
    assert_int_equal(tv_volume_list(&c, 0, v, 4, &n, &total), TV_OK);
    assert_int_equal(n, 3);
    assert_int_equal(total, 3);
    assert_string_equal(v[1].name, "TVEXFAT");
    assert_int_equal(tv_volume_list(&c, 1, v, 1, &n, &total), TV_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "TVEXFAT");
    assert_int_equal(tv_volume_list(&c, 5, v, 4, &n, NULL), TV_OK);
    assert_int_equal(n, 0);

    /* More entries than one call carries would loop (3 per call here). */
    struct tv_dir_entry e[8];
    assert_int_equal(tv_dir_list(&c, "TVFAT:/images", 0, e, 8, &n), TV_OK);
    assert_int_equal(n, 3);
    assert_string_equal(e[1].name, "base.vhd");
    assert_int_equal(tv_dir_list(&c, "TVEXFAT:/Long name directory", 0, e, 8, &n), TV_OK);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].name, "notes.txt");
    /* Ten names: three calls for the first eight, one for the last two. */
    assert_int_equal(tv_dir_list(&c, "TVEXFAT:/many", 0, e, 8, &n), TV_OK);
    assert_int_equal(n, 8);
    assert_string_equal(e[7].name, "file08.txt");
    assert_int_equal(tv_dir_list(&c, "TVEXFAT:/many", 8, e, 8, &n), TV_OK);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].name, "file09.txt");
    assert_string_equal(e[1].name, "file10.txt");
    assert_int_equal(e[1].size, 8);
    assert_int_equal(tv_dir_list(&c, "TVEXFAT:/", 0, e, 1, &n), TV_OK);
    assert_int_equal(n, 1);
    assert_int_equal(tv_dir_list(&c, "TVEXFAT:/", 1, e, 8, &n), TV_OK);
    assert_int_equal(n, 3);
    assert_int_equal(tv_dir_list(&c, "", 0, e, 8, &n), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_dir_list(&c, "NOPE:/", 0, e, 8, &n), TV_E_NOT_FOUND);

    struct tv_disk_info di;
    uint64_t vs, fsz;
    expected("TVFAT:/images/base.vhd", &vs, &fsz);
    assert_int_equal(tv_disk_info(&c, "TVFAT:/images/base.vhd", &di), TV_OK);
    assert_int_equal(di.type, TV_DISK_DYNAMIC);
    assert_int_equal(di.virtual_size, vs);
    char longp[1100];
    memset(longp, 'a', sizeof longp);
    longp[sizeof longp - 1] = 0;
    assert_int_equal(tv_disk_info(&c, longp, &di), TV_E_INVALID_ARGUMENT);

    tv_client_fini(&c);
    tv_loopback_destroy(lb);
    task_mgr_destroy(mgr);
    volume_calls_stop(vcs);
    assert_int_equal(store_destroy(s), TV_OK);
    mem_bdev_free(d.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_info),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_list_dir),
        cmocka_unit_test(test_disk_info),
        cmocka_unit_test(test_locked_seam),
        cmocka_unit_test(test_dos_time),
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_dir_create),
        cmocka_unit_test(test_client),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
