/* Split-virtqueue arithmetic: see virtq.h. */
#include "drivers/block/virtq.h"

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

bool virtq_layout(uint16_t size, struct virtq_layout *out)
{
    if (size == 0 || size > 32768 || (size & (size - 1)))
        return false;
    out->desc_off = 0;
    out->avail_off = 16u * size;
    /* flags, idx, ring[size], used_event */
    out->used_off = align_up(out->avail_off + 6u + 2u * size, 4);
    /* flags, idx, ring[size] of 8 bytes, avail_event */
    out->total = align_up(out->used_off + 6u + 8u * size, 4096);
    return true;
}

int virtq_used_pending(uint16_t used_idx, uint16_t last_seen, uint16_t size)
{
    uint16_t n = (uint16_t)(used_idx - last_seen);
    return n > size ? -1 : n;
}

uint16_t virtq_blk_chain(struct virtq_desc *d, unsigned slot, enum virtq_blk_kind kind,
                         uint64_t hdr_pa, uint64_t data_pa, uint32_t data_len,
                         uint64_t status_pa)
{
    uint16_t h = (uint16_t)(3 * slot), data = (uint16_t)(h + 1), st = (uint16_t)(h + 2);
    d[h].addr = hdr_pa;
    d[h].len = 16;
    d[h].flags = VIRTQ_DESC_F_NEXT;
    d[h].next = kind == VIRTQ_BLK_FLUSH ? st : data;
    d[data].addr = data_pa;
    d[data].len = data_len;
    d[data].flags = (uint16_t)(VIRTQ_DESC_F_NEXT | (kind == VIRTQ_BLK_READ ? VIRTQ_DESC_F_WRITE : 0));
    d[data].next = st;
    d[st].addr = status_pa;
    d[st].len = 1;
    d[st].flags = VIRTQ_DESC_F_WRITE;
    d[st].next = 0;
    return h;
}

int virtq_blk_slot(uint32_t id, unsigned slots)
{
    if (id % 3 || id / 3 >= slots)
        return -1;
    return (int)(id / 3);
}
