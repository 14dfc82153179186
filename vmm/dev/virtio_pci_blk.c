/* The virtio-blk PCI function's registers: see virtio_pci_blk.h. */
#include "dev/virtio_pci_blk.h"

#include "tv_string.h"

#define CAP_VNDR      0x09u   /* PCI vendor-specific capability */
#define CAP_COMMON    1u      /* virtio_pci_cap cfg_type values (4.1.4) */
#define CAP_NOTIFY    2u
#define CAP_ISR       3u
#define CAP_DEVICE    4u
#define CAP_FIRST     0x40u

/* Common configuration layout (4.1.4.3). */
enum {
    CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
    CC_MSIX = 0x10, CC_NUMQ = 0x12, CC_STATUS = 0x14, CC_CFGGEN = 0x15,
    CC_QSELECT = 0x16, CC_QSIZE = 0x18, CC_QMSIX = 0x1a, CC_QENABLE = 0x1c,
    CC_QNOTIFYOFF = 0x1e, CC_QDESC = 0x20, CC_QAVAIL = 0x28, CC_QUSED = 0x30,
    CC_END = 0x38,
};
#define NO_VECTOR 0xffffu

static void put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *b, uint32_t v) { put16(b, (uint16_t)v); put16(b + 2, (uint16_t)(v >> 16)); }

/* struct virtio_pci_cap at off (16 bytes, 20 with the notify multiplier). */
static void add_cap(struct vblk_pci *d, unsigned off, unsigned next, unsigned type, uint32_t bar_off,
                    uint32_t len, bool notify)
{
    uint8_t *c = d->fn.cfg + off;
    c[0] = CAP_VNDR;
    c[1] = (uint8_t)next;
    c[2] = notify ? 20 : 16;
    c[3] = (uint8_t)type;
    c[4] = 0;                       /* BAR 0 */
    put32(c + 8, bar_off);
    put32(c + 12, len);
    if (notify)
        put32(c + 16, 0);           /* notify_off_multiplier: one queue, one address */
}

static void reset(struct vblk_pci *d)
{
    d->accepted = 0;
    d->dev_feature_sel = d->drv_feature_sel = 0;
    d->status = 0;
    d->queue_sel = 0;
    d->queue_size = VIRTQ_MAX_SIZE;
    d->queue_desc = d->queue_avail = d->queue_used = 0;
    d->queue_enabled = false;
    tv_memset(&d->q, 0, sizeof d->q);
    d->isr = 0;
    d->generation++;
}

void vblk_pci_init(struct vblk_pci *d, uint32_t bar_base, uint8_t irq_line, uint64_t sectors,
                   bool read_only, void *ctx, void (*notify)(void *ctx), bool (*idle)(void *ctx))
{
    tv_memset(d, 0, sizeof *d);
    /* 4.1.2.1: vendor 0x1AF4, device 0x1040 + type 2 (block), revision 1
     * for a device without the legacy interface; class 01 80 00 (other
     * mass storage). */
    vpci_func_init(&d->fn, 0x1af4, 0x1042, 0x01800001u, 0x1af4, 0x0002, d);
    vpci_set_bar(&d->fn, 0, VBLK_BAR_SIZE, bar_base);
    put16(d->fn.cfg + PCI_STATUS, PCI_STATUS_CAPS);
    d->fn.cfg[PCI_CAP_PTR] = CAP_FIRST;
    d->fn.cfg[PCI_INT_LINE] = irq_line;
    d->fn.cfg[PCI_INT_PIN] = 1;     /* INTA# */
    add_cap(d, 0x40, 0x50, CAP_COMMON, VBLK_COMMON_OFF, CC_END, false);
    add_cap(d, 0x50, 0x64, CAP_NOTIFY, VBLK_NOTIFY_OFF, 4, true);
    add_cap(d, 0x64, 0x74, CAP_ISR, VBLK_ISR_OFF, 4, false);
    add_cap(d, 0x74, 0x00, CAP_DEVICE, VBLK_DEVCFG_OFF, VBLK_DEVCFG_LEN, false);
    d->capacity = sectors;
    d->read_only = read_only;
    d->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_SEG_MAX |
                 1ull << VIRTIO_BLK_F_FLUSH | (read_only ? 1ull << VIRTIO_BLK_F_RO : 0);
    d->ctx = ctx;
    d->notify = notify;
    d->idle = idle;
    reset(d);
}

static uint64_t pick(uint64_t v, uint64_t off, unsigned size)
{
    v >>= 8 * off;
    return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

/* struct virtio_blk_config (5.2.4): capacity, size_max, seg_max; the rest
 * (geometry, blk_size, topology, ...) reads as zeros, its features not
 * being offered. */
static uint64_t devcfg_read(const struct vblk_pci *d, uint64_t off, unsigned size)
{
    uint8_t cfg[VBLK_DEVCFG_LEN];
    tv_memset(cfg, 0, sizeof cfg);
    put32(cfg, (uint32_t)d->capacity);
    put32(cfg + 4, (uint32_t)(d->capacity >> 32));
    put32(cfg + 12, VBLK_SEG_MAX);
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < sizeof cfg; i++)
        v |= (uint64_t)cfg[off + i] << (8 * i);
    return v;
}

static uint64_t common_read(struct vblk_pci *d, uint64_t off, unsigned size)
{
    bool q0 = d->queue_sel == 0;
    switch (size == 4 ? off : ~0ull) {
    case CC_DFSELECT: return d->dev_feature_sel;
    case CC_DF: return d->dev_feature_sel < 2 ? (uint32_t)(d->offered >> (32 * d->dev_feature_sel)) : 0;
    case CC_GFSELECT: return d->drv_feature_sel;
    case CC_GF: return d->drv_feature_sel < 2 ? (uint32_t)(d->accepted >> (32 * d->drv_feature_sel)) : 0;
    case CC_QDESC: case CC_QDESC + 4:
        return q0 ? pick(d->queue_desc, off - CC_QDESC, 4) : 0;
    case CC_QAVAIL: case CC_QAVAIL + 4:
        return q0 ? pick(d->queue_avail, off - CC_QAVAIL, 4) : 0;
    case CC_QUSED: case CC_QUSED + 4:
        return q0 ? pick(d->queue_used, off - CC_QUSED, 4) : 0;
    }
    switch (size == 2 ? off : ~0ull) {
    case CC_MSIX: case CC_QMSIX: return NO_VECTOR;
    case CC_NUMQ: return 1;
    case CC_QSELECT: return d->queue_sel;
    case CC_QSIZE: return q0 ? d->queue_size : 0;
    case CC_QENABLE: return q0 && d->queue_enabled;
    case CC_QNOTIFYOFF: return 0;
    }
    if (size == 1 && off == CC_STATUS) {
        /* A reset takes effect once the serving thread has let go of the
         * old queue: until then the old status reads back (4.1.4.3.2: the
         * driver waits for 0). */
        if (d->resetting && d->idle && !d->idle(d->ctx))
            return d->stale_status;
        d->resetting = false;
        return d->status;
    }
    if (size == 1 && off == CC_CFGGEN)
        return d->config_gen;
    return 0;
}

static void set64(uint64_t *f, uint64_t off, unsigned size, uint64_t v)
{
    if (size == 8) {
        *f = v;
    } else if (size == 4) {
        uint64_t shift = 8 * off;
        *f = (*f & ~(0xffffffffull << shift)) | ((v & 0xffffffffull) << shift);
    }
}

static void write_status(struct vblk_pci *d, uint8_t v)
{
    if (v == 0) {
        d->stale_status = d->status ? d->status : 0;
        d->resetting = d->stale_status != 0;
        reset(d);
        return;
    }
    /* FEATURES_OK sticks only for a subset of the offered features that
     * includes VERSION_1 (3.1.1: the driver reads it back). */
    if ((v & VIRTIO_S_FEATURES_OK) && !(d->status & VIRTIO_S_FEATURES_OK) &&
        ((d->accepted & ~d->offered) || !(d->accepted >> VIRTIO_F_VERSION_1 & 1)))
        v &= (uint8_t)~VIRTIO_S_FEATURES_OK;
    d->status = (uint8_t)(v | (d->status & VIRTIO_S_NEEDS_RESET));
    if ((d->status & VIRTIO_S_DRIVER_OK) && d->notify)
        d->notify(d->ctx);
}

static void common_write(struct vblk_pci *d, uint64_t off, unsigned size, uint64_t v)
{
    bool q0 = d->queue_sel == 0, q_locked = !q0 || d->queue_enabled;
    bool feat_locked = (d->status & VIRTIO_S_FEATURES_OK) != 0;
    if (size == 4) {
        switch (off) {
        case CC_DFSELECT: d->dev_feature_sel = (uint32_t)v; return;
        case CC_GFSELECT: d->drv_feature_sel = (uint32_t)v; return;
        case CC_GF:
            if (d->drv_feature_sel < 2 && !feat_locked)
                set64(&d->accepted, 4 * d->drv_feature_sel, 4, v);
            return;
        }
        if (off >= CC_QDESC && off < CC_END && !q_locked) {
            uint64_t *f = off < CC_QAVAIL ? &d->queue_desc : off < CC_QUSED ? &d->queue_avail : &d->queue_used;
            set64(f, off & 7, 4, v);
        }
        return;
    }
    if (size == 8 && off >= CC_QDESC && off < CC_END && !(off & 7) && !q_locked) {
        uint64_t *f = off < CC_QAVAIL ? &d->queue_desc : off < CC_QUSED ? &d->queue_avail : &d->queue_used;
        *f = v;
        return;
    }
    if (size == 2) {
        switch (off) {
        case CC_QSELECT: d->queue_sel = (uint16_t)v; return;
        case CC_QSIZE:
            if (!q_locked)
                d->queue_size = (uint16_t)v;
            return;
        case CC_QENABLE:
            /* Only 1 may be written (4.1.4.3.2); the layout is judged by
             * the serving thread against guest memory. */
            if (!q_locked && v == 1) {
                d->queue_enabled = true;
                d->q = (struct virtq){ .size = d->queue_size, .desc = d->queue_desc,
                                       .avail = d->queue_avail, .used = d->queue_used };
                d->generation++;
            }
            return;
        }
        return;
    }
    if (size == 1 && off == CC_STATUS)
        write_status(d, (uint8_t)v);
}

uint64_t vblk_pci_mmio_read(struct vblk_pci *d, uint64_t off, unsigned size)
{
    if (off < VBLK_COMMON_OFF + CC_END)
        return common_read(d, off - VBLK_COMMON_OFF, size);
    if (off >= VBLK_ISR_OFF && off < VBLK_ISR_OFF + 4) {
        /* Reading the ISR clears it and deasserts INTA# (4.1.4.5). */
        if (off != VBLK_ISR_OFF)
            return 0;
        uint8_t v = d->isr;
        d->isr = 0;
        uint16_t st = (uint16_t)vpci_cfg_read(&d->fn, PCI_STATUS, 2) & ~PCI_STATUS_INTX;
        put16(d->fn.cfg + PCI_STATUS, st);
        return v;
    }
    if (off >= VBLK_DEVCFG_OFF && off < VBLK_DEVCFG_OFF + VBLK_DEVCFG_LEN)
        return devcfg_read(d, off - VBLK_DEVCFG_OFF, size);
    return 0;
}

void vblk_pci_mmio_write(struct vblk_pci *d, uint64_t off, unsigned size, uint64_t value)
{
    if (off < VBLK_COMMON_OFF + CC_END) {
        common_write(d, off - VBLK_COMMON_OFF, size, value);
        return;
    }
    if (off >= VBLK_NOTIFY_OFF && off < VBLK_NOTIFY_OFF + 4) {
        /* Any write is a notification of the one queue (4.1.4.4). */
        if ((d->status & VIRTIO_S_DRIVER_OK) && d->queue_enabled && d->notify)
            d->notify(d->ctx);
    }
    /* The ISR and the device configuration are read-only. */
}

bool vblk_pci_take_queue(const struct vblk_pci *d, struct virtq *copy, uint32_t *gen)
{
    if (!(d->status & VIRTIO_S_DRIVER_OK) || (d->status & VIRTIO_S_NEEDS_RESET) ||
        !d->queue_enabled || d->q.broken)
        return false;
    *copy = d->q;
    *gen = d->generation;
    return true;
}

bool vblk_pci_put_queue(struct vblk_pci *d, const struct virtq *copy, uint32_t gen, bool raise)
{
    if (gen != d->generation)
        return false;
    d->q.last_avail = copy->last_avail;
    d->q.used_idx = copy->used_idx;
    d->q.broken = copy->broken;
    if (copy->broken) {
        d->status |= VIRTIO_S_NEEDS_RESET;
        d->config_gen++;
    }
    if (!raise)
        return false;
    bool was = d->isr & 1;
    d->isr |= 1;
    uint16_t st = (uint16_t)vpci_cfg_read(&d->fn, PCI_STATUS, 2) | PCI_STATUS_INTX;
    put16(d->fn.cfg + PCI_STATUS, st);
    return !was && !(vpci_cfg_read(&d->fn, PCI_COMMAND, 2) & PCI_CMD_INTX_OFF);
}
