/* Metadata writes and crash-ordered block allocation.
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

/* ---- metadata writes ------------------------------------------------------ */

tv_status_t vhd_write_footers(tv_vhd_t *v)
{
    vhd_footer_encode(&v->footer, v->footer_raw);
    if (v->kind == TV_VHD_FIXED)
        return vhd_wr(v, v->size, v->footer_raw, VHD_FOOTER_SIZE);
    tv_status_t s = vhd_wr(v, 0, v->footer_raw, VHD_FOOTER_SIZE);
    if (s == TV_OK)
        s = vhd_wr(v, v->next_free, v->footer_raw, VHD_FOOTER_SIZE);
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
    return vhd_wr(v, VHD_HEADER_OFFSET, v->header_raw, VHD_HEADER_SIZE);
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
        tv_status_t s = vhd_wr(v, v->header.bat_offset + (uint64_t)i * 4, buf, (size_t)n * 4);
        if (s != TV_OK)
            return s;
        i += n;
    }
    return TV_OK;
}

tv_status_t vhd_write_cached_bitmap(tv_vhd_t *v)
{
    if (!v->bm_dirty)
        return TV_OK;
    tv_status_t s = vhd_wr(v, vhd_block_offset(v, v->bm_block), v->bm, v->bm_bytes);
    if (s == TV_OK)
        v->bm_dirty = false;
    return s;
}

tv_status_t vhd_sync_metadata(tv_vhd_t *v)
{
    tv_status_t s = vhd_write_cached_bitmap(v);
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
        s = vhd_wr(v, v->next_free, v->footer_raw, VHD_FOOTER_SIZE);
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
    if (vhd_is_sparse(v))
        s = vhd_sync_metadata(v);
    return s == TV_OK ? tv_st_flush(v->st, v->f) : s;
}

/* ---- blocks --------------------------------------------------------------- */

tv_status_t vhd_load_bitmap(tv_vhd_t *v, uint32_t b)
{
    if (v->bm_block == b)
        return TV_OK;
    tv_status_t s = vhd_write_cached_bitmap(v);
    if (s != TV_OK)
        return s;
    v->bm_block = VHD_NO_BLOCK;
    s = vhd_rd(v, vhd_block_offset(v, b), v->bm, v->bm_bytes);
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
        s = vhd_wr(v, off, v->zeros, n);
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
        tv_status_t s = vhd_wr(v, off + start, buf + start, end - start);
        if (s != TV_OK)
            return s;
        start = end;
    }
    return TV_OK;
}

/* Undoes a block allocation that failed before its BAT entry was written
 * (a full disk fails writes into the freshly extended, sparse file): back
 * to the old end, with the end footer where it was (the new block's bitmap
 * may have overwritten it), so the image stays consistent. */
static void undo_allocation(tv_vhd_t *v, uint64_t old_size, bool deferred)
{
    uint64_t keep = deferred ? old_size : v->next_free + VHD_FOOTER_SIZE;
    if (v->file_size != keep && v->st->truncate(v->f, keep) == TV_OK)
        v->file_size = keep;
    if (deferred)
        return; /* a fresh or journaled output: its footer is written at flush */
    vhd_footer_encode(&v->footer, v->footer_raw);
    if (vhd_wr(v, v->next_free, v->footer_raw, VHD_FOOTER_SIZE) == TV_OK)
        tv_st_flush(v->st, v->f);
}

/* Allocates block b at the end of the file: bitmap bm, data zeros except
 * [in, in+len) taken from data. */
tv_status_t vhd_allocate_block(tv_vhd_t *v, uint32_t b, const uint8_t *bm, const uint8_t *data,
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

    s = vhd_write_cached_bitmap(v);
    if (s != TV_OK)
        return s;
    v->bm_block = VHD_NO_BLOCK;
    uint64_t old_size = v->file_size;
    if (end + VHD_FOOTER_SIZE > old_size) {
        s = v->st->truncate(v->f, end + VHD_FOOTER_SIZE);
        if (s != TV_OK) {
            undo_allocation(v, old_size, deferred);
            return s;
        }
        v->file_size = end + VHD_FOOTER_SIZE;
    }
    /* Only bytes that existed before may be stale; the extension is zeros. */
    s = zero_below_eof(v, data_off, data_off + in, old_size);
    if (s == TV_OK)
        s = zero_below_eof(v, data_off + in + len, end, old_size);
    if (s == TV_OK)
        s = vhd_wr(v, pos, bm, v->bm_bytes);
    if (s == TV_OK && len) {
        /* Below the old end of file the bytes are stale: write them all. */
        uint64_t below = data_off + in >= old_size ? 0 : old_size - (data_off + in);
        if (below > len)
            below = len;
        if (below)
            s = vhd_wr(v, data_off + in, data, (size_t)below);
        if (s == TV_OK && below < len)
            s = write_over_zeros(v, data_off + in + below, data + below, len - (size_t)below);
    }
    if (s != TV_OK) {
        undo_allocation(v, old_size, deferred);
        return s;
    }
    uint64_t old_next = v->next_free;
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
        s = vhd_wr(v, end, v->footer_raw, VHD_FOOTER_SIZE);
        if (s == TV_OK && v->file_size > end + VHD_FOOTER_SIZE)
            s = v->st->truncate(v->f, end + VHD_FOOTER_SIZE);
        if (s == TV_OK)
            v->file_size = end + VHD_FOOTER_SIZE;
        if (s == TV_OK)
            s = tv_st_flush(v->st, v->f); /* block before the BAT entry */
        if (s != TV_OK) {
            v->bat[b] = VHD_BAT_UNUSED;
            v->next_free = old_next;
            undo_allocation(v, old_size, deferred);
            return s;
        }
        s = write_bat_range(v, b, b);
        if (s != TV_OK) {
            /* The entry may be on disk: keep the block and its footer. */
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
    return vhd_allocate_block(v, b, bm, data, 0, data ? v->block_size : 0);
}
