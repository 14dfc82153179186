/* virtio-blk requests over a split virtqueue: see virtio_blk_queue.h. */
#include "dev/virtio_blk_queue.h"

#include "tv_string.h"

#define DESC_BYTES 16u
#define HDR_BYTES  16u  /* struct virtio_blk_req header: type, reserved, sector (5.2.6) */

/* Little-endian fields of guest structures (the rings are little-endian
 * in virtio 1.x, 2.4). */
static uint16_t le16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
static uint32_t le32(const uint8_t *b) { return (uint32_t)le16(b) | (uint32_t)le16(b + 2) << 16; }
static uint64_t le64(const uint8_t *b) { return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32; }
static void put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *b, uint32_t v) { put16(b, (uint16_t)v); put16(b + 2, (uint16_t)(v >> 16)); }

static bool is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

static bool in_ram(const struct vblk_mem *m, uint64_t gpa, uint64_t len)
{
    return gpa + len >= gpa && m->range_ok(m->ctx, gpa, len);
}

bool virtq_layout_ok(const struct virtq *q, const struct vblk_mem *m)
{
    if (!is_pow2(q->size) || q->size > VIRTQ_MAX_SIZE)
        return false;
    /* 2.6: descriptor table 16-byte aligned, available ring 2, used ring 4. */
    if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
        return false;
    return in_ram(m, q->desc, (uint64_t)DESC_BYTES * q->size) &&
           in_ram(m, q->avail, 6 + 2ull * q->size) && in_ram(m, q->used, 6 + 8ull * q->size);
}

/* One descriptor of the chain, kept while walking it. */
struct raw_desc {
    uint64_t addr;
    uint32_t len;
    bool write;
};

/* Reads n bytes starting at byte skip of the readable descriptors. */
static tv_status_t gather(const struct vblk_mem *m, const struct raw_desc *d, unsigned nd,
                          uint64_t skip, void *dst, uint32_t n)
{
    uint8_t *out = dst;
    for (unsigned i = 0; i < nd && n; i++) {
        if (d[i].write)
            break;
        if (skip >= d[i].len) {
            skip -= d[i].len;
            continue;
        }
        uint32_t take = d[i].len - (uint32_t)skip < n ? d[i].len - (uint32_t)skip : n;
        tv_status_t st = m->read(m->ctx, d[i].addr + skip, out, take);
        if (st != TV_OK)
            return st;
        out += take;
        n -= take;
        skip = 0;
    }
    return n ? TV_E_INVALID_ARGUMENT : TV_OK;
}

/* Appends [gpa, gpa+len) to the request's data segments. */
static void add_seg(struct vblk_req *r, uint64_t gpa, uint64_t len)
{
    if (!len)
        return;
    if (r->nseg == VBLK_SEG_MAX) {
        r->valid = false;            /* more segments than seg_max offered */
        return;
    }
    r->seg[r->nseg].gpa = gpa;
    r->seg[r->nseg].len = (uint32_t)len;
    r->nseg++;
    r->data_len += len;
}

static void refuse(struct vblk_req *r, uint8_t status)
{
    r->valid = false;
    r->status = status;
}

void vblk_parse(const struct virtq *q, const struct vblk_mem *m, const struct vblk_disk *d,
                uint16_t head, struct vblk_req *r)
{
    struct raw_desc chain[VIRTQ_MAX_SIZE];
    unsigned nd = 0;
    uint64_t readable = 0, writable = 0;
    r->head = head;
    r->type = 0;
    r->sector = 0;
    r->nseg = 0;
    r->data_len = 0;
    r->status_gpa = 0;
    r->has_status = false;
    r->status = VIRTIO_BLK_S_IOERR;
    r->valid = false;

    /* Walk the chain: every index inside the table, at most size links
     * (a longer chain loops), no indirect tables (not offered), device-
     * writable descriptors after the readable ones (2.6.4.2). */
    uint16_t idx = head;
    for (;;) {
        if (idx >= q->size || nd >= q->size || nd >= VIRTQ_MAX_SIZE)
            return;
        uint8_t raw[DESC_BYTES];
        if (m->read(m->ctx, q->desc + (uint64_t)idx * DESC_BYTES, raw, sizeof raw) != TV_OK)
            return;
        uint16_t flags = le16(raw + 12);
        struct raw_desc *c = &chain[nd++];
        c->addr = le64(raw);
        c->len = le32(raw + 8);
        c->write = (flags & VIRTQ_DESC_F_WRITE) != 0;
        if (flags & VIRTQ_DESC_F_INDIRECT)
            return;
        if (!c->write && writable)
            return;
        if (c->write)
            writable += c->len;
        else
            readable += c->len;
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
        idx = le16(raw + 14);
    }

    /* The status byte is the last byte of the last device-writable
     * descriptor (5.2.6): without one the request cannot be answered. */
    unsigned last_w = nd;
    for (unsigned i = nd; i-- > 0;)
        if (chain[i].write && chain[i].len) {
            last_w = i;
            break;
        }
    if (last_w == nd)
        return;
    uint64_t sgpa = chain[last_w].addr + chain[last_w].len - 1;
    if (sgpa < chain[last_w].addr || !in_ram(m, sgpa, 1))
        return;
    r->status_gpa = sgpa;
    r->has_status = true;

    uint8_t hdr[HDR_BYTES];
    if (readable < HDR_BYTES || gather(m, chain, nd, 0, hdr, HDR_BYTES) != TV_OK)
        return;                                     /* IOERR */
    r->type = le32(hdr);
    r->sector = le64(hdr + 8);

    /* The data: readable bytes after the header (OUT), or writable bytes
     * before the status byte (IN, GET_ID). */
    r->valid = true;
    switch (r->type) {
    case VIRTIO_BLK_T_OUT:
        if (writable != 1) {
            refuse(r, VIRTIO_BLK_S_IOERR);
            return;
        }
        for (unsigned i = 0, skip = HDR_BYTES; i < nd && !chain[i].write; i++) {
            uint32_t s = skip < chain[i].len ? skip : chain[i].len;
            skip -= s;
            add_seg(r, chain[i].addr + s, chain[i].len - s);
        }
        break;
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_GET_ID:
        if (readable != HDR_BYTES) {
            refuse(r, VIRTIO_BLK_S_IOERR);
            return;
        }
        for (unsigned i = 0; i < nd; i++)
            if (chain[i].write)
                add_seg(r, chain[i].addr, chain[i].len - (i == last_w ? 1u : 0u));
        break;
    case VIRTIO_BLK_T_FLUSH:
        break;
    default:
        refuse(r, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    if (!r->valid) {
        refuse(r, VIRTIO_BLK_S_IOERR);              /* too many segments */
        return;
    }
    for (uint32_t i = 0; i < r->nseg; i++)
        if (!in_ram(m, r->seg[i].gpa, r->seg[i].len)) {
            refuse(r, VIRTIO_BLK_S_IOERR);
            return;
        }
    if (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT) {
        uint64_t n = r->data_len / VBLK_SECTOR;
        if (r->data_len % VBLK_SECTOR || r->sector > d->sectors || n > d->sectors - r->sector ||
            (r->type == VIRTIO_BLK_T_OUT && d->read_only))
            refuse(r, VIRTIO_BLK_S_IOERR);
    }
}

/* Copies between the bounce buffer and the segments, from byte pos of the
 * data on (to_guest: bounce -> guest). */
static tv_status_t copy_segs(const struct vblk_req *r, const struct vblk_mem *m, uint64_t pos,
                             uint8_t *buf, size_t n, bool to_guest)
{
    for (uint32_t i = 0; i < r->nseg && n; i++) {
        if (pos >= r->seg[i].len) {
            pos -= r->seg[i].len;
            continue;
        }
        size_t take = r->seg[i].len - pos < n ? (size_t)(r->seg[i].len - pos) : n;
        uint64_t gpa = r->seg[i].gpa + pos;
        tv_status_t st = to_guest ? m->write(m->ctx, gpa, buf, take) : m->read(m->ctx, gpa, buf, take);
        if (st != TV_OK)
            return st;
        buf += take;
        n -= take;
        pos = 0;
    }
    return n ? TV_E_INVALID_ARGUMENT : TV_OK;
}

uint8_t vblk_perform(const struct vblk_req *r, const struct vblk_mem *m, const struct vblk_disk *d,
                     uint8_t *bounce, size_t bounce_len, uint32_t *written)
{
    *written = 0;
    if (!r->valid)
        return r->status;
    tv_status_t st = TV_OK;
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        for (uint64_t pos = 0; st == TV_OK && pos < r->data_len;) {
            size_t n = r->data_len - pos < bounce_len ? (size_t)(r->data_len - pos) : bounce_len;
            uint64_t off = r->sector * VBLK_SECTOR + pos;
            if (r->type == VIRTIO_BLK_T_IN) {
                st = d->read(d->ctx, off, bounce, n);
                if (st == TV_OK)
                    st = copy_segs(r, m, pos, bounce, n, true);
                if (st == TV_OK)
                    *written += (uint32_t)n;
            } else {
                st = copy_segs(r, m, pos, bounce, n, false);
                if (st == TV_OK)
                    st = d->write(d->ctx, off, bounce, n);
            }
            pos += n;
        }
        break;
    case VIRTIO_BLK_T_FLUSH:
        st = d->flush(d->ctx);
        break;
    case VIRTIO_BLK_T_GET_ID: {
        uint8_t id[VBLK_ID_BYTES];
        tv_memcpy(id, d->id, sizeof id);
        size_t n = r->data_len < sizeof id ? (size_t)r->data_len : sizeof id;
        st = copy_segs(r, m, 0, id, n, true);
        if (st == TV_OK)
            *written = (uint32_t)n;
        break;
    }
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
    return st == TV_OK ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

static bool push_used(struct virtq *q, const struct vblk_mem *m, uint16_t head, uint32_t len)
{
    uint8_t e[8];
    put32(e, head);
    put32(e + 4, len);
    uint64_t at = q->used + 4 + 8ull * (q->used_idx % q->size);
    if (m->write(m->ctx, at, e, sizeof e) != TV_OK)
        return false;
    /* The entry is visible before the index that publishes it (2.6.8). */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    uint8_t idx[2];
    put16(idx, (uint16_t)(q->used_idx + 1));
    if (m->write(m->ctx, q->used + 2, idx, sizeof idx) != TV_OK)
        return false;
    q->used_idx++;
    return true;
}

unsigned virtq_serve(struct virtq *q, const struct vblk_mem *m, const struct vblk_disk *d,
                     struct vblk_req *scratch, uint8_t *bounce, size_t bounce_len, unsigned max,
                     bool *interrupt)
{
    *interrupt = false;
    if (q->broken || !is_pow2(q->size) || q->size > VIRTQ_MAX_SIZE)
        return 0;
    unsigned done = 0;
    while (done < max) {
        uint8_t b[2];
        if (m->read(m->ctx, q->avail + 2, b, 2) != TV_OK) {
            q->broken = true;
            break;
        }
        uint16_t pending = (uint16_t)(le16(b) - q->last_avail);
        if (!pending)
            break;
        if (pending > q->size) {
            q->broken = true;    /* more available than the ring holds */
            break;
        }
        /* The ring entries are read after the index that published them. */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (m->read(m->ctx, q->avail + 4 + 2ull * (q->last_avail % q->size), b, 2) != TV_OK) {
            q->broken = true;
            break;
        }
        uint16_t head = le16(b);
        if (head >= q->size) {
            q->broken = true;
            break;
        }
        vblk_parse(q, m, d, head, scratch);
        uint32_t written = 0;
        uint8_t status = vblk_perform(scratch, m, d, bounce, bounce_len, &written);
        uint32_t used_len = 0;
        if (scratch->has_status && m->write(m->ctx, scratch->status_gpa, &status, 1) == TV_OK)
            used_len = written + 1;
        q->last_avail++;
        if (!push_used(q, m, head, used_len)) {
            q->broken = true;
            break;
        }
        done++;
    }
    if (done) {
        uint8_t f[2];
        *interrupt = m->read(m->ctx, q->avail, f, 2) != TV_OK || !(le16(f) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    return done;
}
