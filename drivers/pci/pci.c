/* PCI enumeration and configuration access: see pci.h. */
#include "drivers/pci/pci.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "drivers/acpi.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"
#include "tv_string.h"

#define PCI_MAX_DEVS  64
#define PCI_MAX_ECAM  8
#define CFG_ADDR      0xcf8
#define CFG_DATA      0xcfc

#define PCI_COMMAND   0x04
#define CMD_IO        (1u << 0)
#define CMD_MEMORY    (1u << 1)
#define CMD_MASTER    (1u << 2)
#define CMD_INTX_OFF  (1u << 10)
#define PCI_BAR0      0x10

static struct pci_dev devs[PCI_MAX_DEVS];
static unsigned dev_count;
static struct mcfg_entry ecam[PCI_MAX_ECAM];
static unsigned ecam_count;
static spinlock_t legacy_lock = SPINLOCK_INIT;   /* 0xCF8/0xCFC is one shared pair */

static inline uint16_t inw16(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl32(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint32_t legacy_addr(const struct pci_dev *d, uint16_t off)
{
    return 0x80000000u | (uint32_t)d->bus << 16 | (uint32_t)d->dev << 11 |
           (uint32_t)d->fn << 8 | (off & 0xfc);
}

/* Width-exact accesses: a 32-bit read-modify-write of the command register
 * would write back the status register's write-one-to-clear bits. */
static uint32_t cfg_read(const struct pci_dev *d, uint16_t off, unsigned width)
{
    if (d->ecam) {
        volatile uint8_t *p = d->ecam + off;
        return width == 1 ? *p : width == 2 ? *(volatile uint16_t *)p : *(volatile uint32_t *)p;
    }
    if (off > 0xff)
        return 0xffffffffu;
    bool irq = spin_lock_irqsave(&legacy_lock);
    outl(CFG_ADDR, legacy_addr(d, off));
    uint16_t port = (uint16_t)(CFG_DATA + (off & 3));
    uint32_t v = width == 1 ? inb(port) : width == 2 ? inw16(port) : inl32(CFG_DATA);
    spin_unlock_irqrestore(&legacy_lock, irq);
    return v;
}

static void cfg_write(const struct pci_dev *d, uint16_t off, uint32_t v, unsigned width)
{
    if (d->ecam) {
        volatile uint8_t *p = d->ecam + off;
        if (width == 2)
            *(volatile uint16_t *)p = (uint16_t)v;
        else
            *(volatile uint32_t *)p = v;
        return;
    }
    if (off > 0xff)
        return;
    bool irq = spin_lock_irqsave(&legacy_lock);
    outl(CFG_ADDR, legacy_addr(d, off));
    if (width == 2)
        outw((uint16_t)(CFG_DATA + (off & 2)), (uint16_t)v);
    else
        outl(CFG_DATA, v);
    spin_unlock_irqrestore(&legacy_lock, irq);
}

uint8_t pci_read8(const struct pci_dev *d, uint16_t off) { return (uint8_t)cfg_read(d, off, 1); }
uint16_t pci_read16(const struct pci_dev *d, uint16_t off) { return (uint16_t)cfg_read(d, off & ~1u, 2); }
uint32_t pci_read32(const struct pci_dev *d, uint16_t off) { return cfg_read(d, off & ~3u, 4); }
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v) { cfg_write(d, off & ~1u, v, 2); }
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v) { cfg_write(d, off & ~3u, v, 4); }

uint8_t pci_cfg_read8_cb(void *ctx, uint16_t off) { return pci_read8(ctx, off); }

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after)
{
    return pci_cap_find(pci_cfg_read8_cb, (void *)d, id, after);
}

static volatile uint8_t *ecam_window(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < ecam_count; i++) {
        if (ecam[i].segment == seg && bus >= ecam[i].bus_start && bus <= ecam[i].bus_end)
            return phys_to_virt(ecam[i].base + ((uint64_t)bus << 20 | (uint64_t)dev << 15 |
                                                (uint64_t)fn << 12));
    }
    return 0;
}

/* BAR sizing (PCI 3.0, 6.2.5.1): write all ones with decoding off, read the
 * mask back, restore.  Memory decoding stays off meanwhile so the probe
 * address is never decoded. */
static void size_bars(struct pci_dev *d)
{
    unsigned nbars = (d->header_type & 0x7f) == 0 ? 6 : (d->header_type & 0x7f) == 1 ? 2 : 0;
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, (uint16_t)(cmd & ~(CMD_IO | CMD_MEMORY)));
    for (unsigned i = 0; i < nbars; i++) {
        uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
        uint32_t lo = pci_read32(d, off);
        pci_write32(d, off, 0xffffffffu);
        uint32_t mlo = pci_read32(d, off);
        pci_write32(d, off, lo);
        struct pci_bar *b = &d->bar[i];
        if (lo & 1) {
            uint32_t mask = mlo & ~3u;
            if (mask) {
                b->io = true;
                b->base = lo & ~3u;
                b->size = (uint32_t)(~mask + 1) & 0xffff;
            }
            continue;
        }
        uint64_t base = lo & ~0xfull, mask = mlo & ~0xfull;
        b->prefetch = (lo >> 3) & 1;
        if (((lo >> 1) & 3) == 2 && i + 1 < nbars) {
            uint32_t hi = pci_read32(d, (uint16_t)(off + 4));
            pci_write32(d, (uint16_t)(off + 4), 0xffffffffu);
            uint32_t mhi = pci_read32(d, (uint16_t)(off + 4));
            pci_write32(d, (uint16_t)(off + 4), hi);
            base |= (uint64_t)hi << 32;
            mask |= (uint64_t)mhi << 32;
            b->is64 = true;
            i++;   /* the upper half is not a BAR of its own */
        } else if (mask) {
            mask |= 0xffffffff00000000ull;
        }
        if (mask & ~0xfull) {   /* a BAR that reads back 0 is not implemented */
            b->base = base;
            b->size = ~mask + 1;
        }
    }
    pci_write16(d, PCI_COMMAND, cmd);
}

static void add_function(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
    if (dev_count == PCI_MAX_DEVS) {
        log_warn("pci: more than %u functions, %02x:%02x.%u ignored", PCI_MAX_DEVS, bus, dev, fn);
        return;
    }
    struct pci_dev *d = &devs[dev_count++];
    tv_memset(d, 0, sizeof *d);
    d->segment = seg;
    d->bus = bus;
    d->dev = dev;
    d->fn = fn;
    d->ecam = ecam_window(seg, bus, dev, fn);
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    uint32_t cls = pci_read32(d, 0x08);
    d->revision = (uint8_t)cls;
    d->prog_if = (uint8_t)(cls >> 8);
    d->subclass = (uint8_t)(cls >> 16);
    d->class_code = (uint8_t)(cls >> 24);
    d->header_type = pci_read8(d, 0x0e);
    d->msi_cap = pci_find_cap(d, PCI_CAP_MSI, 0);
    d->msix_cap = pci_find_cap(d, PCI_CAP_MSIX, 0);
    size_bars(d);
    log_info("pci %04x:%02x:%02x.%u %04x:%04x class %02x.%02x.%02x%s%s", seg, bus, dev, fn,
             d->vendor, d->device, d->class_code, d->subclass, d->prog_if,
             d->msi_cap ? " MSI" : "", d->msix_cap ? " MSI-X" : "");
    for (unsigned i = 0; i < 6; i++) {
        if (d->bar[i].size)
            log_info("pci %02x:%02x.%u   BAR%u %s %#llx size %#llx%s", bus, dev, fn, i,
                     d->bar[i].io ? "io" : d->bar[i].is64 ? "mem64" : "mem32",
                     (unsigned long long)d->bar[i].base, (unsigned long long)d->bar[i].size,
                     d->bar[i].prefetch ? " prefetchable" : "");
    }
}

static uint32_t probe_id(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    struct pci_dev tmp = { .segment = seg, .bus = bus, .dev = dev, .fn = fn };
    tmp.ecam = ecam_window(seg, bus, dev, fn);
    if (ecam_count && !tmp.ecam)
        return 0xffffffffu;
    return pci_read32(&tmp, 0);
}

static void scan_bus(uint16_t seg, unsigned bus)
{
    for (uint8_t dev = 0; dev < 32; dev++) {
        uint32_t id = probe_id(seg, (uint8_t)bus, dev, 0);
        if ((id & 0xffff) == 0xffff)
            continue;
        struct pci_dev tmp = { .segment = seg, .bus = (uint8_t)bus, .dev = dev };
        tmp.ecam = ecam_window(seg, (uint8_t)bus, dev, 0);
        bool multi = pci_read8(&tmp, 0x0e) & 0x80;
        add_function(seg, (uint8_t)bus, dev, 0, id);
        for (uint8_t fn = 1; multi && fn < 8; fn++) {
            id = probe_id(seg, (uint8_t)bus, dev, fn);
            if ((id & 0xffff) != 0xffff)
                add_function(seg, (uint8_t)bus, dev, fn, id);
        }
    }
}

tv_status_t pci_init(void)
{
    uint32_t len = 0;
    const uint8_t *mcfg = acpi_find_table("MCFG", &len);
    ecam_count = 0;
    if (mcfg && mcfg_parse(mcfg, len, ecam, PCI_MAX_ECAM, &ecam_count) != TV_OK) {
        log_warn("pci: MCFG table malformed, using legacy configuration access");
        ecam_count = 0;
    }
    for (unsigned i = 0; i < ecam_count; i++) {
        uint64_t size = ((uint64_t)ecam[i].bus_end + 1) << 20;
        if (mm_map_mmio(ecam[i].base + ((uint64_t)ecam[i].bus_start << 20),
                        size - ((uint64_t)ecam[i].bus_start << 20)) != TV_OK) {
            log_warn("pci: cannot map ECAM at %#llx, using legacy configuration access",
                     (unsigned long long)ecam[i].base);
            ecam_count = 0;
            break;
        }
    }
    dev_count = 0;
    if (ecam_count) {
        for (unsigned i = 0; i < ecam_count; i++) {
            log_info("pci: ECAM segment %u buses %u-%u at %#llx", ecam[i].segment,
                     ecam[i].bus_start, ecam[i].bus_end, (unsigned long long)ecam[i].base);
            for (unsigned b = ecam[i].bus_start; b <= ecam[i].bus_end; b++)
                scan_bus(ecam[i].segment, b);
        }
    } else {
        log_info("pci: no MCFG table, legacy configuration access (0xCF8/0xCFC)");
        for (unsigned b = 0; b < 256; b++)
            scan_bus(0, b);
    }
    log_info("pci: %u functions (%s)", dev_count, pci_access_name());
    return TV_OK;
}

const char *pci_access_name(void) { return ecam_count ? "ECAM" : "legacy 0xCF8"; }
unsigned pci_count(void) { return dev_count; }
struct pci_dev *pci_get(unsigned i) { return i < dev_count ? &devs[i] : 0; }

void pci_enable(struct pci_dev *d)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, (uint16_t)(cmd | CMD_MEMORY | CMD_IO | CMD_MASTER | CMD_INTX_OFF));
}

volatile uint8_t *pci_map_bar(struct pci_dev *d, unsigned i)
{
    if (i > 5 || d->bar[i].io || !d->bar[i].size || !d->bar[i].base)
        return 0;
    if (mm_map_mmio(d->bar[i].base, d->bar[i].size) != TV_OK)
        return 0;
    return phys_to_virt(d->bar[i].base);
}

/* The message: address 0xFEE00000 with the destination APIC id in bits
 * 12-19, physical destination; data = vector, fixed delivery, edge (SDM vol. 3
 * 10.11.1, 10.11.2). */
static uint32_t msi_addr(void) { return 0xfee00000u | (lapic_id() & 0xff) << 12; }

tv_status_t pci_msix_enable(struct pci_dev *d, unsigned entry, uint8_t vector)
{
    struct msix_info mi;
    if (!d->msix_cap || !msix_cap_parse(pci_cfg_read8_cb, d, d->msix_cap, &mi))
        return TV_E_UNSUPPORTED;
    if (entry >= mi.entries)
        return TV_E_INVALID_ARGUMENT;
    volatile uint8_t *bar = pci_map_bar(d, mi.table_bar);
    if (!bar || (uint64_t)mi.table_off + (uint64_t)mi.entries * 16 > d->bar[mi.table_bar].size)
        return TV_E_UNSUPPORTED;
    uint16_t ctl_off = (uint16_t)(d->msix_cap + 2);
    uint16_t ctl = pci_read16(d, ctl_off);
    /* Enable with the function masked while the table is written (PCI 3.0,
     * 6.8.2.3), then unmask the entry and the function. */
    pci_write16(d, ctl_off, (uint16_t)(ctl | 0x8000 | 0x4000));
    volatile uint32_t *e = (volatile uint32_t *)(bar + mi.table_off + 16u * entry);
    e[0] = msi_addr();
    e[1] = 0;
    e[2] = vector;
    e[3] = 0;          /* vector control: unmasked */
    pci_write16(d, ctl_off, (uint16_t)((ctl | 0x8000) & ~0x4000));
    return TV_OK;
}

tv_status_t pci_msi_enable(struct pci_dev *d, uint8_t vector)
{
    if (!d->msi_cap)
        return TV_E_UNSUPPORTED;
    uint16_t c = d->msi_cap;
    uint16_t ctl = pci_read16(d, (uint16_t)(c + 2));
    bool is64 = ctl & (1u << 7);
    pci_write32(d, (uint16_t)(c + 4), msi_addr());
    if (is64) {
        pci_write32(d, (uint16_t)(c + 8), 0);
        pci_write16(d, (uint16_t)(c + 12), vector);
    } else {
        pci_write16(d, (uint16_t)(c + 8), vector);
    }
    /* One message (multiple message enable = 0), enabled. */
    pci_write16(d, (uint16_t)(c + 2), (uint16_t)((ctl & ~(7u << 4)) | 1u));
    return TV_OK;
}
