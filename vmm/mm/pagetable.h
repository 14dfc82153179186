/* One 4-level page-table walker serving host paging and nested paging (AMD NPT
 * uses the long-mode format, APM vol. 2 15.25.5); EPT plugs in through its own
 * format description.  Portable: tables are reached through callbacks. */
#ifndef VMM_PAGETABLE_H
#define VMM_PAGETABLE_H

#include <stdint.h>
#include "taskvisor/status.h"

/* Neutral permissions for a mapping. */
#define PT_READ   (1u << 0)
#define PT_WRITE  (1u << 1)
#define PT_EXEC   (1u << 2)
#define PT_USER   (1u << 3)   /* required on every NPT level (APM 15.25.5) */
#define PT_UNCACHED (1u << 4)

struct pt_format {
    /* Leaf/non-leaf entry for a physical address and neutral permissions. */
    uint64_t (*make_table)(uint64_t table_pa);
    uint64_t (*make_leaf)(uint64_t pa, unsigned perms, int level); /* level 1=4K 2=2M 3=1G */
    int (*is_present)(uint64_t entry);
    int (*is_large)(uint64_t entry, int level);
    uint64_t addr_mask;
};

struct pt_ops {
    void *ctx;
    tv_status_t (*alloc_page)(void *ctx, uint64_t *pa); /* zeroed 4 KiB page */
    void (*free_page)(void *ctx, uint64_t pa);
    uint64_t *(*map)(void *ctx, uint64_t pa);           /* table pa -> pointer */
};

struct page_table {
    const struct pt_format *fmt;
    const struct pt_ops *ops;
    uint64_t root_pa;
};

extern const struct pt_format pt_format_x86_64;   /* host paging and AMD NPT */
extern const struct pt_format pt_format_ept;      /* Intel EPT */

tv_status_t pt_init(struct page_table *pt, const struct pt_format *fmt, const struct pt_ops *ops);
/* Maps [va, va+size) to [pa, pa+size), using 1 GiB / 2 MiB pages where
 * alignment allows (when allow_large) and 4 KiB pages elsewhere. */
tv_status_t pt_map(struct page_table *pt, uint64_t va, uint64_t pa, uint64_t size,
                   unsigned perms, int allow_large);
/* Looks a mapping up; returns TV_E_NOT_FOUND when unmapped. */
tv_status_t pt_lookup(const struct page_table *pt, uint64_t va, uint64_t *pa_out);
/* Frees every table page (not the mapped memory). */
void pt_destroy(struct page_table *pt);

#endif
