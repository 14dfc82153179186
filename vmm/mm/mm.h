/* The monitor's memory: physical pages, its own identity page tables, a heap. */
#ifndef VMM_MM_H
#define VMM_MM_H

#include <stddef.h>
#include <stdint.h>
#include "boot/common/boot_info.h"
#include "mm/pmm.h"
#include "taskvisor/status.h"

tv_status_t mm_init(const struct tv_boot_info *bi);
/* Zeroed pages; n contiguous, aligned to align_pages. */
tv_status_t page_alloc(uint64_t n, uint64_t align_pages, uint64_t *pa);
/* The same, not zeroed: for guest RAM, which is zeroed on first use
 * (vm/partition.c) and must never be shown to a guest before that. */
tv_status_t page_alloc_uninit(uint64_t n, uint64_t align_pages, uint64_t *pa);
void page_zero(uint64_t pa, uint64_t n);
void page_free(uint64_t pa, uint64_t n);
static inline void *phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }
static inline uint64_t virt_to_phys(const void *p) { return (uint64_t)(uintptr_t)p; }
struct pmm *mm_pmm(void);
/* Makes device memory [pa, pa+size) reachable at its identity address.
 * Below the top of the boot-time identity map nothing changes (the
 * firmware's MTRRs keep MMIO holes uncached); above it (64-bit BARs) the
 * pages are mapped uncached (PCD|PWT, SDM vol. 3 11.5.2.1). */
tv_status_t mm_map_mmio(uint64_t pa, uint64_t size);

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);
size_t kheap_in_use(void);
/* Pages the heap has carved into its small size classes: kept by the heap
 * for reuse once taken, so they leave the page allocator's free count for
 * good (memory accounting, the VM cycle test). */
uint64_t kheap_pool_pages(void);

/* Canary values planted in monitor memory; guests must never find them. */
#define MON_CANARY_A 0x54565f43414e4152ull
#define MON_CANARY_B 0x8badf00dcafe1234ull

#endif
