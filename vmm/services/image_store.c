/* The monitor's image store: see image_store.h.  The portable parts are
 * store_core.c (mounting, names, paths, the locked seams), blk_fsdev.c
 * (block device -> fs_blockdev_t) and volume_calls.c (the hypercalls and
 * the worker thread that serves them); this file binds them to the
 * monitor's block drivers, heap, wall clock, entropy and scheduler. */
#include "services/image_store.h"
#include "drivers/block/block.h"
#include "hcall/hcall.h"
#include "kernel/entropy.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/power.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/wallclock.h"
#include "mm/mm.h"
#include "services/blk_fsdev.h"
#include "services/disk_service.h"
#include "services/store_core.h"
#include "services/volume_calls.h"
#include "tv_status.h"
#include "tv_string.h"
#include "vm/hypercall.h"
#include "vm/partition.h"
#include "vm/vcpu.h"
#include "dev/vapic.h"
#ifdef TV_TEST_BUILD
#include "testing/blk_bench.h"
#endif

#define UNMOUNT_TIMEOUT_NS (10ull * 1000000000ull)

static struct blkfs fsdevs[BLK_MAX_DEVS];
static struct volume_call_state *calls;
static tv_storage_t platform;
static const char *boot_options; /* store_polled; the raw disk bench before the mount */

static void *pf_alloc(void *ctx, size_t n) { (void)ctx; return kzalloc(n); }
static void pf_free(void *ctx, void *p) { (void)ctx; kfree(p); }
static uint32_t pf_now(void *ctx) { (void)ctx; return wallclock_vhd_seconds(); }
static void pf_entropy(void *ctx, void *buf, size_t len) { (void)ctx; entropy_fill(buf, len); }

static tv_status_t bd_read(void *dev, uint64_t lba, uint32_t count, void *buf)
{
    return blk_read(dev, lba, count, buf);
}

static tv_status_t bd_write(void *dev, uint64_t lba, uint32_t count, const void *buf)
{
    return blk_write(dev, lba, count, buf);
}

static tv_status_t bd_flush(void *dev)
{
    return blk_flush(dev);
}

/* A disk is waited for by blocking the calling thread on the scheduler,
 * never by spinning: from task and kernel threads, and from the control
 * partition's vCPU inside DISK_START, whose checks before a task exists
 * open the image (a few metadata reads; the vCPU waits like TASK_WAIT's,
 * at most blk_timeout_ms for a device that does not answer).  Refused only
 * where no thread can block (early boot, interrupt context). */
static bool bd_may_block(void *dev)
{
    (void)dev;
    return thread_current() != 0;
}

static const char *kind_name(uint32_t fs)
{
    return fs == TV_FS_EXFAT ? "exFAT" : fs == TV_FS_FAT16 ? "FAT16" : fs == TV_FS_FAT12 ? "FAT12" : "FAT32";
}

/* ---- Recovery at mount: every regular file of a volume, for the disk service */
/* Entries per listing: each listing walks the directory from its start to
 * the cursor, so small batches make a large directory quadratic (8 a batch
 * took 2 to 4 s for 1,000 files under QEMU TCG in the disk bench).  64 is
 * 50 KiB a directory level. */
#define WALK_BATCH 64u
#define WALK_DEPTH 16u /* directory levels searched for interrupted operations */

struct walk {
    struct store *s;
    unsigned index;
    bool (*fn)(void *fctx, const char *name);
    void *fctx;
    bool stopped;
    unsigned files; /* regular files handed to fn */
    char path[STORE_PATH_MAX];
};

/* w->path (len bytes, "" for the root) is a directory; each level has its
 * own batch buffer, so a subdirectory is walked between two pages of its
 * parent (DIR_LIST's cursor is a position, stable while nothing changes). */
static tv_status_t walk_dir(struct walk *w, size_t len, unsigned depth)
{
    struct tv_dir_entry *ents = kzalloc(WALK_BATCH * sizeof *ents);
    if (!ents)
        return TV_E_NO_MEMORY;
    uint64_t cursor = 0;
    tv_status_t st;
    do {
        uint32_t got = 0;
        uint64_t next = 0;
        w->path[len] = '\0';
        st = store_list_dir(w->s, w->index, len ? w->path : "/", cursor, ents, WALK_BATCH, &got, &next);
        for (uint32_t i = 0; st == TV_OK && i < got && !w->stopped; i++) {
            const char *n = ents[i].name;
            if (!tv_strcmp(n, ".") || !tv_strcmp(n, ".."))
                continue;
            size_t nl = tv_strlen(n);
            if (len + 1 + nl + 1 > sizeof w->path)
                continue; /* deeper than any path the disk calls accept */
            w->path[len] = '/';
            tv_memcpy(w->path + len + 1, n, nl + 1);
            if (!(ents[i].flags & TV_DIR_F_DIR)) {
                w->files++;
                w->stopped = !w->fn(w->fctx, w->path);
            }
            else if (depth + 1 < WALK_DEPTH)
                st = walk_dir(w, len + 1 + nl, depth + 1);
        }
        cursor = next;
    } while (st == TV_OK && cursor && !w->stopped);
    kfree(ents);
    return st;
}

static tv_status_t list_volume_files(void *ctx, const char *volume,
                                     bool (*fn)(void *fctx, const char *name), void *fctx)
{
    (void)volume;
    struct walk *w = ctx;
    w->fn = fn;
    w->fctx = fctx;
    w->stopped = false;
    return walk_dir(w, 0, 0);
}

/* Before the volumes are published: every interrupted merge, compact or
 * convert is finished or rolled back by a recovery task (storage.md). */
static void recover_volumes(struct store *s)
{
    struct walk *w = kzalloc(sizeof *w);
    if (!w) {
        log_err("image store: no memory to look for interrupted operations");
        return;
    }
    w->s = s;
    for (unsigned i = 0; i < store_count(s); i++) {
        struct tv_volume_info v;
        if (store_info(s, i, &v) != TV_OK || (v.flags & TV_VOLUME_F_READ_ONLY))
            continue; /* nothing can be repaired on a read-only volume */
        w->index = i;
        w->files = 0;
        uint64_t t0 = time_now_ns();
        disk_service_recover_volume(v.name, (tv_storage_t *)store_seam(s, i), list_volume_files, w, 0);
        /* The walk is most of a mount's time on a volume with many files. */
        log_info("image store: %s: %u files looked at for interrupted operations in %llu us", v.name,
                 w->files, (unsigned long long)((time_now_ns() - t0) / 1000));
    }
    kfree(w);
}

/* The disk operations' resolver: "VOLUME:/path" -> the volume's seam and
 * what the checks before a task need to know of the volume. */
static tv_status_t resolve_for_disks(void *ctx, const char *path, tv_storage_t **seam,
                                     const char **inner, struct disk_volume_facts *facts)
{
    (void)ctx;
    struct store *s = calls ? volume_calls_store(calls) : 0;
    unsigned i;
    tv_status_t st = store_resolve(s, path, &i, inner);
    if (st != TV_OK)
        return st;
    struct tv_volume_info v;
    st = store_info(s, i, &v);
    if (st != TV_OK)
        return st;
    *seam = (tv_storage_t *)store_seam(s, i); /* the engine writes through it */
    facts->free_bytes = v.free_bytes;
    facts->max_file_size = v.fs_type != TV_FS_EXFAT ? 0xffffffffull : DISK_UNKNOWN; /* every FAT width */
    facts->read_only = (v.flags & TV_VOLUME_F_READ_ONLY) != 0;
    return TV_OK;
}

/* On the store's thread, before any call is served. */
static struct store *mount_all(void *ctx)
{
    (void)ctx;
#ifdef TV_TEST_BUILD
    blk_bench_run(boot_options); /* alone on the disk: nothing is mounted yet */
#endif
    uint64_t t0 = time_now_ns();
    struct store *s = 0;
    tv_status_t st = store_create(&platform, &s);
    if (st != TV_OK) {
        log_err("image store: cannot start (%s)", tv_status_name(st));
        return 0;
    }
    /* store_polled=no: a disk the monitor can only poll (ATA: no I/O APIC
     * driver yet) moves its data in the block layer's poll timer, in
     * interrupt context, so mounting it steals the CPU from every guest for
     * the length of the mount (about 0.3 s for the 16 MiB ESP under QEMU
     * TCG, a 4 ms vCPU wait where 2 ms is the bound).  Such disks are then
     * left alone.  docs/boot.md. */
    char polled[4] = "yes";
    option_get(boot_options, "store_polled", polled, sizeof polled);
    for (unsigned i = 0; i < blk_count() && i < BLK_MAX_DEVS; i++) {
        struct blk_dev *d = blk_get(i);
        if (!d->has_irq && polled[0] == 'n') {
            log_info("image store: %s: polled device not mounted (store_polled=no)", d->name);
            continue;
        }
        struct blkfs_backend b = { d, d->sector_size, d->sectors, d->read_only,
                                   bd_read, bd_write, bd_flush, bd_may_block };
        st = blkfs_init(&fsdevs[i], &b);
        unsigned m = 0, k = 0;
        uint64_t d0 = time_now_ns();
        if (st == TV_OK)
            st = store_add_disk(s, &fsdevs[i].fs, d->name, i, &m, &k);
        if (st != TV_OK)
            log_info("image store: %s: no volumes (%s)", d->name, tv_status_name(st));
        else
            log_info("image store: %s: %u volumes mounted, %u partitions skipped, in %llu us", d->name,
                     m, k, (unsigned long long)((time_now_ns() - d0) / 1000));
    }
    for (unsigned i = 0; i < store_count(s); i++) {
        struct tv_volume_info v;
        if (store_info(s, i, &v) != TV_OK)
            continue;
        log_info("volume %s: %s on %s partition %u, %llu MiB, %llu MiB free%s%s", v.name,
                 kind_name(v.fs_type), v.device, v.partition,
                 (unsigned long long)(v.size_bytes >> 20), (unsigned long long)(v.free_bytes >> 20),
                 (v.flags & TV_VOLUME_F_ESP) ? ", ESP" : "",
                 (v.flags & TV_VOLUME_F_READ_ONLY) ? ", read-only" : "");
    }
    recover_volumes(s);
    log_info("image store: %u volumes in %llu ms", store_count(s),
             (unsigned long long)((time_now_ns() - t0) / 1000000));
    return s;
}

static bool interrupt_pending(uint32_t partition_id)
{
    struct partition *p = partition_by_id(partition_id);
    if (!p)
        return false;
    struct vcpu *v = &p->vcpu;
    for (int w = 0; w < 4; w++)
        if (__atomic_load_n(&v->posted_irr[w], __ATOMIC_RELAXED))
            return true;
    return v->apic.timer_fired || vapic_pending_vector(&v->apic) >= 0;
}

static void *caller_state(void *owner, const struct hcall_caller *caller)
{
    (void)owner;
    return caller->is_control ? calls : 0;
}

static void unmount_at_power_off(void)
{
    if (!calls)
        return;
    tv_status_t st = volume_calls_unmount(calls, UNMOUNT_TIMEOUT_NS);
    if (st == TV_OK)
        log_info("image store: volumes unmounted cleanly");
    else
        log_warn("image store: unmount failed (%s)", tv_status_name(st));
}

tv_status_t image_store_init(const char *options)
{
    boot_options = options;
    platform = (tv_storage_t){ .alloc = pf_alloc, .free = pf_free, .now = pf_now,
                               .entropy = pf_entropy, .flushes = true };
    /* No verdict hold in test builds: a scenario that ends before the mount
     * has finished still waits for it in the power-off hook (the unmount
     * follows the mount), and scenarios whose partitions all keep running
     * must not end when it finishes. */
    tv_status_t st = volume_calls_start(0, mount_all, 0, 1000000ull, interrupt_pending, &calls);
    static const struct hcall_section section = {
        volume_calls, VOLUME_CALL_COUNT, caller_state, 0,
    };
    if (st == TV_OK)
        st = hypercall_add_section(&section);
    if (st == TV_OK)
        st = power_add_shutdown_hook(unmount_at_power_off);
    if (st == TV_OK)
        disk_service_set_resolver(resolve_for_disks, 0);
    return st;
}

bool image_store_ready(void)
{
    return calls && volume_calls_store(calls) != 0;
}

unsigned image_store_count(void)
{
    return calls ? store_count(volume_calls_store(calls)) : 0;
}

tv_status_t image_store_info(unsigned index, struct tv_volume_info *out)
{
    struct store *s = calls ? volume_calls_store(calls) : 0;
    return s ? store_info(s, index, out) : TV_E_NOT_FOUND;
}

tv_status_t image_store_resolve(const char *path, const tv_storage_t **seam, const char **inner_path)
{
    struct store *s = calls ? volume_calls_store(calls) : 0;
    unsigned i;
    tv_status_t st = store_resolve(s, path, &i, inner_path);
    if (st == TV_OK)
        *seam = store_seam(s, i);
    return st;
}
