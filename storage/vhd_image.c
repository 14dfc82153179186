/* Opening, reading and writing VHD and raw images through the storage seam.
 *
 * Crash-safe block allocation (ordered mode): the new block's bitmap and
 * data and the moved end footer are written and flushed before the BAT
 * entry that points at them, so after a power cut the BAT never points at
 * unwritten data.  A lost end footer is restored from the copy at offset 0
 * when the image is next opened for writing.  Deferred mode batches bitmap
 * and BAT updates until flush, keeping the same data-before-BAT order; it
 * is for fresh outputs (renamed into place only when complete) and for
 * journaled merges (redone after a crash). */
#include "vhd_internal.h"

#include "tv_string.h"

static tv_status_t rd(tv_vhd_t *v, uint64_t off, void *buf, size_t len)
{
    return v->st->read(v->f, off, buf, len);
}

static tv_status_t wr(tv_vhd_t *v, uint64_t off, const void *buf, size_t len)
{
    tv_status_t s = v->st->write(v->f, off, buf, len);
    if (s == TV_OK && off + len > v->file_size)
        v->file_size = off + len;
    return s;
}

static bool is_sparse_kind(const tv_vhd_t *v)
{
    return v->kind == TV_VHD_DYNAMIC || v->kind == TV_VHD_DIFF;
}

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
uint32_t tv_vhd_block_size(const tv_vhd_t *v) { return is_sparse_kind(v) ? v->block_size : 0; }
uint32_t tv_vhd_block_count(const tv_vhd_t *v) { return is_sparse_kind(v) ? v->used_entries : 0; }
tv_vhd_t *tv_vhd_parent(const tv_vhd_t *v) { return v->parent; }
const char *tv_vhd_name(const tv_vhd_t *v) { return v->name; }
const uint8_t *tv_vhd_uid(const tv_vhd_t *v) { return v->footer.uid; }
uint64_t tv_vhd_file_size(const tv_vhd_t *v) { return v->file_size; }

uint32_t tv_vhd_allocated_blocks(const tv_vhd_t *v)
{
    uint32_t n = 0;
    if (is_sparse_kind(v))
        for (uint32_t b = 0; b < v->used_entries; b++)
            n += v->bat[b] != VHD_BAT_UNUSED;
    return n;
}

bool tv_vhd_range_has_data(tv_vhd_t *v, uint64_t off, uint64_t len)
{
    for (; v; v = v->parent) {
        if (!is_sparse_kind(v)) {
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
    s = rd(v, v->file_size - VHD_FOOTER_SIZE, end_raw, sizeof end_raw);
    if (s != TV_OK)
        return s;
    end_ok = vhd_footer_decode(end_raw, &end, NULL) == TV_OK &&
             vhd_footer_validate(&end, end_raw, NULL) == TV_OK;
    if (end_ok && end.type == VHD_TYPE_FIXED) {
        v->footer = end;
        tv_memcpy(v->footer_raw, end_raw, VHD_FOOTER_SIZE);
        return TV_OK;
    }
    s = rd(v, 0, head_raw, sizeof head_raw);
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

static tv_status_t load_dynamic(tv_vhd_t *v)
{
    tv_status_t s;
    if (v->file_size < VHD_HEADER_OFFSET + VHD_HEADER_SIZE)
        return TV_E_CORRUPT;
    s = rd(v, VHD_HEADER_OFFSET, v->header_raw, VHD_HEADER_SIZE);
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
    s = rd(v, v->header.bat_offset, raw, (size_t)bat_bytes);
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
    if (!(flags & (TV_VHD_OPEN_RAW | TV_VHD_OPEN_NO_RECOVER | VHD_OPEN_NO_JOURNAL))) {
        s = vhd_recover(st, name, via_child_uid, writable);
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
    s = st->open(st->ctx, name, writable, &v->f);
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

/* ---- metadata writes ------------------------------------------------------ */

tv_status_t vhd_write_footers(tv_vhd_t *v)
{
    vhd_footer_encode(&v->footer, v->footer_raw);
    if (v->kind == TV_VHD_FIXED)
        return wr(v, v->size, v->footer_raw, VHD_FOOTER_SIZE);
    tv_status_t s = wr(v, 0, v->footer_raw, VHD_FOOTER_SIZE);
    if (s == TV_OK)
        s = wr(v, v->next_free, v->footer_raw, VHD_FOOTER_SIZE);
    if (s == TV_OK && v->file_size > v->next_free + VHD_FOOTER_SIZE) {
        s = v->st->truncate(v->f, v->next_free + VHD_FOOTER_SIZE);
        if (s == TV_OK)
            v->file_size = v->next_free + VHD_FOOTER_SIZE;
    }
    return s;
}

tv_status_t vhd_write_header(tv_vhd_t *v)
{
    vhd_header_encode(&v->header, v->header_raw);
    return wr(v, VHD_HEADER_OFFSET, v->header_raw, VHD_HEADER_SIZE);
}

/* Writes BAT entries [lo, hi] (whole sectors around them). */
static tv_status_t write_bat_range(tv_vhd_t *v, uint32_t lo, uint32_t hi)
{
    uint32_t per = VHD_SECTOR / 4;
    uint32_t first = lo / per * per;
    uint32_t last = (hi / per + 1) * per; /* exclusive, may exceed entries: padded with ones */
    uint8_t buf[4096];
    for (uint32_t i = first; i < last;) {
        uint32_t n = last - i < sizeof buf / 4 ? last - i : (uint32_t)(sizeof buf / 4);
        for (uint32_t k = 0; k < n; k++)
            vhd_put32(buf + 4 * k, i + k < v->entries ? v->bat[i + k] : VHD_BAT_UNUSED);
        tv_status_t s = wr(v, v->header.bat_offset + (uint64_t)i * 4, buf, (size_t)n * 4);
        if (s != TV_OK)
            return s;
        i += n;
    }
    return TV_OK;
}

static tv_status_t write_cached_bitmap(tv_vhd_t *v)
{
    if (!v->bm_dirty)
        return TV_OK;
    tv_status_t s = wr(v, vhd_block_offset(v, v->bm_block), v->bm, v->bm_bytes);
    if (s == TV_OK)
        v->bm_dirty = false;
    return s;
}

tv_status_t vhd_sync_metadata(tv_vhd_t *v)
{
    tv_status_t s = write_cached_bitmap(v);
    if (s != TV_OK)
        return s;
    if (v->bat_dirty_lo <= v->bat_dirty_hi) {
        /* Data and bitmaps first, then the BAT that points at them. */
        s = tv_st_flush(v->st, v->f);
        if (s == TV_OK)
            s = write_bat_range(v, v->bat_dirty_lo, v->bat_dirty_hi);
        if (s != TV_OK)
            return s;
        v->bat_dirty_lo = 1;
        v->bat_dirty_hi = 0;
    }
    if (v->footer_moved) {
        vhd_footer_encode(&v->footer, v->footer_raw);
        s = wr(v, v->next_free, v->footer_raw, VHD_FOOTER_SIZE);
        if (s == TV_OK && v->file_size > v->next_free + VHD_FOOTER_SIZE) {
            s = v->st->truncate(v->f, v->next_free + VHD_FOOTER_SIZE);
            if (s == TV_OK)
                v->file_size = v->next_free + VHD_FOOTER_SIZE;
        }
        if (s != TV_OK)
            return s;
        v->footer_moved = false;
    }
    return TV_OK;
}

tv_status_t tv_vhd_flush(tv_vhd_t *v)
{
    if (!(v->flags & TV_VHD_OPEN_WRITE))
        return TV_OK;
    tv_status_t s = TV_OK;
    if (is_sparse_kind(v))
        s = vhd_sync_metadata(v);
    return s == TV_OK ? tv_st_flush(v->st, v->f) : s;
}

/* ---- blocks --------------------------------------------------------------- */

tv_status_t vhd_load_bitmap(tv_vhd_t *v, uint32_t b)
{
    if (v->bm_block == b)
        return TV_OK;
    tv_status_t s = write_cached_bitmap(v);
    if (s != TV_OK)
        return s;
    v->bm_block = VHD_NO_BLOCK;
    s = rd(v, vhd_block_offset(v, b), v->bm, v->bm_bytes);
    if (s == TV_OK)
        v->bm_block = b;
    return s;
}

static tv_status_t ensure_zeros(tv_vhd_t *v)
{
    if (v->zeros)
        return TV_OK;
    v->zeros_len = 64 * 1024;
    v->zeros = tv_st_alloc(v->st, v->zeros_len);
    if (!v->zeros)
        return TV_E_NO_MEMORY;
    tv_memset(v->zeros, 0, v->zeros_len);
    return TV_OK;
}

/* Writes zeros over [off, end) where that range lies below limit, the old
 * end of file (beyond it, extending the file yielded zeros). */
static tv_status_t zero_below_eof(tv_vhd_t *v, uint64_t off, uint64_t end, uint64_t limit)
{
    if (end > limit)
        end = limit;
    if (off >= end)
        return TV_OK;
    tv_status_t s = ensure_zeros(v);
    while (s == TV_OK && off < end) {
        size_t n = end - off < v->zeros_len ? (size_t)(end - off) : v->zeros_len;
        s = wr(v, off, v->zeros, n);
        off += n;
    }
    return s;
}

/* Writes buf at off where the file already reads zeros (freshly extended):
 * all-zero 64 KiB pieces are skipped, which keeps the file sparse and saves
 * the copy for scattered data. */
static tv_status_t write_over_zeros(tv_vhd_t *v, uint64_t off, const uint8_t *buf, size_t len)
{
    const size_t piece = 64 * 1024;
    size_t start = 0;
    while (start < len) {
        while (start < len && vhd_is_zero(buf + start, len - start < piece ? len - start : piece))
            start += piece;
        if (start >= len)
            break;
        size_t end = start + piece;
        while (end < len && !vhd_is_zero(buf + end, len - end < piece ? len - end : piece))
            end += piece;
        if (end > len)
            end = len;
        tv_status_t s = wr(v, off + start, buf + start, end - start);
        if (s != TV_OK)
            return s;
        start = end;
    }
    return TV_OK;
}

/* Allocates block b at the end of the file: bitmap bm, data zeros except
 * [in, in+len) taken from data. */
static tv_status_t allocate_block(tv_vhd_t *v, uint32_t b, const uint8_t *bm, const uint8_t *data,
                                  uint32_t in, uint32_t len)
{
    tv_status_t s;
    uint64_t pos = v->next_free;
    /* Keep block data 4 KiB aligned, as Windows does. */
    if (v->block_size >= 4096)
        while ((pos + v->bm_bytes) % 4096)
            pos += VHD_SECTOR;
    if (pos / VHD_SECTOR >= VHD_BAT_UNUSED)
        return TV_E_NO_SPACE;
    uint64_t data_off = pos + v->bm_bytes;
    uint64_t end = data_off + v->block_size;
    bool deferred = v->flags & TV_VHD_OPEN_DEFERRED;

    s = write_cached_bitmap(v);
    if (s != TV_OK)
        return s;
    v->bm_block = VHD_NO_BLOCK;
    uint64_t old_size = v->file_size;
    if (end + VHD_FOOTER_SIZE > old_size) {
        s = v->st->truncate(v->f, end + VHD_FOOTER_SIZE);
        if (s != TV_OK)
            return s;
        v->file_size = end + VHD_FOOTER_SIZE;
    }
    /* Only bytes that existed before may be stale; the extension is zeros. */
    s = zero_below_eof(v, data_off, data_off + in, old_size);
    if (s == TV_OK)
        s = zero_below_eof(v, data_off + in + len, end, old_size);
    if (s == TV_OK)
        s = wr(v, pos, bm, v->bm_bytes);
    if (s == TV_OK && len) {
        /* Below the old end of file the bytes are stale: write them all. */
        uint64_t below = data_off + in >= old_size ? 0 : old_size - (data_off + in);
        if (below > len)
            below = len;
        if (below)
            s = wr(v, data_off + in, data, (size_t)below);
        if (s == TV_OK && below < len)
            s = write_over_zeros(v, data_off + in + below, data + below, len - (size_t)below);
    }
    if (s != TV_OK)
        return s;
    v->next_free = end;
    v->bat[b] = (uint32_t)(pos / VHD_SECTOR);
    if (deferred) {
        v->footer_moved = true;
        if (v->bat_dirty_lo > v->bat_dirty_hi)
            v->bat_dirty_lo = v->bat_dirty_hi = b;
        else if (b < v->bat_dirty_lo)
            v->bat_dirty_lo = b;
        else if (b > v->bat_dirty_hi)
            v->bat_dirty_hi = b;
    } else {
        vhd_footer_encode(&v->footer, v->footer_raw);
        s = wr(v, end, v->footer_raw, VHD_FOOTER_SIZE);
        if (s == TV_OK && v->file_size > end + VHD_FOOTER_SIZE)
            s = v->st->truncate(v->f, end + VHD_FOOTER_SIZE);
        if (s == TV_OK)
            v->file_size = end + VHD_FOOTER_SIZE;
        if (s == TV_OK)
            s = tv_st_flush(v->st, v->f); /* block before the BAT entry */
        if (s == TV_OK)
            s = write_bat_range(v, b, b);
        if (s != TV_OK) {
            v->bat[b] = VHD_BAT_UNUSED;
            return s;
        }
    }
    if (bm != v->bm)
        tv_memcpy(v->bm, bm, v->bm_bytes);
    v->bm_block = b;
    return TV_OK;
}

tv_status_t vhd_write_fresh(tv_vhd_t *v, uint64_t off, const void *buf, size_t len)
{
    return write_over_zeros(v, off, buf, len);
}

tv_status_t vhd_put_block(tv_vhd_t *v, uint32_t b, const uint8_t *bm, const uint8_t *data)
{
    if (b >= v->used_entries || v->bat[b] != VHD_BAT_UNUSED)
        return TV_E_INVALID_ARGUMENT;
    return allocate_block(v, b, bm, data, 0, data ? v->block_size : 0);
}

/* ---- read ----------------------------------------------------------------- */

static tv_status_t chain_read(tv_vhd_t *v, uint64_t off, uint8_t *buf, size_t len);

/* Reads what lies below a differencing disk: the parent, zeros past its end. */
static tv_status_t read_below(tv_vhd_t *v, uint64_t off, uint8_t *buf, size_t len)
{
    if (v->kind != TV_VHD_DIFF) {
        tv_memset(buf, 0, len);
        return TV_OK;
    }
    if (!v->parent)
        return TV_E_PARENT_MISSING;
    uint64_t psize = v->parent->size;
    size_t in = off >= psize ? 0 : (psize - off < len ? (size_t)(psize - off) : len);
    if (in < len)
        tv_memset(buf + in, 0, len - in);
    return in ? chain_read(v->parent, off, buf, in) : TV_OK;
}

static tv_status_t chain_read(tv_vhd_t *v, uint64_t off, uint8_t *buf, size_t len)
{
    if (!is_sparse_kind(v))
        return rd(v, off, buf, len);
    while (len) {
        uint32_t b = (uint32_t)(off / v->block_size);
        uint32_t in = (uint32_t)(off % v->block_size);
        size_t n = v->block_size - in < len ? v->block_size - in : len;
        tv_status_t s;
        if (v->bat[b] == VHD_BAT_UNUSED) {
            s = read_below(v, off, buf, n);
        } else {
            s = vhd_load_bitmap(v, b);
            uint64_t data = vhd_block_offset(v, b) + v->bm_bytes;
            uint32_t first = in / VHD_SECTOR, count = (uint32_t)(n / VHD_SECTOR);
            for (uint32_t i = 0; s == TV_OK && i < count;) {
                bool present = vhd_bit(v->bm, first + i);
                uint32_t j = i + 1;
                while (j < count && vhd_bit(v->bm, first + j) == present)
                    j++;
                uint64_t o = (uint64_t)(first + i) * VHD_SECTOR;
                size_t bytes = (size_t)(j - i) * VHD_SECTOR;
                uint8_t *dst = buf + (size_t)i * VHD_SECTOR;
                s = present ? rd(v, data + o, dst, bytes)
                            : read_below(v, (uint64_t)b * v->block_size + o, dst, bytes);
                i = j;
            }
        }
        if (s != TV_OK)
            return s;
        off += n;
        buf += n;
        len -= n;
    }
    return TV_OK;
}

static tv_status_t check_range(const tv_vhd_t *v, uint64_t off, size_t len)
{
    if (off % VHD_SECTOR || len % VHD_SECTOR || off > v->size || len > v->size - off)
        return TV_E_INVALID_ARGUMENT;
    return TV_OK;
}

tv_status_t tv_vhd_read(tv_vhd_t *v, uint64_t off, void *buf, size_t len)
{
    tv_status_t s = check_range(v, off, len);
    return s == TV_OK ? chain_read(v, off, buf, len) : s;
}

/* ---- write ---------------------------------------------------------------- */

/* Marks sectors [first, first+count) present in block b's bitmap. */
static tv_status_t set_bits(tv_vhd_t *v, uint32_t b, uint32_t first, uint32_t count)
{
    tv_status_t s = vhd_load_bitmap(v, b);
    if (s != TV_OK)
        return s;
    bool changed = false;
    for (uint32_t i = first; i < first + count; i++)
        if (!vhd_bit(v->bm, i)) {
            vhd_set_bit(v->bm, i);
            changed = true;
        }
    if (!changed)
        return TV_OK;
    if (v->flags & TV_VHD_OPEN_DEFERRED) {
        v->bm_dirty = true;
        return TV_OK;
    }
    /* A differencing disk must not expose a sector before its data is down. */
    if (v->kind == TV_VHD_DIFF)
        s = tv_st_flush(v->st, v->f);
    if (s == TV_OK) {
        uint32_t lo = first / 8 / VHD_SECTOR * VHD_SECTOR;
        uint32_t hi = ((first + count - 1) / 8 / VHD_SECTOR + 1) * VHD_SECTOR;
        s = wr(v, vhd_block_offset(v, b) + lo, v->bm + lo, hi - lo);
    }
    return s;
}

tv_status_t tv_vhd_write(tv_vhd_t *v, uint64_t off, const void *data, size_t len)
{
    const uint8_t *buf = data;
    if (!(v->flags & TV_VHD_OPEN_WRITE))
        return TV_E_READ_ONLY;
    tv_status_t s = check_range(v, off, len);
    if (s != TV_OK)
        return s;
    if (!is_sparse_kind(v))
        return wr(v, off, buf, len);
    while (len) {
        uint32_t b = (uint32_t)(off / v->block_size);
        uint32_t in = (uint32_t)(off % v->block_size);
        uint32_t n = v->block_size - in < len ? v->block_size - in : (uint32_t)len;
        if (v->bat[b] == VHD_BAT_UNUSED) {
            if (v->kind == TV_VHD_DYNAMIC && vhd_is_zero(buf, n)) {
                s = TV_OK; /* already reads as zeros */
            } else {
                uint8_t *bm = v->bm;
                s = write_cached_bitmap(v);
                v->bm_block = VHD_NO_BLOCK;
                tv_memset(bm, 0, v->bm_bytes);
                if (v->kind == TV_VHD_DYNAMIC)
                    for (uint32_t i = 0; i < v->block_size / VHD_SECTOR; i++)
                        vhd_set_bit(bm, i);
                else
                    for (uint32_t i = in / VHD_SECTOR; i < (in + n) / VHD_SECTOR; i++)
                        vhd_set_bit(bm, i);
                if (s == TV_OK)
                    s = allocate_block(v, b, bm, buf, in, n);
            }
        } else {
            s = wr(v, vhd_block_offset(v, b) + v->bm_bytes + in, buf, n);
            if (s == TV_OK)
                s = set_bits(v, b, in / VHD_SECTOR, n / VHD_SECTOR);
        }
        if (s != TV_OK)
            return s;
        off += n;
        buf += n;
        len -= n;
    }
    return TV_OK;
}
