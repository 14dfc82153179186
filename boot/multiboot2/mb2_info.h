/* Reading the Multiboot2 boot information (Multiboot2 spec 3.6) into a
 * neutral form.  Portable: the information is a byte buffer, so hosted tests
 * can feed any bytes; every size is checked against the total. */
#ifndef TV_MB2_INFO_H
#define TV_MB2_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

#define TV_MB2_BOOT_MAGIC   0x36d76289u   /* EAX at entry from a Multiboot2 loader */
#define TV_MB2_MAX_MODULES  16
#define TV_MB2_MAX_MMAP     128

enum tv_mb2_mem_type { TV_MB2_MEM_AVAILABLE = 1, TV_MB2_MEM_ACPI = 3, TV_MB2_MEM_NVS = 4,
                       TV_MB2_MEM_BAD = 5 };

struct tv_mb2_module {
    uint64_t start, end;        /* [start, end) physical */
    const char *string;         /* NUL-terminated, inside the information */
};

struct tv_mb2_mmap_entry {
    uint64_t base, length;
    uint32_t type;              /* enum tv_mb2_mem_type, others reserved */
};

struct tv_mb2_info {
    uint64_t total_size;
    const char *cmdline;        /* "" when absent */
    uint32_t module_count;
    struct tv_mb2_module modules[TV_MB2_MAX_MODULES];
    uint32_t mmap_count;
    struct tv_mb2_mmap_entry mmap[TV_MB2_MAX_MMAP];
};

/* Parses the information at info (phys_addr: where it lies, for its own
 * extent).  Returns TV_E_CORRUPT for malformed tags, TV_E_LIMIT for too many
 * modules or memory map entries, TV_E_NOT_FOUND without a memory map. */
tv_status_t tv_mb2_parse(const void *info, size_t max_size, struct tv_mb2_info *out,
                         char *why, size_t why_size);

#endif
