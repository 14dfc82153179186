/* Virtual I/O APIC (see ioapic.h). */
#include "dev/ioapic.h"

#define REG_ID      0x00u
#define REG_VERSION 0x01u
#define REG_ARB     0x02u
#define REG_REDIR0  0x10u

#define RTE_VECTOR(e)   ((uint8_t)((e) & 0xff))
#define RTE_MODE(e)     ((uint8_t)(((e) >> 8) & 7))
#define RTE_LOGICAL     (1ull << 11)
#define RTE_STATUS      (1ull << 12)   /* delivery status: read-only */
#define RTE_POLARITY    (1ull << 13)
#define RTE_REMOTE_IRR  (1ull << 14)   /* read-only */
#define RTE_LEVEL       (1ull << 15)
#define RTE_MASKED      (1ull << 16)
/* Writable bits: vector, delivery mode, destination mode, polarity,
 * trigger mode, mask (bits 0-11, 13, 15, 16) and the destination (63:56). */
#define RTE_WRITABLE    (0xfffull | RTE_POLARITY | RTE_LEVEL | RTE_MASKED | (0xffull << 56))

void ioapic_init(struct ioapic *io, uint32_t id, void *ctx,
                 void (*deliver)(void *ctx, uint8_t vector, uint8_t dest, bool logical,
                                 uint8_t mode))
{
    io->id = id & 0xf;
    io->ioregsel = 0;
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        io->redir[i] = RTE_MASKED;     /* all masked at reset (datasheet 3.2.4) */
    io->level = 0;
    io->delivered = 0;
    io->ctx = ctx;
    io->deliver = deliver;
}

static uint32_t read_reg(const struct ioapic *io, uint32_t reg)
{
    switch (reg) {
    case REG_ID: return io->id << 24;
    case REG_VERSION: return ((IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;
    case REG_ARB: return io->id << 24;
    default: break;
    }
    if (reg >= REG_REDIR0 && reg < REG_REDIR0 + 2 * IOAPIC_PINS) {
        uint64_t e = io->redir[(reg - REG_REDIR0) / 2];
        return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0xffffffffu;                /* no such register */
}

static void send(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    if (e & RTE_MASKED)
        return;
    io->delivered++;
    if (io->deliver)
        io->deliver(io->ctx, RTE_VECTOR(e), (uint8_t)(e >> 56), (e & RTE_LOGICAL) != 0,
                    RTE_MODE(e));
}

static void write_reg(struct ioapic *io, uint32_t reg, uint32_t v)
{
    if (reg == REG_ID) {
        io->id = (v >> 24) & 0xf;
        return;
    }
    if (reg < REG_REDIR0 || reg >= REG_REDIR0 + 2 * IOAPIC_PINS)
        return;                        /* read-only or absent */
    unsigned pin = (reg - REG_REDIR0) / 2;
    uint64_t e = io->redir[pin];
    uint64_t nv = (reg & 1) ? (e & 0xffffffffull) | (uint64_t)v << 32
                            : (e & ~0xffffffffull) | v;
    bool was_masked = e & RTE_MASKED;
    io->redir[pin] = (e & ~RTE_WRITABLE) | (nv & RTE_WRITABLE);
    /* An edge that came while the pin was masked is lost, as on the chip;
     * a level pin still asserted when unmasked is sent. */
    if (was_masked && !(io->redir[pin] & RTE_MASKED) && (io->redir[pin] & RTE_LEVEL) &&
        (io->level & (1u << pin)))
        send(io, pin);
}

uint64_t ioapic_mmio_read(struct ioapic *io, uint64_t off, unsigned size)
{
    if (size != 4 || (off != 0x00 && off != 0x10))
        return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
    return off == 0x00 ? io->ioregsel : read_reg(io, io->ioregsel);
}

void ioapic_mmio_write(struct ioapic *io, uint64_t off, unsigned size, uint64_t value)
{
    if (size != 4)
        return;
    if (off == 0x00)
        io->ioregsel = (uint32_t)value & 0xff;
    else if (off == 0x10)
        write_reg(io, io->ioregsel, (uint32_t)value);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
    if (pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin;
    bool was = io->level & bit;
    if (level)
        io->level |= bit;
    else
        io->level &= ~bit;
    /* `level` is the asserted state, whatever the pin's polarity bit says:
     * the sources (the UART) and the MP table agree on active-high ISA
     * lines, and the bit is kept only for the guest to read back. */
    if (level && !was)
        send(io, pin);
}
