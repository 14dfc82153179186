/* Validation and loading of the monitor image: a position-independent ELF64
 * (ET_DYN, x86-64, linked at base 0) whose only relocations are
 * R_X86_64_RELATIVE entries in DT_RELA.  Portable: no EFI types, so the same
 * code runs in the loader, in hosted unit tests and under the fuzzer. */
#ifndef TV_MONITOR_ELF_H
#define TV_MONITOR_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

#define TV_ELF_MAX_SPAN      (64ull << 20)  /* loaded image incl. bss: 64 MiB at most */
#define TV_ELF_MAX_ALIGN     (2ull << 20)   /* segment alignment: 2 MiB at most */
#define TV_ELF_MAX_PHDRS     64
#define TV_ELF_PAGE          4096ull

/* What the loader needs to know about a validated image. */
struct tv_elf_image {
    uint64_t span;         /* bytes to reserve from base: end of the last segment, page-rounded */
    uint64_t align;        /* base alignment the image needs (>= 4 KiB, power of two) */
    uint64_t entry;        /* entry offset from base */
    uint64_t rela_offset;  /* offset of the DT_RELA table from base; 0 with rela_count 0 */
    uint64_t rela_count;
    uint32_t load_count;   /* PT_LOAD segments */
};

/* Checks the headers of the file (size bytes at file) and fills *img.
 * Returns TV_E_CORRUPT for a malformed or truncated file, TV_E_UNSUPPORTED
 * for a well-formed ELF this loader cannot run (wrong machine, type,
 * relocations, interpreter, ...), TV_E_LIMIT for a too large image; writes
 * one sentence into why. */
tv_status_t tv_elf_inspect(const void *file, size_t size, struct tv_elf_image *img,
                           char *why, size_t why_size);

/* Copies the PT_LOAD segments of a file that tv_elf_inspect accepted into dest
 * (img->span bytes, zeroed first so bss and gaps are zero) and applies the
 * relocations for the image running at address base.  dest is where the
 * loader writes (the same as base in the identity-mapped loader; a buffer in
 * tests).  Rejects a relocation of another type or outside the image. */
tv_status_t tv_elf_load(const void *file, size_t size, const struct tv_elf_image *img,
                        void *dest, uint64_t base, char *why, size_t why_size);

#endif
