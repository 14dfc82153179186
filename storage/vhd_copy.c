/* Create, convert, merge-to and compact: operations that build a complete
 * new file under "<target>.tvtmp" and rename it into place at the end.
 * Until the rename every existing image is untouched; the rename is the
 * commit point (atomic in the storage seam). */
#include "vhd_internal.h"
#include "vhd_op.h"

#include "tv_fmt.h"
#include "tv_string.h"

enum copy_mode { MODE_CREATE, MODE_CONVERT, MODE_COMPACT };

#define COPY_CHUNK (4u << 20)

struct copy_op {
    tv_vhd_op_t op; /* first: the framework casts */
    enum copy_mode mode;
    char src[TV_VHD_NAME_MAX];
    char dst[TV_VHD_NAME_MAX];
    char tmp[TV_VHD_NAME_MAX + 8];
    char parent[TV_VHD_NAME_MAX];
    bool src_raw;
    bool need_diff_src;     /* merge-to: source must be differencing */
    enum tv_vhd_kind dst_kind;
    struct tv_vhd_create_params params;
    tv_vhd_t *s, *d;
    bool started;
    bool tmp_ours;          /* the temporary is ours (created and locked by us) */
    bool data_done;
    uint64_t pos;           /* bytes (convert/create) or block index (compact) */
    uint8_t *buf, *pbuf, *bm;
    uint32_t kept, dropped; /* compact statistics */
};

static tv_status_t name_exists(tv_storage_t *st, const char *name)
{
    tv_sfile_t *f;
    tv_status_t s = st->open(st->ctx, name, 0, &f);
    if (s == TV_OK) {
        st->close(f);
        return TV_E_EXISTS;
    }
    return s == TV_E_NOT_FOUND ? TV_OK : s;
}

/* Removes a stale temporary left by an interrupted run.  One still being
 * written is locked by its writer: then the target is in use (TV_E_BUSY). */
static tv_status_t clear_tmp(tv_storage_t *st, const char *tmp)
{
    tv_sfile_t *f;
    tv_status_t s = st->open(st->ctx, tmp, TV_ST_EXCLUSIVE, &f);
    if (s == TV_E_NOT_FOUND)
        return TV_OK;
    if (s != TV_OK)
        return s;
    s = st->remove(st->ctx, tmp); /* while locked: nobody is writing it */
    st->close(f);
    return s == TV_E_NOT_FOUND ? TV_OK : s;
}

static tv_status_t alloc_bufs(struct copy_op *c, size_t n, bool bitmap)
{
    c->buf = tv_st_alloc(c->op.st, n);
    if (!c->buf)
        return TV_E_NO_MEMORY;
    if (bitmap) {
        c->pbuf = tv_st_alloc(c->op.st, n);
        c->bm = tv_st_alloc(c->op.st, c->s->bm_bytes);
        if (!c->pbuf || !c->bm)
            return TV_E_NO_MEMORY;
    }
    return TV_OK;
}

static tv_status_t start(struct copy_op *c)
{
    tv_storage_t *st = c->op.st;
    tv_status_t s;
    if (c->mode != MODE_COMPACT) {
        s = name_exists(st, c->dst);
        if (s != TV_OK)
            return s;
    }
    s = clear_tmp(st, c->tmp);
    if (s != TV_OK)
        return s;

    if (c->mode == MODE_CREATE) {
        s = tv_vhd_create(st, c->tmp, &c->params, TV_VHD_OPEN_DEFERRED, &c->d);
        if (s != TV_OK)
            return s;
        c->tmp_ours = true;
        c->op.total = c->d->kind == TV_VHD_FIXED ? c->d->size : 0;
        return c->op.total ? alloc_bufs(c, COPY_CHUNK, false) : TV_OK;
    }

    /* Compact replaces the source: no one may write it meanwhile. */
    s = tv_vhd_open(st, c->src, (c->src_raw ? TV_VHD_OPEN_RAW : 0) | (c->mode == MODE_COMPACT ? VHD_OPEN_LOCK_EXCL : 0),
                    &c->s);
    if (s != TV_OK)
        return s;
    struct tv_vhd_create_params p = { 0 };
    p.exact_size = true;
    p.size = c->s->size;
    if (c->mode == MODE_COMPACT) {
        if (c->s->kind != TV_VHD_DYNAMIC && c->s->kind != TV_VHD_DIFF)
            return TV_E_WRONG_TYPE;
        if (c->s->warn & TV_VHD_WARN_BAT_ALIASED)
            return TV_E_CORRUPT; /* compact rewrites the disk: like a write, refused */
        p.kind = c->s->kind;
        p.block_size = c->s->block_size;
        p.uid = c->s->footer.uid;
        if (c->s->kind == TV_VHD_DIFF) {
            p.parent = c->s->parent->name; /* already resolved: not again */
            p.parent_resolved = true;
        }
    } else {
        if ((c->s->kind == TV_VHD_DIFF) != c->need_diff_src)
            return TV_E_WRONG_TYPE;
        p.kind = c->dst_kind;
        p.block_size = c->params.block_size;
        if (c->s->kind == TV_VHD_RAW && c->dst_kind != TV_VHD_RAW)
            p.exact_size = false; /* raw import: round up to a CHS size all readers agree on */
    }
    s = tv_vhd_create(st, c->tmp, &p, TV_VHD_OPEN_DEFERRED, &c->d);
    if (s != TV_OK)
        return s;
    c->tmp_ours = true;
    if (c->s->kind != TV_VHD_RAW && c->d->kind != TV_VHD_RAW) {
        /* Keep the creator (readers pick the size field by it) and, for
         * compact, the whole identity of the disk. */
        tv_memcpy(c->d->footer.creator_app, c->s->footer.creator_app, 4);
        c->d->footer.creator_version = c->s->footer.creator_version;
        tv_memcpy(c->d->footer.creator_os, c->s->footer.creator_os, 4);
        if (c->mode == MODE_COMPACT) {
            c->d->footer.timestamp = c->s->footer.timestamp;
            c->d->footer.original_size = c->s->footer.original_size;
            c->d->footer.cylinders = c->s->footer.cylinders;
            c->d->footer.heads = c->s->footer.heads;
            c->d->footer.sectors = c->s->footer.sectors;
            if (c->s->kind == TV_VHD_DIFF) {
                tv_memcpy(c->d->header.parent_uid, c->s->header.parent_uid, 16);
                c->d->header.parent_timestamp = c->s->header.parent_timestamp;
                s = vhd_write_header(c->d);
            }
        }
        /* The kept creator must not make a reader take a different size. */
        vhd_footer_agree_size(&c->d->footer, NULL);
        if (s == TV_OK)
            s = vhd_write_footers(c->d);
        if (s != TV_OK)
            return s;
    }
    if (c->mode == MODE_COMPACT) {
        c->op.total = (uint64_t)tv_vhd_allocated_blocks(c->s) * c->s->block_size;
        return alloc_bufs(c, c->s->block_size, true);
    }
    c->op.total = c->s->size;
    uint32_t chunk = c->d->kind == TV_VHD_DYNAMIC ? c->d->block_size : COPY_CHUNK;
    if (chunk < COPY_CHUNK && c->d->kind == TV_VHD_DYNAMIC)
        chunk = COPY_CHUNK / chunk * chunk;
    return alloc_bufs(c, chunk, false);
}

/* One chunk of a chain-to-image copy, in units no bigger than the source's
 * or the output's blocks: units with no data anywhere in the source chain
 * are skipped without reading, and all-zero units are not written (every
 * output reads zeros where nothing was written). */
static tv_status_t convert_step(struct copy_op *c)
{
    uint64_t size = c->s->size;
    uint32_t chunk = c->d->kind == TV_VHD_DYNAMIC ? c->d->block_size : COPY_CHUNK;
    if (chunk < COPY_CHUNK && c->d->kind == TV_VHD_DYNAMIC)
        chunk = COPY_CHUNK / chunk * chunk;
    uint32_t unit = c->d->kind == TV_VHD_DYNAMIC ? c->d->block_size : chunk;
    uint32_t sbs = tv_vhd_block_size(c->s);
    if (sbs && sbs < unit)
        unit = sbs;
    uint64_t n = size - c->pos < chunk ? size - c->pos : chunk;
    for (uint64_t o = 0; o < n; o += unit) {
        size_t k = n - o < unit ? (size_t)(n - o) : unit;
        uint64_t at = c->pos + o;
        if (!tv_vhd_range_has_data(c->s, at, k))
            continue;
        tv_status_t s = tv_vhd_read(c->s, at, c->buf, k);
        if (s != TV_OK)
            return s;
        if (vhd_is_zero(c->buf, k))
            continue;
        /* Fixed and raw outputs were extended with zeros: write only data. */
        s = c->d->kind == TV_VHD_DYNAMIC ? tv_vhd_write(c->d, at, c->buf, k)
                                         : vhd_write_fresh(c->d, at, c->buf, k);
        if (s != TV_OK)
            return s;
    }
    c->pos += n;
    c->op.done = c->pos;
    return c->pos < size ? TV_E_CONTINUE : TV_OK;
}

/* One block of a compaction. */
static tv_status_t compact_step(struct copy_op *c)
{
    tv_vhd_t *v = c->s;
    uint32_t bs = v->block_size;
    while (c->pos < v->used_entries && v->bat[c->pos] == VHD_BAT_UNUSED)
        c->pos++;
    if (c->pos >= v->used_entries)
        return TV_OK;
    uint32_t b = (uint32_t)c->pos++;
    tv_status_t s = vhd_load_bitmap(v, b);
    if (s == TV_OK)
        s = v->st->read(v->f, vhd_block_offset(v, b) + v->bm_bytes, c->buf, bs);
    if (s != TV_OK)
        return s;
    tv_memcpy(c->bm, v->bm, v->bm_bytes);
    bool any = false;
    for (uint32_t i = 0; i < bs / VHD_SECTOR; i++) {
        if (vhd_bit(c->bm, i))
            any = true;
        else
            tv_memset(c->buf + (size_t)i * VHD_SECTOR, 0, VHD_SECTOR);
    }
    bool keep = any && !vhd_is_zero(c->buf, bs);
    if (any && !keep && v->kind == TV_VHD_DIFF) {
        /* A zero block stays when it hides data of an ancestor. */
        uint64_t off = (uint64_t)b * bs;
        size_t n = v->size - off < bs ? (size_t)(v->size - off) : bs;
        s = tv_vhd_read(v->parent, off, c->pbuf, n);
        if (s != TV_OK)
            return s;
        for (uint32_t i = 0; i < n / VHD_SECTOR && !keep; i++)
            keep = vhd_bit(c->bm, i) && !vhd_is_zero(c->pbuf + (size_t)i * VHD_SECTOR, VHD_SECTOR);
    }
    if (keep) {
        s = vhd_put_block(c->d, b, c->bm, c->buf);
        c->kept++;
    } else {
        c->dropped++;
    }
    c->op.done += bs;
    return s != TV_OK ? s : TV_E_CONTINUE;
}

static tv_status_t create_step(struct copy_op *c)
{
    uint64_t n = c->d->size - c->pos < COPY_CHUNK ? c->d->size - c->pos : COPY_CHUNK;
    tv_memset(c->buf, 0, (size_t)n);
    tv_status_t s = tv_vhd_write(c->d, c->pos, c->buf, (size_t)n);
    if (s != TV_OK)
        return s;
    c->pos += n;
    c->op.done = c->pos;
    return c->pos < c->d->size ? TV_E_CONTINUE : TV_OK;
}

static tv_status_t commit(struct copy_op *c)
{
    tv_storage_t *st = c->op.st;
    const char *target = c->mode == MODE_COMPACT ? c->src : c->dst;
    /* Keep the output and the source open (locked) across the rename: no
     * one may take the temporary for stale, or write the source, before the
     * new file is in place. */
    tv_status_t s = tv_vhd_flush(c->d);
    if (s == TV_OK && c->mode != MODE_COMPACT)
        s = name_exists(st, c->dst); /* created meanwhile by someone else */
    if (s == TV_OK)
        s = st->rename(st->ctx, c->tmp, target);
    if (s != TV_OK)
        return s;
    tv_vhd_t *d = c->d;
    c->d = NULL;
    tv_vhd_close(d); /* flushed above; nothing left to write */
    tv_vhd_close(c->s);
    c->s = NULL;
    c->op.cancelable = false;
    c->op.at_commit = false;
    c->op.outcome = TV_VHD_OUTCOME_COMPLETED;
    if (c->mode == MODE_COMPACT)
        tv_snprintf(c->op.detail, sizeof c->op.detail,
                    "compacted %s: kept %u blocks, dropped %u all-zero blocks", target, c->kept,
                    c->dropped);
    else
        tv_snprintf(c->op.detail, sizeof c->op.detail, "wrote %s", target);
    return TV_OK;
}

static tv_status_t copy_step(tv_vhd_op_t *op)
{
    struct copy_op *c = (struct copy_op *)op;
    tv_status_t s;
    if (!c->started) {
        c->started = true;
        s = start(c);
        return s == TV_OK ? TV_E_CONTINUE : s;
    }
    if (c->data_done)
        return commit(c);
    if (c->mode == MODE_CREATE)
        s = c->op.total ? create_step(c) : TV_OK;
    else if (c->mode == MODE_COMPACT)
        s = compact_step(c);
    else
        s = convert_step(c);
    if (s != TV_OK)
        return s;
    c->data_done = true; /* the output is complete: renaming it commits */
    c->op.at_commit = true;
    return TV_E_CONTINUE;
}

/* Closes everything; removes the temporary output unless committed. */
static void copy_release(struct copy_op *c)
{
    tv_vhd_op_t *op = &c->op;
    /* Removed while still open and locked, so no other run's temporary of
     * the same name can be hit. */
    if (c->tmp_ours && op->cancelable)
        op->st->remove(op->st->ctx, c->tmp);
    if (c->d) {
        c->d->flags = 0; /* nothing more to write: the file goes away */
        tv_vhd_close(c->d);
        c->d = NULL;
    }
    tv_vhd_close(c->s);
    c->s = NULL;
}

static void copy_rollback(tv_vhd_op_t *op)
{
    struct copy_op *c = (struct copy_op *)op;
    copy_release(c);
    const char *target = c->mode == MODE_COMPACT ? c->src : c->dst;
    tv_snprintf(op->detail, sizeof op->detail, "%s unchanged%s", target,
                c->mode == MODE_COMPACT ? "" : " (not created)");
}

static void copy_destroy(tv_vhd_op_t *op)
{
    struct copy_op *c = (struct copy_op *)op;
    copy_release(c);
    tv_st_free(op->st, c->buf);
    tv_st_free(op->st, c->pbuf);
    tv_st_free(op->st, c->bm);
}

static const struct tv_vhd_op_class copy_class = { "copy", copy_step, copy_rollback, copy_destroy };

static tv_status_t new_copy(tv_storage_t *st, enum copy_mode mode, const char *src, const char *dst,
                            struct copy_op **out)
{
    struct copy_op *c = tv_st_alloc(st, sizeof *c);
    if (!c)
        return TV_E_NO_MEMORY;
    tv_memset(c, 0, sizeof *c);
    c->op.cls = &copy_class;
    c->op.st = st;
    c->op.cancelable = true;
    c->mode = mode;
    const char *target = mode == MODE_COMPACT ? src : dst;
    if ((src && tv_strlcpy(c->src, src, sizeof c->src) >= sizeof c->src) ||
        (dst && tv_strlcpy(c->dst, dst, sizeof c->dst) >= sizeof c->dst) ||
        vhd_path_suffix(target, ".tvtmp", c->tmp, sizeof c->tmp) != TV_OK) {
        tv_st_free(st, c);
        return TV_E_LIMIT;
    }
    *out = c;
    return TV_OK;
}

tv_status_t tv_vhd_op_create(tv_storage_t *st, const char *name, const struct tv_vhd_create_params *p,
                             tv_vhd_op_t **out)
{
    struct copy_op *c;
    tv_status_t s = new_copy(st, MODE_CREATE, NULL, name, &c);
    if (s != TV_OK)
        return s;
    c->params = *p;
    if (p->parent) {
        if (tv_strlcpy(c->parent, p->parent, sizeof c->parent) >= sizeof c->parent) {
            tv_st_free(st, c);
            return TV_E_LIMIT;
        }
        c->params.parent = c->parent;
    }
    c->params.uid = NULL;
    *out = &c->op;
    return TV_OK;
}

static bool valid_target(enum tv_vhd_kind k)
{
    return k == TV_VHD_FIXED || k == TV_VHD_DYNAMIC || k == TV_VHD_RAW;
}

tv_status_t tv_vhd_op_convert(tv_storage_t *st, const char *src, bool src_raw, const char *dst,
                              enum tv_vhd_kind dst_kind, uint32_t block_size, tv_vhd_op_t **out)
{
    if (!valid_target(dst_kind))
        return TV_E_WRONG_TYPE;
    struct copy_op *c;
    tv_status_t s = new_copy(st, MODE_CONVERT, src, dst, &c);
    if (s != TV_OK)
        return s;
    c->src_raw = src_raw;
    c->dst_kind = dst_kind;
    c->params.block_size = block_size;
    *out = &c->op;
    return TV_OK;
}

tv_status_t tv_vhd_op_merge_to(tv_storage_t *st, const char *src, const char *dst,
                               enum tv_vhd_kind dst_kind, tv_vhd_op_t **out)
{
    tv_status_t s = tv_vhd_op_convert(st, src, false, dst, dst_kind, 0, out);
    if (s == TV_OK)
        ((struct copy_op *)*out)->need_diff_src = true;
    return s;
}

tv_status_t tv_vhd_op_compact(tv_storage_t *st, const char *name, tv_vhd_op_t **out)
{
    struct copy_op *c;
    tv_status_t s = new_copy(st, MODE_COMPACT, name, NULL, &c);
    if (s == TV_OK)
        *out = &c->op;
    return s;
}
