/* Scatter lists of the disk controllers, built for one physically contiguous
 * buffer: AHCI's physical region descriptor table (AHCI 1.3.1, 4.2.3.3) and
 * NVMe's PRP entries (NVMe 1.4, 4.3).  Portable and unit-tested. */
#ifndef DRIVERS_DMA_LIST_H
#define DRIVERS_DMA_LIST_H

#include <stdint.h>

struct ahci_prd {
    uint32_t dba, dbau, reserved;
    uint32_t dbc;              /* bits 0-21: byte count - 1 (odd: counts are even); bit 31: interrupt */
};

#define AHCI_PRD_MAX_BYTES (4u << 20)

/* Fills prd[] for [pa, pa + len): entries of at most 4 MiB.  Returns the
 * number used, or -1 when len is 0 or odd, pa is odd (AHCI wants word
 * alignment), or max entries are too few. */
int ahci_prdt_fill(struct ahci_prd *prd, unsigned max, uint64_t pa, uint32_t len);

/* PRP1/PRP2 for [pa, pa + len) with the controller's page size `page`
 * (a power of two, at least 4096).  When the buffer spans more than two
 * pages, PRP2 points at list_pa and list[] receives the page addresses
 * after the first.  Returns 0, or -1 when len is 0, pa is not dword
 * aligned, or the list needs more than list_max entries (one list page;
 * no chaining). */
int nvme_prp_fill(uint64_t pa, uint32_t len, uint32_t page, uint64_t *prp1, uint64_t *prp2,
                  uint64_t *list, unsigned list_max, uint64_t list_pa);

#endif
