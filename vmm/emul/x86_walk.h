/* Guest page-table walker and instruction fetch (portable, no libc).
 *
 * Translates a guest-virtual (linear) address the way the CPU would, from
 * the guest's CR0/CR3/CR4/EFER: paging off; 32-bit two-level paging with
 * 4 MiB pages when CR4.PSE; PAE three-level paging with 2 MiB pages;
 * long-mode four-level (or five-level with CR4.LA57) paging with 2 MiB and
 * 1 GiB pages.  Page tables are read through a callback (guest-physical).
 *
 * Results: TV_OK with the guest-physical address; TV_E_FAULT when the guest
 * must get a #PF (res->pf_error is the error code, res->fault_addr the CR2
 * value); TV_E_INVALID_ARGUMENT for a non-canonical address in long mode
 * (#GP, not #PF); any other status is the read callback's (a page table
 * outside guest memory: the monitor's decision).
 *
 * Checked: present bits, reserved bits (above MAXPHYADDR, NX without
 * EFER.NXE, PS where it must be 0, the large-page reserved ranges, PAE
 * PDPTE reserved bits), R/W with CR0.WP, U/S, NX and SMEP.  Not done: SMAP
 * (needs RFLAGS.AC), protection keys.  x86_translate() only reads;
 * x86_translate_update() also sets the accessed bits (and the leaf's dirty
 * bit for writes) as the CPU would: use it when the monitor is about to
 * access guest memory on the guest's behalf (e.g. emulated INS into a page
 * the guest later writes back by its dirty bit). */
#ifndef VMM_EMUL_X86_WALK_H
#define VMM_EMUL_X86_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"
#include "x86_decode.h"

#define X86_CR0_PE   (1ull << 0)
#define X86_CR0_WP   (1ull << 16)
#define X86_CR0_PG   (1ull << 31)
#define X86_CR4_PSE  (1ull << 4)
#define X86_CR4_PAE  (1ull << 5)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_SMEP (1ull << 20)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)

/* Page-fault error code bits. */
#define X86_PF_P     (1u << 0)
#define X86_PF_W     (1u << 1)
#define X86_PF_U     (1u << 2)
#define X86_PF_RSVD  (1u << 3)
#define X86_PF_ID    (1u << 4)

/* Access being made. */
#define X86_ACC_WRITE (1u << 0)
#define X86_ACC_USER  (1u << 1)   /* CPL 3 */
#define X86_ACC_FETCH (1u << 2)

struct x86_paging_state {
    uint64_t cr0, cr3, cr4, efer;
    uint8_t maxphyaddr;           /* guest physical address width; 0 means 52 */
};

typedef tv_status_t (*x86_read_gpa_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);
typedef tv_status_t (*x86_write_gpa_fn)(void *ctx, uint64_t gpa, const void *buf, size_t len);

struct x86_walk_result {
    uint64_t gpa;
    uint64_t page_size;           /* 4 KiB, 2 MiB, 4 MiB or 1 GiB (paging off: 4 KiB) */
    bool writable, user, nx;      /* effective rights of the mapping */
    uint32_t pf_error;            /* TV_E_FAULT: #PF error code */
    uint64_t fault_addr;          /* TV_E_FAULT: the faulting linear address (CR2) */
};

tv_status_t x86_translate(const struct x86_paging_state *ps, uint64_t gva, unsigned access,
                          x86_read_gpa_fn read, void *ctx, struct x86_walk_result *res);
/* The same walk; on success also sets accessed/dirty bits through write. */
tv_status_t x86_translate_update(const struct x86_paging_state *ps, uint64_t gva, unsigned access,
                                 x86_read_gpa_fn read, x86_write_gpa_fn write, void *ctx,
                                 struct x86_walk_result *res);

/* Instruction bytes at CS:RIP (up to 15), crossing a page boundary
 * correctly.  The first byte's page must translate (else TV_E_FAULT with
 * *fault filled); if the next page does not, the bytes up to the boundary
 * are returned with *tail_status saying why the rest is missing. */
struct x86_fetch {
    uint8_t bytes[X86_MAX_INSN_LEN];
    uint8_t count;
    tv_status_t tail_status;      /* TV_OK when all 15 bytes were read */
    struct x86_walk_result tail;  /* when tail_status == TV_E_FAULT */
};

tv_status_t x86_fetch_insn(const struct x86_paging_state *ps, enum x86_cpu_mode mode,
                           uint64_t cs_base, uint64_t rip, unsigned cpl, x86_read_gpa_fn read,
                           void *ctx, struct x86_fetch *out, struct x86_walk_result *fault);

/* Fetch + decode.  When the instruction runs onto a page that faults, the
 * result is that page's TV_E_FAULT (*fault filled), as on the CPU. */
tv_status_t x86_fetch_decode(const struct x86_paging_state *ps, enum x86_cpu_mode mode,
                             uint64_t cs_base, uint64_t rip, unsigned cpl, x86_read_gpa_fn read,
                             void *ctx, struct x86_insn *insn, struct x86_walk_result *fault);

#endif
