/* UEFI memory map -> boot_info memory map (see mem_map.h). */
#include "mem_map.h"

#include "tv_string.h"

enum {
    EFI_RESERVED = 0, EFI_LOADER_CODE, EFI_LOADER_DATA, EFI_BS_CODE, EFI_BS_DATA,
    EFI_RT_CODE, EFI_RT_DATA, EFI_CONVENTIONAL, EFI_UNUSABLE, EFI_ACPI_RECLAIM,
    EFI_ACPI_NVS, EFI_MMIO, EFI_MMIO_PORT, EFI_PAL_CODE, EFI_PERSISTENT,
};

uint32_t tv_mem_type_from_efi(uint32_t efi_type)
{
    switch (efi_type) {
    case EFI_LOADER_CODE:
    case EFI_LOADER_DATA:
    case EFI_BS_CODE:
    case EFI_BS_DATA:
    case EFI_CONVENTIONAL:
        return TV_MEM_USABLE;        /* free once boot services have exited */
    case EFI_RT_CODE:
    case EFI_RT_DATA:
        return TV_MEM_FW_RUNTIME;
    case EFI_UNUSABLE:
        return TV_MEM_BAD;
    case EFI_ACPI_RECLAIM:
        return TV_MEM_ACPI_RECLAIM;
    case EFI_ACPI_NVS:
        return TV_MEM_ACPI_NVS;
    case EFI_MMIO:
    case EFI_MMIO_PORT:
        return TV_MEM_MMIO;
    case EFI_PERSISTENT:
        return TV_MEM_PERSISTENT;
    case TV_EFI_MEMTYPE_LOADED:
        return TV_MEM_LOADED;
    default:
        return TV_MEM_RESERVED;      /* PAL code, unaccepted, other OS/OEM types, unknown */
    }
}

static void read_desc(const uint8_t *descs, size_t i, size_t stride, struct tv_efi_mem_desc *d)
{
    tv_memcpy(d, descs + i * stride, sizeof *d);
}

/* The descriptor's range, clipped at 2^64; false for an empty one. */
static int desc_range(const struct tv_efi_mem_desc *d, uint64_t *base, uint64_t *end)
{
    if (d->pages == 0)
        return 0;
    *base = d->phys_start & ~0xfffull;
    uint64_t room = (UINT64_MAX - *base) >> 12;
    *end = d->pages > room ? UINT64_MAX & ~0xfffull : *base + (d->pages << 12);
    return *end > *base;
}

/* Appends [base, end) of type to out, merging and resolving overlaps with
 * the last region (input arrives sorted by base). */
static tv_status_t append(struct tv_boot_mem_region *out, uint32_t max, uint32_t *n,
                          uint64_t base, uint64_t end, uint32_t type)
{
    if (*n) {
        struct tv_boot_mem_region *last = &out[*n - 1];
        uint64_t last_end = last->base + last->length;
        if (base <= last_end && type == last->type) {
            if (end > last_end)
                last->length = end - last->base;
            return TV_OK;
        }
        if (base < last_end) {
            if (type == TV_MEM_USABLE || last->type != TV_MEM_USABLE) {
                base = last_end;         /* the earlier or the non-usable region keeps it */
                if (end <= base)
                    return TV_OK;
            } else {
                last->length = base - last->base;  /* usable tail dropped */
                if (last->length == 0)
                    (*n)--;
                return append(out, max, n, base, end, type);
            }
        }
    }
    if (*n >= max)
        return TV_E_LIMIT;
    out[*n].base = base;
    out[*n].length = end - base;
    out[*n].type = type;
    out[*n].reserved = 0;
    (*n)++;
    return TV_OK;
}

tv_status_t tv_mem_map_convert(const void *descs_ptr, size_t count, size_t stride,
                               struct tv_boot_mem_region *out, uint32_t max,
                               uint32_t *out_count)
{
    const uint8_t *descs = descs_ptr;
    *out_count = 0;
    if (stride < sizeof(struct tv_efi_mem_desc))
        return TV_E_INVALID_ARGUMENT;
    /* Selection by (base, index): no scratch memory, no mutation of the
     * firmware's buffer; maps are a few hundred entries. */
    uint64_t prev_base = 0;
    size_t prev_index = 0;
    int have_prev = 0;
    for (;;) {
        size_t best = count;
        uint64_t best_base = 0;
        for (size_t i = 0; i < count; i++) {
            struct tv_efi_mem_desc d;
            uint64_t base = 0, end = 0;
            read_desc(descs, i, stride, &d);
            if (!desc_range(&d, &base, &end))
                continue;
            if (have_prev && (base < prev_base || (base == prev_base && i <= prev_index)))
                continue;
            if (best == count || base < best_base) {
                best = i;
                best_base = base;
            }
        }
        if (best == count)
            break;
        struct tv_efi_mem_desc d;
        uint64_t base = 0, end = 0;
        read_desc(descs, best, stride, &d);
        desc_range(&d, &base, &end);
        tv_status_t st = append(out, max, out_count, base, end, tv_mem_type_from_efi(d.type));
        if (st != TV_OK)
            return st;
        prev_base = base;
        prev_index = best;
        have_prev = 1;
    }
    return TV_OK;
}
