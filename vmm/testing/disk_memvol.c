/* Test builds only: a volume in monitor memory ("TESTMEM", option
 * disk_memvol=1), so integration scenarios run the disk operations inside
 * the monitor (the VHD engine on task-class worker threads, DISK_START, the
 * recovery at mount, the console's disk commands) before the image store
 * exists.  It is a storage seam (storage/storage.h) over heap buffers with
 * the seam's lock rules; it has no power-cut model (the hosted tests have
 * one).  At start it holds one stale "/stale.vhd.tvtmp", which the recovery
 * must remove as a finished DISK_RECOVER task. */
#include "testing/disk_memvol.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "services/disk_service.h"
#include "tv_string.h"

#define MV_FILES 32
#define MV_NAME  256
#define MV_VOLUME "TESTMEM"

struct mv_file {
    bool used;
    bool gone;           /* removed or replaced while open */
    char name[MV_NAME];
    uint8_t *data;
    uint64_t size, cap;
    uint32_t opens, shared;
    bool exclusive;
};

struct tv_sfile {
    struct mv_file *f;
    unsigned mode;
};

static struct mv_file files[MV_FILES];
static spinlock_t lock = SPINLOCK_INIT; /* the table; data is guarded by the seam's locks */
static tv_storage_t seam;
static uint64_t entropy_state;

static struct mv_file *find(const char *name)
{
    for (int i = 0; i < MV_FILES; i++)
        if (files[i].used && !files[i].gone && tv_strcmp(files[i].name, name) == 0)
            return &files[i];
    return NULL;
}

static void release(struct mv_file *f)
{
    if (f->opens == 0 && (f->gone || !f->used)) {
        kfree(f->data);
        tv_memset(f, 0, sizeof *f);
    }
}

static tv_status_t take_lock(struct mv_file *f, unsigned mode)
{
    if (f->exclusive || ((mode & TV_ST_EXCLUSIVE) && f->shared))
        return TV_E_BUSY;
    if (mode & TV_ST_EXCLUSIVE)
        f->exclusive = true;
    else if (mode & TV_ST_SHARED)
        f->shared++;
    return TV_OK;
}

static tv_status_t handle(struct mv_file *f, unsigned mode, tv_sfile_t **out)
{
    tv_sfile_t *h = kmalloc(sizeof *h);
    if (!h)
        return TV_E_NO_MEMORY;
    tv_status_t s = take_lock(f, mode);
    if (s != TV_OK) {
        kfree(h);
        return s;
    }
    h->f = f;
    h->mode = mode;
    f->opens++;
    *out = h;
    return TV_OK;
}

static tv_status_t mv_open(void *ctx, const char *name, unsigned mode, tv_sfile_t **out)
{
    (void)ctx;
    bool irq = spin_lock_irqsave(&lock);
    struct mv_file *f = find(name);
    tv_status_t s = f ? handle(f, mode, out) : TV_E_NOT_FOUND;
    spin_unlock_irqrestore(&lock, irq);
    return s;
}

static tv_status_t mv_create(void *ctx, const char *name, tv_sfile_t **out)
{
    (void)ctx;
    if (tv_strnlen(name, MV_NAME) >= MV_NAME)
        return TV_E_LIMIT;
    bool irq = spin_lock_irqsave(&lock);
    tv_status_t s = TV_E_NO_SPACE;
    if (find(name)) {
        s = TV_E_EXISTS;
    } else {
        for (int i = 0; i < MV_FILES; i++) {
            if (!files[i].used) {
                files[i].used = true;
                tv_strlcpy(files[i].name, name, MV_NAME);
                s = handle(&files[i], TV_ST_WRITE | TV_ST_EXCLUSIVE, out);
                if (s != TV_OK)
                    tv_memset(&files[i], 0, sizeof files[i]);
                break;
            }
        }
    }
    spin_unlock_irqrestore(&lock, irq);
    return s;
}

/* Grows a file's buffer (outside the table lock: the caller holds the
 * file's exclusive seam lock, so nobody else touches its data). */
static tv_status_t grow(struct mv_file *f, uint64_t size)
{
    if (size <= f->cap)
        return TV_OK;
    if (size > (256ull << 20))
        return TV_E_NO_SPACE; /* a test volume */
    uint64_t cap = f->cap ? f->cap : 65536;
    while (cap < size)
        cap *= 2;
    uint8_t *d = kmalloc(cap);
    if (!d)
        return TV_E_NO_SPACE;
    if (f->size)
        tv_memcpy(d, f->data, f->size);
    tv_memset(d + f->size, 0, cap - f->size);
    kfree(f->data);
    f->data = d;
    f->cap = cap;
    return TV_OK;
}

static tv_status_t mv_read(tv_sfile_t *h, uint64_t off, void *buf, size_t len)
{
    struct mv_file *f = h->f;
    if (f->gone)
        return TV_E_IO;
    if (off > f->size || len > f->size - off)
        return TV_E_CORRUPT;
    tv_memcpy(buf, f->data + off, len);
    return TV_OK;
}

static tv_status_t mv_write(tv_sfile_t *h, uint64_t off, const void *buf, size_t len)
{
    struct mv_file *f = h->f;
    if (f->gone)
        return TV_E_IO;
    if (!(h->mode & TV_ST_WRITE))
        return TV_E_READ_ONLY;
    if (off + len < off)
        return TV_E_INVALID_ARGUMENT;
    tv_status_t s = grow(f, off + len);
    if (s != TV_OK)
        return s;
    tv_memcpy(f->data + off, buf, len);
    if (off + len > f->size)
        f->size = off + len;
    return TV_OK;
}

static tv_status_t mv_flush(tv_sfile_t *h)
{
    return h->f->gone ? TV_E_IO : TV_OK;
}

static tv_status_t mv_size(tv_sfile_t *h, uint64_t *out)
{
    *out = h->f->size;
    return TV_OK;
}

static tv_status_t mv_truncate(tv_sfile_t *h, uint64_t size)
{
    struct mv_file *f = h->f;
    if (f->gone)
        return TV_E_IO;
    if (!(h->mode & TV_ST_WRITE))
        return TV_E_READ_ONLY;
    tv_status_t s = grow(f, size);
    if (s != TV_OK)
        return s;
    if (size < f->size)
        tv_memset(f->data + size, 0, f->size - size);
    f->size = size;
    return TV_OK;
}

static void mv_close(tv_sfile_t *h)
{
    bool irq = spin_lock_irqsave(&lock);
    struct mv_file *f = h->f;
    if (h->mode & TV_ST_EXCLUSIVE)
        f->exclusive = false;
    else if (h->mode & TV_ST_SHARED)
        f->shared--;
    f->opens--;
    release(f);
    spin_unlock_irqrestore(&lock, irq);
    kfree(h);
}

static void drop(struct mv_file *f)
{
    f->gone = true;
    release(f);
}

static tv_status_t mv_rename(void *ctx, const char *from, const char *to)
{
    (void)ctx;
    if (tv_strnlen(to, MV_NAME) >= MV_NAME)
        return TV_E_LIMIT;
    bool irq = spin_lock_irqsave(&lock);
    struct mv_file *src = find(from), *dst = find(to);
    tv_status_t s = TV_OK;
    if (!src) {
        s = TV_E_NOT_FOUND;
    } else if (src != dst) {
        if (dst)
            drop(dst);
        tv_strlcpy(src->name, to, MV_NAME);
    }
    spin_unlock_irqrestore(&lock, irq);
    return s;
}

static tv_status_t mv_remove(void *ctx, const char *name)
{
    (void)ctx;
    bool irq = spin_lock_irqsave(&lock);
    struct mv_file *f = find(name);
    if (f)
        drop(f);
    spin_unlock_irqrestore(&lock, irq);
    return f ? TV_OK : TV_E_NOT_FOUND;
}

static void *mv_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return kmalloc(size);
}

static void mv_free(void *ctx, void *p)
{
    (void)ctx;
    kfree(p);
}

/* A test volume's clock: 2026-01-01 plus the time since boot (the VHD
 * epoch is 2000-01-01). */
static uint32_t mv_now(void *ctx)
{
    (void)ctx;
    return 820454400u + (uint32_t)(time_now_ns() / 1000000000ull);
}

/* Unique ids only need to differ within a run here (xorshift over the TSC). */
static void mv_entropy(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    uint8_t *p = buf;
    if (!entropy_state)
        entropy_state = time_now_ns() | 1;
    for (size_t i = 0; i < len; i++) {
        entropy_state ^= entropy_state << 13;
        entropy_state ^= entropy_state >> 7;
        entropy_state ^= entropy_state << 17;
        p[i] = (uint8_t)(entropy_state >> 24);
    }
}

static tv_status_t resolve(void *ctx, const char *path, tv_storage_t **st, const char **inner,
                           struct disk_volume_facts *facts)
{
    (void)ctx;
    (void)facts; /* free space and per-file limit unknown: a heap volume */
    size_t n = sizeof MV_VOLUME - 1;
    if (tv_strncmp(path, MV_VOLUME, n) != 0 || path[n] != ':')
        return TV_E_NOT_FOUND;
    *st = &seam;
    *inner = path + n + 1;
    return TV_OK;
}

static tv_status_t list(void *ctx, const char *volume, bool (*fn)(void *fctx, const char *name), void *fctx)
{
    (void)ctx;
    (void)volume;
    /* Names are copied out first: fn may not run under the table lock. */
    static char names[MV_FILES][MV_NAME];
    int n = 0;
    bool irq = spin_lock_irqsave(&lock);
    for (int i = 0; i < MV_FILES; i++)
        if (files[i].used && !files[i].gone)
            tv_strlcpy(names[n++], files[i].name, MV_NAME);
    spin_unlock_irqrestore(&lock, irq);
    for (int i = 0; i < n; i++)
        if (!fn(fctx, names[i]))
            break;
    return TV_OK;
}

/* Mount: seed the stale temporary, recover (blocking: a thread of its own),
 * then publish the volume. */
static void mount_thread(void *arg)
{
    (void)arg;
    tv_sfile_t *f;
    static const char junk[] = "an interrupted convert's output";
    if (mv_create(NULL, "/stale.vhd.tvtmp", &f) == TV_OK) {
        mv_write(f, 0, junk, sizeof junk);
        mv_close(f);
    }
    struct disk_recover_result res;
    tv_status_t st = disk_service_recover_volume(MV_VOLUME, &seam, list, NULL, &res);
    log_info("disk_memvol: %s mounted: %u recovered, %u failed (%d)", MV_VOLUME, res.started, res.failed, st);
    disk_service_set_resolver(resolve, NULL);
}

void disk_memvol_start(const char *options)
{
    if (!option_get_u64(options, "disk_memvol", 0))
        return;
    seam = (tv_storage_t){
        .ctx = NULL, .open = mv_open, .create = mv_create, .read = mv_read, .write = mv_write,
        .flush = mv_flush, .size = mv_size, .truncate = mv_truncate, .close = mv_close,
        .rename = mv_rename, .remove = mv_remove, .has_data = NULL, .alloc = mv_alloc,
        .free = mv_free, .now = mv_now, .entropy = mv_entropy, .flushes = true,
    };
    thread_create("disk-memvol", CLASS_TASK, mount_thread, NULL);
}
