/* vblk: the guest side of the virtual disk scenario.  Finds the virtio-blk
 * function on the partition's PCI bus (mechanism #1: a host bridge in slot
 * 0, the disk in slot 1 with a sizable BAR and vendor capabilities), brings
 * it up as a stock driver does, and over the queue: reads the pattern the
 * host wrote into the VHD (0x77 in the first 64 KiB), writes patterns
 * (0xA5 at sectors 200-215, 0x3C in the last sector) and reads them back,
 * flushes and reads the serial number; then bad requests: a data buffer
 * outside its RAM, a range past the disk's end, a length that is not whole
 * sectors, an unknown type (IOERR, IOERR, IOERR, UNSUPP), a chain with an
 * index past the ring (returned unanswered), and a good request after
 * them; completions raise the INTx interrupt through the I/O APIC; a ring
 * broken on purpose sets DEVICE_NEEDS_RESET and a reset recovers it.  The
 * host checks the image afterwards (mkstore.sh check-vm).
 * Command line: sectors=N (the disk's size) id=TEXT (its serial). */
#include "guest.h"
#include "guest_vblk.h"
#include "tv_string.h"

#define VEC 0x41
#define IOAPIC ((volatile uint8_t *)0xfec00000ul)

static struct gvblk dev;
static volatile unsigned irqs, isr_seen;
static uint8_t buf[64 * 1024] __attribute__((aligned(4096)));
static uint8_t hdr2[16] __attribute__((aligned(16)));
static uint8_t st2;

static void on_irq(struct trap_frame *f, void *ctx)
{
    (void)f; (void)ctx;
    irqs++;
    isr_seen |= mmio_read8(dev.isr);
}

static void ioapic_route(unsigned pin, uint8_t vector)
{
    mmio_write32(IOAPIC, 0x10 + 2 * pin + 1);
    mmio_write32(IOAPIC + 0x10, 0);                  /* destination APIC ID 0 */
    mmio_write32(IOAPIC, 0x10 + 2 * pin);
    mmio_write32(IOAPIC + 0x10, vector);             /* fixed, physical, edge, unmasked */
}

static bool all(const uint8_t *p, uint8_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

/* A request built by hand: header, one data descriptor (addr, len, write),
 * status; returns the status byte (0xEE when untouched) and the used
 * length, or -1 when no answer. */
static int raw_request(uint32_t type, uint64_t sector, uint64_t addr, uint32_t len, bool dwrite,
                       uint16_t bad_next, uint32_t *used_len)
{
    memset(hdr2, 0, sizeof hdr2);
    memcpy(hdr2, &type, 4);
    memcpy(hdr2 + 8, &sector, 8);
    st2 = 0xee;
    dev.desc[0] = (struct gvblk_desc){ (uintptr_t)hdr2, 16, 1, bad_next ? bad_next : 1 };
    dev.desc[1] = (struct gvblk_desc){ addr, len, (uint16_t)(1 | (dwrite ? 2 : 0)), 2 };
    dev.desc[2] = (struct gvblk_desc){ (uintptr_t)&st2, 1, 2, 0 };
    gvblk_submit(&dev, 0);
    uint32_t id;
    if (!gvblk_wait(&dev, &id, used_len, 60000) || id != 0)
        return -1;
    return *(volatile uint8_t *)&st2;
}

int guest_main(const struct guest_boot *boot)
{
    char arg[40];
    uint64_t sectors = 0;
    if (guest_cmdline_value("sectors", arg, sizeof arg))
        guest_parse_u64(arg, &sectors);
    char id[24] = "";
    guest_cmdline_value("id", id, sizeof id);

    /* The bus: a host bridge in slot 0, the disk found by its IDs. */
    uint32_t hb = pci_cfg_read(0, 0x08, 4);
    reportf(pci_cfg_read(0, 0, 4) != 0xffffffffu && hb >> 8 == 0x060000,
            "PCI slot 0 is a host bridge (id %08x, class %06x)", pci_cfg_read(0, 0, 4), hb >> 8);
    reportf(pci_cfg_read(9, 0, 4) == 0xffffffffu, "an empty slot reads all ones");
    if (!report("virtio-blk function found with its four capabilities", gvblk_find(&dev, 0)))
        guest_exit_summary();
    reportf(pci_cfg_read(dev.slot, 0x08, 1) == 1 && pci_cfg_read(dev.slot, 0x2c, 2) == 0x1af4,
            "revision 1 (modern), subsystem vendor 0x1af4");
    uint32_t bar = pci_cfg_read(dev.slot, 0x10, 4);
    pci_cfg_write(dev.slot, 0x10, 4, 0xffffffffu);
    uint32_t sized = pci_cfg_read(dev.slot, 0x10, 4);
    pci_cfg_write(dev.slot, 0x10, 4, bar);
    reportf(sized == 0xffffc000u && pci_cfg_read(dev.slot, 0x10, 4) == bar,
            "BAR 0 sizes as 16 KiB of 32-bit memory (%08x) and keeps %08x", sized, bar);
    reportf(dev.irq_line >= 16 && dev.irq_line < 24 && pci_cfg_read(dev.slot, 0x3d, 1) == 1,
            "INTA# on I/O APIC pin %u", dev.irq_line);

    /* Features: one the device does not offer makes FEATURES_OK fail. */
    reportf(gvblk_reset(&dev), "reset reads back status 0");
    uint8_t s = gvblk_negotiate(&dev, 1ull << 32 | 1ull << 28);
    reportf(!(s & 8), "FEATURES_OK refused with an unoffered feature (status %#x)", s);
    gvblk_reset(&dev);
    s = gvblk_negotiate(&dev, 1ull << 32);
    reportf(s & 8, "FEATURES_OK with VERSION_1 (offered %#lx)", (unsigned long)dev.offered);
    reportf((dev.offered >> 32 & 1) && (dev.offered >> 9 & 1) && !(dev.offered >> 28 & 1),
            "offered: VERSION_1 and FLUSH, no indirect descriptors");
    reportf(dev.capacity == sectors, "capacity %lu sectors (expected %lu)",
            (unsigned long)dev.capacity, (unsigned long)sectors);

    if (apic_enable(true) == APIC_NONE)
        report("local APIC enabled", false);
    guest_irq_register(VEC, on_irq, 0, true);
    ioapic_route(dev.irq_line, VEC);
    cpu_sti();
    if (!report("queue 0 with 16 entries, DRIVER_OK", gvblk_start(&dev, 16)))
        guest_exit_summary();

    uint32_t ul = 0;
    memset(buf, 0, sizeof buf);
    int r = gvblk_request(&dev, 8, 0, buf, 20, &ul);
    reportf(r == 0 && ul == 21 && memcmp(buf, id, tv_strlen(id)) == 0,
            "GET_ID: status %d, used %u, serial '%.20s'", r, ul, (const char *)buf);

    memset(buf, 0, sizeof buf);
    r = gvblk_request(&dev, 0, 0, buf, sizeof buf, &ul);
    reportf(r == 0 && ul == sizeof buf + 1 && all(buf, 0x77, sizeof buf),
            "read of sectors 0-127: status %d, used %u, the host's 0x77 pattern", r, ul);

    memset(buf, 0xa5, 8192);
    r = gvblk_request(&dev, 1, 200, buf, 8192, &ul);
    reportf(r == 0 && ul == 1, "write of sectors 200-215: status %d, used %u", r, ul);
    memset(buf, 0, 8192);
    r = gvblk_request(&dev, 0, 200, buf, 8192, &ul);
    reportf(r == 0 && all(buf, 0xa5, 8192), "sectors 200-215 read back as written (status %d)", r);
    memset(buf, 0x3c, 512);
    r = gvblk_request(&dev, 1, sectors - 1, buf, 512, &ul);
    reportf(r == 0, "write of the last sector %lu: status %d", (unsigned long)(sectors - 1), r);
    memset(buf, 0, 512);
    r = gvblk_request(&dev, 0, sectors - 1, buf, 512, &ul);
    reportf(r == 0 && all(buf, 0x3c, 512), "the last sector reads back (status %d)", r);
    r = gvblk_request(&dev, 4, 0, 0, 0, &ul);
    reportf(r == 0 && ul == 1, "FLUSH: status %d", r);

    /* Bad requests: an error in the ring, never a fault. */
    uint64_t outside = boot->mem_bytes + 0x100000;
    r = raw_request(0, 0, outside, 4096, true, 0, &ul);
    reportf(r == 1, "read into a buffer outside RAM (%#lx): IOERR (status %d, used %u)",
            (unsigned long)outside, r, ul);
    r = raw_request(1, 0, outside, 4096, false, 0, &ul);
    reportf(r == 1, "write from a buffer outside RAM: IOERR (status %d)", r);
    r = raw_request(0, sectors - 1, (uintptr_t)buf, 1024, true, 0, &ul);
    reportf(r == 1, "read of 2 sectors from the last one (past the end): IOERR (status %d)", r);
    r = raw_request(0, ~0ull / 512, (uintptr_t)buf, 512, true, 0, &ul);
    reportf(r == 1, "read at sector 2^55 (offset overflow): IOERR (status %d)", r);
    r = raw_request(0, 0, (uintptr_t)buf, 100, true, 0, &ul);
    reportf(r == 1, "read of 100 bytes (not whole sectors): IOERR (status %d)", r);
    r = raw_request(0x99, 0, (uintptr_t)buf, 512, true, 0, &ul);
    reportf(r == 2, "unknown request type 0x99: UNSUPP (status %d)", r);
    r = raw_request(0, 0, (uintptr_t)buf, 512, true, 200, &ul);
    reportf(r == 0xee && ul == 0, "chain through index 200 of a 16-entry ring: returned unanswered "
            "(status %#x, used %u)", r, ul);
    memset(buf, 0, 8192);
    r = gvblk_request(&dev, 0, 200, buf, 8192, &ul);
    reportf(r == 0 && all(buf, 0xa5, 8192), "a good request after the bad ones (status %d)", r);
    reportf(irqs > 0 && (isr_seen & 1), "completions raised INTx: %u interrupts, ISR bit 0 seen",
            (unsigned)irqs);
    reportf(gvblk_status(&dev) == 15, "status still DRIVER_OK (%#x)", gvblk_status(&dev));

    /* A ring broken on purpose: more entries published than it holds. */
    dev.avail[1] = (uint16_t)(dev.avail_idx + 100);
    mmio_write16(dev.notify, 0);
    uint8_t bs = 0;
    for (int i = 0; i < 2000000 && !((bs = gvblk_status(&dev)) & 0x40); i++)
        cpu_pause();
    reportf(bs & 0x40, "an avail index 100 ahead of a 16-entry ring: DEVICE_NEEDS_RESET (%#x)", bs);
    reportf(gvblk_reset(&dev), "reset after the broken ring");
    s = gvblk_negotiate(&dev, 1ull << 32);
    bool up = (s & 8) && gvblk_start(&dev, 8);
    memset(buf, 0, 8192);
    r = up ? gvblk_request(&dev, 0, 200, buf, 8192, &ul) : -1;
    reportf(r == 0 && all(buf, 0xa5, 8192), "after the reset an 8-entry queue reads (status %d)", r);
    gvblk_reset(&dev);
    guest_exit_summary();
}
