/* NVMe disks (NVMe 1.4): namespace 1 of each controller becomes a block
 * device with one I/O queue pair; admin commands at boot are polled, I/O
 * completes through MSI-X entry 0 (the poll timer without MSI-X). */
#include "drivers/block/block.h"
#include "drivers/block/dma_list.h"
#include "drivers/block/drivers.h"
#include "drivers/pci/pci.h"
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "tv_fmt.h"
#include "tv_string.h"

/* Controller registers (3.1) */
#define NV_CAP   0x00
#define NV_VS    0x08
#define NV_CC    0x14
#define NV_CSTS  0x1c
#define NV_AQA   0x24
#define NV_ASQ   0x28
#define NV_ACQ   0x30
#define CSTS_RDY (1u << 0)
#define CSTS_CFS (1u << 1)
/* CC: enable, NVM command set, 4 KiB pages, 64-byte SQ and 16-byte CQ entries */
#define CC_VALUE ((1u << 0) | (6u << 16) | (4u << 20))

#define OP_ADM_CREATE_SQ 0x01
#define OP_ADM_CREATE_CQ 0x05
#define OP_ADM_IDENTIFY  0x06
#define OP_FLUSH 0x00
#define OP_WRITE 0x01
#define OP_READ  0x02

#define ADMQ     8
#define IOQ      16
#define NV_SLOTS 8
#define NV_MAX_BYTES 65536u
#define PAGE     4096u

struct nv_sqe {
    uint32_t cdw0;              /* opcode 7:0, command id 31:16 */
    uint32_t nsid;
    uint64_t reserved;
    uint64_t mptr;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nv_cqe {
    uint32_t result;
    uint32_t reserved;
    uint16_t sq_head, sq_id;
    uint16_t cid;
    uint16_t status;            /* bit 0: phase; 15:1 status field */
};

struct nv_queue {
    struct nv_sqe *sq;
    volatile struct nv_cqe *cq;
    uint16_t size, sq_tail, cq_head;
    uint8_t phase;
    volatile uint32_t *sq_db, *cq_db;
};

struct nv_slot {
    struct blk_req *req;
    bool busy, abandoned;
    uint8_t *bounce;
    uint64_t *prp_list;
};

struct nvme {
    struct blk_dev blk;
    struct pci_dev *pci;
    volatile uint8_t *regs;
    uint32_t lba_bytes;
    volatile bool ready;        /* registered: interrupts reap */
    struct nv_queue admin, io;
    struct nv_slot slot[NV_SLOTS];
};

static unsigned nvme_count;

static inline uint32_t rd32(volatile uint8_t *b, unsigned o) { return *(volatile uint32_t *)(b + o); }
static inline void wr32(volatile uint8_t *b, unsigned o, uint32_t v) { *(volatile uint32_t *)(b + o) = v; }
static inline uint64_t rd64(volatile uint8_t *b, unsigned o)
{
    return (uint64_t)rd32(b, o) | (uint64_t)rd32(b, o + 4) << 32;
}
static inline void wr64(volatile uint8_t *b, unsigned o, uint64_t v)
{
    wr32(b, o, (uint32_t)v);
    wr32(b, o + 4, (uint32_t)(v >> 32));
}

static tv_status_t queue_alloc(struct nvme *n, struct nv_queue *q, unsigned qid, uint16_t size,
                               unsigned stride)
{
    uint64_t sq_pa, cq_pa;
    if (page_alloc(1, 1, &sq_pa) != TV_OK || page_alloc(1, 1, &cq_pa) != TV_OK)
        return TV_E_NO_MEMORY;
    q->sq = phys_to_virt(sq_pa);
    q->cq = phys_to_virt(cq_pa);
    q->size = size;
    q->sq_tail = q->cq_head = 0;
    q->phase = 1;
    q->sq_db = (volatile uint32_t *)(n->regs + 0x1000 + (2 * qid) * stride);
    q->cq_db = (volatile uint32_t *)(n->regs + 0x1000 + (2 * qid + 1) * stride);
    return TV_OK;
}

/* Copies a command into the queue; the doorbell is rung separately. */
static void sq_put(struct nv_queue *q, const struct nv_sqe *c)
{
    q->sq[q->sq_tail] = *c;
    q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->size);
}

static void sq_ring(struct nv_queue *q)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    *q->sq_db = q->sq_tail;
}

/* The next completion with the current phase, or NULL (4.6). */
static volatile struct nv_cqe *cq_peek(struct nv_queue *q)
{
    volatile struct nv_cqe *e = &q->cq[q->cq_head];
    if ((e->status & 1) != q->phase)
        return 0;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return e;
}

static void cq_pop(struct nv_queue *q)
{
    if (++q->cq_head == q->size) {
        q->cq_head = 0;
        q->phase ^= 1;
    }
    *q->cq_db = q->cq_head;
}

/* One admin command, polled (boot time only). */
static tv_status_t admin(struct nvme *n, struct nv_sqe *c, uint64_t timeout_ms)
{
    static uint16_t cid;
    c->cdw0 = (c->cdw0 & 0xff) | (uint32_t)++cid << 16;
    sq_put(&n->admin, c);
    sq_ring(&n->admin);
    uint64_t end = time_now_ns() + timeout_ms * 1000000ull;
    for (;;) {
        volatile struct nv_cqe *e = cq_peek(&n->admin);
        if (e) {
            uint16_t st = e->status >> 1, id = e->cid;
            cq_pop(&n->admin);
            if (id != cid)
                continue;
            return st ? TV_E_IO : TV_OK;
        }
        if (time_now_ns() > end || (rd32(n->regs, NV_CSTS) & CSTS_CFS))
            return TV_E_TIMEOUT;
        cpu_pause();
    }
}

static tv_status_t nv_start(struct blk_dev *bd, struct blk_req *req)
{
    struct nvme *n = bd->priv;
    unsigned s = 0;
    while (s < NV_SLOTS && n->slot[s].busy)
        s++;
    if (s == NV_SLOTS)
        return TV_E_BUSY;
    struct nv_slot *sl = &n->slot[s];
    struct nv_sqe c = { 0 };
    c.nsid = 1;
    if (req->op == BLK_FLUSH) {
        c.cdw0 = OP_FLUSH;
    } else {
        uint32_t bytes = req->count * bd->sector_size;
        if (req->op == BLK_WRITE)
            tv_memcpy(sl->bounce, req->buf, bytes);
        if (nvme_prp_fill(virt_to_phys(sl->bounce), bytes, PAGE, &c.prp1, &c.prp2, sl->prp_list,
                          PAGE / 8, virt_to_phys(sl->prp_list)) != 0)
            return TV_E_INVALID_ARGUMENT;
        c.cdw0 = req->op == BLK_READ ? OP_READ : OP_WRITE;
        c.cdw10 = (uint32_t)req->lba;
        c.cdw11 = (uint32_t)(req->lba >> 32);
        c.cdw12 = req->count - 1;
    }
    c.cdw0 |= (uint32_t)s << 16;
    sl->busy = true;
    sl->abandoned = false;
    sl->req = req;
    req->slot = (int)s;
    sq_put(&n->io, &c);
#ifdef TV_TEST_BUILD
    if (bd->fault_no_doorbell)
        return TV_OK;               /* queued, but the controller is not told */
#endif
    sq_ring(&n->io);
    return TV_OK;
}

static void nv_reap(struct blk_dev *bd)
{
    struct nvme *n = bd->priv;
    volatile struct nv_cqe *e;
    while ((e = cq_peek(&n->io))) {
        uint16_t cid = e->cid, st = e->status >> 1;
        cq_pop(&n->io);
        if (cid >= NV_SLOTS || !n->slot[cid].busy) {
            log_err("blk %s: completion for command %u that was not in flight", bd->name, cid);
            continue;
        }
        struct nv_slot *sl = &n->slot[cid];
        sl->busy = false;
        if (sl->abandoned) {
            sl->abandoned = false;
            blk_slot_freed(bd);
            continue;
        }
        struct blk_req *req = sl->req;
        sl->req = 0;
        if (st == 0 && req->op == BLK_READ)
            tv_memcpy(req->buf, sl->bounce, req->count * bd->sector_size);
        if (st)
            log_warn("blk %s: command failed, status type %u code %#x", bd->name,
                     (st >> 8) & 7, st & 0xff);
        blk_complete(bd, req, st ? TV_E_IO : TV_OK);
    }
}

static void nv_abandon(struct blk_dev *bd, struct blk_req *req)
{
    struct nvme *n = bd->priv;
    if (req->slot >= 0 && req->slot < NV_SLOTS) {
        n->slot[req->slot].abandoned = true;
        n->slot[req->slot].req = 0;
    }
    req->slot = -1;
}

static const struct blk_ops nv_ops = { nv_start, nv_reap, nv_abandon };

static void nv_irq(void *ctx)
{
    struct nvme *n = ctx;
    if (n->ready)           /* admin completions at boot are polled */
        blk_irq(&n->blk);
}

static tv_status_t fail(struct nvme *n, const char *why)
{
    log_warn("nvme %02x:%02x.%u: %s", n->pci->bus, n->pci->dev, n->pci->fn, why);
    return TV_E_UNSUPPORTED;
}

static bool wait_ready(struct nvme *n, bool ready, uint64_t ms)
{
    uint64_t end = time_now_ns() + ms * 1000000ull;
    while (((rd32(n->regs, NV_CSTS) & CSTS_RDY) != 0) != ready) {
        if (time_now_ns() > end)
            return false;
        cpu_pause();
    }
    return true;
}

static void copy_text(char *dst, size_t dlen, const uint8_t *src, size_t slen)
{
    size_t k = 0;
    for (size_t i = 0; i < slen && k + 1 < dlen; i++)
        dst[k++] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
    while (k && dst[k - 1] == ' ')
        k--;
    dst[k] = 0;
}

static tv_status_t nv_setup(struct nvme *n)
{
    struct pci_dev *d = n->pci;
    n->regs = pci_map_bar(d, 0);
    if (!n->regs || d->bar[0].size < 0x2000)
        return fail(n, "no register BAR");
    pci_enable(d);
    uint64_t cap = rd64(n->regs, NV_CAP);
    unsigned stride = 4u << ((cap >> 32) & 0xf);
    uint64_t to_ms = ((cap >> 24) & 0xff) * 500ull;
    unsigned mqes = (unsigned)(cap & 0xffff) + 1;
    if (((cap >> 48) & 0xf) != 0)
        return fail(n, "controller does not do 4 KiB pages");
    if (mqes < IOQ)
        return fail(n, "queues too small");
    if (!(cap & (1ull << 37)))
        return fail(n, "no NVM command set");
    /* Disable, set the admin queues, enable (7.6.1). */
    wr32(n->regs, NV_CC, 0);
    if (!wait_ready(n, false, to_ms))
        return fail(n, "does not become disabled");
    if (queue_alloc(n, &n->admin, 0, ADMQ, stride) != TV_OK ||
        queue_alloc(n, &n->io, 1, IOQ, stride) != TV_OK)
        return fail(n, "no memory for queues");
    wr32(n->regs, NV_AQA, (uint32_t)(ADMQ - 1) << 16 | (ADMQ - 1));
    wr64(n->regs, NV_ASQ, virt_to_phys(n->admin.sq));
    wr64(n->regs, NV_ACQ, virt_to_phys((const void *)n->admin.cq));
    wr32(n->regs, NV_CC, CC_VALUE);
    if (!wait_ready(n, true, to_ms) || (rd32(n->regs, NV_CSTS) & CSTS_CFS))
        return fail(n, "does not become ready");

    uint64_t idpa;
    if (page_alloc(1, 1, &idpa) != TV_OK)
        return fail(n, "no memory");
    const uint8_t *idb = phys_to_virt(idpa);
    struct nv_sqe c = { .cdw0 = OP_ADM_IDENTIFY, .prp1 = idpa, .cdw10 = 1 };
    if (admin(n, &c, 1000) != TV_OK)
        return fail(n, "IDENTIFY controller failed");
    char model[41];
    copy_text(model, sizeof model, idb + 24, 40);
    bool vwc = idb[525] & 1;
    c = (struct nv_sqe){ .cdw0 = OP_ADM_IDENTIFY, .nsid = 1, .prp1 = idpa, .cdw10 = 0 };
    if (admin(n, &c, 1000) != TV_OK)
        return fail(n, "IDENTIFY namespace 1 failed");
    uint64_t nsze;
    tv_memcpy(&nsze, idb, 8);
    uint8_t fmt = idb[26] & 0xf;
    uint8_t lbads = idb[128 + 4 * fmt + 2];
    if (nsze == 0 || lbads < 9 || lbads > 12)
        return fail(n, "namespace 1 absent or with an unusable block size");
    n->lba_bytes = 1u << lbads;

    /* The I/O completion queue interrupts on MSI-X entry 0.  MSI-X must be
     * on before the queue is created (a controller may bind the vector only
     * then, as QEMU's does); the polled admin commands' interrupts on the
     * same entry are ignored until the device is registered. */
    uint8_t vec = 0;
    bool irq = d->msix_cap && irq_alloc_vector(nv_irq, n, &vec) == TV_OK &&
               pci_msix_enable(d, 0, vec) == TV_OK;
    c = (struct nv_sqe){ .cdw0 = OP_ADM_CREATE_CQ, .prp1 = virt_to_phys((const void *)n->io.cq),
                         .cdw10 = (uint32_t)(IOQ - 1) << 16 | 1,
                         .cdw11 = (irq ? 1u << 1 : 0) | 1u };
    if (admin(n, &c, 1000) != TV_OK)
        return fail(n, "cannot create the I/O completion queue");
    c = (struct nv_sqe){ .cdw0 = OP_ADM_CREATE_SQ, .prp1 = virt_to_phys(n->io.sq),
                         .cdw10 = (uint32_t)(IOQ - 1) << 16 | 1, .cdw11 = 1u << 16 | 1u };
    if (admin(n, &c, 1000) != TV_OK)
        return fail(n, "cannot create the I/O submission queue");
    for (unsigned s = 0; s < NV_SLOTS; s++) {
        uint64_t bpa, lpa;
        if (page_alloc(NV_MAX_BYTES / PAGE, 1, &bpa) != TV_OK || page_alloc(1, 1, &lpa) != TV_OK)
            return fail(n, "no memory for bounce buffers");
        n->slot[s].bounce = phys_to_virt(bpa);
        n->slot[s].prp_list = phys_to_virt(lpa);
    }
    struct blk_dev *b = &n->blk;
    tv_snprintf(b->name, sizeof b->name, "nvme%un1", nvme_count);
    tv_strlcpy(b->model, model, sizeof b->model);
    b->driver = "nvme";
    b->sector_size = n->lba_bytes;
    b->sectors = nsze;
    b->max_sectors = NV_MAX_BYTES / n->lba_bytes;
    b->queue_depth = NV_SLOTS;
    b->has_flush = vwc;
    b->has_irq = irq;
    b->ops = &nv_ops;
    b->priv = n;
    log_info("nvme %02x:%02x.%u: version %#x, doorbell stride %u, timeout %llu ms", d->bus,
             d->dev, d->fn, rd32(n->regs, NV_VS), stride, (unsigned long long)to_ms);
    tv_status_t st = blk_register(b);
    if (st == TV_OK) {
        nvme_count++;
        n->ready = true;
    }
    return st;
}

tv_status_t nvme_probe(struct pci_dev *d)
{
    if (d->class_code != 0x01 || d->subclass != 0x08 || d->prog_if != 0x02)
        return TV_E_NOT_FOUND;
    struct nvme *n = kzalloc(sizeof *n);
    if (!n)
        return TV_E_NO_MEMORY;
    n->pci = d;
    tv_status_t st = nv_setup(n);
    if (st != TV_OK)
        return st;       /* n stays: the controller may still hold its queue addresses */
    d->claimed = true;
    return TV_OK;
}
