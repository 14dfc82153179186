/* libFuzzer target: the virtio-blk request side against a guest that
 * controls everything.  The input is the guest's RAM (descriptor table,
 * rings, headers, data) and the queue's size and addresses; the device
 * serves it as the monitor's thread would, then the rest of the input
 * drives the virtio-pci registers and the PCI bus as MMIO and port
 * accesses.  Aborts when the device touches guest memory outside RAM or
 * the disk outside its size, or when it answers a request it cannot have
 * performed with OK. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/virtio_blk_queue.h"
#include "dev/virtio_pci_blk.h"
#include "dev/vpci.h"

#define RAM 2048u       /* small, so that mutations land on the structures */
#define SECTORS 8u

static uint8_t ram[RAM];
static uint8_t disk[SECTORS * 512];
static uint8_t bounce[1024];
static struct vblk_req req;
static bool disk_ro;

static bool m_ok(void *c, uint64_t g, uint64_t l) { (void)c; return g <= RAM && l <= RAM - g; }
static tv_status_t m_rd(void *c, uint64_t g, void *d, size_t l)
{
    if (!m_ok(c, g, l)) return TV_E_INVALID_ARGUMENT;
    memcpy(d, ram + g, l);
    return TV_OK;
}
static tv_status_t m_wr(void *c, uint64_t g, const void *s, size_t l)
{
    if (!m_ok(c, g, l)) return TV_E_INVALID_ARGUMENT;
    memcpy(ram + g, s, l);
    return TV_OK;
}
static tv_status_t d_rd(void *c, uint64_t o, void *b, size_t l)
{
    (void)c;
    if (o % 512 || o > sizeof disk || l > sizeof disk - o)
        abort();
    memcpy(b, disk + o, l);
    return TV_OK;
}
static tv_status_t d_wr(void *c, uint64_t o, const void *b, size_t l)
{
    (void)c;
    if (disk_ro || o % 512 || o > sizeof disk || l > sizeof disk - o)
        abort();
    memcpy(disk + o, b, l);
    return TV_OK;
}
static tv_status_t d_fl(void *c) { (void)c; return TV_OK; }
static void on_notify(void *c) { (void)c; }
static bool idle(void *c) { (void)c; return true; }

static uint64_t take(const uint8_t **d, size_t *n, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && *n; i++, (*d)++, (*n)--)
        v |= (uint64_t)**d << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *d = data;
    size_t n = size;
    struct virtq q = { 0 };
    q.size = (uint16_t)take(&d, &n, 2);
    q.desc = take(&d, &n, 2) * 16;
    q.avail = take(&d, &n, 2) * 2;
    q.used = take(&d, &n, 2) * 4;
    q.last_avail = (uint16_t)take(&d, &n, 2);
    q.used_idx = q.last_avail;
    disk_ro = take(&d, &n, 1) & 1;
    size_t ramlen = n < RAM ? n : RAM;
    memset(ram, 0, sizeof ram);
    memcpy(ram, d, ramlen);
    memset(disk, 0x5a, sizeof disk);
    const struct vblk_mem mem = { 0, m_ok, m_rd, m_wr };
    struct vblk_disk dk = { 0, SECTORS, disk_ro, d_rd, d_wr, d_fl, "fuzz" };
    if (virtq_layout_ok(&q, &mem)) {
        bool irq;
        unsigned served = virtq_serve(&q, &mem, &dk, &req, bounce, sizeof bounce, 64, &irq);
        if (served > 64 || (uint16_t)(q.used_idx - q.last_avail) != 0)
            abort();
    }
    /* The same bytes as register traffic: (op, offset, size, value). */
    static struct vblk_pci dev;
    struct vpci_bus bus;
    vpci_init(&bus);
    vblk_pci_init(&dev, 0xfe000000u, 16, SECTORS, disk_ro, 0, on_notify, idle);
    vpci_plug(&bus, 1, &dev.fn);
    for (size_t i = 0; i + 8 <= ramlen; i += 8) {
        const uint8_t *op = ram + i;
        unsigned sz = 1u << (op[0] >> 6 & 3);
        uint64_t off = (uint64_t)(op[1] | op[2] << 8) % (VBLK_BAR_SIZE + 64);
        uint32_t val;
        memcpy(&val, op + 4, 4);
        switch (op[0] & 7) {
        case 0: vblk_pci_mmio_write(&dev, off, sz, val); break;
        case 1: (void)vblk_pci_mmio_read(&dev, off, sz); break;
        case 2: vpci_io_write(&bus, (uint16_t)(0xcf8 + (op[1] & 7)), sz > 4 ? 4 : sz, val); break;
        case 3: (void)vpci_io_read(&bus, (uint16_t)(0xcf8 + (op[1] & 7)), sz > 4 ? 4 : sz); break;
        case 4: {
            struct virtq c;
            uint32_t gen;
            if (vblk_pci_take_queue(&dev, &c, &gen)) {
                c.broken = op[3] & 1;
                c.used_idx = (uint16_t)val;
                (void)vblk_pci_put_queue(&dev, &c, gen, op[3] & 2);
            }
            break;
        }
        default: {
            unsigned bar;
            uint64_t o;
            (void)vpci_find_mmio(&bus, 0xfe000000u + val % 0x10000, &bar, &o);
            break;
        }
        }
        /* Invariants of the register model. */
        if (dev.queue_enabled && dev.q.size != dev.queue_size)
            abort();
        if (vpci_cfg_read(&dev.fn, 0, 4) != 0x10421af4u)
            abort();
    }
    return 0;
}
