/* virtio-blk over modern virtio PCI (virtio 1.x, 4.1 and 5.2): one request
 * queue, requests in slots of three descriptors, MSI-X completion (a poll
 * timer when the device has no usable MSI-X). */
#include "drivers/block/block.h"
#include "drivers/block/drivers.h"
#include "drivers/block/virtq.h"
#include "drivers/pci/pci.h"
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "tv_fmt.h"
#include "tv_string.h"

/* Common configuration (4.1.4.3). */
#define CC_DFSELECT   0x00
#define CC_DF         0x04
#define CC_GFSELECT   0x08
#define CC_GF         0x0c
#define CC_MSIX       0x10
#define CC_STATUS     0x14
#define CC_Q_SELECT   0x16
#define CC_Q_SIZE     0x18
#define CC_Q_MSIX     0x1a
#define CC_Q_ENABLE   0x1c
#define CC_Q_NOFF     0x1e
#define CC_Q_DESC     0x20
#define CC_Q_DRIVER   0x28
#define CC_Q_DEVICE   0x30

#define ST_ACK         1
#define ST_DRIVER      2
#define ST_DRIVER_OK   4
#define ST_FEATURES_OK 8
#define ST_FAILED      128
#define NO_VECTOR      0xffff

#define F_SIZE_MAX   (1ull << 1)
#define F_RO         (1ull << 5)
#define F_BLK_SIZE   (1ull << 6)
#define F_FLUSH      (1ull << 9)
#define F_VERSION_1  (1ull << 32)

#define T_IN    0
#define T_OUT   1
#define T_FLUSH 4

#define VBLK_SLOTS     8
#define VBLK_MAX_SECT  128                  /* 64 KiB bounce buffer per slot */
#define VBLK_QSIZE_MAX 32

struct vblk_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct vblk_slot {
    struct blk_req *req;
    bool busy, abandoned;
    struct vblk_hdr *hdr;
    volatile uint8_t *status;
    uint8_t *bounce;
};

struct vblk {
    struct blk_dev blk;
    struct pci_dev *pci;
    volatile uint8_t *common, *notify, *devcfg;
    uint16_t qsize;
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t last_used, avail_idx;
    unsigned nslots;
    struct vblk_slot slot[VBLK_SLOTS];
};

static unsigned vblk_count;

static inline uint8_t r8(volatile uint8_t *b, unsigned o) { return *(volatile uint8_t *)(b + o); }
static inline uint16_t r16(volatile uint8_t *b, unsigned o) { return *(volatile uint16_t *)(b + o); }
static inline uint32_t r32(volatile uint8_t *b, unsigned o) { return *(volatile uint32_t *)(b + o); }
static inline void w8(volatile uint8_t *b, unsigned o, uint8_t v) { *(volatile uint8_t *)(b + o) = v; }
static inline void w16(volatile uint8_t *b, unsigned o, uint16_t v) { *(volatile uint16_t *)(b + o) = v; }
static inline void w32(volatile uint8_t *b, unsigned o, uint32_t v) { *(volatile uint32_t *)(b + o) = v; }
static inline void w64(volatile uint8_t *b, unsigned o, uint64_t v)
{
    w32(b, o, (uint32_t)v);
    w32(b, o + 4, (uint32_t)(v >> 32));
}

static tv_status_t vblk_start(struct blk_dev *bd, struct blk_req *req)
{
    struct vblk *v = bd->priv;
    unsigned s = 0;
    while (s < v->nslots && v->slot[s].busy)
        s++;
    if (s == v->nslots)
        return TV_E_BUSY;           /* cannot happen: in_flight < queue_depth */
    struct vblk_slot *sl = &v->slot[s];
    uint32_t bytes = req->count * 512u;
    enum virtq_blk_kind kind = req->op == BLK_READ ? VIRTQ_BLK_READ :
                               req->op == BLK_WRITE ? VIRTQ_BLK_WRITE : VIRTQ_BLK_FLUSH;
    sl->hdr->type = kind == VIRTQ_BLK_READ ? T_IN : kind == VIRTQ_BLK_WRITE ? T_OUT : T_FLUSH;
    sl->hdr->reserved = 0;
    sl->hdr->sector = req->op == BLK_FLUSH ? 0 : req->lba;
    *sl->status = 0xff;
    if (req->op == BLK_WRITE)
        tv_memcpy(sl->bounce, req->buf, bytes);
    uint16_t head = virtq_blk_chain(v->desc, s, kind, virt_to_phys(sl->hdr),
                                    virt_to_phys(sl->bounce), bytes,
                                    virt_to_phys((const void *)sl->status));
    sl->busy = true;
    sl->abandoned = false;
    sl->req = req;
    req->slot = (int)s;
    v->avail->ring[v->avail_idx % v->qsize] = head;
    /* The ring entry before the index, the index before the notification
     * (2.7.13): stores are ordered on x86, the fences keep the compiler
     * from reordering them and drain to memory before the MMIO write. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    v->avail_idx++;
    *(volatile uint16_t *)&v->avail->idx = v->avail_idx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#ifdef TV_TEST_BUILD
    if (bd->fault_no_doorbell)
        return TV_OK;
#endif
    w16(v->notify, 0, 0);           /* queue 0 */
    return TV_OK;
}

static void vblk_reap(struct blk_dev *bd)
{
    struct vblk *v = bd->priv;
    uint16_t used_idx = __atomic_load_n(&v->used->idx, __ATOMIC_ACQUIRE);
    int n = virtq_used_pending(used_idx, v->last_used, v->qsize);
    if (n < 0) {
        log_err("blk %s: device moved its used index by more than the queue size; ignored",
                bd->name);
        v->last_used = used_idx;
        return;
    }
    for (; n > 0; n--, v->last_used++) {
        uint32_t id = v->used->ring[v->last_used % v->qsize].id;
        int s = virtq_blk_slot(id, v->nslots);
        if (s < 0 || !v->slot[s].busy) {
            log_err("blk %s: device completed descriptor %u that was not in flight", bd->name, id);
            continue;
        }
        struct vblk_slot *sl = &v->slot[s];
        sl->busy = false;
        if (sl->abandoned) {
            sl->abandoned = false;
            blk_slot_freed(bd);
            continue;
        }
        struct blk_req *req = sl->req;
        sl->req = 0;
        uint8_t st = *sl->status;
        if (st == 0 && req->op == BLK_READ)
            tv_memcpy(req->buf, sl->bounce, req->count * 512u);
        blk_complete(bd, req, st == 0 ? TV_OK : st == 2 ? TV_E_UNSUPPORTED : TV_E_IO);
    }
}

static void vblk_abandon(struct blk_dev *bd, struct blk_req *req)
{
    struct vblk *v = bd->priv;
    if (req->slot >= 0 && (unsigned)req->slot < v->nslots) {
        v->slot[req->slot].abandoned = true;
        v->slot[req->slot].req = 0;
    }
    req->slot = -1;
}

static const struct blk_ops vblk_ops = { vblk_start, vblk_reap, vblk_abandon };

static void vblk_irq(void *ctx) { blk_irq(ctx); }

static bool find_cap(struct pci_dev *d, uint8_t type, struct virtio_pci_cap *out)
{
    for (uint8_t off = pci_find_cap(d, PCI_CAP_VENDOR, 0); off;
         off = pci_find_cap(d, PCI_CAP_VENDOR, off)) {
        struct virtio_pci_cap c;
        if (virtio_cap_parse(pci_cfg_read8_cb, d, off, &c) && c.cfg_type == type) {
            *out = c;
            return true;
        }
    }
    return false;
}

static volatile uint8_t *cap_window(struct pci_dev *d, const struct virtio_pci_cap *c,
                                    uint32_t need)
{
    volatile uint8_t *bar = pci_map_bar(d, c->bar);
    if (!bar || c->length < need || (uint64_t)c->offset + c->length > d->bar[c->bar].size)
        return 0;
    return bar + c->offset;
}

static tv_status_t fail(struct vblk *v, const char *why)
{
    log_warn("virtio-blk %02x:%02x.%u: %s", v->pci->bus, v->pci->dev, v->pci->fn, why);
    if (v->common)
        w8(v->common, CC_STATUS, ST_FAILED);
    return TV_E_UNSUPPORTED;
}

static tv_status_t vblk_setup(struct vblk *v)
{
    struct pci_dev *d = v->pci;
    struct virtio_pci_cap cc, nc, dc;
    if (!find_cap(d, VIRTIO_PCI_CAP_COMMON, &cc) || !find_cap(d, VIRTIO_PCI_CAP_NOTIFY, &nc) ||
        !find_cap(d, VIRTIO_PCI_CAP_DEVICE, &dc))
        return fail(v, "no modern virtio capabilities (legacy-only device)");
    pci_enable(d);
    v->common = cap_window(d, &cc, 0x38);
    v->devcfg = cap_window(d, &dc, 24);
    volatile uint8_t *nbase = cap_window(d, &nc, 2);
    if (!v->common || !v->devcfg || !nbase)
        return fail(v, "a capability window lies outside its BAR");

    /* Reset, then ACKNOWLEDGE and DRIVER (3.1.1). */
    w8(v->common, CC_STATUS, 0);
    uint64_t t0 = time_now_ns();
    while (r8(v->common, CC_STATUS) != 0) {
        if (time_now_ns() - t0 > 100000000ull)
            return fail(v, "device does not finish its reset");
        cpu_pause();
    }
    w8(v->common, CC_STATUS, ST_ACK | ST_DRIVER);
    w32(v->common, CC_DFSELECT, 0);
    uint64_t feat = r32(v->common, CC_DF);
    w32(v->common, CC_DFSELECT, 1);
    feat |= (uint64_t)r32(v->common, CC_DF) << 32;
    if (!(feat & F_VERSION_1))
        return fail(v, "device does not offer VIRTIO_F_VERSION_1");
    uint64_t want = feat & (F_VERSION_1 | F_FLUSH | F_BLK_SIZE | F_SIZE_MAX | F_RO);
    w32(v->common, CC_GFSELECT, 0);
    w32(v->common, CC_GF, (uint32_t)want);
    w32(v->common, CC_GFSELECT, 1);
    w32(v->common, CC_GF, (uint32_t)(want >> 32));
    w8(v->common, CC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
    if (!(r8(v->common, CC_STATUS) & ST_FEATURES_OK))
        return fail(v, "device refused our features");

    /* Queue 0. */
    w16(v->common, CC_Q_SELECT, 0);
    uint16_t qmax = r16(v->common, CC_Q_SIZE);
    uint16_t qsize = VBLK_QSIZE_MAX;
    while (qsize > qmax)
        qsize >>= 1;
    struct virtq_layout lay;
    if (qsize < 3 || !virtq_layout(qsize, &lay))
        return fail(v, "request queue too small");
    uint64_t qpa;
    if (page_alloc(lay.total / 4096, 1, &qpa) != TV_OK)
        return fail(v, "no memory for the queue");
    uint8_t *q = phys_to_virt(qpa);
    v->qsize = qsize;
    v->desc = (struct virtq_desc *)(q + lay.desc_off);
    v->avail = (struct virtq_avail *)(q + lay.avail_off);
    v->used = (volatile struct virtq_used *)(q + lay.used_off);
    v->nslots = qsize / 3 < VBLK_SLOTS ? qsize / 3 : VBLK_SLOTS;
    w16(v->common, CC_Q_SIZE, qsize);
    w64(v->common, CC_Q_DESC, qpa + lay.desc_off);
    w64(v->common, CC_Q_DRIVER, qpa + lay.avail_off);
    w64(v->common, CC_Q_DEVICE, qpa + lay.used_off);
    uint64_t noff = (uint64_t)r16(v->common, CC_Q_NOFF) * nc.notify_mult;
    if (noff + 2 > nc.length)
        return fail(v, "queue notify address outside the notify window");
    v->notify = nbase + noff;

    /* Per slot: a header and status in one small page share, a bounce buffer. */
    uint64_t hpa;
    if (page_alloc(1, 1, &hpa) != TV_OK)
        return fail(v, "no memory for request headers");
    for (unsigned s = 0; s < v->nslots; s++) {
        uint64_t bpa;
        if (page_alloc(VBLK_MAX_SECT * 512 / 4096, 1, &bpa) != TV_OK)
            return fail(v, "no memory for bounce buffers");
        v->slot[s].hdr = (struct vblk_hdr *)phys_to_virt(hpa + 32 * s);
        v->slot[s].status = (volatile uint8_t *)phys_to_virt(hpa + 32 * s + 16);
        v->slot[s].bounce = phys_to_virt(bpa);
    }

    /* Interrupts: MSI-X entry 0 for the queue, none for config changes. */
    bool irq = false;
    uint8_t vec;
    w16(v->common, CC_MSIX, NO_VECTOR);
    if (d->msix_cap && irq_alloc_vector(vblk_irq, &v->blk, &vec) == TV_OK &&
        pci_msix_enable(d, 0, vec) == TV_OK) {
        w16(v->common, CC_Q_MSIX, 0);
        irq = r16(v->common, CC_Q_MSIX) == 0;   /* NO_VECTOR: the device refused */
    }
    if (!irq)
        w16(v->common, CC_Q_MSIX, NO_VECTOR);
    w16(v->common, CC_Q_ENABLE, 1);
    w8(v->common, CC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);

    uint32_t bsz = (want & F_BLK_SIZE) ? r32(v->devcfg, 20) : 512;
    uint64_t cap = (uint64_t)r32(v->devcfg, 0) | (uint64_t)r32(v->devcfg, 4) << 32;
    uint32_t max_sect = VBLK_MAX_SECT;
    if (want & F_SIZE_MAX) {
        uint32_t sm = r32(v->devcfg, 8) / 512;
        if (sm && sm < max_sect)
            max_sect = sm;
    }
    struct blk_dev *b = &v->blk;
    tv_snprintf(b->name, sizeof b->name, "vblk%u", vblk_count);
    tv_snprintf(b->model, sizeof b->model, "virtio-blk %04x:%04x at %02x:%02x.%u", d->vendor,
                d->device, d->bus, d->dev, d->fn);
    b->read_only = (want & F_RO) != 0;
    b->driver = "virtio-blk";
    /* Capacity is always in 512-byte sectors (5.2.4); a larger blk_size is
     * only the optimal unit, and requests are still addressed in 512 bytes. */
    (void)bsz;
    b->sector_size = 512;
    b->sectors = cap;
    b->max_sectors = max_sect;
    b->queue_depth = v->nslots;
    b->has_flush = (want & F_FLUSH) != 0;
    b->has_irq = irq;
    b->ops = &vblk_ops;
    b->priv = v;
    tv_status_t st = blk_register(b);
    if (st == TV_OK)
        vblk_count++;
    return st;
}

tv_status_t virtio_blk_probe(struct pci_dev *d)
{
    if (d->vendor != 0x1af4 || (d->device != 0x1042 && d->device != 0x1001))
        return TV_E_NOT_FOUND;
    struct vblk *v = kzalloc(sizeof *v);
    if (!v)
        return TV_E_NO_MEMORY;
    v->pci = d;
    tv_status_t st = vblk_setup(v);
    if (st != TV_OK) {
        kfree(v);          /* queue pages stay with the device that may have seen them */
        return st;
    }
    d->claimed = true;
    return TV_OK;
}
