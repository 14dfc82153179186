/* Conversion of the UEFI memory map into the boot_info memory map.
 * Portable: the descriptors are read as raw bytes with the firmware's
 * descriptor stride, so hosted tests and the fuzzer can feed any map. */
#ifndef TV_MEM_MAP_H
#define TV_MEM_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"
#include "boot_info.h"

/* The OS-defined EFI memory type (0x80000000 + n) the loader uses for every
 * allocation the monitor keeps: it becomes TV_MEM_LOADED in the final map. */
#define TV_EFI_MEMTYPE_LOADED  0x80005456u  /* 0x80000000 + "TV" */

/* The EFI_MEMORY_DESCRIPTOR layout (UEFI spec 7.2); the firmware's stride
 * (descriptor_size) may be larger than this. */
struct tv_efi_mem_desc {
    uint32_t type;
    uint32_t pad;
    uint64_t phys_start;
    uint64_t virt_start;
    uint64_t pages;
    uint64_t attribute;
};

/* enum tv_mem_type for one EFI memory type. */
uint32_t tv_mem_type_from_efi(uint32_t efi_type);

/* Converts count descriptors (stride desc_size bytes, at least
 * sizeof(struct tv_efi_mem_desc)) into out[0..*out_count), sorted by base,
 * with adjacent regions of one type merged and overlaps resolved in the safe
 * direction: usable memory never covers anything else (the usable part of an
 * overlap is dropped; between two other types the earlier region wins).
 * Returns TV_E_LIMIT when more than max regions remain, TV_E_INVALID_ARGUMENT
 * for a bad stride. */
tv_status_t tv_mem_map_convert(const void *descs, size_t count, size_t desc_size,
                               struct tv_boot_mem_region *out, uint32_t max,
                               uint32_t *out_count);

#endif
