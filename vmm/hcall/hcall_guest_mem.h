/* Access to a hypercall caller's memory by guest-physical address.
 *
 * The monitor describes the caller's RAM as a list of guest-physical ranges
 * plus copy callbacks.  Every access is checked here first: the whole
 * [gpa, gpa+len) must lie inside one range, without integer overflow;
 * otherwise TV_E_INVALID_ARGUMENT and nothing is copied.  Handlers copy an
 * argument block once into monitor memory and work on that copy only (no
 * double fetch). */
#ifndef VMM_HCALL_GUEST_MEM_H
#define VMM_HCALL_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

struct guest_mem_range {
    uint64_t gpa;
    uint64_t size;
};

struct guest_mem_view {
    const struct guest_mem_range *ranges;
    size_t nranges;
    void *ctx;
    /* Called only for ranges validated by guest_mem_check().  Return TV_OK or
     * TV_E_FAULT when the backing cannot be accessed. */
    tv_status_t (*copy_from)(void *ctx, uint64_t gpa, void *dst, size_t len);
    tv_status_t (*copy_to)(void *ctx, uint64_t gpa, const void *src, size_t len);
};

/* Largest single copy a hypercall may ask for (bounds time and stack use). */
#define GUEST_MEM_MAX_COPY (16u * 1024u * 1024u)

/* TV_OK when [gpa, gpa+len) lies in one range of the view (len 0: always OK). */
tv_status_t guest_mem_check(const struct guest_mem_view *view, uint64_t gpa,
                            uint64_t len);
tv_status_t guest_mem_read(const struct guest_mem_view *view, uint64_t gpa,
                           void *dst, size_t len);
tv_status_t guest_mem_write(const struct guest_mem_view *view, uint64_t gpa,
                            const void *src, size_t len);
/* count * elem_size without overflow into *out; false on overflow. */
bool guest_mem_array_bytes(uint64_t count, uint64_t elem_size, uint64_t *out);

#endif
