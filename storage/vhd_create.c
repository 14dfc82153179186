/* Creating image skeletons: fixed, dynamic, differencing and raw.
 *
 * Layout of a dynamic or differencing file: footer copy, header, BAT,
 * parent locator data, then blocks (added on write), then the footer. */
#include "vhd_internal.h"

#include "tv_string.h"

static const uint8_t creator_app[4] = { 't', 'v', 's', 'r' };
static const uint8_t creator_os[4] = { 'W', 'i', '2', 'k' };

static void init_footer(tv_vhd_t *v, enum tv_vhd_kind kind, uint64_t size, const uint8_t *uid)
{
    struct vhd_footer *f = &v->footer;
    tv_memset(f, 0, sizeof *f);
    f->features = VHD_FEATURE_RESERVED;
    f->version = VHD_VERSION;
    f->data_offset = kind == TV_VHD_FIXED ? VHD_NO_OFFSET : VHD_HEADER_OFFSET;
    f->timestamp = v->st->now(v->st->ctx);
    tv_memcpy(f->creator_app, creator_app, 4);
    f->creator_version = 0x00010000;
    tv_memcpy(f->creator_os, creator_os, 4);
    f->original_size = size;
    f->current_size = size;
    vhd_geometry(size, &f->cylinders, &f->heads, &f->sectors);
    f->type = (uint32_t)kind;
    if (uid)
        tv_memcpy(f->uid, uid, 16);
    else
        v->st->entropy(v->st->ctx, f->uid, 16);
}

/* Resolves a differencing disk's parent name against the child's directory
 * and opens it (it must exist and be a valid image chain). */
static tv_status_t open_new_parent(tv_storage_t *st, const char *child, const char *parent, bool resolved_already,
                                   char *resolved, size_t size, tv_vhd_t **out)
{
    char dir[TV_VHD_NAME_MAX];
    tv_status_t s = vhd_path_dir(child, dir, sizeof dir);
    if (s == TV_OK)
        s = resolved_already ? (tv_strlcpy(resolved, parent, size) < size ? TV_OK : TV_E_LIMIT)
                             : vhd_path_join(dir, parent, resolved, size);
    if (s != TV_OK)
        return s;
    s = tv_vhd_open(st, resolved, 0, out);
    if (s == TV_E_NOT_FOUND)
        return TV_E_PARENT_MISSING;
    return s;
}

tv_status_t tv_vhd_create(tv_storage_t *st, const char *name, const struct tv_vhd_create_params *p,
                          unsigned open_flags, tv_vhd_t **out)
{
    tv_status_t s;
    tv_vhd_t *parent = NULL;
    char parent_name[TV_VHD_NAME_MAX];
    uint64_t size = p->size;
    uint32_t bs = p->block_size ? p->block_size : VHD_DEFAULT_BLOCK;

    if (out)
        *out = NULL;
    if (p->kind != TV_VHD_RAW && p->kind != TV_VHD_FIXED && p->kind != TV_VHD_DYNAMIC &&
        p->kind != TV_VHD_DIFF)
        return TV_E_INVALID_ARGUMENT;
    if (bs < VHD_MIN_BLOCK || bs > VHD_MAX_BLOCK || (bs & (bs - 1)))
        return TV_E_INVALID_ARGUMENT;
    if (p->kind == TV_VHD_DIFF) {
        if (!p->parent)
            return TV_E_INVALID_ARGUMENT;
        s = open_new_parent(st, name, p->parent, p->parent_resolved, parent_name, sizeof parent_name, &parent);
        if (s != TV_OK)
            return s;
        if (parent->kind == TV_VHD_RAW) {
            tv_vhd_close(parent);
            return TV_E_WRONG_TYPE;
        }
        size = parent->size;
    } else {
        if (size == 0 || size > VHD_MAX_SIZE)
            return TV_E_INVALID_ARGUMENT;
        size = p->exact_size || p->kind == TV_VHD_RAW ? (size + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR
                                                      : vhd_round_to_chs(size);
        if (size > VHD_MAX_SIZE)
            size = VHD_MAX_SIZE;
    }
    if ((size + bs - 1) / bs > (16u << 20)) {
        tv_vhd_close(parent);
        return TV_E_UNSUPPORTED; /* more than 16M BAT entries: use bigger blocks */
    }

    tv_vhd_t *v = tv_st_alloc(st, sizeof *v);
    if (!v) {
        tv_vhd_close(parent);
        return TV_E_NO_MEMORY;
    }
    tv_memset(v, 0, sizeof *v);
    v->st = st;
    v->kind = p->kind;
    v->size = size;
    v->bm_block = VHD_NO_BLOCK;
    v->bat_dirty_lo = 1;
    v->flags = TV_VHD_OPEN_WRITE;
    if (tv_strlcpy(v->name, name, sizeof v->name) >= sizeof v->name) {
        s = TV_E_LIMIT;
        goto out;
    }
    s = st->create(st->ctx, name, &v->f);
    if (s != TV_OK)
        goto out;
    if (p->kind == TV_VHD_RAW) {
        s = st->truncate(v->f, size);
        v->file_size = size;
        goto done;
    }
    init_footer(v, p->kind, size, p->uid);
    /* An exact size that is no CHS product needs a creator that makes qemu
     * read the current size (a force_size parent's "qem2" is inherited). */
    vhd_footer_agree_size(&v->footer, parent ? parent->footer.creator_app : NULL);
    if (p->kind == TV_VHD_FIXED) {
        s = st->truncate(v->f, size);
        v->file_size = size;
        if (s == TV_OK)
            s = vhd_write_footers(v);
        goto done;
    }

    /* Dynamic and differencing: header, BAT (all unused), locators. */
    struct vhd_header *h = &v->header;
    tv_memset(h, 0, sizeof *h);
    h->data_offset = VHD_NO_OFFSET;
    h->bat_offset = VHD_HEADER_OFFSET + VHD_HEADER_SIZE;
    h->version = VHD_VERSION;
    v->block_size = h->block_size = bs;
    v->bm_bytes = vhd_bitmap_bytes(bs);
    v->entries = v->used_entries = h->max_entries = (uint32_t)((size + bs - 1) / bs);
    uint64_t bat_bytes = ((uint64_t)v->entries * 4 + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
    uint64_t next = h->bat_offset + bat_bytes;
    v->bat = tv_st_alloc(st, (size_t)v->entries * 4 + 4);
    v->bm = tv_st_alloc(st, v->bm_bytes);
    if (!v->bat || !v->bm) {
        s = TV_E_NO_MEMORY;
        goto done;
    }
    tv_memset(v->bat, 0xFF, (size_t)v->entries * 4);
    if (p->kind == TV_VHD_DIFF) {
        tv_memcpy(h->parent_uid, parent->footer.uid, 16);
        h->parent_timestamp = parent->footer.timestamp;
        s = vhd_write_locators(v, parent_name, &next, true);
        if (s != TV_OK)
            goto done;
    }
    v->next_free = next;
    s = vhd_write_header(v);
    for (uint64_t off = 0; s == TV_OK && off < bat_bytes;) {
        uint8_t ones[4096];
        tv_memset(ones, 0xFF, sizeof ones);
        size_t n = bat_bytes - off < sizeof ones ? (size_t)(bat_bytes - off) : sizeof ones;
        s = st->write(v->f, h->bat_offset + off, ones, n);
        off += n;
    }
    if (s == TV_OK)
        s = vhd_write_footers(v);
    v->file_size = v->next_free + VHD_FOOTER_SIZE;
done:
    if (s == TV_OK)
        s = tv_st_flush(st, v->f);
    if (s == TV_OK && out) {
        v->flags = TV_VHD_OPEN_WRITE | (open_flags & TV_VHD_OPEN_DEFERRED);
        v->parent = parent;
        *out = v;
        return TV_OK;
    }
out:;
    bool created = v->f != NULL;
    if (s != TV_OK)
        v->flags = 0; /* nothing more to write */
    tv_status_t cs = tv_vhd_close(v); /* the parent is not attached yet */
    if (s == TV_OK)
        s = cs;
    if (s != TV_OK && created)
        st->remove(st->ctx, name); /* leave nothing half-created behind */
    tv_vhd_close(parent);
    return s;
}
