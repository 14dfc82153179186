/* The partition's PCI bus: see vpci.h. */
#include "dev/vpci.h"

#include "tv_string.h"

static void put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *b, uint32_t v) { put16(b, (uint16_t)v); put16(b + 2, (uint16_t)(v >> 16)); }

void vpci_func_init(struct vpci_func *f, uint16_t vendor, uint16_t device, uint32_t class_rev,
                    uint16_t subsys_vendor, uint16_t subsys_id, void *dev)
{
    tv_memset(f, 0, sizeof *f);
    put16(f->cfg + PCI_VENDOR_ID, vendor);
    put16(f->cfg + PCI_DEVICE_ID, device);
    put32(f->cfg + PCI_REVISION, class_rev);      /* revision, prog-if, subclass, class */
    put16(f->cfg + PCI_SUBSYS_VENDOR, subsys_vendor);
    put16(f->cfg + PCI_SUBSYS_ID, subsys_id);
    /* Writable: I/O, memory, bus master and INTx disable in the command
     * register, the interrupt line (PCI 3.0 6.2.2, 6.2.4). */
    put16(f->wmask + PCI_COMMAND, 0x0407);
    f->wmask[PCI_INT_LINE] = 0xff;
    f->dev = dev;
}

void vpci_set_bar(struct vpci_func *f, unsigned bar, uint32_t size, uint32_t base)
{
    if (bar >= VPCI_BARS || size < 16 || (size & (size - 1)))
        return;
    f->bar_size[bar] = size;
    /* The low four bits are the type (memory, 32-bit, not prefetchable):
     * read-only zeros; the address bits below the size read as zeros, which
     * is how software sizes a BAR (PCI 3.0 6.2.5.1). */
    put32(f->cfg + PCI_BAR0 + 4 * bar, base & ~(size - 1));
    put32(f->wmask + PCI_BAR0 + 4 * bar, ~(size - 1));
}

void vpci_init(struct vpci_bus *b)
{
    tv_memset(b, 0, sizeof *b);
    /* An i440FX-style host bridge, so an OS's probe of mechanism #1 finds a
     * host bridge on bus 0 (class 06 00 00). */
    vpci_func_init(&b->host, 0x8086, 0x1237, 0x06000002u, 0, 0, 0);
    b->slot[0] = &b->host;
}

bool vpci_plug(struct vpci_bus *b, unsigned slot, struct vpci_func *f)
{
    if (slot == 0 || slot >= VPCI_SLOTS || b->slot[slot])
        return false;
    b->slot[slot] = f;
    return true;
}

bool vpci_handles_port(uint16_t port)
{
    return port >= VPCI_CONFIG_ADDR && port < VPCI_CONFIG_DATA + 4;
}

uint32_t vpci_cfg_read(const struct vpci_func *f, unsigned off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size && off + i < 256; i++)
        v |= (uint32_t)f->cfg[off + i] << (8 * i);
    return v;
}

void vpci_cfg_write(struct vpci_func *f, unsigned off, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size && off + i < 256; i++) {
        uint8_t m = f->wmask[off + i], nv = (uint8_t)(value >> (8 * i));
        f->cfg[off + i] = (uint8_t)((f->cfg[off + i] & ~m) | (nv & m));
    }
}

/* The function CONFIG_ADDRESS selects: enabled, bus 0, function 0 of an
 * occupied slot; NULL otherwise (reads all ones, writes dropped). */
static struct vpci_func *selected(struct vpci_bus *b)
{
    uint32_t a = b->config_addr;
    unsigned bus = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7;
    if (!(a & 0x80000000u) || bus || fn || slot >= VPCI_SLOTS)
        return 0;
    return b->slot[slot];
}

static uint32_t ones(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

uint32_t vpci_io_read(struct vpci_bus *b, uint16_t port, unsigned size)
{
    if (port == VPCI_CONFIG_ADDR && size == 4)
        return b->config_addr;
    if (port < VPCI_CONFIG_DATA || port + size > VPCI_CONFIG_DATA + 4)
        return ones(size);
    struct vpci_func *f = selected(b);
    if (!f)
        return ones(size);
    return vpci_cfg_read(f, (b->config_addr & 0xfc) + (port - VPCI_CONFIG_DATA), size);
}

void vpci_io_write(struct vpci_bus *b, uint16_t port, unsigned size, uint32_t value)
{
    /* Only a 32-bit write reaches CONFIG_ADDRESS (3.2.2.3.2); the reserved
     * bits 30:24 and 1:0 read back as zeros. */
    if (port == VPCI_CONFIG_ADDR && size == 4) {
        b->config_addr = value & 0x80fffffcu;
        return;
    }
    if (port < VPCI_CONFIG_DATA || port + size > VPCI_CONFIG_DATA + 4)
        return;
    struct vpci_func *f = selected(b);
    if (f)
        vpci_cfg_write(f, (b->config_addr & 0xfc) + (port - VPCI_CONFIG_DATA), size, value);
}

uint32_t vpci_bar_base(const struct vpci_func *f, unsigned bar)
{
    return bar < VPCI_BARS ? vpci_cfg_read(f, PCI_BAR0 + 4 * bar, 4) & ~0xfu : 0;
}

struct vpci_func *vpci_find_mmio(struct vpci_bus *b, uint64_t gpa, unsigned *bar, uint64_t *off)
{
    for (unsigned s = 1; s < VPCI_SLOTS; s++) {
        struct vpci_func *f = b->slot[s];
        if (!f || !(vpci_cfg_read(f, PCI_COMMAND, 2) & PCI_CMD_MEMORY))
            continue;
        for (unsigned i = 0; i < VPCI_BARS; i++) {
            uint32_t base = vpci_bar_base(f, i);
            if (!f->bar_size[i] || !base)
                continue;
            if (gpa >= base && gpa - base < f->bar_size[i]) {
                *bar = i;
                *off = gpa - base;
                return f;
            }
        }
    }
    return 0;
}
