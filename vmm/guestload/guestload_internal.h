/* Internal helpers shared by the guest loaders. */
#ifndef VMM_GUESTLOAD_INTERNAL_H
#define VMM_GUESTLOAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guestload.h"

/* Little-endian readers; callers have checked the bounds. */
static inline uint16_t gl_rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t gl_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t gl_rd64(const uint8_t *p)
{
    return (uint64_t)gl_rd32(p) | (uint64_t)gl_rd32(p + 4) << 32;
}

/* True when [off, off+len) lies inside a buffer of `size` bytes. */
static inline bool gl_in_file(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

/* Writes a reason into err (always terminated) and returns st. */
tv_status_t gl_fail(char *err, size_t errlen, tv_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A program header, whatever the ELF class. */
struct gl_phdr {
    uint32_t type;
    uint32_t flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct gl_elf {
    const uint8_t *img;
    uint64_t size;
    bool is64;
    uint64_t entry;
    uint64_t phoff;
    uint32_t phnum;
    uint32_t phentsize;
};

bool gl_is_elf(const uint8_t *img, size_t size);
tv_status_t gl_elf_open(const uint8_t *img, size_t size, struct gl_elf *elf,
                        char *err, size_t errlen);
void gl_elf_phdr(const struct gl_elf *elf, uint32_t index, struct gl_phdr *ph);
/* Looks for XEN_ELFNOTE_PHYS32_ENTRY in the PT_NOTE segments. */
tv_status_t gl_elf_find_pvh_entry(const struct gl_elf *elf, bool *found, uint32_t *entry,
                                  char *err, size_t errlen);
/* Adds every non-empty PT_LOAD (at p_paddr) to plan->seg. */
tv_status_t gl_elf_add_segments(const struct gl_elf *elf, struct guest_load_plan *plan,
                                char *err, size_t errlen);
/* Translates e_entry (a virtual address) through the PT_LOAD that contains it,
 * as GRUB does for Multiboot ELF kernels. */
tv_status_t gl_elf_physical_entry(const struct gl_elf *elf, uint32_t *entry,
                                  char *err, size_t errlen);

/* Multiboot1 header search and a.out-kludge planning. */
struct gl_mb1_header {
    uint64_t offset;        /* of the magic in the file */
    uint32_t flags;
};
tv_status_t gl_mb1_find(const uint8_t *img, size_t size, bool *found, struct gl_mb1_header *hdr,
                        char *err, size_t errlen);
tv_status_t gl_mb1_plan_kludge(const uint8_t *img, size_t size, const struct gl_mb1_header *hdr,
                               struct guest_load_plan *plan, char *err, size_t errlen);

/* Linux bzImage (bzimage.c). */
bool gl_bz_is_bzimage(const uint8_t *img, size_t size);
tv_status_t gl_bz_plan(const uint8_t *img, size_t size, struct guest_load_plan *plan,
                       char *err, size_t errlen);

#endif
