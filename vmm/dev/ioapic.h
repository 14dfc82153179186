/* The virtual I/O APIC each partition sees at 0xFEC00000 (one 82093AA-style
 * IOAPIC, 24 pins; Intel 82093AA datasheet, section 3): IOREGSEL at +0x00,
 * IOWIN at +0x10; ID, version, arbitration and 24 redirection entries.
 * Portable: the monitor wires deliver() to the vCPU's virtual local APIC,
 * the unit tests to a recorder.
 *
 * Pins are edge-triggered in this model: a rising edge on an unmasked pin
 * sends its vector.  Level-triggered entries are accepted and sent on the
 * rising edge too, without Remote IRR (no level-triggered source exists on
 * this platform yet: the MP table describes every ISA line as edge). */
#ifndef VMM_IOAPIC_H
#define VMM_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_BASE_GPA   0xfec00000ull
#define IOAPIC_MMIO_SIZE  0x1000u
#define IOAPIC_PINS       24u
#define IOAPIC_VERSION    0x11u

struct ioapic {
    uint32_t id;                    /* bits 27:24 of register 0 */
    uint32_t ioregsel;
    uint64_t redir[IOAPIC_PINS];
    uint32_t level;                 /* current input level of each pin */
    uint64_t delivered;             /* interrupts sent, for statistics */
    void *ctx;
    /* Sends vector to the local APIC(s) named by dest (physical APIC ID,
     * or a logical mask when logical is set); mode is the delivery mode. */
    void (*deliver)(void *ctx, uint8_t vector, uint8_t dest, bool logical, uint8_t mode);
};

void ioapic_init(struct ioapic *io, uint32_t id, void *ctx,
                 void (*deliver)(void *ctx, uint8_t vector, uint8_t dest, bool logical,
                                 uint8_t mode));
/* MMIO at offset off (from IOAPIC_BASE_GPA), size 1, 2, 4 or 8 bytes.
 * Only aligned 32-bit accesses of IOREGSEL and IOWIN mean anything (as on
 * the chip); other reads give all ones and other writes are dropped. */
uint64_t ioapic_mmio_read(struct ioapic *io, uint64_t off, unsigned size);
void ioapic_mmio_write(struct ioapic *io, uint64_t off, unsigned size, uint64_t value);
/* Drives input pin `pin` to `level`. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);

#endif
