/* AHCI (SATA) disks (AHCI 1.3.1): every implemented port with an ATA disk
 * becomes a block device; up to AHCI_SLOTS commands in flight per port
 * (non-queued DMA commands, which the HBA runs one after another), MSI
 * completion where the function has it, else the poll timer. */
#include "drivers/block/ata_id.h"
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

/* HBA registers (3.1) */
#define HBA_CAP   0x00
#define HBA_GHC   0x04
#define HBA_IS    0x08
#define HBA_PI    0x0c
#define HBA_VS    0x10
#define GHC_AE    (1u << 31)
#define GHC_IE    (1u << 1)
#define CAP_S64A  (1u << 31)

/* Port registers (3.3), at 0x100 + 0x80 * port */
#define P_CLB   0x00
#define P_CLBU  0x04
#define P_FB    0x08
#define P_FBU   0x0c
#define P_IS    0x10
#define P_IE    0x14
#define P_CMD   0x18
#define P_TFD   0x20
#define P_SIG   0x24
#define P_SSTS  0x28
#define P_SERR  0x30
#define P_CI    0x38
#define CMD_ST  (1u << 0)
#define CMD_FRE (1u << 4)
#define CMD_FR  (1u << 14)
#define CMD_CR  (1u << 15)
#define IS_TFES (1u << 30)
#define IS_ERRORS (IS_TFES | (1u << 29) | (1u << 28) | (1u << 27))   /* TFES HBFS HBDS IFS */
#define TFD_BSY 0x80
#define TFD_DRQ 0x08
#define TFD_ERR 0x01
#define SIG_ATA 0x00000101u

#define AHCI_SLOTS     8
#define AHCI_MAX_SECT  128      /* 64 KiB bounce per slot */
#define CMD_TABLE_SIZE 256      /* CFIS 64 + ACMD 16 + reserved 48 + one PRD */

struct ahci_cmd_hdr {
    uint16_t flags;             /* CFL (dwords) bits 0-4, W bit 6 */
    uint16_t prdtl;
    volatile uint32_t prdbc;
    uint32_t ctba, ctbau;
    uint32_t reserved[4];
};

struct ahci_slot {
    struct blk_req *req;
    bool busy, issued, abandoned;
    uint8_t *bounce;
};

struct ahci_port {
    struct blk_dev blk;
    struct pci_dev *pci;
    volatile uint8_t *regs;     /* this port's register block */
    volatile uint8_t *hba;
    unsigned nslots, index;
    struct ahci_cmd_hdr *cl;    /* command list, 1 KiB aligned */
    uint8_t *tables;            /* nslots command tables, 128-byte aligned */
    struct ata_info id;
    struct ahci_slot slot[AHCI_SLOTS];
};

struct ahci_hba {
    volatile uint8_t *abar;
    struct ahci_port *ports[32];
};

static unsigned ahci_count;

static inline uint32_t rd(volatile uint8_t *b, unsigned o) { return *(volatile uint32_t *)(b + o); }
static inline void wr(volatile uint8_t *b, unsigned o, uint32_t v) { *(volatile uint32_t *)(b + o) = v; }

static bool wait_clear(volatile uint8_t *b, unsigned reg, uint32_t bits, uint64_t ms)
{
    uint64_t end = time_now_ns() + ms * 1000000ull;
    while (rd(b, reg) & bits) {
        if (time_now_ns() > end)
            return false;
        cpu_pause();
    }
    return true;
}

/* Stops command processing and FIS reception (10.1.2). */
static bool port_stop(volatile uint8_t *p)
{
    wr(p, P_CMD, rd(p, P_CMD) & ~CMD_ST);
    if (!wait_clear(p, P_CMD, CMD_CR, 500))
        return false;
    wr(p, P_CMD, rd(p, P_CMD) & ~CMD_FRE);
    return wait_clear(p, P_CMD, CMD_FR, 500);
}

static bool port_start(volatile uint8_t *p)
{
    wr(p, P_SERR, 0xffffffffu);
    wr(p, P_IS, 0xffffffffu);
    wr(p, P_CMD, rd(p, P_CMD) | CMD_FRE);
    if (!wait_clear(p, P_TFD, TFD_BSY | TFD_DRQ, 1000))
        return false;
    wr(p, P_CMD, rd(p, P_CMD) | CMD_ST);
    return true;
}

/* Builds slot s's command: a register host-to-device FIS (SATA 3.x, 10.5.5)
 * and one PRD over the slot's bounce buffer. */
static void build_cmd(struct ahci_port *ap, unsigned s, uint8_t command, uint64_t lba,
                      uint32_t count, uint32_t bytes, bool write)
{
    uint8_t *t = ap->tables + s * CMD_TABLE_SIZE;
    tv_memset(t, 0, CMD_TABLE_SIZE);
    uint8_t *f = t;
    f[0] = 0x27;                    /* register FIS, host to device */
    f[1] = 0x80;                    /* C: command register update */
    f[2] = command;
    f[4] = (uint8_t)lba;
    f[5] = (uint8_t)(lba >> 8);
    f[6] = (uint8_t)(lba >> 16);
    f[7] = 0x40;                    /* device: LBA mode */
    f[8] = (uint8_t)(lba >> 24);
    f[9] = (uint8_t)(lba >> 32);
    f[10] = (uint8_t)(lba >> 40);
    f[12] = (uint8_t)count;
    f[13] = (uint8_t)(count >> 8);
    int n = 0;
    if (bytes)
        n = ahci_prdt_fill((struct ahci_prd *)(t + 0x80), 1, virt_to_phys(ap->slot[s].bounce),
                           bytes);
    struct ahci_cmd_hdr *h = &ap->cl[s];
    h->flags = (uint16_t)(5 | (write ? 1u << 6 : 0));   /* 5 dwords of FIS */
    h->prdtl = (uint16_t)(n > 0 ? n : 0);
    h->prdbc = 0;
    uint64_t tpa = virt_to_phys(t);
    h->ctba = (uint32_t)tpa;
    h->ctbau = (uint32_t)(tpa >> 32);
}

static void issue(struct ahci_port *ap, unsigned s)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#ifdef TV_TEST_BUILD
    if (ap->blk.fault_no_doorbell)
        return;                     /* never issued: the port stays silent */
#endif
    ap->slot[s].issued = true;
    wr(ap->regs, P_CI, 1u << s);
}

static tv_status_t ahci_start(struct blk_dev *bd, struct blk_req *req)
{
    struct ahci_port *ap = bd->priv;
    unsigned s = 0;
    while (s < ap->nslots && ap->slot[s].busy)
        s++;
    if (s == ap->nslots)
        return TV_E_BUSY;
    struct ahci_slot *sl = &ap->slot[s];
    uint32_t bytes = req->count * bd->sector_size;
    if (req->op == BLK_WRITE)
        tv_memcpy(sl->bounce, req->buf, bytes);
    if (req->op == BLK_FLUSH)
        build_cmd(ap, s, ap->id.flush_ext ? ATA_CMD_FLUSH_EXT : ATA_CMD_FLUSH, 0, 0, 0, false);
    else
        build_cmd(ap, s, req->op == BLK_READ ? ATA_CMD_READ_DMA_EXT : ATA_CMD_WRITE_DMA_EXT,
                  req->lba, req->count, bytes, req->op == BLK_WRITE);
    sl->busy = true;
    sl->issued = false;
    sl->abandoned = false;
    sl->req = req;
    req->slot = (int)s;
    issue(ap, s);
    return TV_OK;
}

static void finish_slot(struct ahci_port *ap, unsigned s, tv_status_t st)
{
    struct ahci_slot *sl = &ap->slot[s];
    sl->busy = sl->issued = false;
    if (sl->abandoned) {
        sl->abandoned = false;
        blk_slot_freed(&ap->blk);
        return;
    }
    struct blk_req *req = sl->req;
    sl->req = 0;
    if (st == TV_OK && req->op == BLK_READ)
        tv_memcpy(req->buf, sl->bounce, req->count * ap->blk.sector_size);
    blk_complete(&ap->blk, req, st);
}

static void ahci_reap(struct blk_dev *bd)
{
    struct ahci_port *ap = bd->priv;
    uint32_t is = rd(ap->regs, P_IS);
    wr(ap->regs, P_IS, is);
    wr(ap->hba, HBA_IS, 1u << ap->index);
    if (is & IS_ERRORS) {
        /* The port stopped on a task-file or bus error (6.2.2): every command
         * still issued is failed, then the port is restarted. */
        uint32_t tfd = rd(ap->regs, P_TFD);
        log_warn("blk %s: port error (IS %#x, TFD %#x, SERR %#x)", bd->name, is, tfd,
                 rd(ap->regs, P_SERR));
        uint32_t ci = rd(ap->regs, P_CI);
        for (unsigned s = 0; s < ap->nslots; s++)
            if (ap->slot[s].busy && ap->slot[s].issued && (ci & (1u << s)))
                finish_slot(ap, s, TV_E_IO);
        port_stop(ap->regs);
        port_start(ap->regs);
    }
    uint32_t ci = rd(ap->regs, P_CI);
    for (unsigned s = 0; s < ap->nslots; s++)
        if (ap->slot[s].busy && ap->slot[s].issued && !(ci & (1u << s)))
            finish_slot(ap, s, TV_OK);
}

static void ahci_abandon(struct blk_dev *bd, struct blk_req *req)
{
    struct ahci_port *ap = bd->priv;
    if (req->slot >= 0 && (unsigned)req->slot < ap->nslots) {
        struct ahci_slot *sl = &ap->slot[req->slot];
        sl->req = 0;
        if (!sl->issued) {          /* the HBA never saw it: free at once */
            sl->busy = false;
            blk_slot_freed(bd);
        } else {
            sl->abandoned = true;   /* freed when the HBA clears its CI bit */
        }
    }
    req->slot = -1;
}

static const struct blk_ops ahci_ops = { ahci_start, ahci_reap, ahci_abandon };

static void ahci_irq(void *ctx)
{
    struct ahci_hba *h = ctx;
    uint32_t is = rd(h->abar, HBA_IS);
    for (unsigned p = 0; p < 32; p++)
        if (h->ports[p] && (is & (1u << p)))
            blk_irq(&h->ports[p]->blk);
    wr(h->abar, HBA_IS, is);
}

/* IDENTIFY DEVICE through slot 0, polled (boot time, before scheduling). */
static bool identify(struct ahci_port *ap)
{
    build_cmd(ap, 0, ATA_CMD_IDENTIFY, 0, 0, 512, false);
    wr(ap->regs, P_CI, 1);
    uint64_t end = time_now_ns() + 1000000000ull;
    while (rd(ap->regs, P_CI) & 1) {
        if ((rd(ap->regs, P_IS) & IS_ERRORS) || time_now_ns() > end)
            return false;
        cpu_pause();
    }
    wr(ap->regs, P_IS, 0xffffffffu);
    return ata_identify_parse((const uint16_t *)ap->slot[0].bounce, &ap->id);
}

static tv_status_t port_setup(struct ahci_hba *h, struct pci_dev *d, unsigned p, unsigned ncs,
                              bool irq)
{
    volatile uint8_t *pr = h->abar + 0x100 + 0x80 * p;
    uint32_t ssts = rd(pr, P_SSTS);
    if ((ssts & 0xf) != 3 || ((ssts >> 8) & 0xf) != 1)
        return TV_E_NOT_FOUND;              /* no device, or not in active state */
    if (rd(pr, P_SIG) != SIG_ATA)
        return TV_E_NOT_FOUND;              /* ATAPI, port multiplier, ... */
    struct ahci_port *ap = kzalloc(sizeof *ap);
    if (!ap)
        return TV_E_NO_MEMORY;
    ap->pci = d;
    ap->regs = pr;
    ap->hba = h->abar;
    ap->index = p;
    ap->nslots = ncs < AHCI_SLOTS ? ncs : AHCI_SLOTS;
    if (!port_stop(pr)) {
        kfree(ap);
        return TV_E_TIMEOUT;
    }
    /* One page: command list (1 KiB) at 0, received FIS (256 bytes) at
     * 1 KiB; command tables in a second page.  Below 4 GiB unless the HBA
     * does 64-bit addressing (page_alloc gives low pages first). */
    uint64_t pa;
    if (page_alloc(2, 1, &pa) != TV_OK) {
        kfree(ap);
        return TV_E_NO_MEMORY;
    }
    ap->cl = phys_to_virt(pa);
    ap->tables = phys_to_virt(pa + 4096);
    for (unsigned s = 0; s < ap->nslots; s++) {
        uint64_t bpa;
        if (page_alloc(AHCI_MAX_SECT * 512 / 4096, 1, &bpa) != TV_OK)
            return TV_E_NO_MEMORY;
        ap->slot[s].bounce = phys_to_virt(bpa);
    }
    wr(pr, P_CLB, (uint32_t)pa);
    wr(pr, P_CLBU, (uint32_t)(pa >> 32));
    wr(pr, P_FB, (uint32_t)(pa + 1024));
    wr(pr, P_FBU, (uint32_t)((pa + 1024) >> 32));
    wr(pr, P_IE, 0);
    if (!port_start(pr))
        return TV_E_TIMEOUT;
    if (!identify(ap)) {
        log_warn("ahci port %u: IDENTIFY DEVICE failed", p);
        port_stop(pr);
        return TV_E_IO;
    }
    if (!ap->id.lba48 || ap->id.sector_size != 512) {
        log_warn("ahci port %u: %s: needs LBA48 and 512-byte sectors", p, ap->id.model);
        port_stop(pr);
        return TV_E_UNSUPPORTED;
    }
    /* Interrupt on every completion (D2H register FIS) and on errors. */
    wr(pr, P_IS, 0xffffffffu);
    wr(pr, P_IE, irq ? (1u << 0) | (1u << 3) | (1u << 5) | IS_ERRORS : 0);
    struct blk_dev *b = &ap->blk;
    tv_snprintf(b->name, sizeof b->name, "ahci%up%u", ahci_count, p);
    tv_strlcpy(b->model, ap->id.model, sizeof b->model);
    b->driver = "ahci";
    b->sector_size = 512;
    b->sectors = ap->id.sectors;
    b->max_sectors = AHCI_MAX_SECT;
    b->queue_depth = ap->nslots;
    b->has_flush = ap->id.flush || ap->id.flush_ext;
    b->has_irq = irq;
    b->ops = &ahci_ops;
    b->priv = ap;
    tv_status_t st = blk_register(b);
    if (st == TV_OK)
        h->ports[p] = ap;
    return st;
}

tv_status_t ahci_probe(struct pci_dev *d)
{
    if (d->class_code != 0x01 || d->subclass != 0x06 || d->prog_if != 0x01)
        return TV_E_NOT_FOUND;
    volatile uint8_t *abar = pci_map_bar(d, 5);
    if (!abar)
        return TV_E_UNSUPPORTED;
    pci_enable(d);
    struct ahci_hba *h = kzalloc(sizeof *h);
    if (!h)
        return TV_E_NO_MEMORY;
    h->abar = abar;
    wr(abar, HBA_GHC, rd(abar, HBA_GHC) | GHC_AE);
    uint32_t cap = rd(abar, HBA_CAP), pi = rd(abar, HBA_PI);
    unsigned ncs = ((cap >> 8) & 0x1f) + 1;
    uint8_t vec;
    bool irq = d->msi_cap && irq_alloc_vector(ahci_irq, h, &vec) == TV_OK &&
               pci_msi_enable(d, vec) == TV_OK;
    log_info("ahci %02x:%02x.%u: version %#x, %u slots, ports %#x%s", d->bus, d->dev, d->fn,
             rd(abar, HBA_VS), ncs, pi, irq ? ", MSI" : ", polled");
    wr(abar, HBA_IS, 0xffffffffu);
    unsigned found = 0;
    for (unsigned p = 0; p < 32; p++) {
        if (!(pi & (1u << p)))
            continue;
        tv_status_t st = port_setup(h, d, p, ncs, irq);
        if (st == TV_OK)
            found++;
        else if (st != TV_E_NOT_FOUND)
            log_warn("ahci port %u: not started (%d)", p, st);
    }
    if (irq)
        wr(abar, HBA_GHC, rd(abar, HBA_GHC) | GHC_IE);
    ahci_count++;
    d->claimed = true;
    return TV_OK;
}
