/* Legacy ATA (IDE) disks through PIO on the compatibility ports: channel 0
 * at 0x1F0/0x3F6, channel 1 at 0x170/0x376 (ATA/ATAPI-6 and ACS-3 PIO
 * protocols).  The monitor has no I/O APIC driver, so device interrupts are
 * off (nIEN) and the block layer's poll timer drives each command, one
 * sector per DRQ, a few sectors per tick.  Requests queue per device (8)
 * and run one at a time per channel.  Bochs offers only this controller. */
#include "drivers/block/ata_id.h"
#include "drivers/block/block.h"
#include "drivers/block/drivers.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "tv_fmt.h"
#include "tv_string.h"

#define R_DATA   0
#define R_ERROR  1
#define R_COUNT  2
#define R_LBA0   3
#define R_LBA1   4
#define R_LBA2   5
#define R_DRIVE  6
#define R_STATUS 7              /* read: status; write: command */
#define ST_ERR   0x01
#define ST_DRQ   0x08
#define ST_DF    0x20
#define ST_BSY   0x80
#define CTL_NIEN 0x02
#define CTL_SRST 0x04

#define ATA_QUEUE     8
#define ATA_MAX_SECT  16        /* 8 KiB per request keeps each poll tick short */
#define SECTORS_PER_POLL 8

struct ata_chan {
    uint16_t io, ctl;
    spinlock_t lock;
    struct ata_disk *owner;     /* whose command runs, NULL when idle */
};

struct ata_disk {
    struct blk_dev blk;
    struct ata_chan *ch;
    bool slave;
    struct ata_info id;
    struct blk_req *queue[ATA_QUEUE];
    unsigned head, count;
    /* the running command */
    struct blk_req *cur;
    bool cur_issued, cur_abandoned;
    uint32_t cur_done;          /* sectors transferred */
    uint8_t sector[512];        /* transfer buffer of the running command */
};

static struct ata_chan chans[2] = { { 0x1f0, 0x3f6, SPINLOCK_INIT, 0 },
                                    { 0x170, 0x376, SPINLOCK_INIT, 0 } };
static bool probed;

static inline uint16_t inw_p(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint8_t status(const struct ata_chan *c) { return inb((uint16_t)(c->io + R_STATUS)); }
/* Reading the alternate status four times gives the 400 ns a device may take
 * to show BSY after a command or a drive select. */
static void delay400(const struct ata_chan *c)
{
    for (int i = 0; i < 4; i++)
        (void)inb(c->ctl);
}

static void select_drive(struct ata_chan *c, bool slave, uint8_t lba_top)
{
    outb((uint16_t)(c->io + R_DRIVE), (uint8_t)(0xe0 | (slave ? 0x10 : 0) | (lba_top & 0x0f)));
    delay400(c);
}

static void set_taskfile(struct ata_disk *d, uint64_t lba, uint32_t count, bool ext)
{
    struct ata_chan *c = d->ch;
    if (ext) {
        select_drive(c, d->slave, 0);
        /* High-order bytes first, then the low-order ones (ACS-3 7.x, 48-bit). */
        outb((uint16_t)(c->io + R_COUNT), (uint8_t)(count >> 8));
        outb((uint16_t)(c->io + R_LBA0), (uint8_t)(lba >> 24));
        outb((uint16_t)(c->io + R_LBA1), (uint8_t)(lba >> 32));
        outb((uint16_t)(c->io + R_LBA2), (uint8_t)(lba >> 40));
    } else {
        select_drive(c, d->slave, (uint8_t)(lba >> 24));
    }
    outb((uint16_t)(c->io + R_COUNT), (uint8_t)count);
    outb((uint16_t)(c->io + R_LBA0), (uint8_t)lba);
    outb((uint16_t)(c->io + R_LBA1), (uint8_t)(lba >> 8));
    outb((uint16_t)(c->io + R_LBA2), (uint8_t)(lba >> 16));
}

/* Starts the next queued request if the channel is free and ready. */
static void issue_next(struct ata_disk *d)
{
    struct ata_chan *c = d->ch;
    if (c->owner || !d->count || (status(c) & ST_BSY))
        return;
    struct blk_req *r = d->queue[d->head];
    d->head = (d->head + 1) % ATA_QUEUE;
    d->count--;
    c->owner = d;
    d->cur = r;
    /* The timeout runs from when the device gets the request, not from the
     * wait in this queue behind the others (blk_wait rereads the deadline). */
    r->deadline_ns = time_now_ns() + d->blk.timeout_ns;
    d->cur_done = 0;
    d->cur_abandoned = false;
    d->cur_issued = false;
    bool ext = d->id.lba48 && (r->lba + r->count > (1ull << 28) || r->op == BLK_FLUSH);
    uint8_t cmd;
    if (r->op == BLK_FLUSH) {
        ext = d->id.flush_ext;
        select_drive(c, d->slave, 0);
        cmd = ext ? ATA_CMD_FLUSH_EXT : ATA_CMD_FLUSH;
    } else {
        set_taskfile(d, r->lba, r->count, ext);
        cmd = r->op == BLK_READ ? (ext ? ATA_CMD_READ_SECTORS_EXT : ATA_CMD_READ_SECTORS)
                                : (ext ? ATA_CMD_WRITE_SECTORS_EXT : ATA_CMD_WRITE_SECTORS);
    }
#ifdef TV_TEST_BUILD
    if (d->blk.fault_no_doorbell)
        return;                 /* the command register is never written */
#endif
    outb((uint16_t)(c->io + R_STATUS), cmd);
    d->cur_issued = true;
    delay400(c);
}

static void finish(struct ata_disk *d, tv_status_t st)
{
    struct blk_req *r = d->cur;
    bool abandoned = d->cur_abandoned;
    d->cur = 0;
    d->ch->owner = 0;
    if (abandoned)
        blk_slot_freed(&d->blk);
    else
        blk_complete(&d->blk, r, st);
}

/* Advances the running command as far as the device lets it now. */
static void step(struct ata_disk *d)
{
    struct ata_chan *c = d->ch;
    struct blk_req *r = d->cur;
    for (unsigned n = 0; n <= SECTORS_PER_POLL; n++) {
        uint8_t s = status(c);
        if (s & ST_BSY)
            return;
        if (s & (ST_ERR | ST_DF)) {
            if (!d->cur_abandoned)
                log_warn("blk %s: device error (status %#x, error %#x)", d->blk.name, s,
                         inb((uint16_t)(c->io + R_ERROR)));
            finish(d, TV_E_IO);
            return;
        }
        uint32_t total = r->op == BLK_FLUSH ? 0 : r->count;
        if (!(s & ST_DRQ)) {
            if (d->cur_done == total) {     /* all data moved and not busy: done */
                finish(d, TV_OK);
                return;
            }
            if (r->op == BLK_READ || d->cur_done == 0)
                return;                     /* the device has not asked yet */
            finish(d, TV_E_IO);             /* write ended early */
            return;
        }
        if (d->cur_done == total || n == SECTORS_PER_POLL) {
            if (d->cur_done == total)
                finish(d, TV_E_IO);         /* the device wants more than we asked */
            return;
        }
        uint16_t *w = (uint16_t *)d->sector;
        if (r->op == BLK_READ) {
            for (int i = 0; i < 256; i++)
                w[i] = inw_p((uint16_t)(c->io + R_DATA));
            if (!d->cur_abandoned)
                tv_memcpy((uint8_t *)r->buf + d->cur_done * 512u, d->sector, 512);
        } else {
            if (!d->cur_abandoned)
                tv_memcpy(d->sector, (const uint8_t *)r->buf + d->cur_done * 512u, 512);
            for (int i = 0; i < 256; i++)
                outw((uint16_t)(c->io + R_DATA), w[i]);
        }
        d->cur_done++;
        delay400(c);
    }
}

static tv_status_t ata_start(struct blk_dev *bd, struct blk_req *req)
{
    struct ata_disk *d = bd->priv;
    if (d->count == ATA_QUEUE)
        return TV_E_BUSY;
    d->queue[(d->head + d->count) % ATA_QUEUE] = req;
    d->count++;
    req->slot = 0;
    bool irq = spin_lock_irqsave(&d->ch->lock);
    issue_next(d);
    spin_unlock_irqrestore(&d->ch->lock, irq);
    return TV_OK;
}

static void ata_reap(struct blk_dev *bd)
{
    struct ata_disk *d = bd->priv;
    bool irq = spin_lock_irqsave(&d->ch->lock);
    if (d->cur && d->cur_issued)
        step(d);
    issue_next(d);
    if (d->cur && d->cur_issued && d->ch->owner == d)
        step(d);
    spin_unlock_irqrestore(&d->ch->lock, irq);
}

static void ata_abandon(struct blk_dev *bd, struct blk_req *req)
{
    struct ata_disk *d = bd->priv;
    bool irq = spin_lock_irqsave(&d->ch->lock);
    if (d->cur == req) {
        if (!d->cur_issued) {
            d->cur_abandoned = true;
            finish(d, TV_E_TIMEOUT);        /* never reached the device */
        } else {
            /* The device holds it: a software reset of the channel (SRST)
             * ends it; the next command waits for BSY to clear. */
            outb(d->ch->ctl, CTL_NIEN | CTL_SRST);
            time_delay_us(5);
            outb(d->ch->ctl, CTL_NIEN);
            d->cur_abandoned = true;
            finish(d, TV_E_TIMEOUT);
        }
    } else {
        for (unsigned i = 0; i < d->count; i++) {
            unsigned k = (d->head + i) % ATA_QUEUE;
            if (d->queue[k] != req)
                continue;
            for (unsigned j = i; j + 1 < d->count; j++)
                d->queue[(d->head + j) % ATA_QUEUE] = d->queue[(d->head + j + 1) % ATA_QUEUE];
            d->count--;
            blk_slot_freed(bd);
            break;
        }
    }
    spin_unlock_irqrestore(&d->ch->lock, irq);
    req->slot = -1;
}

static const struct blk_ops ata_ops = { ata_start, ata_reap, ata_abandon };

static bool wait_not_busy(struct ata_chan *c, uint64_t ms)
{
    uint64_t end = time_now_ns() + ms * 1000000ull;
    while (status(c) & ST_BSY) {
        if (time_now_ns() > end)
            return false;
        cpu_pause();
    }
    return true;
}

/* IDENTIFY DEVICE, polled (boot time).  ATAPI and SATA bridges abort it and
 * leave their signature in LBA mid/high. */
static bool identify(struct ata_chan *c, bool slave, uint16_t *id)
{
    select_drive(c, slave, 0);
    uint8_t s = status(c);
    if (s == 0xff || s == 0x00)
        return false;                       /* floating bus or no drive */
    if (!wait_not_busy(c, 1000))
        return false;
    outb((uint16_t)(c->io + R_COUNT), 0);
    outb((uint16_t)(c->io + R_LBA0), 0);
    outb((uint16_t)(c->io + R_LBA1), 0);
    outb((uint16_t)(c->io + R_LBA2), 0);
    outb((uint16_t)(c->io + R_STATUS), ATA_CMD_IDENTIFY);
    delay400(c);
    if (status(c) == 0 || !wait_not_busy(c, 1000))
        return false;
    if (inb((uint16_t)(c->io + R_LBA1)) || inb((uint16_t)(c->io + R_LBA2)))
        return false;                       /* not ATA */
    uint64_t end = time_now_ns() + 1000000000ull;
    while (!((s = status(c)) & (ST_DRQ | ST_ERR))) {
        if (time_now_ns() > end)
            return false;
        cpu_pause();
    }
    if (s & ST_ERR)
        return false;
    for (int i = 0; i < 256; i++)
        id[i] = inw_p((uint16_t)(c->io + R_DATA));
    return true;
}

tv_status_t ata_probe(struct pci_dev *pd)
{
    /* The IDE function in compatibility mode (programming interface bits 0
     * and 2 clear) decodes the legacy ports; native-mode channels are not
     * supported yet. */
    if (pd && (pd->class_code != 0x01 || pd->subclass != 0x01))
        return TV_E_NOT_FOUND;
    if (probed)
        return TV_E_NOT_FOUND;
    probed = true;
    if (pd) {
        if (pd->prog_if & 0x05) {
            log_warn("ata %02x:%02x.%u: native-mode channels, not supported", pd->bus, pd->dev,
                     pd->fn);
            return TV_E_UNSUPPORTED;
        }
        pd->claimed = true;
    }
    static unsigned count;
    uint16_t *id = kmalloc(512);
    if (!id)
        return TV_E_NO_MEMORY;
    for (unsigned ci = 0; ci < 2; ci++) {
        struct ata_chan *c = &chans[ci];
        outb(c->ctl, CTL_NIEN);
        for (int sl = 0; sl < 2; sl++) {
            struct ata_info info;
            if (!identify(c, sl, id) || !ata_identify_parse(id, &info))
                continue;
            if (info.sector_size != 512) {
                log_warn("ata%u%c: %s: %u-byte sectors, not supported", ci, sl ? 's' : 'm',
                         info.model, info.sector_size);
                continue;
            }
            struct ata_disk *d = kzalloc(sizeof *d);
            if (!d)
                break;
            d->ch = c;
            d->slave = sl;
            d->id = info;
            struct blk_dev *b = &d->blk;
            tv_snprintf(b->name, sizeof b->name, "ata%u%c", ci, sl ? 's' : 'm');
            tv_strlcpy(b->model, info.model, sizeof b->model);
            b->driver = "ata";
            b->sector_size = 512;
            b->sectors = info.lba48 ? info.sectors : (info.sectors & 0x0fffffffull);
            b->max_sectors = ATA_MAX_SECT;
            b->queue_depth = ATA_QUEUE;
            b->has_flush = info.flush || info.flush_ext;
            b->has_irq = false;
            b->ops = &ata_ops;
            b->priv = d;
            if (blk_register(b) == TV_OK)
                count++;
        }
    }
    kfree(id);
    return count ? TV_OK : TV_E_NOT_FOUND;
}
