/* Reads and writes at 512-byte granularity through the differencing chain.
 * New blocks are allocated by vhd_allocate_block (vhd_block.c), which keeps
 * the crash order; a differencing disk flushes data before the bitmap bits
 * that expose it. */
#include "vhd_internal.h"

#include "tv_string.h"

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
    if (!vhd_is_sparse(v))
        return vhd_rd(v, off, buf, len);
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
                s = present ? vhd_rd(v, data + o, dst, bytes)
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
        s = vhd_wr(v, vhd_block_offset(v, b) + lo, v->bm + lo, hi - lo);
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
    if (!vhd_is_sparse(v))
        return vhd_wr(v, off, buf, len);
    while (len) {
        uint32_t b = (uint32_t)(off / v->block_size);
        uint32_t in = (uint32_t)(off % v->block_size);
        uint32_t n = v->block_size - in < len ? v->block_size - in : (uint32_t)len;
        if (v->bat[b] == VHD_BAT_UNUSED) {
            if (v->kind == TV_VHD_DYNAMIC && vhd_is_zero(buf, n)) {
                s = TV_OK; /* already reads as zeros */
            } else {
                uint8_t *bm = v->bm;
                s = vhd_write_cached_bitmap(v);
                v->bm_block = VHD_NO_BLOCK;
                tv_memset(bm, 0, v->bm_bytes);
                if (v->kind == TV_VHD_DYNAMIC)
                    for (uint32_t i = 0; i < v->block_size / VHD_SECTOR; i++)
                        vhd_set_bit(bm, i);
                else
                    for (uint32_t i = in / VHD_SECTOR; i < (in + n) / VHD_SECTOR; i++)
                        vhd_set_bit(bm, i);
                if (s == TV_OK)
                    s = vhd_allocate_block(v, b, bm, buf, in, n);
            }
        } else {
            s = vhd_wr(v, vhd_block_offset(v, b) + v->bm_bytes + in, buf, n);
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
