/* MP configuration table builder (see mptable.h; layouts from the MP
 * specification 1.4, sections 4.1-4.3.4). */
#include "dev/mptable.h"

#define FLOAT_SIZE      16u
#define HEADER_SIZE     44u
#define ENTRY_CPU       0u   /* 20 bytes */
#define ENTRY_BUS       1u   /* 8 bytes each below */
#define ENTRY_IOAPIC    2u
#define ENTRY_IOINT     3u
#define ENTRY_LINT      4u
#define INT_TYPE_INT    0u
#define INT_TYPE_NMI    1u
#define INT_TYPE_EXTINT 3u
#define ISA_IRQS        16u

struct out {
    uint8_t *buf;
    size_t cap, pos;
    bool overflow;
};

static void put8(struct out *o, uint8_t v)
{
    if (o->pos < o->cap)
        o->buf[o->pos] = v;
    else
        o->overflow = true;
    o->pos++;
}

static void put16(struct out *o, uint16_t v) { put8(o, (uint8_t)v); put8(o, (uint8_t)(v >> 8)); }
static void put32(struct out *o, uint32_t v) { put16(o, (uint16_t)v); put16(o, (uint16_t)(v >> 16)); }
static void puts_n(struct out *o, const char *s, unsigned n)
{
    /* Space-padded, not NUL-terminated (spec: OEM and product IDs, bus type). */
    for (unsigned i = 0; i < n; i++) {
        put8(o, *s ? (uint8_t)*s : ' ');
        if (*s)
            s++;
    }
}

/* The byte that makes the sum of [start, end) zero. */
static void fix_checksum(uint8_t *buf, size_t start, size_t end, size_t at)
{
    uint8_t sum = 0;
    buf[at] = 0;
    for (size_t i = start; i < end; i++)
        sum = (uint8_t)(sum + buf[i]);
    buf[at] = (uint8_t)-sum;
}

#define FLAGS_CONFORM   0x0u /* polarity and trigger conform to the bus: ISA is edge, active high */
#define FLAGS_LEVEL_LOW 0xfu /* active low (bits 1:0 = 3), level-triggered (bits 3:2 = 3) */

static void io_int(struct out *o, uint8_t type, uint16_t flags, uint8_t bus, uint8_t irq,
                   uint8_t ioapic, uint8_t pin)
{
    put8(o, ENTRY_IOINT);
    put8(o, type);
    put16(o, flags);
    put8(o, bus);
    put8(o, irq);
    put8(o, ioapic);
    put8(o, pin);
}

tv_status_t mptable_build(const struct mptable_platform *pf, uint32_t gpa, uint8_t *buf,
                          size_t cap, size_t *len)
{
    if (!pf || !buf || !len || pf->cpus == 0 || pf->cpus > MPTABLE_MAX_CPUS ||
        pf->ioapic_pins == 0 || pf->ioapic_id < pf->cpus || (gpa & 15) || pf->pci_slots > 31 ||
        (pf->pci_slots && pf->pci_first_pin + pf->pci_slots > pf->ioapic_pins))
        return TV_E_INVALID_ARGUMENT;
    const uint8_t isa_bus = pf->pci_slots ? 1 : 0;
    struct out o = { buf, cap, 0, false };
    uint32_t table = gpa + FLOAT_SIZE;

    /* Floating pointer structure (4.1). */
    puts_n(&o, "_MP_", 4);
    put32(&o, table);
    put8(&o, 1);              /* length in 16-byte units */
    put8(&o, 4);              /* spec revision 1.4 */
    put8(&o, 0);              /* checksum, below */
    put8(&o, 0);              /* feature 1: 0 = a configuration table follows */
    put8(&o, 0);              /* feature 2: bit 7 clear = no IMCR, virtual wire mode */
    put8(&o, 0); put8(&o, 0); put8(&o, 0);

    /* Configuration table header (4.2). */
    size_t hdr = o.pos;
    puts_n(&o, "PCMP", 4);
    put16(&o, 0);             /* base table length, below */
    put8(&o, 4);
    put8(&o, 0);              /* checksum, below */
    puts_n(&o, "TASKVSR", 8);
    puts_n(&o, "PARTITION", 12);
    put32(&o, 0);             /* no OEM table */
    put16(&o, 0);
    put16(&o, 0);             /* entry count, below */
    put32(&o, pf->lapic_addr);
    put16(&o, 0);             /* no extended entries */
    put8(&o, 0);
    put8(&o, 0);
    uint16_t entries = 0;

    for (uint32_t i = 0; i < pf->cpus; i++, entries++) {
        put8(&o, ENTRY_CPU);
        put8(&o, (uint8_t)i);                 /* local APIC ID */
        put8(&o, pf->lapic_version);
        put8(&o, (uint8_t)(1u | (i == 0 ? 2u : 0u)));   /* enabled; CPU 0 is the BSP */
        put32(&o, pf->cpu_signature);
        put32(&o, pf->cpu_features);
        put32(&o, 0);
        put32(&o, 0);
    }
    if (pf->pci_slots) {
        put8(&o, ENTRY_BUS);
        put8(&o, 0);
        puts_n(&o, "PCI", 6);
        entries++;
    }
    put8(&o, ENTRY_BUS);
    put8(&o, isa_bus);
    puts_n(&o, "ISA", 6);
    entries++;
    put8(&o, ENTRY_IOAPIC);
    put8(&o, pf->ioapic_id);
    put8(&o, pf->ioapic_version);
    put8(&o, 1);                              /* enabled */
    put32(&o, pf->ioapic_addr);
    entries++;
    /* ISA IRQ n on pin n, except the timer (IRQ 0) on pin 2 as on PCs
     * (the cascade, IRQ 2, has no line of its own). */
    for (uint8_t irq = 0; irq < ISA_IRQS; irq++) {
        if (irq == 2)
            continue;
        uint8_t pin = irq == 0 ? 2 : irq;
        if (pin >= pf->ioapic_pins)
            continue;
        io_int(&o, INT_TYPE_INT, FLAGS_CONFORM, isa_bus, irq, pf->ioapic_id, pin);
        entries++;
    }
    /* PCI interrupts (D.3): the source IRQ is the device number in bits
     * 6:2 and the pin (0 = INTA#) in bits 1:0. */
    for (uint8_t slot = 1; slot <= pf->pci_slots; slot++, entries++)
        io_int(&o, INT_TYPE_INT, FLAGS_LEVEL_LOW, 0, (uint8_t)(slot << 2), pf->ioapic_id,
               (uint8_t)(pf->pci_first_pin + slot - 1));
    /* Local interrupts: ExtINT on LINT0 and NMI on LINT1 of every local
     * APIC (0xFF), the usual wiring (5.1). */
    const uint8_t lint_type[2] = { INT_TYPE_EXTINT, INT_TYPE_NMI };
    for (uint8_t l = 0; l < 2; l++, entries++) {
        put8(&o, ENTRY_LINT);
        put8(&o, lint_type[l]);
        put16(&o, 0);
        put8(&o, 0);
        put8(&o, 0);
        put8(&o, 0xff);
        put8(&o, l);
    }
    if (o.overflow)
        return TV_E_LIMIT;
    size_t table_len = o.pos - hdr;
    buf[hdr + 4] = (uint8_t)table_len;
    buf[hdr + 5] = (uint8_t)(table_len >> 8);
    buf[hdr + 34] = (uint8_t)entries;
    buf[hdr + 35] = (uint8_t)(entries >> 8);
    fix_checksum(buf, hdr, o.pos, hdr + 7);
    fix_checksum(buf, 0, FLOAT_SIZE, 10);
    *len = o.pos;
    return TV_OK;
}
