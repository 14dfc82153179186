/* A small cache of decoded exiting instructions (portable, no libc).
 *
 * Why: without next-RIP (QEMU TCG's SVM) every exit that advances RIP must
 * find the length of the instruction at CS:RIP, which means walking the
 * guest's page tables and decoding; the same few instructions (the guest's
 * VMMCALL, CPUID and RDMSR sites) exit again and again.
 *
 * Correctness: an entry is keyed by everything the walk and the decode read
 * from the vCPU (RIP, CS base, code size, CPL, CR0, CR3, CR4, EFER) and
 * holds every guest-memory read the walk made (each page-table entry: where
 * it lives and the value read) and the instruction's own bytes.  A lookup
 * re-reads all of them from guest memory and compares: equal inputs give
 * the walk and the decode the same result, so a hit is exactly what a fresh
 * fetch + decode would return; a guest that rewrites its code or any entry
 * of the walk (A/D bits included) just misses.  No write tracking is
 * needed, and nothing but the compare runs on a hit.  Only instructions
 * that do not come within 15 bytes of a page end are cached (one
 * translation, no tail read); the others are decoded each time.
 *
 * Guest memory is reached through two callbacks: `read` as for the walker,
 * and `map`, which returns a host pointer that stays valid, and keeps
 * naming the same guest-physical bytes, for the cache's lifetime (NULL: not
 * cacheable, the lookup still decodes). */
#ifndef VMM_EMUL_X86_ICACHE_H
#define VMM_EMUL_X86_ICACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"
#include "x86_decode.h"
#include "x86_walk.h"

#define X86_ICACHE_SLOTS 8         /* direct-mapped by RIP */
#define X86_ICACHE_PT_READS 5      /* five-level paging */

typedef const volatile uint8_t *(*x86_map_gpa_fn)(void *ctx, uint64_t gpa, size_t len);

struct x86_icache_key {
    uint64_t rip, cs_base, cr0, cr3, cr4, efer;
    uint32_t mode, cpl;
};

struct x86_icache_pt_read {
    const volatile uint8_t *host;
    uint64_t value;                /* the bytes read, little-endian */
    uint8_t len;                   /* 4 or 8 */
};

struct x86_icache_entry {
    struct x86_icache_key key;
    bool valid;
    uint8_t npt;                   /* page-table reads of the walk */
    struct x86_icache_pt_read pt[X86_ICACHE_PT_READS];
    const volatile uint8_t *code;  /* the instruction's bytes (insn.len of them) */
    uint8_t bytes[X86_MAX_INSN_LEN];
    struct x86_insn insn;
};

struct x86_icache {
    struct x86_icache_entry slot[X86_ICACHE_SLOTS];
    uint64_t hits, misses;
};

/* The instruction at CS:RIP, as x86_fetch_decode() would return it (same
 * statuses, *fault filled on TV_E_FAULT); on TV_OK *insn points into the
 * cache and stays valid until the next call. */
tv_status_t x86_icache_decode(struct x86_icache *c, const struct x86_paging_state *ps,
                              enum x86_cpu_mode mode, uint64_t cs_base, uint64_t rip,
                              unsigned cpl, x86_read_gpa_fn read, x86_map_gpa_fn map, void *ctx,
                              const struct x86_insn **insn, struct x86_walk_result *fault);

/* Forgets every entry (e.g. when the memory behind `map` changes). */
void x86_icache_flush(struct x86_icache *c);

#endif
