/* Bounds-checked access to a hypercall caller's guest-physical memory. */
#include "hcall_guest_mem.h"

tv_status_t guest_mem_check(const struct guest_mem_view *view, uint64_t gpa,
                            uint64_t len)
{
    if (!view)
        return TV_E_INVALID_ARGUMENT;
    if (len == 0)
        return TV_OK;
    if (len > GUEST_MEM_MAX_COPY)
        return TV_E_INVALID_ARGUMENT;
    uint64_t last = gpa + (len - 1);
    if (last < gpa)
        return TV_E_INVALID_ARGUMENT;          /* wraps around */
    for (size_t i = 0; i < view->nranges; i++) {
        const struct guest_mem_range *r = &view->ranges[i];
        if (r->size == 0)
            continue;
        uint64_t r_last = r->gpa + (r->size - 1);
        if (r_last < r->gpa)
            continue;                          /* malformed range: ignore */
        if (gpa >= r->gpa && last <= r_last)
            return TV_OK;
    }
    return TV_E_INVALID_ARGUMENT;
}

tv_status_t guest_mem_read(const struct guest_mem_view *view, uint64_t gpa,
                           void *dst, size_t len)
{
    tv_status_t st = guest_mem_check(view, gpa, len);
    if (st != TV_OK)
        return st;
    if (len == 0)
        return TV_OK;
    if (!view->copy_from || !dst)
        return TV_E_FAULT;
    return view->copy_from(view->ctx, gpa, dst, len);
}

tv_status_t guest_mem_write(const struct guest_mem_view *view, uint64_t gpa,
                            const void *src, size_t len)
{
    tv_status_t st = guest_mem_check(view, gpa, len);
    if (st != TV_OK)
        return st;
    if (len == 0)
        return TV_OK;
    if (!view->copy_to || !src)
        return TV_E_FAULT;
    return view->copy_to(view->ctx, gpa, src, len);
}

bool guest_mem_array_bytes(uint64_t count, uint64_t elem_size, uint64_t *out)
{
    if (elem_size != 0 && count > UINT64_MAX / elem_size)
        return false;
    *out = count * elem_size;
    return true;
}
