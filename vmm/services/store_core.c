/* The image store's portable core: see store_core.h. */
#include "services/store_core.h"
#include "drivers/rtc_time.h"
#include "storage/fs/fs_storage.h"
#include "storage/volume/volume.h"
#include "storage/vhd.h"
#include "task/task_platform.h"
#include "tv_fmt.h"
#include "tv_string.h"

/* A lock that may be held across device waits: a flag guarded by the
 * platform's (short, interrupt-disabling in the monitor) lock, and a wait
 * queue for the threads that find it taken. */
struct vlock {
    struct tp_lock *l;
    struct tp_waitq *wq;
    bool busy;
};

struct volume {
    struct store *store;
    char name[TV_VOLUME_NAME_MAX];
    char device[TV_VOLUME_DEVICE_MAX];
    fs_slice_t slice;
    fs_volume_t *fs;
    fs_store_t *fstore;
    tv_storage_t inner;   /* fs_store's seam */
    tv_storage_t seam;    /* the same under the volume's lock */
    struct vlock lock;
    uint32_t flags, partition;
    uint64_t first;
};

struct store {
    tv_storage_t platform;
    fs_env_t env;
    unsigned count;
    struct volume *vol[STORE_MAX_VOLUMES];
};

struct lfile {
    struct volume *v;
    tv_sfile_t *in;
};

static void vlock_take(struct vlock *k)
{
    tp_lock_acquire(k->l);
    while (k->busy)
        tp_waitq_wait(k->wq, k->l, UINT64_MAX);
    k->busy = true;
    tp_lock_release(k->l);
}

static void vlock_give(struct vlock *k)
{
    tp_lock_acquire(k->l);
    k->busy = false;
    tp_waitq_wake_all(k->wq);
    tp_lock_release(k->l);
}

/* ---- The locked seam ---------------------------------------------------- */

static tv_status_t ls_open(void *ctx, const char *name, unsigned mode, tv_sfile_t **out)
{
    struct volume *v = ctx;
    struct lfile *f = v->store->platform.alloc(v->store->platform.ctx, sizeof *f);
    if (!f)
        return TV_E_NO_MEMORY;
    vlock_take(&v->lock);
    tv_status_t st = v->inner.open(v->inner.ctx, name, mode, &f->in);
    vlock_give(&v->lock);
    if (st != TV_OK) {
        v->store->platform.free(v->store->platform.ctx, f);
        return st;
    }
    f->v = v;
    *out = (tv_sfile_t *)f;
    return TV_OK;
}

static tv_status_t ls_create(void *ctx, const char *name, tv_sfile_t **out)
{
    struct volume *v = ctx;
    struct lfile *f = v->store->platform.alloc(v->store->platform.ctx, sizeof *f);
    if (!f)
        return TV_E_NO_MEMORY;
    vlock_take(&v->lock);
    tv_status_t st = v->inner.create(v->inner.ctx, name, &f->in);
    vlock_give(&v->lock);
    if (st != TV_OK) {
        v->store->platform.free(v->store->platform.ctx, f);
        return st;
    }
    f->v = v;
    *out = (tv_sfile_t *)f;
    return TV_OK;
}

#define LOCKED(f, call)                                 \
    do {                                                \
        struct lfile *lf_ = (struct lfile *)(f);        \
        vlock_take(&lf_->v->lock);                      \
        tv_status_t st_ = lf_->v->inner.call;           \
        vlock_give(&lf_->v->lock);                      \
        return st_;                                     \
    } while (0)

static tv_status_t ls_read(tv_sfile_t *f, uint64_t off, void *buf, size_t len)
{
    LOCKED(f, read(((struct lfile *)f)->in, off, buf, len));
}

static tv_status_t ls_write(tv_sfile_t *f, uint64_t off, const void *buf, size_t len)
{
    LOCKED(f, write(((struct lfile *)f)->in, off, buf, len));
}

static tv_status_t ls_flush(tv_sfile_t *f)
{
    LOCKED(f, flush(((struct lfile *)f)->in));
}

static tv_status_t ls_size(tv_sfile_t *f, uint64_t *out)
{
    LOCKED(f, size(((struct lfile *)f)->in, out));
}

static tv_status_t ls_truncate(tv_sfile_t *f, uint64_t size)
{
    LOCKED(f, truncate(((struct lfile *)f)->in, size));
}

static void ls_close(tv_sfile_t *f)
{
    struct lfile *lf = (struct lfile *)f;
    struct volume *v = lf->v;
    vlock_take(&v->lock);
    v->inner.close(lf->in);
    vlock_give(&v->lock);
    v->store->platform.free(v->store->platform.ctx, lf);
}

static tv_status_t ls_rename(void *ctx, const char *from, const char *to)
{
    struct volume *v = ctx;
    vlock_take(&v->lock);
    tv_status_t st = v->inner.rename(v->inner.ctx, from, to);
    vlock_give(&v->lock);
    return st;
}

static tv_status_t ls_remove(void *ctx, const char *name)
{
    struct volume *v = ctx;
    vlock_take(&v->lock);
    tv_status_t st = v->inner.remove(v->inner.ctx, name);
    vlock_give(&v->lock);
    return st;
}

static tv_status_t ls_mkdir(void *ctx, const char *name)
{
    struct volume *v = ctx;
    vlock_take(&v->lock);
    tv_status_t st = v->inner.mkdir(v->inner.ctx, name);
    vlock_give(&v->lock);
    return st;
}

static void *ls_alloc(void *ctx, size_t n)
{
    struct volume *v = ctx;
    return v->store->platform.alloc(v->store->platform.ctx, n);
}

static void ls_free(void *ctx, void *p)
{
    struct volume *v = ctx;
    v->store->platform.free(v->store->platform.ctx, p);
}

static uint32_t ls_now(void *ctx)
{
    struct volume *v = ctx;
    return v->store->platform.now(v->store->platform.ctx);
}

static void ls_entropy(void *ctx, void *buf, size_t len)
{
    struct volume *v = ctx;
    v->store->platform.entropy(v->store->platform.ctx, buf, len);
}

/* ---- Names -------------------------------------------------------------- */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Equal ignoring ASCII case, over n bytes of a (b must end there). */
static bool name_eq(const char *a, size_t n, const char *b)
{
    for (size_t i = 0; i < n; i++)
        if (!b[i] || lower(a[i]) != lower(b[i]))
            return false;
    return b[n] == 0;
}

static int find_name(const struct store *s, const char *name, size_t n)
{
    for (unsigned i = 0; i < s->count; i++)
        if (name_eq(name, n, s->vol[i]->name))
            return (int)i;
    return -1;
}

static void make_name(const struct store *s, const char *raw, char out[TV_VOLUME_NAME_MAX])
{
    size_t n = 0;
    const size_t limit = TV_VOLUME_NAME_MAX - 4;   /* room for "~NN" */
    for (; raw[n] && n < limit; n++) {
        unsigned char c = (unsigned char)raw[n];
        out[n] = (c < 0x20 || c == 0x7f || c == ':' || c == '/' || c == '\\' || c == ' ') ? '_'
                                                                                          : (char)c;
    }
    /* Never cut a UTF-8 sequence: drop continuation bytes left dangling. */
    if (raw[n]) {
        while (n && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
            n--;
        if (n && ((unsigned char)out[n - 1] & 0xC0) == 0xC0)
            n--;
    }
    if (n == 0)
        out[n++] = '_';
    out[n] = 0;
    for (unsigned k = 2; find_name(s, out, tv_strlen(out)) >= 0 && k < 100; k++)
        tv_snprintf(out + n, 4, "~%u", k);
}

/* ---- Store -------------------------------------------------------------- */

static void *env_alloc(void *ctx, size_t n)
{
    struct store *s = ctx;
    return s->platform.alloc(s->platform.ctx, n);
}

static void env_free(void *ctx, void *p)
{
    struct store *s = ctx;
    s->platform.free(s->platform.ctx, p);
}

static uint32_t env_now(void *ctx)
{
    struct store *s = ctx;
    return s->platform.now(s->platform.ctx);
}

tv_status_t store_create(const tv_storage_t *platform, struct store **out)
{
    if (!platform->alloc || !platform->free || !platform->now || !platform->entropy)
        return TV_E_INVALID_ARGUMENT;
    struct store *s = platform->alloc(platform->ctx, sizeof *s);
    if (!s)
        return TV_E_NO_MEMORY;
    tv_memset(s, 0, sizeof *s);
    s->platform = *platform;
    s->env = (fs_env_t){ s, env_alloc, env_free, env_now };
    *out = s;
    return TV_OK;
}

static void volume_free(struct store *s, struct volume *v)
{
    if (v->lock.wq)
        tp_waitq_destroy(v->lock.wq);
    if (v->lock.l)
        tp_lock_destroy(v->lock.l);
    s->platform.free(s->platform.ctx, v);
}

tv_status_t store_destroy(struct store *s)
{
    if (!s)
        return TV_OK;
    tv_status_t first = TV_OK;
    unsigned kept = 0;
    for (unsigned i = 0; i < s->count; i++) {
        struct volume *v = s->vol[i];
        vlock_take(&v->lock);
        tv_status_t st = fs_store_free(v->fstore);
        if (st == TV_OK)
            st = fs_unmount(v->fs);
        vlock_give(&v->lock);
        if (st != TV_OK && first == TV_OK)
            first = st;
        if (st == TV_OK)
            volume_free(s, v);
        else
            s->vol[kept++] = v;  /* a busy volume stays mounted (its files are open) */
    }
    s->count = kept;
    if (first == TV_OK)
        s->platform.free(s->platform.ctx, s);
    return first;
}

static tv_status_t add_volume(struct store *s, const fs_blockdev_t *disk, const char *device,
                              uint32_t disk_index, const vol_table_t *t, const vol_part_t *p)
{
    if (s->count >= STORE_MAX_VOLUMES)
        return TV_E_LIMIT;
    struct volume *v = s->platform.alloc(s->platform.ctx, sizeof *v);
    if (!v)
        return TV_E_NO_MEMORY;
    tv_memset(v, 0, sizeof *v);
    v->store = s;
    tv_status_t st = TV_E_NO_MEMORY;
    if (tp_lock_create(&v->lock.l) != TV_OK || tp_waitq_create(&v->lock.wq) != TV_OK)
        goto fail;
    st = TV_E_CORRUPT;
    if (!fs_slice_init(&v->slice, disk, p->first, p->count))
        goto fail;
    bool ro = disk->read_only;
    st = fs_mount(&v->slice.dev, &s->env, !ro, &v->fs);
    if (!ro && (st == TV_E_CORRUPT || st == TV_E_READ_ONLY || st == TV_E_UNSUPPORTED)) {
        /* A volume we may not write (damaged main exFAT boot region,
         * metadata we cannot repair) can still be read. */
        tv_status_t rst = fs_mount(&v->slice.dev, &s->env, false, &v->fs);
        if (rst == TV_OK) {
            ro = true;
            st = TV_OK;
        }
    }
    if (st != TV_OK)
        goto fail;
    if ((st = fs_store_new(v->fs, &s->platform, &v->fstore, &v->inner)) != TV_OK) {
        fs_unmount(v->fs);
        goto fail;
    }
    char raw[VOL_NAME_MAX];
    vol_name(t, p, fs_label(v->fs), disk_index, raw, sizeof raw);
    make_name(s, raw, v->name);
    tv_strlcpy(v->device, device, sizeof v->device);
    v->flags = (ro ? TV_VOLUME_F_READ_ONLY : 0) | (p->esp ? TV_VOLUME_F_ESP : 0) |
               (t->scheme == VOL_WHOLE ? TV_VOLUME_F_WHOLE_DISK : 0) |
               (t->scheme == VOL_GPT ? TV_VOLUME_F_GPT : 0);
    v->partition = p->index;
    v->first = p->first;
    v->seam = (tv_storage_t){
        .ctx = v, .open = ls_open, .create = ls_create, .read = ls_read, .write = ls_write,
        .flush = ls_flush, .size = ls_size, .truncate = ls_truncate, .close = ls_close,
        .rename = ls_rename, .remove = ls_remove, .has_data = NULL, .mkdir = ls_mkdir, .alloc = ls_alloc,
        .free = ls_free, .now = ls_now, .entropy = ls_entropy, .flushes = v->inner.flushes,
    };
    s->vol[s->count++] = v;
    return TV_OK;
fail:
    volume_free(s, v);
    return st;
}

tv_status_t store_add_disk(struct store *s, const fs_blockdev_t *disk, const char *device,
                           uint32_t disk_index, unsigned *mounted, unsigned *skipped)
{
    unsigned m = 0, k = 0;
    vol_table_t *t = s->platform.alloc(s->platform.ctx, sizeof *t);
    if (!t)
        return TV_E_NO_MEMORY;
    tv_status_t st = vol_scan(disk, &s->env, t);
    for (uint32_t i = 0; st == TV_OK && i < t->count; i++) {
        tv_status_t vs = add_volume(s, disk, device, disk_index, t, &t->part[i]);
        if (vs == TV_OK)
            m++;
        else if (vs == TV_E_LIMIT || vs == TV_E_NO_MEMORY)
            st = vs;
        else
            k++;   /* not FAT32/exFAT, or malformed: not a volume of ours */
    }
    s->platform.free(s->platform.ctx, t);
    if (mounted)
        *mounted = m;
    if (skipped)
        *skipped = k;
    return st;
}

unsigned store_count(const struct store *s)
{
    return s ? s->count : 0;
}

tv_status_t store_info(struct store *s, unsigned index, struct tv_volume_info *out)
{
    if (!s || index >= s->count)
        return TV_E_NOT_FOUND;
    struct volume *v = s->vol[index];
    tv_memset(out, 0, sizeof *out);
    tv_strlcpy(out->name, v->name, sizeof out->name);
    tv_strlcpy(out->device, v->device, sizeof out->device);
    out->flags = v->flags;
    out->partition = v->partition;
    out->first_sector = v->first;
    vlock_take(&v->lock);
    tv_strlcpy(out->label, fs_label(v->fs), sizeof out->label);
    int kind = fs_kind(v->fs);
    out->fs_type = kind == FS_KIND_EXFAT ? TV_FS_EXFAT : kind == FS_KIND_FAT16 ? TV_FS_FAT16
                 : kind == FS_KIND_FAT12 ? TV_FS_FAT12 : TV_FS_FAT32;
    out->cluster_size = fs_cluster_size(v->fs);
    tv_status_t st = fs_space(v->fs, &out->size_bytes, &out->free_bytes);
    vlock_give(&v->lock);
    return st;
}

tv_status_t store_resolve(const struct store *s, const char *path, unsigned *index,
                          const char **inner)
{
    if (!path)
        return TV_E_INVALID_ARGUMENT;
    size_t len = tv_strnlen(path, STORE_PATH_MAX);
    if (len >= STORE_PATH_MAX)
        return TV_E_INVALID_ARGUMENT;
    const char *colon = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return TV_E_INVALID_ARGUMENT;
        if (c == ':' && !colon)
            colon = path + i;
    }
    if (!colon || colon == path || colon[1] != '/')
        return TV_E_INVALID_ARGUMENT;
    /* No "." or ".." components: a path names one file, the same way on
     * every volume. */
    for (const char *c = colon + 1; *c;) {
        while (*c == '/')
            c++;
        const char *e = c;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - c);
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return TV_E_INVALID_ARGUMENT;
        c = e;
    }
    int i = s ? find_name(s, path, (size_t)(colon - path)) : -1;
    if (i < 0)
        return TV_E_NOT_FOUND;
    *index = (unsigned)i;
    *inner = colon + 1;
    return TV_OK;
}

const tv_storage_t *store_seam(const struct store *s, unsigned index)
{
    return s && index < s->count ? &s->vol[index]->seam : 0;
}

bool store_dos_to_unix(uint32_t dos, int16_t tz_min, uint8_t ten_ms, int64_t *out)
{
    uint32_t date = dos >> 16, time = dos & 0xffff;
    uint32_t year = 1980 + (date >> 9), mon = (date >> 5) & 15, day = date & 31;
    uint32_t h = time >> 11, m = (time >> 5) & 63, sec = (time & 31) * 2;
    static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (dos == 0 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || h > 23 || m > 59 ||
        sec > 59)
        return false;
    int64_t t = (int64_t)rtc_days_from_civil(year, mon, day) * 86400 + h * 3600 + m * 60 + sec +
                (ten_ms <= 199 ? ten_ms / 100 : 0);
    if (tz_min != INT16_MIN)
        t -= (int64_t)tz_min * 60;   /* local time east of UTC -> UTC */
    *out = t;
    return true;
}

struct list_ctx {
    uint64_t cursor, pos;
    struct tv_dir_entry *out;
    uint32_t cap, got;
    bool more;
};

static bool list_fn(void *ctx, const fs_dirent_t *e)
{
    struct list_ctx *l = ctx;
    if (l->pos < l->cursor) {
        l->pos++;
        return true;
    }
    if (l->got == l->cap) {
        l->more = true;
        return false;
    }
    struct tv_dir_entry *d = &l->out[l->got++];
    tv_memset(d, 0, sizeof *d);
    tv_strlcpy(d->name, e->name, sizeof d->name);
    d->size = e->dir ? 0 : e->size;
    d->flags = e->dir ? TV_DIR_F_DIR : 0;
    if (store_dos_to_unix(e->mtime, e->mtime_tz, e->mtime_10ms, &d->mtime))
        d->flags |= TV_DIR_F_TIME_VALID;
    l->pos++;
    return true;
}

tv_status_t store_list_dir(struct store *s, unsigned index, const char *inner, uint64_t cursor,
                           struct tv_dir_entry *out, uint32_t cap, uint32_t *got,
                           uint64_t *next)
{
    if (!s || index >= s->count)
        return TV_E_NOT_FOUND;
    struct volume *v = s->vol[index];
    struct list_ctx l = { .cursor = cursor, .out = out, .cap = cap };
    vlock_take(&v->lock);
    tv_status_t st = fs_list(v->fs, inner, list_fn, &l);
    vlock_give(&v->lock);
    if (st != TV_OK)
        return st;
    if (l.pos < cursor)
        return TV_E_INVALID_ARGUMENT;   /* a cursor past the end */
    *got = l.got;
    *next = l.more ? cursor + l.got : 0;
    return TV_OK;
}

static void chain_name(const struct volume *v, const char *inner, char *out, size_t cap)
{
    tv_snprintf(out, cap, "%s:%s%s", v->name, inner[0] == '/' ? "" : "/", inner);
}

tv_status_t store_mkdir(struct store *s, const char *path)
{
    unsigned idx;
    const char *inner;
    tv_status_t st = store_resolve(s, path, &idx, &inner);
    if (st == TV_E_INVALID_ARGUMENT)
        return TV_E_BAD_PATH;
    if (st != TV_OK)
        return st;
    struct volume *v = s->vol[idx];
    if (v->flags & TV_VOLUME_F_READ_ONLY)
        return TV_E_READ_ONLY;
    const char *p = inner;
    while (*p == '/')
        p++;
    if (!*p)
        return TV_E_BAD_PATH; /* the root exists already and is no new name */
    st = v->seam.mkdir(v->seam.ctx, inner);
    /* The file system's name rules (fs_name.c: length, characters FAT
     * forbids) report a malformed argument: to the caller, a bad path. */
    return st == TV_E_INVALID_ARGUMENT ? TV_E_BAD_PATH : st;
}

tv_status_t store_disk_info(struct store *s, const char *path, struct tv_disk_info *out)
{
    unsigned i;
    const char *inner;
    tv_status_t st = store_resolve(s, path, &i, &inner);
    if (st != TV_OK)
        return st;
    struct volume *v = s->vol[i];
    tv_memset(out, 0, sizeof *out);
    tv_vhd_t *h = 0;
    st = tv_vhd_open(&v->seam, inner, TV_VHD_OPEN_NO_RECOVER, &h);
    if (st == TV_E_PARENT_MISSING) {
        out->flags |= TV_DISK_F_PARENT_MISSING;
        st = tv_vhd_open(&v->seam, inner, TV_VHD_OPEN_NO_PARENT | TV_VHD_OPEN_NO_RECOVER, &h);
    }
    if (st != TV_OK)
        return st;
    out->type = (uint32_t)tv_vhd_kind(h);
    out->virtual_size = tv_vhd_size(h);
    out->file_size = tv_vhd_file_size(h);
    out->block_size = tv_vhd_block_size(h);
    out->block_count = tv_vhd_block_count(h);
    out->allocated_blocks = tv_vhd_allocated_blocks(h);
    tv_memcpy(out->unique_id, tv_vhd_uid(h), sizeof out->unique_id);
    unsigned w = tv_vhd_warnings(h);
    if (w & TV_VHD_WARN_BAT_ALIASED)
        out->flags |= TV_DISK_F_BAT_ALIASED;
    if (w & TV_VHD_WARN_PARENT_SIZE)
        out->flags |= TV_DISK_F_PARENT_SIZE;
    for (tv_vhd_t *p = tv_vhd_parent(h); p; p = tv_vhd_parent(p)) {
        if (out->depth < TV_DISK_MAX_PARENTS)
            chain_name(v, tv_vhd_name(p), out->parents[out->depth], TV_DISK_INFO_NAME_MAX);
        out->depth++;
    }
    return tv_vhd_close(h);
}
