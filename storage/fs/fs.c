/* The file-system API over the formats: mount, paths, files, rename. */
#include "storage/fs/fs_internal.h"

#include "tv_string.h"

int fs_kind(const fs_volume_t *v)
{
    if (v->exfat)
        return FS_KIND_EXFAT;
    return v->fat_bits == 12 ? FS_KIND_FAT12 : v->fat_bits == 16 ? FS_KIND_FAT16 : FS_KIND_FAT32;
}
const char *fs_label(const fs_volume_t *v) { return v->label; }
uint32_t fs_cluster_size(const fs_volume_t *v) { return v->csize; }

tv_status_t fs_space(fs_volume_t *v, uint64_t *total, uint64_t *free_bytes)
{
    *total = (uint64_t)v->clusters * v->csize;
    *free_bytes = (uint64_t)v->free_count * v->csize;
    return TV_OK;
}

static void vol_free(fs_volume_t *v)
{
    for (int i = 0; i < FS_CACHE_SLOTS; i++)
        fs_free(v, v->cache[i].data);
    fs_free(v, v->bounce);
    fs_free(v, v->upcase);
    v->env.free(v->env.ctx, v);
}

static tv_status_t count_free(fs_volume_t *v)
{
    v->free_count = 0;
    if (v->exfat) {
        /* The bitmap a sector at a time. */
        fs_node_t bm;
        fs_exfat_bitmap_node(v, &bm);
        uint8_t b[512];
        uint64_t bytes = (v->clusters + 7ull) / 8;
        for (uint64_t off = 0; off < bytes; off += sizeof b) {
            size_t n = bytes - off < sizeof b ? (size_t)(bytes - off) : sizeof b;
            tv_status_t st = fs_node_io(v, &bm, off, b, n, false);
            if (st != TV_OK)
                return st;
            for (size_t i = 0; i < n; i++)
                for (uint32_t k = 0; k < 8; k++)
                    if ((off + i) * 8 + k < v->clusters && !(b[i] >> k & 1))
                        v->free_count++;
        }
        return TV_OK;
    }
    for (uint32_t c = 2; c - 2 < v->clusters; c++) {
        bool f;
        tv_status_t st = v->fmt->is_free(v, c, &f);
        if (st != TV_OK)
            return st;
        if (f && fs_cluster_usable(v, c))
            v->free_count++;
    }
    return TV_OK;
}

tv_status_t fs_mount(const fs_blockdev_t *dev, const fs_env_t *env, bool writable, fs_volume_t **out)
{
    if (dev->sector_size < 512 || dev->sector_size > 4096 || (dev->sector_size & (dev->sector_size - 1)) ||
        dev->sectors < 16)
        return TV_E_WRONG_TYPE;
    if (writable && dev->read_only)
        return TV_E_READ_ONLY;
    fs_volume_t *v = env->alloc(env->ctx, sizeof *v);
    if (!v)
        return TV_E_NO_MEMORY;
    tv_memset(v, 0, sizeof *v);
    v->dev = dev;
    v->env = *env;
    v->dsec = dev->sector_size;
    tv_status_t st = TV_E_NO_MEMORY;
    if (!(v->bounce = fs_alloc(v, v->dsec)))
        goto fail;
    for (int i = 0; i < FS_CACHE_SLOTS; i++)
        if (!(v->cache[i].data = fs_alloc(v, v->dsec)))
            goto fail;
    if ((st = dev->read(dev->ctx, 0, 1, v->bounce)) != TV_OK)
        goto fail;
    if (tv_memcmp(v->bounce + 3, "EXFAT   ", 8) == 0)
        st = fs_exfat_probe(v, v->bounce, writable);
    else
        st = fs_fat32_probe(v, v->bounce);
    if (st != TV_OK)
        goto fail;
    if ((st = count_free(v)) != TV_OK)
        goto fail;
    if (writable) {
        v->writable = true;
        /* Crash leftovers are repaired before the in-use mark is set. */
        if ((st = v->fmt->set_dirty(v, true)) != TV_OK)
            goto fail;
    }
    *out = v;
    return TV_OK;
fail:
    vol_free(v);
    return st;
}

tv_status_t fs_unmount(fs_volume_t *v)
{
    tv_status_t st = TV_OK;
    if (v->open_files)
        return TV_E_BUSY;
    if (v->writable) {
        st = fs_barrier(v);
        if (st == TV_OK)
            st = v->fmt->set_dirty(v, false);
    }
    vol_free(v);
    return st;
}

/* ---- paths ---- */

static void root_node(fs_volume_t *v, fs_node_t *n)
{
    tv_memset(n, 0, sizeof *n);
    n->first = v->root;
    n->dir = true;
    n->root = true;
}

/* Walks path; *dir gets the parent, *name the last component.  Returns
 * TV_OK when the last component exists (in *node), TV_E_NOT_FOUND when only
 * it is missing, other errors otherwise. */
static tv_status_t walk(fs_volume_t *v, const char *path, fs_node_t *dir, fs_name_t *name, fs_node_t *node)
{
    root_node(v, dir);
    while (*path == '/')
        path++;
    if (!*path)
        return TV_E_INVALID_ARGUMENT;
    for (;;) {
        const char *end = path;
        while (*end && *end != '/')
            end++;
        tv_status_t st = fs_name_from_utf8(path, (size_t)(end - path), name);
        if (st != TV_OK)
            return st;
        const char *rest = end;
        while (*rest == '/')
            rest++;
        st = v->fmt->find(v, dir, name, node);
        if (!*rest)
            return st;
        if (st != TV_OK)
            return st == TV_E_NOT_FOUND ? TV_E_NOT_FOUND : st;
        if (!node->dir)
            return TV_E_NOT_FOUND;
        *dir = *node;
        dir->root = false;
        path = rest;
    }
}

/* Like walk, but the parent must exist (a missing parent is NOT_FOUND with
 * *parent_ok false). */
static tv_status_t resolve(fs_volume_t *v, const char *path, fs_node_t *dir, fs_name_t *name, fs_node_t *node,
                           bool *exists)
{
    const char *last = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' && p[1] && p[1] != '/')
            last = p + 1;
    tv_status_t st = walk(v, path, dir, name, node);
    *exists = st == TV_OK;
    if (st == TV_E_NOT_FOUND) {
        /* Only a missing last component may be created. */
        fs_node_t d2;
        fs_name_t n2;
        fs_node_t nd;
        if (last == path)
            return TV_OK;
        size_t plen = (size_t)(last - path);
        char buf[1024];
        if (plen >= sizeof buf)
            return TV_E_INVALID_ARGUMENT;
        tv_memcpy(buf, path, plen);
        buf[plen] = 0;
        size_t k = plen;
        while (k && buf[k - 1] == '/')
            buf[--k] = 0;
        if (!k)
            return TV_OK;
        tv_status_t ps = walk(v, buf, &d2, &n2, &nd);
        if (ps != TV_OK)
            return ps;
        if (!nd.dir)
            return TV_E_NOT_FOUND;
        return TV_OK;
    }
    return st;
}

static tv_status_t new_handle(fs_volume_t *v, const fs_node_t *n, bool writable, fs_file_t **out)
{
    fs_file_t *f = fs_alloc(v, sizeof *f);
    if (!f)
        return TV_E_NO_MEMORY;
    tv_memset(f, 0, sizeof *f);
    f->v = v;
    f->node = *n;
    f->writable = writable;
    v->open_files++;
    *out = f;
    return TV_OK;
}

tv_status_t fs_open(fs_volume_t *v, const char *path, bool writable, fs_file_t **out)
{
    if (writable && !v->writable)
        return TV_E_READ_ONLY;
    fs_node_t dir, n;
    fs_name_t name;
    tv_status_t st = walk(v, path, &dir, &name, &n);
    if (st != TV_OK)
        return st;
    if (n.dir)
        return TV_E_WRONG_TYPE;
    if (writable && (n.attr & 0x01))
        return TV_E_READ_ONLY;
    return new_handle(v, &n, writable, out);
}

tv_status_t fs_create(fs_volume_t *v, const char *path, fs_file_t **out)
{
    if (!v->writable)
        return TV_E_READ_ONLY;
    fs_node_t dir, n;
    fs_name_t name;
    bool exists;
    tv_status_t st = resolve(v, path, &dir, &name, &n, &exists);
    if (st != TV_OK)
        return st;
    if (exists)
        return TV_E_EXISTS;
    tv_memset(&n, 0, sizeof n);
    n.attr = 0x20; /* archive */
    if ((st = v->fmt->add(v, &dir, &name, &n)) != TV_OK || (st = fs_barrier(v)) != TV_OK)
        return st;
    return new_handle(v, &n, true, out);
}

tv_status_t fs_mkdir(fs_volume_t *v, const char *path)
{
    if (!v->writable)
        return TV_E_READ_ONLY;
    fs_node_t dir, n;
    fs_name_t name;
    bool exists;
    tv_status_t st = resolve(v, path, &dir, &name, &n, &exists);
    if (st != TV_OK)
        return st;
    if (exists)
        return TV_E_EXISTS;
    tv_memset(&n, 0, sizeof n);
    n.dir = true;
    n.attr = 0x10;
    /* The directory's cluster is zeroed and initialised before the entry
     * that makes it reachable. */
    if ((st = fs_resize_chain(v, &n, 1)) != TV_OK)
        return st;
    n.size = v->csize;
    if ((st = v->fmt->init_dir(v, &dir, &n)) == TV_OK && (st = fs_barrier(v)) == TV_OK &&
        (st = v->fmt->add(v, &dir, &name, &n)) == TV_OK)
        return fs_barrier(v);
    /* No entry (a full directory that cannot grow, no space to grow the
     * parent): the cluster nothing reaches goes back rather than staying lost. */
    if (fs_free_tail(v, &n, 0) == TV_OK)
        (void)fs_barrier(v);
    return st;
}

uint64_t fs_size(const fs_file_t *f) { return f->node.size; }

tv_status_t fs_read(fs_file_t *f, uint64_t off, void *buf, size_t len)
{
    fs_volume_t *v = f->v;
    if (off > f->node.size || len > f->node.size - off)
        return TV_E_INVALID_ARGUMENT;
    uint8_t *p = buf;
    if (v->exfat && off + len > f->node.valid) {
        /* exFAT: bytes past ValidDataLength read as zeros (spec 7.6.5). */
        uint64_t from = off > f->node.valid ? off : f->node.valid;
        tv_memset(p + (from - off), 0, (size_t)(off + len - from));
        len = (size_t)(from - off);
    }
    while (len) {
        uint32_t k = (uint32_t)(off / v->csize), c;
        tv_status_t st = fs_node_cluster(v, &f->node, k, &c, &f->pos_index, &f->pos_cluster);
        if (st != TV_OK)
            return st;
        /* Runs of consecutive clusters go in one request. */
        uint32_t in = (uint32_t)(off % v->csize);
        uint64_t run = v->csize - in;
        while (run < len) {
            uint32_t c2;
            if (fs_node_cluster(v, &f->node, k + 1, &c2, &f->pos_index, &f->pos_cluster) != TV_OK ||
                c2 != c + 1)
                break;
            k++; c++;
            run += v->csize;
        }
        size_t n = run < len ? (size_t)run : len;
        uint32_t c0;
        if ((st = fs_node_cluster(v, &f->node, (uint32_t)(off / v->csize), &c0, NULL, NULL)) != TV_OK ||
            (st = fs_data_read(v, fs_cluster_off(v, c0) + in, p, n)) != TV_OK)
            return st;
        p += n; off += n; len -= n;
    }
    return TV_OK;
}

/* Writes inside the allocated clusters (no size change). */
static tv_status_t write_in(fs_file_t *f, uint64_t off, const uint8_t *p, size_t len)
{
    fs_volume_t *v = f->v;
    while (len) {
        uint32_t k = (uint32_t)(off / v->csize), c;
        tv_status_t st = fs_node_cluster(v, &f->node, k, &c, &f->pos_index, &f->pos_cluster);
        if (st != TV_OK)
            return st;
        uint32_t in = (uint32_t)(off % v->csize);
        size_t n = v->csize - in;
        if (n > len)
            n = len;
        if ((st = fs_data_write(v, fs_cluster_off(v, c) + in, p, n)) != TV_OK)
            return st;
        p += n; off += n; len -= n;
    }
    return TV_OK;
}

static uint32_t clusters_for(const fs_volume_t *v, uint64_t size)
{
    return (uint32_t)((size + v->csize - 1) / v->csize);
}

/* Grows the file to end: allocation (zeroed, linked past EOF), the bytes
 * between the old end and from (zeroed), then the caller's data, durable
 * before the entry grows over them. */
static tv_status_t grow(fs_file_t *f, uint64_t end, uint64_t from, const uint8_t *data, size_t len)
{
    fs_volume_t *v = f->v;
    if (end > v->fmt->max_file)
        return TV_E_FILE_TOO_LARGE;
    uint64_t need = (end + v->csize - 1) / v->csize;
    if (need > v->clusters)
        return TV_E_NO_SPACE;
    uint64_t old = f->node.size;
    tv_status_t st = fs_resize_chain(v, &f->node, (uint32_t)need);
    if (st != TV_OK)
        return st;
    f->pos_index = f->pos_cluster = 0;
    /* Only the old last cluster may hold stale bytes past the old end; new
     * clusters were zeroed. */
    uint64_t old_alloc = (uint64_t)clusters_for(v, old) * v->csize;
    uint64_t zero_end = from < old_alloc ? from : old_alloc;
    if (zero_end > old) {
        static const uint8_t zeros[512];
        for (uint64_t o = old; o < zero_end;) {
            size_t n = zero_end - o > sizeof zeros ? sizeof zeros : (size_t)(zero_end - o);
            if ((st = write_in(f, o, zeros, n)) != TV_OK)
                return st;
            o += n;
        }
    }
    if (len && (st = write_in(f, from, data, len)) != TV_OK)
        return st;
    if ((st = fs_barrier(v)) != TV_OK)
        return st;
    f->node.size = end;
    f->node.valid = end;
    if ((st = v->fmt->update(v, &f->node)) != TV_OK)
        return st;
    return fs_sync_cache(v);
}

/* exFAT files written elsewhere may end their valid data before their
 * size; before we change such a file, the range between is zeroed
 * (durably) and the entry then says all of it is valid. */
static tv_status_t settle_valid(fs_file_t *f)
{
    fs_volume_t *v = f->v;
    if (!v->exfat || f->node.valid >= f->node.size)
        return TV_OK;
    static const uint8_t zeros[512];
    tv_status_t st;
    for (uint64_t o = f->node.valid; o < f->node.size;) {
        size_t n = f->node.size - o > sizeof zeros ? sizeof zeros : (size_t)(f->node.size - o);
        if ((st = write_in(f, o, zeros, n)) != TV_OK)
            return st;
        o += n;
    }
    if ((st = fs_barrier(v)) != TV_OK)
        return st;
    f->node.valid = f->node.size;
    if ((st = v->fmt->update(v, &f->node)) != TV_OK)
        return st;
    return fs_barrier(v);
}

tv_status_t fs_write(fs_file_t *f, uint64_t off, const void *buf, size_t len)
{
    if (!f->writable)
        return TV_E_READ_ONLY;
    tv_status_t vs = settle_valid(f);
    if (vs != TV_OK)
        return vs;
    if (off > UINT64_MAX - len)
        return TV_E_INVALID_ARGUMENT;
    uint64_t end = off + len;
    if (end <= f->node.size)
        return write_in(f, off, buf, len);
    /* The part inside the current end first, then the growth. */
    size_t inside = off < f->node.size ? (size_t)(f->node.size - off) : 0;
    tv_status_t st = TV_OK;
    if (end > f->v->fmt->max_file)
        return TV_E_FILE_TOO_LARGE;
    if (inside && (st = write_in(f, off, buf, inside)) != TV_OK)
        return st;
    return grow(f, end, off + inside, (const uint8_t *)buf + inside, len - inside);
}

tv_status_t fs_truncate(fs_file_t *f, uint64_t size)
{
    fs_volume_t *v = f->v;
    if (!f->writable)
        return TV_E_READ_ONLY;
    tv_status_t st;
    if ((st = settle_valid(f)) != TV_OK)
        return st;
    if (size > f->node.size) {
        if ((st = grow(f, size, size, NULL, 0)) != TV_OK)
            return st;
        return fs_barrier(v);
    }
    if (size == f->node.size)
        return TV_OK;
    /* Shrink: the entry first, then the clusters behind it are freed. */
    fs_node_t old = f->node;
    uint32_t keep = clusters_for(v, size);
    f->node.size = size;
    f->node.valid = size;
    if (keep == 0) {
        f->node.first = 0;
        f->node.contig = false;
    }
    f->pos_index = f->pos_cluster = 0;
    if ((st = v->fmt->update(v, &f->node)) != TV_OK || (st = fs_barrier(v)) != TV_OK)
        return st;
    if ((st = fs_free_tail(v, &old, keep)) != TV_OK)
        return st;
    return fs_barrier(v);
}

tv_status_t fs_flush(fs_file_t *f)
{
    return fs_barrier(f->v);
}

void fs_close(fs_file_t *f)
{
    fs_volume_t *v = f->v;
    if (f->writable)
        (void)fs_sync_cache(v);
    v->open_files--;
    fs_free(v, f);
}

struct nonempty { bool any; };
static bool any_entry(void *ctx, const fs_name_t *name, const fs_node_t *n)
{
    (void)name; (void)n;
    ((struct nonempty *)ctx)->any = true;
    return false;
}

tv_status_t fs_remove(fs_volume_t *v, const char *path)
{
    if (!v->writable)
        return TV_E_READ_ONLY;
    fs_node_t dir, n;
    fs_name_t name;
    tv_status_t st = walk(v, path, &dir, &name, &n);
    if (st != TV_OK)
        return st;
    if (n.dir) {
        struct nonempty ne = { false };
        if ((st = v->fmt->iterate(v, &n, any_entry, &ne)) != TV_OK)
            return st;
        if (ne.any)
            return TV_E_BUSY;
    }
    /* The entry goes first; its clusters are freed after (a crash between
     * leaves lost clusters, never a free cluster in a chain). */
    if ((st = v->fmt->unlink(v, &n)) != TV_OK || (st = fs_barrier(v)) != TV_OK)
        return st;
    if ((st = fs_free_tail(v, &n, 0)) != TV_OK)
        return st;
    return fs_barrier(v);
}

static bool same_entry(const fs_node_t *a, const fs_node_t *b)
{
    return a->p_first == b->p_first && a->ent_off == b->ent_off;
}

tv_status_t fs_rename(fs_volume_t *v, const char *from, const char *to)
{
    if (!v->writable)
        return TV_E_READ_ONLY;
    fs_node_t sdir, src, ddir, dst;
    fs_name_t sname, dname;
    tv_status_t st = walk(v, from, &sdir, &sname, &src);
    if (st != TV_OK)
        return st;
    bool exists;
    if ((st = resolve(v, to, &ddir, &dname, &dst, &exists)) != TV_OK)
        return st;
    bool same_dir = sdir.first == ddir.first;
    if (exists && same_entry(&src, &dst))
        exists = false; /* a change of case only */
    if (exists && (dst.dir || src.dir))
        return TV_E_EXISTS;
    if (!exists && same_dir) {
        /* One sector rewritten: atomic. */
        st = v->fmt->rename_in_place(v, &src, &dname);
        if (st == TV_OK)
            return fs_barrier(v);
        if (st != TV_E_UNSUPPORTED)
            return st;
    }
    if (src.dir)
        return TV_E_UNSUPPORTED; /* moving a directory would need its ".." rewritten */
    /* General case: the source name goes first, then the target takes its
     * clusters.  A crash between leaves the target as it was and the
     * source's clusters lost (reclaimed at the next writable mount). */
    if ((st = v->fmt->unlink(v, &src)) != TV_OK || (st = fs_barrier(v)) != TV_OK)
        return st;
    if (exists) {
        fs_node_t old = dst;
        dst.first = src.first;
        dst.size = src.size;
        dst.valid = src.valid;
        dst.contig = src.contig;
        dst.attr = src.attr;
        if ((st = v->fmt->update(v, &dst)) != TV_OK || (st = fs_barrier(v)) != TV_OK)
            return st;
        if ((st = fs_free_tail(v, &old, 0)) != TV_OK)
            return st;
    } else {
        fs_node_t n = src;
        if ((st = v->fmt->add(v, &ddir, &dname, &n)) != TV_OK)
            return st;
    }
    return fs_barrier(v);
}

struct list_ctx {
    bool (*fn)(void *ctx, const fs_dirent_t *e);
    void *ctx;
    fs_dirent_t e;
};

static bool list_one(void *ctx, const fs_name_t *name, const fs_node_t *n)
{
    struct list_ctx *l = ctx;
    fs_name_to_utf8(name, l->e.name, sizeof l->e.name);
    l->e.size = n->dir ? 0 : n->size;
    l->e.dir = n->dir;
    l->e.mtime = n->mtime;
    l->e.mtime_tz = n->mtime_tz;
    l->e.mtime_10ms = n->mtime_10ms;
    return l->fn(l->ctx, &l->e);
}

tv_status_t fs_list(fs_volume_t *v, const char *path, bool (*fn)(void *ctx, const fs_dirent_t *e), void *ctx)
{
    fs_node_t dir;
    root_node(v, &dir);
    const char *p = path;
    while (*p == '/')
        p++;
    if (*p) {
        fs_node_t parent;
        fs_name_t name;
        tv_status_t st = walk(v, path, &parent, &name, &dir);
        if (st != TV_OK)
            return st;
        if (!dir.dir)
            return TV_E_WRONG_TYPE;
    }
    struct list_ctx *l = fs_alloc(v, sizeof *l);
    if (!l)
        return TV_E_NO_MEMORY;
    l->fn = fn;
    l->ctx = ctx;
    tv_status_t st = v->fmt->iterate(v, &dir, list_one, l);
    fs_free(v, l);
    return st;
}
