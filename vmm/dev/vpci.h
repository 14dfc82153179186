/* A partition's PCI bus: bus 0 behind configuration mechanism #1 (PCI Local
 * Bus Specification 3.0, 3.2.2.3.2: CONFIG_ADDRESS at 0xCF8, CONFIG_DATA at
 * 0xCFC-0xCFF), a host bridge in slot 0 and up to VPCI_SLOTS - 1
 * single-function devices, type 0 headers.  The monitor places every BAR
 * as firmware would (the guest may move it: BARs are sized and written as
 * on hardware) and sets the interrupt line to the I/O APIC pin the device's
 * INTA# drives.  Portable: no monitor headers; the device answers through
 * its own MMIO handlers once the bus has found the BAR an address hits. */
#ifndef VMM_VPCI_H
#define VMM_VPCI_H

#include <stdbool.h>
#include <stdint.h>

#define VPCI_SLOTS        8u
#define VPCI_CONFIG_ADDR  0xcf8u
#define VPCI_CONFIG_DATA  0xcfcu
#define VPCI_BARS         6u

/* Configuration space registers (type 0 header, PCI 3.0 6.1). */
#define PCI_VENDOR_ID     0x00u
#define PCI_DEVICE_ID     0x02u
#define PCI_COMMAND       0x04u
#define PCI_STATUS        0x06u
#define PCI_REVISION      0x08u
#define PCI_CLASS_PROG    0x09u
#define PCI_HEADER_TYPE   0x0eu
#define PCI_BAR0          0x10u
#define PCI_SUBSYS_VENDOR 0x2cu
#define PCI_SUBSYS_ID     0x2eu
#define PCI_CAP_PTR       0x34u
#define PCI_INT_LINE      0x3cu
#define PCI_INT_PIN       0x3du
#define PCI_CMD_MEMORY    (1u << 1)
#define PCI_CMD_INTX_OFF  (1u << 10)
#define PCI_STATUS_CAPS   (1u << 4)
#define PCI_STATUS_INTX   (1u << 3)

struct vpci_func {
    uint8_t cfg[256];
    uint8_t wmask[256];             /* the bits a configuration write may change */
    uint32_t bar_size[VPCI_BARS];   /* 0: no BAR; else a power of two >= 16 (memory, 32-bit) */
    void *dev;                      /* the device model behind the function */
};

struct vpci_bus {
    uint32_t config_addr;           /* CONFIG_ADDRESS as last written */
    struct vpci_func host;          /* slot 0 */
    struct vpci_func *slot[VPCI_SLOTS];
};

/* An empty bus with its host bridge. */
void vpci_init(struct vpci_bus *b);
/* A function with the identity given; BARs added with vpci_set_bar. */
void vpci_func_init(struct vpci_func *f, uint16_t vendor, uint16_t device, uint32_t class_rev,
                    uint16_t subsys_vendor, uint16_t subsys_id, void *dev);
/* A 32-bit memory BAR of size bytes (a power of two >= 16) placed at base. */
void vpci_set_bar(struct vpci_func *f, unsigned bar, uint32_t size, uint32_t base);
/* Plugs f into slot 1..VPCI_SLOTS-1; false when taken or out of range. */
bool vpci_plug(struct vpci_bus *b, unsigned slot, struct vpci_func *f);
bool vpci_handles_port(uint16_t port);
/* Port accesses of 1, 2 or 4 bytes. */
uint32_t vpci_io_read(struct vpci_bus *b, uint16_t port, unsigned size);
void vpci_io_write(struct vpci_bus *b, uint16_t port, unsigned size, uint32_t value);
/* Configuration space of a function as the guest sees it (little-endian). */
uint32_t vpci_cfg_read(const struct vpci_func *f, unsigned off, unsigned size);
void vpci_cfg_write(struct vpci_func *f, unsigned off, unsigned size, uint32_t value);
/* The function and BAR whose enabled memory window holds gpa (memory
 * decoding on in its command register), with the offset inside it; NULL
 * when none does. */
struct vpci_func *vpci_find_mmio(struct vpci_bus *b, uint64_t gpa, unsigned *bar, uint64_t *off);
/* Current base of a BAR (what the guest last placed there). */
uint32_t vpci_bar_base(const struct vpci_func *f, unsigned bar);

#endif
