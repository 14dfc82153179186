/* PCI enumeration for the monitor's own drivers: configuration space
 * through ECAM (ranges from the ACPI MCFG table) or, without one, the legacy
 * 0xCF8/0xCFC mechanism (PCI Local Bus 3.0, 3.2.2.3.2); BAR sizing and
 * mapping; MSI and MSI-X set-up.  Guests never see PCI: the VM layer keeps
 * answering all ones on 0xCF8/0xCFC for them. */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include "drivers/pci/pci_parse.h"
#include "taskvisor/status.h"

struct pci_bar {
    uint64_t base;     /* physical address (memory) or port (I/O); 0 = unused */
    uint64_t size;
    bool io, is64, prefetch;
};

struct pci_dev {
    uint16_t segment;
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type;
    uint8_t msi_cap, msix_cap;      /* capability offsets, 0 = none */
    volatile uint8_t *ecam;         /* this function's 4 KiB window, or NULL (legacy) */
    struct pci_bar bar[6];
    bool claimed;                   /* a driver owns it */
};

/* Finds every function on every bus, sizes its BARs and logs it. */
tv_status_t pci_init(void);
unsigned pci_count(void);
struct pci_dev *pci_get(unsigned i);
/* "ECAM" or "legacy 0xCF8" */
const char *pci_access_name(void);

uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);

/* pci_cfg_read8_fn over a struct pci_dev * context (for pci_parse.h). */
uint8_t pci_cfg_read8_cb(void *ctx, uint16_t off);
/* Capability offset after `after` (0: first), 0 when none. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after);
/* Memory space and bus mastering on, legacy INTx off. */
void pci_enable(struct pci_dev *d);
/* A pointer to memory BAR i (mapped uncached when above the identity map),
 * NULL for an I/O or absent BAR. */
volatile uint8_t *pci_map_bar(struct pci_dev *d, unsigned i);
/* Routes MSI-X table entry `entry` (or, for pci_msi_enable, the single MSI
 * message) to `vector` on this CPU's local APIC, fixed delivery, edge. */
tv_status_t pci_msix_enable(struct pci_dev *d, unsigned entry, uint8_t vector);
tv_status_t pci_msi_enable(struct pci_dev *d, uint8_t vector);

#endif
