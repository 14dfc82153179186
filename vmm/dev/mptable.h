/* The MP configuration table (Intel MultiProcessor Specification 1.4,
 * chapter 4) that describes a partition's platform to its OS: the
 * processors, one ISA bus, one I/O APIC and the routing of ISA IRQs to its
 * pins.  An OS without ACPI (Linux with acpi=off) finds it by scanning
 * 0xF0000-0xFFFFF for the floating pointer "_MP_".  Portable: builds the
 * bytes into a buffer; the partition code copies them into guest memory. */
#ifndef VMM_MPTABLE_H
#define VMM_MPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

#define MPTABLE_GPA       0xf0000u     /* in the BIOS area of the legacy hole */
#define MPTABLE_MAX_CPUS  16u

struct mptable_platform {
    uint32_t cpus;                 /* 1..MPTABLE_MAX_CPUS; APIC IDs 0..cpus-1, CPU 0 boots */
    uint32_t cpu_signature;        /* CPUID 1 EAX (stepping, model, family) */
    uint32_t cpu_features;         /* CPUID 1 EDX */
    uint32_t lapic_addr;           /* 0xFEE00000 */
    uint8_t lapic_version;
    uint8_t ioapic_id;
    uint8_t ioapic_version;
    uint32_t ioapic_addr;
    uint32_t ioapic_pins;          /* ISA IRQs 0-15 are routed when the I/O APIC has them */
    /* PCI: 0 for none.  Otherwise PCI bus 0 is described (MP bus ID 0, as
     * an OS matches MP bus IDs with PCI bus numbers; the ISA bus becomes ID
     * 1) with INTA# of slots 1..pci_slots on pins pci_first_pin + slot - 1,
     * level-triggered, active low as PCI interrupts are. */
    uint8_t pci_slots;
    uint8_t pci_first_pin;
};

/* Builds the floating pointer (at gpa) followed by the configuration table
 * into buf.  *len receives the size used.  LIMIT when buf is too small,
 * INVALID_ARGUMENT for an impossible platform. */
tv_status_t mptable_build(const struct mptable_platform *pf, uint32_t gpa, uint8_t *buf,
                          size_t cap, size_t *len);

#endif
