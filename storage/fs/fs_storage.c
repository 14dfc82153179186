/* The storage seam over a mounted volume (see fs_storage.h). */
#include "storage/fs/fs_storage.h"
#include "storage/fs/fs_internal.h"

#include "tv_string.h"

/* One open file: the file-system handle all its opens share, its locks. */
struct rec {
    fs_file_t *f;
    uint32_t p_first;    /* identity: where its entry set lives */
    uint64_t ent_off;
    uint32_t opens, shared;
    bool exclusive;
    bool gone;           /* removed or replaced while open */
    struct rec *next;
};

struct tv_sfile {
    fs_store_t *s;
    struct rec *r;
    bool writable;
    int lock;            /* 0 none, 1 shared, 2 exclusive */
};

struct fs_store {
    fs_volume_t *v;
    tv_storage_t platform;
    struct rec *recs;
};

static void *s_alloc(fs_store_t *s, size_t n) { return s->platform.alloc(s->platform.ctx, n); }
static void s_free(fs_store_t *s, void *p) { if (p) s->platform.free(s->platform.ctx, p); }

static struct rec *rec_of(fs_store_t *s, const fs_file_t *f)
{
    for (struct rec *r = s->recs; r; r = r->next)
        if (!r->gone && r->p_first == f->node.p_first && r->ent_off == f->node.ent_off)
            return r;
    return NULL;
}

/* The record of the file at name, if it is open (NULL otherwise). */
static struct rec *rec_at(fs_store_t *s, const char *name)
{
    fs_file_t *f;
    if (fs_open(s->v, name, false, &f) != TV_OK)
        return NULL;
    struct rec *r = rec_of(s, f);
    fs_close(f);
    return r;
}

static void rec_drop(fs_store_t *s, struct rec *r)
{
    for (struct rec **p = &s->recs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    fs_close(r->f);
    s_free(s, r);
}

static tv_status_t lock_take(struct rec *r, unsigned mode, int *lock)
{
    *lock = 0;
    if (mode & TV_ST_EXCLUSIVE) {
        if (r->exclusive || r->shared)
            return TV_E_BUSY;
        r->exclusive = true;
        *lock = 2;
    } else if (mode & TV_ST_SHARED) {
        if (r->exclusive)
            return TV_E_BUSY;
        r->shared++;
        *lock = 1;
    }
    return TV_OK;
}

static tv_status_t handle_new(fs_store_t *s, struct rec *r, unsigned mode, tv_sfile_t **out)
{
    tv_sfile_t *h = s_alloc(s, sizeof *h);
    if (!h)
        return TV_E_NO_MEMORY;
    tv_status_t st = lock_take(r, mode, &h->lock);
    if (st != TV_OK) {
        s_free(s, h);
        return st;
    }
    h->s = s;
    h->r = r;
    h->writable = (mode & TV_ST_WRITE) != 0;
    r->opens++;
    *out = h;
    return TV_OK;
}

/* A record for the freshly opened f (or the existing one of its file). */
static tv_status_t rec_for(fs_store_t *s, fs_file_t *f, struct rec **out)
{
    struct rec *r = rec_of(s, f);
    if (r) {
        if (f->writable && !r->f->writable) {
            /* A writer joins readers: the shared handle becomes writable. */
            fs_close(r->f);
            r->f = f;
        } else {
            fs_close(f);
        }
        *out = r;
        return TV_OK;
    }
    if (!(r = s_alloc(s, sizeof *r))) {
        fs_close(f);
        return TV_E_NO_MEMORY;
    }
    tv_memset(r, 0, sizeof *r);
    r->f = f;
    r->p_first = f->node.p_first;
    r->ent_off = f->node.ent_off;
    r->next = s->recs;
    s->recs = r;
    *out = r;
    return TV_OK;
}

static tv_status_t st_open(void *ctx, const char *name, unsigned mode, tv_sfile_t **out)
{
    fs_store_t *s = ctx;
    fs_file_t *f;
    tv_status_t st = fs_open(s->v, name, (mode & TV_ST_WRITE) != 0, &f);
    if (st != TV_OK)
        return st;
    struct rec *r;
    if ((st = rec_for(s, f, &r)) != TV_OK)
        return st;
    st = handle_new(s, r, mode, out);
    if (st != TV_OK && r->opens == 0)
        rec_drop(s, r);
    return st;
}

static tv_status_t st_create(void *ctx, const char *name, tv_sfile_t **out)
{
    fs_store_t *s = ctx;
    fs_file_t *f;
    tv_status_t st = fs_create(s->v, name, &f);
    if (st != TV_OK)
        return st;
    struct rec *r;
    if ((st = rec_for(s, f, &r)) != TV_OK)
        return st;
    st = handle_new(s, r, TV_ST_WRITE | TV_ST_EXCLUSIVE, out);
    if (st != TV_OK && r->opens == 0)
        rec_drop(s, r);
    return st;
}

static tv_status_t st_read(tv_sfile_t *h, uint64_t off, void *buf, size_t len)
{
    if (h->r->gone)
        return TV_E_IO;
    uint64_t size = fs_size(h->r->f);
    if (off > size || len > size - off)
        return TV_E_CORRUPT; /* past the end, as the other seams say */
    return fs_read(h->r->f, off, buf, len);
}

static tv_status_t st_write(tv_sfile_t *h, uint64_t off, const void *buf, size_t len)
{
    if (!h->writable)
        return TV_E_READ_ONLY;
    if (h->r->gone)
        return TV_E_IO;
    return fs_write(h->r->f, off, buf, len);
}

static tv_status_t st_flush(tv_sfile_t *h)
{
    if (h->r->gone)
        return TV_E_IO;
    return h->writable ? fs_flush(h->r->f) : TV_OK;
}

static tv_status_t st_size(tv_sfile_t *h, uint64_t *out)
{
    if (h->r->gone)
        return TV_E_IO;
    *out = fs_size(h->r->f);
    return TV_OK;
}

static tv_status_t st_truncate(tv_sfile_t *h, uint64_t size)
{
    if (!h->writable)
        return TV_E_READ_ONLY;
    if (h->r->gone)
        return TV_E_IO;
    return fs_truncate(h->r->f, size);
}

static void st_close(tv_sfile_t *h)
{
    fs_store_t *s = h->s;
    struct rec *r = h->r;
    if (h->lock == 2)
        r->exclusive = false;
    else if (h->lock == 1)
        r->shared--;
    if (--r->opens == 0)
        rec_drop(s, r);
    s_free(s, h);
}

static tv_status_t st_rename(void *ctx, const char *from, const char *to)
{
    fs_store_t *s = ctx;
    struct rec *src = rec_at(s, from), *dst = rec_at(s, to);
    tv_status_t st = fs_rename(s->v, from, to);
    if (st != TV_OK)
        return st;
    if (dst && dst != src)
        dst->gone = true;
    if (src) {
        /* Its entry moved: the shared handle is reopened at the new name so
         * later size changes go to the right entry; its lock stays. */
        fs_file_t *f;
        st = fs_open(s->v, to, src->f->writable, &f);
        if (st != TV_OK) {
            src->gone = true;
            return st;
        }
        fs_close(src->f);
        src->f = f;
        src->p_first = f->node.p_first;
        src->ent_off = f->node.ent_off;
    }
    return TV_OK;
}

static tv_status_t st_remove(void *ctx, const char *name)
{
    fs_store_t *s = ctx;
    struct rec *r = rec_at(s, name);
    tv_status_t st = fs_remove(s->v, name);
    if (st == TV_OK && r)
        r->gone = true;
    return st;
}

static tv_status_t st_mkdir(void *ctx, const char *name)
{
    fs_store_t *s = ctx;
    return fs_mkdir(s->v, name);
}

static void *st_alloc(void *ctx, size_t n) { return s_alloc(ctx, n); }
static void st_free(void *ctx, void *p) { s_free(ctx, p); }
static uint32_t st_now(void *ctx)
{
    fs_store_t *s = ctx;
    return s->platform.now(s->platform.ctx);
}
static void st_entropy(void *ctx, void *buf, size_t len)
{
    fs_store_t *s = ctx;
    s->platform.entropy(s->platform.ctx, buf, len);
}

tv_status_t fs_store_new(fs_volume_t *v, const tv_storage_t *platform, fs_store_t **out, tv_storage_t *seam)
{
    fs_store_t *s = platform->alloc(platform->ctx, sizeof *s);
    if (!s)
        return TV_E_NO_MEMORY;
    tv_memset(s, 0, sizeof *s);
    s->v = v;
    s->platform = *platform;
    *seam = *platform;
    seam->ctx = s;
    seam->open = st_open;
    seam->create = st_create;
    seam->read = st_read;
    seam->write = st_write;
    seam->flush = st_flush;
    seam->size = st_size;
    seam->truncate = st_truncate;
    seam->close = st_close;
    seam->rename = st_rename;
    seam->remove = st_remove;
    seam->has_data = NULL;
    seam->mkdir = st_mkdir;
    /* alloc/free/now/entropy get the seam's ctx (the store): forwarded. */
    seam->alloc = st_alloc;
    seam->free = st_free;
    seam->now = st_now;
    seam->entropy = st_entropy;
    *out = s;
    return TV_OK;
}

tv_status_t fs_store_free(fs_store_t *s)
{
    if (s->recs)
        return TV_E_BUSY;
    s_free(s, s);
    return TV_OK;
}
