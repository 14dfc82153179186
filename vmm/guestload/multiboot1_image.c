/* Multiboot1 header search and the a.out-kludge load layout. */
#include "boot_abi.h"
#include "guestload_internal.h"

/* Required-feature bits (0..15) Taskvisor honours: page-aligned modules
 * (there are none) and memory information (always given). */
#define MB1_SUPPORTED_REQUIRED (MB1_HDR_PAGE_ALIGN | MB1_HDR_MEMORY_INFO)

tv_status_t gl_mb1_find(const uint8_t *img, size_t size, bool *found, struct gl_mb1_header *hdr,
                        char *err, size_t errlen)
{
    *found = false;
    uint64_t limit = size < MB1_SEARCH_BYTES ? size : MB1_SEARCH_BYTES;
    for (uint64_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = gl_rd32(img + off);
        if (magic != MB1_HEADER_MAGIC)
            continue;
        uint32_t flags = gl_rd32(img + off + 4), sum = gl_rd32(img + off + 8);
        if ((uint32_t)(magic + flags + sum) != 0)
            continue;               /* not a header: keep looking */
        uint32_t required = flags & 0xffffu;
        if (required & MB1_HDR_VIDEO_MODE)
            return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                           "Multiboot1 header requires a video mode (flags bit 2), "
                           "which Taskvisor does not provide");
        if (required & ~MB1_SUPPORTED_REQUIRED)
            return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                           "Multiboot1 header requires unknown features (flags 0x%x)",
                           required & ~MB1_SUPPORTED_REQUIRED);
        hdr->offset = off;
        hdr->flags = flags;
        *found = true;
        return TV_OK;
    }
    return TV_OK;
}

tv_status_t gl_mb1_plan_kludge(const uint8_t *img, size_t size, const struct gl_mb1_header *hdr,
                               struct guest_load_plan *plan, char *err, size_t errlen)
{
    if (!gl_in_file(hdr->offset, 32, size))
        return gl_fail(err, errlen, TV_E_CORRUPT,
                       "Multiboot1 header with address fields is truncated");
    const uint8_t *h = img + hdr->offset;
    uint64_t header_addr = gl_rd32(h + 12), load_addr = gl_rd32(h + 16);
    uint64_t load_end = gl_rd32(h + 20), bss_end = gl_rd32(h + 24);
    uint32_t entry = gl_rd32(h + 28);

    if (header_addr < load_addr || header_addr - load_addr > hdr->offset)
        return gl_fail(err, errlen, TV_E_CORRUPT,
                       "Multiboot1 header_addr 0x%llx and load_addr 0x%llx do not match the file",
                       (unsigned long long)header_addr, (unsigned long long)load_addr);
    uint64_t file_off = hdr->offset - (header_addr - load_addr);
    uint64_t file_size;
    if (load_end == 0) {
        file_size = size - file_off;
    } else {
        if (load_end < load_addr)
            return gl_fail(err, errlen, TV_E_CORRUPT, "Multiboot1 load_end_addr is below load_addr");
        file_size = load_end - load_addr;
        if (!gl_in_file(file_off, file_size, size))
            return gl_fail(err, errlen, TV_E_CORRUPT,
                           "Multiboot1 load range runs past the end of the file");
    }
    uint64_t mem_size = file_size;
    if (bss_end != 0) {
        if (bss_end < load_addr + file_size)
            return gl_fail(err, errlen, TV_E_CORRUPT, "Multiboot1 bss_end_addr is below the loaded data");
        mem_size = bss_end - load_addr;
    }
    if (mem_size == 0)
        return gl_fail(err, errlen, TV_E_CORRUPT, "Multiboot1 image loads nothing");
    if (entry < load_addr || entry - load_addr >= mem_size)
        return gl_fail(err, errlen, TV_E_CORRUPT,
                       "Multiboot1 entry_addr 0x%x is outside the loaded image", entry);
    plan->nsegments = 1;
    plan->seg[0].file_offset = file_off;
    plan->seg[0].file_size = file_size;
    plan->seg[0].gpa = load_addr;
    plan->seg[0].mem_size = mem_size;
    plan->entry = entry;
    return TV_OK;
}
