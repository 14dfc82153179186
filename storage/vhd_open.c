/* Opening and closing VHD and raw images through the storage seam: footer
 * choice (the end copy, or the copy at offset 0 when the end one is missing,
 * corrupt or stale), the dynamic header and BAT, the parent chain, footer
 * repair on writable opens; plus the image's introspection accessors. */
#include "vhd_internal.h"

#include "tv_string.h"

const char *tv_vhd_kind_name(enum tv_vhd_kind k)
{
    switch (k) {
    case TV_VHD_RAW: return "raw";
    case TV_VHD_FIXED: return "fixed";
    case TV_VHD_DYNAMIC: return "dynamic";
    case TV_VHD_DIFF: return "differencing";
    }
    return "unknown";
}

enum tv_vhd_kind tv_vhd_kind(const tv_vhd_t *v) { return v->kind; }
uint64_t tv_vhd_size(const tv_vhd_t *v) { return v->size; }
uint32_t tv_vhd_block_size(const tv_vhd_t *v) { return vhd_is_sparse(v) ? v->block_size : 0; }
uint32_t tv_vhd_block_count(const tv_vhd_t *v) { return vhd_is_sparse(v) ? v->used_entries : 0; }
tv_vhd_t *tv_vhd_parent(const tv_vhd_t *v) { return v->parent; }
const char *tv_vhd_name(const tv_vhd_t *v) { return v->name; }
const uint8_t *tv_vhd_uid(const tv_vhd_t *v) { return v->footer.uid; }
uint64_t tv_vhd_file_size(const tv_vhd_t *v) { return v->file_size; }

unsigned tv_vhd_warnings(const tv_vhd_t *v)
{
    unsigned w = 0;
    for (; v; v = v->parent)
        w |= v->warn;
    return w;
}

const char *tv_vhd_warning_text(unsigned bit)
{
    switch (bit) {
    case TV_VHD_WARN_BAT_ALIASED:
        return "two BAT entries point at the same file space (writes refused; see check)";
    case TV_VHD_WARN_PARENT_SIZE:
        return "the parent's size differs from the child's (same unique id): the parent was resized";
    }
    return "unknown warning";
}

uint32_t tv_vhd_allocated_blocks(const tv_vhd_t *v)
{
    uint32_t n = 0;
    if (vhd_is_sparse(v))
        for (uint32_t b = 0; b < v->used_entries; b++)
            n += v->bat[b] != VHD_BAT_UNUSED;
    return n;
}

bool tv_vhd_range_has_data(tv_vhd_t *v, uint64_t off, uint64_t len)
{
    for (; v; v = v->parent) {
        if (!vhd_is_sparse(v)) {
            bool maybe = true;
            if (v->st->has_data && v->st->has_data(v->f, off, len, &maybe) != TV_OK)
                maybe = true;
            return maybe;
        }
        uint64_t end = off + len > v->size ? v->size : off + len;
        for (uint64_t b = off / v->block_size; b * v->block_size < end; b++)
            if (b < v->used_entries && v->bat[b] != VHD_BAT_UNUSED)
                return true;
        if (v->kind != TV_VHD_DIFF)
            return false;
    }
    return false;
}

/* ---- open ---------------------------------------------------------------- */

static void free_image(tv_vhd_t *v)
{
    tv_storage_t *st = v->st;
    if (v->f)
        st->close(v->f);
    tv_st_free(st, v->bat);
    tv_st_free(st, v->bm);
    tv_st_free(st, v->zeros);
    tv_st_free(st, v);
}

/* Picks the footer: the end copy, or the copy at offset 0 of a dynamic disk
 * when the end one is missing, corrupt or stale. */
static tv_status_t load_footer(tv_vhd_t *v)
{
    uint8_t end_raw[VHD_FOOTER_SIZE], head_raw[VHD_FOOTER_SIZE];
    struct vhd_footer end, head;
    bool end_ok = false, head_ok = false;
    tv_status_t s;

    if (v->file_size < VHD_FOOTER_SIZE)
        return TV_E_CORRUPT;
    s = vhd_rd(v, v->file_size - VHD_FOOTER_SIZE, end_raw, sizeof end_raw);
    if (s != TV_OK)
        return s;
    end_ok = vhd_footer_decode(end_raw, &end, NULL) == TV_OK &&
             vhd_footer_validate(&end, end_raw, NULL) == TV_OK;
    if (end_ok && end.type == VHD_TYPE_FIXED) {
        v->footer = end;
        tv_memcpy(v->footer_raw, end_raw, VHD_FOOTER_SIZE);
        return TV_OK;
    }
    s = vhd_rd(v, 0, head_raw, sizeof head_raw);
    if (s != TV_OK)
        return s;
    head_ok = vhd_footer_decode(head_raw, &head, NULL) == TV_OK &&
              vhd_footer_validate(&head, head_raw, NULL) == TV_OK && head.type != VHD_TYPE_FIXED;
    if (head_ok) {
        v->footer = head;
        tv_memcpy(v->footer_raw, head_raw, VHD_FOOTER_SIZE);
        v->end_footer_bad = !end_ok || tv_memcmp(end_raw, head_raw, VHD_FOOTER_SIZE) != 0;
        return TV_OK;
    }
    if (end_ok) {
        v->footer = end;
        tv_memcpy(v->footer_raw, end_raw, VHD_FOOTER_SIZE);
        v->copy_footer_bad = true;
        return TV_OK;
    }
    return TV_E_CORRUPT;
}

static void sift_down(uint32_t *a, uint32_t r, uint32_t n)
{
    for (;;) {
        uint32_t ch = 2 * r + 1;
        if (ch >= n)
            return;
        if (ch + 1 < n && a[ch + 1] > a[ch])
            ch++;
        if (a[r] >= a[ch])
            return;
        uint32_t t = a[r];
        a[r] = a[ch];
        a[ch] = t;
        r = ch;
    }
}

/* Sets *aliased when two allocated blocks overlap in the file (heap sort of
 * the sector numbers: O(n log n), 4 bytes per allocated block). */
static tv_status_t bat_aliased(tv_vhd_t *v, bool *aliased)
{
    uint32_t n = 0;
    *aliased = false;
    for (uint32_t i = 0; i < v->entries; i++)
        n += v->bat[i] != VHD_BAT_UNUSED;
    if (n < 2)
        return TV_OK;
    uint32_t *a = tv_st_alloc(v->st, (size_t)n * 4);
    if (!a)
        return TV_E_NO_MEMORY;
    n = 0;
    for (uint32_t i = 0; i < v->entries; i++)
        if (v->bat[i] != VHD_BAT_UNUSED)
            a[n++] = v->bat[i];
    for (uint32_t k = n / 2; k-- > 0;)
        sift_down(a, k, n);
    for (uint32_t e = n; e-- > 1;) {
        uint32_t t = a[0];
        a[0] = a[e];
        a[e] = t;
        sift_down(a, 0, e);
    }
    uint64_t span = (v->bm_bytes + (uint64_t)v->block_size) / VHD_SECTOR;
    for (uint32_t k = 1; k < n && !*aliased; k++)
        *aliased = (uint64_t)a[k] - a[k - 1] < span;
    tv_st_free(v->st, a);
    return TV_OK;
}

static tv_status_t load_dynamic(tv_vhd_t *v)
{
    tv_status_t s;
    if (v->file_size < VHD_HEADER_OFFSET + VHD_HEADER_SIZE)
        return TV_E_CORRUPT;
    s = vhd_rd(v, VHD_HEADER_OFFSET, v->header_raw, VHD_HEADER_SIZE);
    if (s != TV_OK)
        return s;
    s = vhd_header_decode(v->header_raw, &v->header, NULL);
    if (s == TV_OK)
        s = vhd_header_validate(&v->header, v->header_raw, v->size, v->footer.type, NULL);
    if (s != TV_OK)
        return s;
    v->block_size = v->header.block_size;
    v->bm_bytes = vhd_bitmap_bytes(v->block_size);
    v->entries = v->header.max_entries;
    v->used_entries = (uint32_t)((v->size + v->block_size - 1) / v->block_size);

    uint64_t bat_bytes = ((uint64_t)v->entries * 4 + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
    uint64_t bat_end = v->header.bat_offset + bat_bytes;
    if (bat_end > v->file_size)
        return TV_E_CORRUPT;
    uint8_t *raw = tv_st_alloc(v->st, (size_t)bat_bytes);
    v->bat = tv_st_alloc(v->st, (size_t)v->entries * 4 + 4);
    v->bm = tv_st_alloc(v->st, v->bm_bytes);
    if (!raw || !v->bat || !v->bm) {
        tv_st_free(v->st, raw);
        return TV_E_NO_MEMORY;
    }
    s = vhd_rd(v, v->header.bat_offset, raw, (size_t)bat_bytes);
    for (uint32_t i = 0; s == TV_OK && i < v->entries; i++)
        v->bat[i] = vhd_be32(raw + 4 * (size_t)i);
    tv_st_free(v->st, raw);
    if (s != TV_OK)
        return s;

    /* Every allocated block must lie between the metadata and the footer. */
    uint64_t limit = v->end_footer_bad ? v->file_size : v->file_size - VHD_FOOTER_SIZE;
    uint64_t next = bat_end;
    for (uint32_t i = 0; i < v->entries; i++) {
        if (v->bat[i] == VHD_BAT_UNUSED)
            continue;
        uint64_t off = (uint64_t)v->bat[i] * VHD_SECTOR;
        uint64_t end = off + v->bm_bytes + v->block_size;
        if (i >= v->used_entries || off < VHD_HEADER_OFFSET + VHD_HEADER_SIZE || end > limit ||
            (off < bat_end && end > v->header.bat_offset)) {
            if (v->flags & VHD_OPEN_TOLERANT)
                continue; /* check reports and repairs these */
            return TV_E_CORRUPT;
        }
        if (end > next)
            next = end;
    }
    for (int i = 0; i < VHD_LOCATORS; i++) {
        const struct vhd_locator *l = &v->header.loc[i];
        if (l->code == VHD_PLAT_NONE || l->offset >= limit || l->length > 65536)
            continue;
        uint64_t end = l->offset + (l->space > l->length ? l->space : l->length);
        if (end <= limit && end > next)
            next = end;
    }
    v->next_free = (next + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
    v->bm_block = VHD_NO_BLOCK;
    if (!(v->flags & VHD_OPEN_TOLERANT)) {
        bool aliased;
        s = bat_aliased(v, &aliased);
        if (s != TV_OK)
            return s;
        if (aliased) {
            /* Two BAT entries share file space: a write to one block would
             * change the other.  Readable (both read the same bytes), never
             * writable; check names the blocks. */
            if (v->flags & TV_VHD_OPEN_WRITE)
                return TV_E_CORRUPT;
            v->warn |= TV_VHD_WARN_BAT_ALIASED;
        }
    }
    return TV_OK;
}

tv_status_t vhd_open_ex(tv_storage_t *st, const char *name, unsigned flags, unsigned depth,
                        const uint8_t *via_child_uid, tv_vhd_t **out)
{
    tv_status_t s;
    bool writable = flags & TV_VHD_OPEN_WRITE;
    *out = NULL;
    if (depth > TV_VHD_MAX_DEPTH)
        return TV_E_CORRUPT; /* a parent chain this long is a loop */
    struct vhd_uid_alias alias = { false, { 0 }, { 0 } };
    if (!(flags & (TV_VHD_OPEN_RAW | TV_VHD_OPEN_NO_RECOVER | VHD_OPEN_NO_JOURNAL))) {
        s = vhd_recover(st, name, via_child_uid, writable, &alias);
        if (s != TV_OK)
            return s;
    }
    tv_vhd_t *v = tv_st_alloc(st, sizeof *v);
    if (!v)
        return TV_E_NO_MEMORY;
    tv_memset(v, 0, sizeof *v);
    v->st = st;
    v->flags = flags;
    v->bat_dirty_lo = 1;
    v->bm_block = VHD_NO_BLOCK;
    if (tv_strlcpy(v->name, name, sizeof v->name) >= sizeof v->name) {
        tv_st_free(st, v);
        return TV_E_LIMIT;
    }
    /* Shared lock to read; exclusive to write, or to replace or delete. */
    unsigned mode = writable ? TV_ST_WRITE | TV_ST_EXCLUSIVE
                    : flags & VHD_OPEN_LOCK_EXCL ? TV_ST_EXCLUSIVE : TV_ST_SHARED;
    s = st->open(st->ctx, name, mode, &v->f);
    if (s == TV_OK)
        s = st->size(v->f, &v->file_size);
    if (s != TV_OK)
        goto fail;

    if (flags & TV_VHD_OPEN_RAW) {
        v->kind = TV_VHD_RAW;
        v->size = v->file_size;
        if (v->size % VHD_SECTOR) {
            s = TV_E_INVALID_ARGUMENT;
            goto fail;
        }
        *out = v;
        return TV_OK;
    }
    s = load_footer(v);
    if (s != TV_OK)
        goto fail;
    v->kind = (enum tv_vhd_kind)v->footer.type;
    v->size = v->footer.current_size;
    if (alias.set && tv_memcmp(v->footer.uid, alias.from, 16) == 0)
        tv_memcpy(v->footer.uid, alias.to, 16); /* read-only, beneath the merging child */
    if (v->kind == TV_VHD_FIXED) {
        if (v->file_size < v->size + VHD_FOOTER_SIZE) {
            s = TV_E_CORRUPT;
            goto fail;
        }
    } else {
        s = load_dynamic(v);
        if (s != TV_OK)
            goto fail;
    }
    if (v->kind == TV_VHD_DIFF && !(flags & TV_VHD_OPEN_NO_PARENT)) {
        s = vhd_open_parent(v, flags, depth);
        if (s != TV_OK)
            goto fail;
    }
    if (writable && !(flags & TV_VHD_OPEN_NO_RECOVER) && (v->end_footer_bad || v->copy_footer_bad)) {
        s = vhd_write_footers(v);
        if (s == TV_OK)
            s = tv_st_flush(st, v->f);
        if (s != TV_OK)
            goto fail;
        v->end_footer_bad = v->copy_footer_bad = false;
    }
    *out = v;
    return TV_OK;
fail:
    if (v->parent)
        tv_vhd_close(v->parent);
    free_image(v);
    return s;
}

tv_status_t tv_vhd_open(tv_storage_t *st, const char *name, unsigned flags, tv_vhd_t **out)
{
    return vhd_open_ex(st, name, flags, 0, NULL, out);
}

tv_status_t tv_vhd_close(tv_vhd_t *v)
{
    tv_status_t s = TV_OK;
    if (!v)
        return TV_OK;
    if (v->flags & TV_VHD_OPEN_WRITE)
        s = tv_vhd_flush(v);
    if (v->parent) {
        tv_status_t ps = tv_vhd_close(v->parent);
        if (s == TV_OK)
            s = ps;
    }
    free_image(v);
    return s;
}
