/* Portable parsers for PCI enumeration: the ACPI MCFG table (PCI Firmware
 * spec 3.x, 4.1.2) and a function's capability list (PCI Local Bus 3.0, 6.7),
 * including virtio's vendor capabilities (virtio 1.x, 4.1.4).  Input comes
 * from firmware and devices, so every length and pointer is checked; the
 * same code runs in the monitor, the unit tests and the fuzzer. */
#ifndef DRIVERS_PCI_PARSE_H
#define DRIVERS_PCI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "taskvisor/status.h"

/* One ECAM window: buses [bus_start, bus_end] of a segment at base. */
struct mcfg_entry {
    uint64_t base;
    uint16_t segment;
    uint8_t bus_start, bus_end;
};

/* Parses an MCFG table of len bytes (header included).  Entries with a zero
 * or unaligned base or an inverted bus range are skipped.  Returns TV_OK with
 * *count entries (at most max), TV_E_CORRUPT for a table that is not an MCFG
 * or whose length is not header + whole entries. */
tv_status_t mcfg_parse(const uint8_t *table, size_t len, struct mcfg_entry *out, unsigned max,
                       unsigned *count);

/* Byte reads of a function's configuration space (offsets 0..255). */
typedef uint8_t (*pci_cfg_read8_fn)(void *ctx, uint16_t off);

#define PCI_CAP_PM      0x01
#define PCI_CAP_MSI     0x05
#define PCI_CAP_VENDOR  0x09
#define PCI_CAP_PCIE    0x10
#define PCI_CAP_MSIX    0x11

/* Offset of the first capability with this id after `after` (0: from the
 * start of the list), or 0 when there is none.  A list is walked only when
 * the status register says it exists; pointers below 0x40, beyond the
 * header or back to an entry already seen are the end of the list (at most
 * 48 entries, the most 192 bytes can hold), so iterating with `after` always
 * ends. */
uint8_t pci_cap_find(pci_cfg_read8_fn rd, void *ctx, uint8_t id, uint8_t after);

/* A virtio PCI capability (struct virtio_pci_cap). */
#define VIRTIO_PCI_CAP_COMMON  1
#define VIRTIO_PCI_CAP_NOTIFY  2
#define VIRTIO_PCI_CAP_ISR     3
#define VIRTIO_PCI_CAP_DEVICE  4
#define VIRTIO_PCI_CAP_PCI     5

struct virtio_pci_cap {
    uint8_t cfg_type;
    uint8_t bar;
    uint32_t offset, length;
    uint32_t notify_mult;     /* notify capability only */
};

/* Reads the vendor capability at off.  False when it is too short for its
 * type, names a BAR above 5, or its window wraps. */
bool virtio_cap_parse(pci_cfg_read8_fn rd, void *ctx, uint8_t off, struct virtio_pci_cap *out);

/* MSI-X table location from the capability at off: BAR index, offset in
 * it, and the number of entries (1..2048). */
struct msix_info {
    uint8_t table_bar, pba_bar;
    uint32_t table_off, pba_off;
    uint16_t entries;
};
bool msix_cap_parse(pci_cfg_read8_fn rd, void *ctx, uint8_t off, struct msix_info *out);

#endif
