/* Physical page allocator over the boot memory map.  Portable: the same code
 * runs in the monitor and in hosted unit tests (where "physical" memory is a
 * test buffer).  Only TV_MEM_USABLE pages at or above the low limit are ever
 * handed out; firmware runtime, ACPI, MMIO and loaded images never are. */
#ifndef VMM_PMM_H
#define VMM_PMM_H

#include <stdint.h>
#include <stddef.h>
#include "boot/common/boot_info.h"
#include "taskvisor/status.h"

#define PAGE_SIZE 4096ull
#define PAGE_SHIFT 12

struct pmm {
    uint64_t *bitmap;       /* bit set = page free */
    uint64_t page_count;    /* pages covered by the bitmap: [0, page_count) */
    uint64_t free_pages;
    uint64_t total_usable;  /* pages that were usable at init */
    uint64_t search_hint;
};

/* Sets up the allocator: the bitmap is carved out of usable memory itself
 * (through map_phys, which turns a physical address into a pointer).
 * Pages below low_limit are never used (real-mode area, firmware quirks). */
tv_status_t pmm_init(struct pmm *pmm, const struct tv_boot_mem_region *regions, uint32_t count,
                     uint64_t low_limit, void *(*map_phys)(uint64_t pa));
/* Contiguous run of n pages aligned to `align_pages` (a power of two). */
tv_status_t pmm_alloc(struct pmm *pmm, uint64_t n, uint64_t align_pages, uint64_t *pa_out);
void pmm_free(struct pmm *pmm, uint64_t pa, uint64_t n);
/* Marks a range as not allocatable (already in use). */
void pmm_reserve(struct pmm *pmm, uint64_t pa, uint64_t bytes);
int pmm_is_free(const struct pmm *pmm, uint64_t pa);

#endif
