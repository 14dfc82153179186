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
#include "kernel/power.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/wallclock.h"
#include "mm/mm.h"
#include "services/blk_fsdev.h"
#include "services/store_core.h"
#include "services/volume_calls.h"
#include "tv_status.h"
#include "vm/hypercall.h"
#include "vm/partition.h"
#include "vm/vcpu.h"
#include "dev/vapic.h"

#define UNMOUNT_TIMEOUT_NS (10ull * 1000000000ull)

static struct blkfs fsdevs[BLK_MAX_DEVS];
static struct volume_call_state *calls;
static tv_storage_t platform;

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

/* Disks are waited for on task and kernel threads only: a vCPU's thread
 * would stall its guest (and the request would run with interrupts off
 * inside a hypercall). */
static bool bd_may_block(void *dev)
{
    (void)dev;
    struct thread *t = thread_current();
    return t && t->cls != CLASS_VCPU && irqs_enabled();
}

static const char *kind_name(uint32_t fs)
{
    return fs == TV_FS_EXFAT ? "exFAT" : "FAT32";
}

/* On the store's thread, before any call is served. */
static struct store *mount_all(void *ctx)
{
    (void)ctx;
    uint64_t t0 = time_now_ns();
    struct store *s = 0;
    tv_status_t st = store_create(&platform, &s);
    if (st != TV_OK) {
        log_err("image store: cannot start (%s)", tv_status_name(st));
        return 0;
    }
    for (unsigned i = 0; i < blk_count() && i < BLK_MAX_DEVS; i++) {
        struct blk_dev *d = blk_get(i);
        struct blkfs_backend b = { d, d->sector_size, d->sectors, d->read_only,
                                   bd_read, bd_write, bd_flush, bd_may_block };
        st = blkfs_init(&fsdevs[i], &b);
        unsigned m = 0, k = 0;
        if (st == TV_OK)
            st = store_add_disk(s, &fsdevs[i].fs, d->name, i, &m, &k);
        if (st != TV_OK)
            log_info("image store: %s: no volumes (%s)", d->name, tv_status_name(st));
        else
            log_info("image store: %s: %u volumes mounted, %u partitions skipped", d->name, m, k);
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
    (void)options;
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
    return st;
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
