/* The xAPIC MMIO page (0xFEE00000, SDM vol. 3 10.4.1) over the virtual local
 * APIC of vapic.c: the guest reaches the same registers as through the
 * x2APIC MSRs (register at offset 0xN0 = MSR 0x80N), with the xAPIC
 * differences kept here: the ID in bits 31:24, a writable LDR and DFR, the
 * ICR in two halves (a write of the low half sends), no SELF IPI register.
 * The page answers only while IA32_APIC_BASE has EN set and EXTD clear (as on
 * hardware: in x2APIC mode it is gone), and only to aligned 32-bit accesses
 * (10.4.1: "must be accessed using 128-bit aligned 32-bit loads or stores");
 * anything else reads all ones and writes are dropped. */
#ifndef VMM_VAPIC_MMIO_H
#define VMM_VAPIC_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/vapic.h"

#define XAPIC_BASE_GPA  0xfee00000ull
#define XAPIC_MMIO_SIZE 0x1000u

/* The xAPIC-only register state. */
struct xapic_regs {
    uint32_t ldr, dfr, icr_low, icr_high;
};

void xapic_regs_init(struct xapic_regs *x);
/* True when the page is mapped: APIC enabled in xAPIC mode at the default base. */
bool vapic_mmio_active(const struct vapic *a);
uint64_t vapic_mmio_read(struct vapic *a, struct xapic_regs *x, uint64_t off, unsigned size);
void vapic_mmio_write(struct vapic *a, struct xapic_regs *x, uint64_t off, unsigned size,
                      uint64_t value);

#endif
