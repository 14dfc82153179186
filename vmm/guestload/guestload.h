/* Guest image loaders: PVH, Multiboot1 and Linux bzImage kernels (portable,
 * no libc).
 *
 * Two steps, so the untrusted image is judged before guest memory changes:
 *  1. guest_image_plan() parses the image held in a buffer and produces a
 *     load plan (segments, entry, protocol, boot-info area), refusing
 *     anything malformed with a status and a one-line reason;
 *  2. guest_image_load() re-checks the plan, copies the segments, zeroes
 *     their bss, writes the boot-info structures through the caller's writer
 *     and returns the initial register state.
 *
 * Selection: a Linux bzImage when the file has the boot sector flag and the
 * "HdrS" setup header, else PVH when the ELF has an XEN_ELFNOTE_PHYS32_ENTRY
 * note, else Multiboot1 when its header is in the first 8 KiB, else refused.
 * An initial ramdisk (guest_plan_add_initrd) is offered to Linux kernels
 * only: through the zero page.
 *
 * Guest memory map given to every guest (E820 types):
 *   [0, 0xA0000) RAM, [0xA0000, 0x100000) reserved, [0x100000, mem) RAM.
 * Segments must lie in RAM of that map; the boot-info area (8 KiB) goes at
 * GUEST_BOOTINFO_LOW_GPA when free, else right after the highest segment. */
#ifndef VMM_GUESTLOAD_H
#define VMM_GUESTLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

#define GUEST_MAX_SEGMENTS      16
#define GUEST_MAX_PHDRS         64
#define GUEST_CMDLINE_MAX       4096u        /* bytes including the NUL */
#define GUEST_BOOTINFO_SIZE     0x2000u
#define GUEST_BOOTINFO_LOW_GPA  0x1000u
#define GUEST_MIN_MEM           0x200000u    /* 2 MiB */
#define GUEST_LEGACY_HOLE_START 0xA0000u
#define GUEST_LEGACY_HOLE_END   0x100000u

enum guest_protocol {
    GUEST_PROTO_NONE = 0,
    GUEST_PROTO_PVH = 1,
    GUEST_PROTO_MULTIBOOT1 = 2,
    GUEST_PROTO_LINUX = 3,      /* bzImage, 32-bit boot protocol, zero page */
};

struct guest_segment {
    uint64_t file_offset;
    uint64_t file_size;
    uint64_t gpa;
    uint64_t mem_size;      /* >= file_size; the rest is zeroed */
};

struct guest_load_plan {
    uint32_t protocol;      /* enum guest_protocol */
    uint32_t nsegments;
    struct guest_segment seg[GUEST_MAX_SEGMENTS];
    uint32_t entry;         /* guest-physical, 32-bit protected mode */
    uint32_t mb_flags;      /* Multiboot1 header flags (0 for PVH) */
    uint64_t image_size;    /* size of the image the plan was made for */
    uint64_t guest_mem_bytes;
    uint64_t bootinfo_gpa;  /* GUEST_BOOTINFO_SIZE bytes, overlapping no segment */
    /* Linux only */
    uint32_t lnx_hdr_end;      /* end of the setup header in the file (copied to the zero page) */
    uint32_t lnx_cmdline_max;  /* longest command line the kernel takes, without the NUL */
    uint64_t initrd_limit;     /* the initrd must end at or below this (initrd_addr_max + 1) */
    uint64_t initrd_gpa;       /* 0 and initrd_size 0: no initrd */
    uint64_t initrd_size;
};

/* Writes into guest-physical memory.  zero may be NULL (write is then used
 * with a zero buffer). */
struct guest_mem_writer {
    void *ctx;
    tv_status_t (*write)(void *ctx, uint64_t gpa, const void *src, size_t len);
    tv_status_t (*zero)(void *ctx, uint64_t gpa, uint64_t len);
};

/* A segment register as the vendor code loads it (hidden part included).
 * limit is in bytes (0xffffffff for flat 4 GiB). */
struct guest_seg_reg {
    uint16_t selector;
    uint8_t type;           /* 4-bit descriptor type (0xb code RX accessed, 0x3 data RW accessed) */
    uint8_t s;              /* 1 code/data, 0 system */
    uint8_t dpl;
    uint8_t present;
    uint8_t db;             /* 1: 32-bit */
    uint8_t g;              /* 1: 4 KiB granularity (limit already expanded) */
    uint8_t l;
    uint32_t base;
    uint32_t limit;
};

struct guest_entry_state {
    uint32_t protocol;
    uint32_t bootinfo_gpa;  /* hvm_start_info or multiboot_info (= EBX) */
    uint64_t rip, rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, rflags;
    uint64_t cr0, cr3, cr4, efer;
    struct guest_seg_reg cs, ds, es, ss, fs, gs, tr;
};

/* Parses img (size bytes) for a guest with guest_mem_bytes of RAM (at least
 * GUEST_MIN_MEM, multiple of 4 KiB).  On failure err (if errlen > 0) holds
 * a one-line reason.  Statuses: CORRUPT (malformed image), UNSUPPORTED
 * (valid but not something Taskvisor boots), LIMIT (too many segments or
 * headers), NO_SPACE (does not fit the guest's RAM), INVALID_ARGUMENT. */
tv_status_t guest_image_plan(const void *img, size_t size, uint64_t guest_mem_bytes,
                             struct guest_load_plan *plan, char *err, size_t errlen);

/* Checks every invariant of a plan again (callers may build or keep plans):
 * segments inside the file and guest RAM, no overlap with each other or the
 * boot-info area, entry inside a segment. */
tv_status_t guest_plan_validate(const struct guest_load_plan *plan, char *err, size_t errlen);

/* Applies the plan.  cmdline may be NULL (empty); it must be shorter than
 * GUEST_CMDLINE_MAX.  img/guest_mem_bytes must be those of the plan. */
tv_status_t guest_image_load(const struct guest_load_plan *plan, const void *img,
                             const struct guest_mem_writer *w, const char *cmdline,
                             uint64_t guest_mem_bytes, struct guest_entry_state *out);

/* Places an initial ramdisk of size bytes in the plan: page-aligned, as
 * high in RAM as the kernel allows, overlapping nothing else.  UNSUPPORTED
 * for a protocol without an initrd, NO_SPACE when it does not fit. */
tv_status_t guest_plan_add_initrd(struct guest_load_plan *plan, uint64_t size,
                                  char *err, size_t errlen);

/* Copies the initrd (plan->initrd_size bytes) to its planned place. */
tv_status_t guest_load_initrd(const struct guest_load_plan *plan, const void *initrd,
                              const struct guest_mem_writer *w);

const char *guest_protocol_name(uint32_t protocol);

#endif
