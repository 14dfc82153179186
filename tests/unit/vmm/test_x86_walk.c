/* Unit tests for vmm/emul/x86_walk and x86_fetch: every paging mode, fault
 * error codes, reserved bits, rights, and instruction fetch across pages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "emul/x86_walk.h"

#define PMEM (4u << 20)
static uint8_t *pmem;
static unsigned reads;

static tv_status_t rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    if (gpa > PMEM || len > PMEM - gpa)
        return TV_E_NOT_FOUND;           /* outside guest memory */
    reads++;
    memcpy(buf, pmem + gpa, len);
    return TV_OK;
}

static void w64(uint64_t gpa, uint64_t v) { memcpy(pmem + gpa, &v, 8); }
static void w32(uint64_t gpa, uint32_t v) { memcpy(pmem + gpa, &v, 4); }

static int setup(void **state)
{
    (void)state;
    pmem = calloc(1, PMEM);
    reads = 0;
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    free(pmem);
    return 0;
}

#define P  1ull
#define RW 2ull
#define US 4ull
#define PS 0x80ull
#define NX (1ull << 63)

static tv_status_t xl(const struct x86_paging_state *ps, uint64_t va, unsigned acc,
                      struct x86_walk_result *r)
{
    return x86_translate(ps, va, acc, rd, NULL, r);
}

static void paging_off(void **state)
{
    (void)state;
    struct x86_paging_state ps = { .cr0 = X86_CR0_PE };
    struct x86_walk_result r;
    assert_int_equal(xl(&ps, 0x123456789ull, 0, &r), TV_OK);
    assert_int_equal(r.gpa, 0x23456789u);
    assert_int_equal(reads, 0);
}

static void two_level_32bit(void **state)
{
    (void)state;
    struct x86_paging_state ps = { .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000 };
    struct x86_walk_result r;
    /* 0x00405000 -> PDE[1] -> PT at 0x2000, PTE[5] -> 0x300000 */
    w32(0x1000 + 1 * 4, 0x2000 | P | RW | US);
    w32(0x2000 + 5 * 4, 0x300000 | P | US);            /* read-only user page */
    assert_int_equal(xl(&ps, 0x00405abc, 0, &r), TV_OK);
    assert_int_equal(r.gpa, 0x300abc);
    assert_int_equal(r.page_size, 4096);
    assert_false(r.writable);
    assert_true(r.user);
    /* Supervisor write to a read-only page: allowed without CR0.WP ... */
    assert_int_equal(xl(&ps, 0x00405abc, X86_ACC_WRITE, &r), TV_OK);
    /* ... and a protection fault with it. */
    ps.cr0 |= X86_CR0_WP;
    assert_int_equal(xl(&ps, 0x00405abc, X86_ACC_WRITE, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_W);
    assert_int_equal(r.fault_addr, 0x00405abc);
    /* User write always faults on a read-only page. */
    assert_int_equal(xl(&ps, 0x00405abc, X86_ACC_WRITE | X86_ACC_USER, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_W | X86_PF_U);
    /* Not-present PTE and PDE. */
    assert_int_equal(xl(&ps, 0x00406000, X86_ACC_USER, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_U);
    assert_int_equal(xl(&ps, 0x00c00000, 0, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, 0);
    /* Supervisor-only page at the PDE level blocks users. */
    w32(0x1000 + 1 * 4, 0x2000 | P | RW);
    assert_int_equal(xl(&ps, 0x00405000, X86_ACC_USER, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_U);
    /* Upper bits of the linear address are ignored. */
    w32(0x1000 + 1 * 4, 0x2000 | P | RW | US);
    assert_int_equal(xl(&ps, 0xff00000000405abcull, 0, &r), TV_OK);
    assert_int_equal(r.gpa, 0x300abc);
}

static void pse_4mib_pages(void **state)
{
    (void)state;
    struct x86_paging_state ps = { .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000,
                                   .cr4 = X86_CR4_PSE, .maxphyaddr = 36 };
    struct x86_walk_result r;
    w32(0x1000 + 2 * 4, 0x00c00000u | P | RW | PS);    /* 0x00800000 -> 12 MiB */
    assert_int_equal(xl(&ps, 0x00812345, X86_ACC_WRITE, &r), TV_OK);
    assert_int_equal(r.gpa, 0x00c12345);
    assert_int_equal(r.page_size, 4u << 20);
    /* PSE-36: bits 20:13 are physical address bits 39:32. */
    w32(0x1000 + 2 * 4, 0x00c00000u | P | PS | (3u << 13));
    assert_int_equal(xl(&ps, 0x00812345, 0, &r), TV_OK);
    assert_int_equal(r.gpa, 0x300c12345ull);
    /* Above MAXPHYADDR (36 bits) or bit 21 set: reserved-bit fault. */
    w32(0x1000 + 2 * 4, 0x00c00000u | P | PS | (0x10u << 13));
    assert_int_equal(xl(&ps, 0x00812345, 0, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_RSVD);
    w32(0x1000 + 2 * 4, 0x00c00000u | P | PS | (1u << 21));
    assert_int_equal(xl(&ps, 0x00812345, 0, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_RSVD);
    /* Without CR4.PSE the PS bit is ignored: the PDE points to a page table. */
    ps.cr4 = 0;
    w32(0x1000 + 2 * 4, 0x2000 | P | PS);
    w32(0x2000 + 0x12 * 4, 0x5000 | P);
    assert_int_equal(xl(&ps, 0x00812345, 0, &r), TV_OK);
    assert_int_equal(r.gpa, 0x5345);
}

static void pae_paging(void **state)
{
    (void)state;
    struct x86_paging_state ps = { .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x3020,
                                   .cr4 = X86_CR4_PAE, .efer = X86_EFER_NXE };
    struct x86_walk_result r;
    /* va 0xc0201000: PDPTE[3] -> PD 0x4000, PDE[1] -> PT 0x5000, PTE[1] -> 0x123000 */
    w64(0x3020 + 3 * 8, 0x4000 | P);
    w64(0x4000 + 1 * 8, 0x5000 | P | RW);
    w64(0x5000 + 1 * 8, 0x123000 | P | RW | NX);
    assert_int_equal(xl(&ps, 0xc0201008, X86_ACC_WRITE, &r), TV_OK);
    assert_int_equal(r.gpa, 0x123008);
    assert_true(r.nx);
    /* Fetch from an NX page: protection fault with I/D. */
    assert_int_equal(xl(&ps, 0xc0201008, X86_ACC_FETCH, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_ID);
    /* Without EFER.NXE, bit 63 is reserved. */
    ps.efer = 0;
    assert_int_equal(xl(&ps, 0xc0201008, 0, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_RSVD);
    ps.efer = X86_EFER_NXE;
    /* 2 MiB page. */
    w64(0x4000 + 2 * 8, 0x600000 | P | PS);
    assert_int_equal(xl(&ps, 0xc0412345, 0, &r), TV_OK);
    assert_int_equal(r.gpa, 0x612345);
    assert_int_equal(r.page_size, 2u << 20);
    /* 2 MiB page with a bit in 20:13 set: reserved. */
    w64(0x4000 + 2 * 8, 0x600000 | P | PS | (1u << 15));
    assert_int_equal(xl(&ps, 0xc0412345, 0, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_RSVD);
    /* PDPTE reserved bits (R/W is reserved in PAE PDPTEs). */
    w64(0x3020 + 3 * 8, 0x4000 | P | RW);
    assert_int_equal(xl(&ps, 0xc0201008, 0, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_RSVD);
    /* Not-present PDPTE. */
    assert_int_equal(xl(&ps, 0x00001000, X86_ACC_WRITE, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_W);
}

/* Long-mode tables: PML4 0x6000, PDPT 0x7000, PD 0x8000, PT 0x9000. */
static void build_long_tables(uint64_t va)
{
    w64(0x6000 + ((va >> 39) & 511) * 8, 0x7000 | P | RW | US);
    w64(0x7000 + ((va >> 30) & 511) * 8, 0x8000 | P | RW | US);
    w64(0x8000 + ((va >> 21) & 511) * 8, 0x9000 | P | RW | US);
    w64(0x9000 + ((va >> 12) & 511) * 8, 0x2a000 | P | RW);
}

static void long_mode_paging(void **state)
{
    (void)state;
    struct x86_paging_state ps = { .cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, .cr3 = 0x6000,
                                   .cr4 = X86_CR4_PAE, .efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE,
                                   .maxphyaddr = 40 };
    struct x86_walk_result r;
    uint64_t va = 0xffff800012345678ull;
    build_long_tables(va);
    assert_int_equal(xl(&ps, va, X86_ACC_WRITE, &r), TV_OK);
    assert_int_equal(r.gpa, 0x2a678);
    assert_false(r.user);
    /* User access to a supervisor page. */
    assert_int_equal(xl(&ps, va, X86_ACC_USER, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_U);
    /* Non-canonical: #GP, not #PF. */
    assert_int_equal(xl(&ps, 0x0000800000000000ull, 0, &r), TV_E_INVALID_ARGUMENT);
    /* Physical address bit above MAXPHYADDR in a PTE. */
    w64(0x9000 + ((va >> 12) & 511) * 8, (1ull << 41) | 0x2a000 | P);
    assert_int_equal(xl(&ps, va, 0, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_RSVD);
    /* PS in a PML4E is reserved. */
    build_long_tables(va);
    w64(0x6000 + ((va >> 39) & 511) * 8, 0x7000 | P | RW | PS);
    assert_int_equal(xl(&ps, va, X86_ACC_FETCH, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_RSVD | X86_PF_ID);
    build_long_tables(va);
    /* 2 MiB and 1 GiB pages. */
    w64(0x8000 + ((va >> 21) & 511) * 8, 0x400000 | P | PS);
    assert_int_equal(xl(&ps, va, 0, &r), TV_OK);
    assert_int_equal(r.gpa, 0x400000 | (va & 0x1fffff));
    w64(0x7000 + ((va >> 30) & 511) * 8, 0x40000000 | P | PS | US);
    assert_int_equal(xl(&ps, va, X86_ACC_USER, &r), TV_OK);
    assert_int_equal(r.gpa, 0x40000000 | (va & 0x3fffffff));
    assert_int_equal(r.page_size, 1u << 30);
    /* 1 GiB page with bit 13 set: reserved. */
    w64(0x7000 + ((va >> 30) & 511) * 8, 0x40000000 | P | PS | (1u << 13));
    assert_int_equal(xl(&ps, va, 0, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_RSVD);
    /* SMEP: supervisor fetch from a user page. */
    build_long_tables(va);
    w64(0x9000 + ((va >> 12) & 511) * 8, 0x2a000 | P | US);
    assert_int_equal(xl(&ps, va, X86_ACC_FETCH, &r), TV_OK);
    ps.cr4 |= X86_CR4_SMEP;
    assert_int_equal(xl(&ps, va, X86_ACC_FETCH, &r), TV_E_FAULT);
    assert_int_equal(r.pf_error, X86_PF_P | X86_PF_ID);
    /* Page table outside guest memory: the read status comes back. */
    w64(0x9000 + ((va >> 12) & 511) * 8, 0x2a000 | P);
    w64(0x8000 + ((va >> 21) & 511) * 8, 0x7fff000 | P);
    assert_int_equal(xl(&ps, va, 0, &r), TV_E_NOT_FOUND);
    /* Bad MAXPHYADDR. */
    ps.maxphyaddr = 60;
    assert_int_equal(xl(&ps, va, 0, &r), TV_E_INVALID_ARGUMENT);
}

static void five_level_paging(void **state)
{
    (void)state;
    struct x86_paging_state ps = { .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0xa000,
                                   .cr4 = X86_CR4_PAE | X86_CR4_LA57,
                                   .efer = X86_EFER_LME | X86_EFER_LMA };
    struct x86_walk_result r;
    uint64_t va = 0x00ff800012345678ull;   /* canonical with 57 bits, not with 48 */
    w64(0xa000 + ((va >> 48) & 511) * 8, 0x6000 | P | RW);
    build_long_tables(va);
    assert_int_equal(xl(&ps, va, 0, &r), TV_OK);
    assert_int_equal(r.gpa, 0x2a678);
    assert_int_equal(xl(&ps, 0x0100000000000000ull, 0, &r), TV_E_INVALID_ARGUMENT);
    ps.cr4 &= ~X86_CR4_LA57;
    ps.cr3 = 0x6000;
    assert_int_equal(xl(&ps, va, 0, &r), TV_E_INVALID_ARGUMENT);
}

static unsigned writes;
static tv_status_t wr(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    (void)ctx;
    if (gpa > PMEM || len > PMEM - gpa)
        return TV_E_NOT_FOUND;
    writes++;
    memcpy(pmem + gpa, buf, len);
    return TV_OK;
}
static uint64_t r64(uint64_t gpa) { uint64_t v; memcpy(&v, pmem + gpa, 8); return v; }
static uint32_t r32(uint64_t gpa) { uint32_t v; memcpy(&v, pmem + gpa, 4); return v; }

static void accessed_and_dirty_bits(void **state)
{
    (void)state;
    struct x86_paging_state ps = { .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x6000,
                                   .cr4 = X86_CR4_PAE, .efer = X86_EFER_LME | X86_EFER_LMA };
    struct x86_walk_result r;
    uint64_t va = 0x12345678;
    build_long_tables(va);
    uint64_t e4 = 0x6000 + ((va >> 39) & 511) * 8, e3 = 0x7000 + ((va >> 30) & 511) * 8;
    uint64_t e2 = 0x8000 + ((va >> 21) & 511) * 8, e1 = 0x9000 + ((va >> 12) & 511) * 8;
    /* The read-only walker never writes. */
    assert_int_equal(xl(&ps, va, X86_ACC_WRITE, &r), TV_OK);
    assert_int_equal(r64(e1) & 0x60, 0);
    /* A read sets Accessed everywhere, not Dirty. */
    writes = 0;
    assert_int_equal(x86_translate_update(&ps, va, 0, rd, wr, NULL, &r), TV_OK);
    assert_int_equal(writes, 4);
    assert_true((r64(e4) & r64(e3) & r64(e2) & r64(e1)) & 0x20);
    assert_int_equal(r64(e1) & 0x40, 0);
    /* A write sets Dirty in the leaf only; unchanged entries are not rewritten. */
    writes = 0;
    assert_int_equal(x86_translate_update(&ps, va, X86_ACC_WRITE, rd, wr, NULL, &r), TV_OK);
    assert_int_equal(writes, 1);
    assert_true(r64(e1) & 0x40);
    assert_int_equal(r64(e2) & 0x40, 0);
    /* A faulting walk changes nothing. */
    build_long_tables(va);
    w64(e1, 0);
    writes = 0;
    assert_int_equal(x86_translate_update(&ps, va, 0, rd, wr, NULL, &r), TV_E_FAULT);
    assert_int_equal(writes, 0);
    /* 32-bit 4 MiB page: the PDE is the leaf and gets Dirty. */
    struct x86_paging_state p32 = { .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000, .cr4 = X86_CR4_PSE };
    w32(0x1000 + 2 * 4, 0x00c00000u | P | RW | PS);
    assert_int_equal(x86_translate_update(&p32, 0x00812345, X86_ACC_WRITE, rd, wr, NULL, &r), TV_OK);
    assert_int_equal(r32(0x1008) & 0x60, 0x60);
    /* PAE: the PDPTE has no accessed bit and is left alone. */
    struct x86_paging_state pae = { .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x3000, .cr4 = X86_CR4_PAE };
    w64(0x3000, 0x4000 | P);
    w64(0x4000, 0x600000 | P | PS);
    assert_int_equal(x86_translate_update(&pae, 0x1234, 0, rd, wr, NULL, &r), TV_OK);
    assert_int_equal(r64(0x3000), 0x4000 | P);
    assert_int_equal(r64(0x4000), 0x600000 | P | PS | 0x20);
}

/* Fetch: code page 0x00400000 -> 0x100000, next page 0x00401000 -> 0x050000. */
static void fetch_across_pages(void **state)
{
    (void)state;
    struct x86_paging_state ps = { .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000 };
    w32(0x1000 + 1 * 4, 0x2000 | P | RW | US);
    w32(0x2000 + 0 * 4, 0x100000 | P | RW | US);
    w32(0x2000 + 1 * 4, 0x050000 | P | RW | US);
    /* mov $0x12345678, %eax split 3 + 2 across the boundary */
    memcpy(pmem + 0x100ffd, "\xb8\x78\x56", 3);
    memcpy(pmem + 0x050000, "\x34\x12\x90\x90", 4);
    struct x86_fetch f;
    struct x86_walk_result fault;
    assert_int_equal(x86_fetch_insn(&ps, X86_MODE_32, 0x00400000, 0xffd, 3, rd, NULL, &f, &fault), TV_OK);
    assert_int_equal(f.count, 15);
    assert_memory_equal(f.bytes, "\xb8\x78\x56\x34\x12\x90\x90", 7);
    struct x86_insn in;
    assert_int_equal(x86_fetch_decode(&ps, X86_MODE_32, 0x00400000, 0xffd, 0, rd, NULL, &in, &fault), TV_OK);
    assert_int_equal(in.len, 5);
    assert_int_equal(in.imm, 0x12345678);

    /* Next page not present: the bytes before the boundary still come back ... */
    w32(0x2000 + 1 * 4, 0);
    assert_int_equal(x86_fetch_insn(&ps, X86_MODE_32, 0x00400000, 0xffd, 0, rd, NULL, &f, &fault), TV_OK);
    assert_int_equal(f.count, 3);
    assert_int_equal(f.tail_status, TV_E_FAULT);
    /* ... and decoding an instruction that needs them raises the #PF of the tail. */
    assert_int_equal(x86_fetch_decode(&ps, X86_MODE_32, 0x00400000, 0xffd, 3, rd, NULL, &in, &fault), TV_E_FAULT);
    assert_int_equal(fault.fault_addr, 0x00401000);
    assert_int_equal(fault.pf_error, X86_PF_U | 0);
    /* A short instruction before the boundary does not need the tail. */
    memcpy(pmem + 0x100ffd, "\x0f\x01\xd9", 3);
    assert_int_equal(x86_fetch_decode(&ps, X86_MODE_32, 0x00400000, 0xffd, 0, rd, NULL, &in, &fault), TV_OK);
    assert_int_equal(in.kind, X86_INSN_VMMCALL);
    /* First page not present: #PF at CS:RIP. */
    assert_int_equal(x86_fetch_insn(&ps, X86_MODE_32, 0, 0x00401000, 0, rd, NULL, &f, &fault), TV_E_FAULT);
    assert_int_equal(fault.fault_addr, 0x00401000);
    /* Paging off, 16-bit code: CS base + IP. */
    struct x86_paging_state real = { 0 };
    memcpy(pmem + 0xf0010, "\xe6\x80", 2);
    assert_int_equal(x86_fetch_decode(&real, X86_MODE_16, 0xf0000, 0x10, 0, rd, NULL, &in, &fault), TV_OK);
    assert_int_equal(in.kind, X86_INSN_OUT);
    assert_int_equal(in.port, 0x80);
    /* Fetch past the end of guest memory: the read status comes back. */
    assert_int_equal(x86_fetch_decode(&real, X86_MODE_32, 0, PMEM + 0x1000, 0, rd, NULL, &in, &fault), TV_E_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(paging_off, setup, teardown),
        cmocka_unit_test_setup_teardown(two_level_32bit, setup, teardown),
        cmocka_unit_test_setup_teardown(pse_4mib_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(pae_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(long_mode_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(five_level_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(accessed_and_dirty_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(fetch_across_pages, setup, teardown),
    };
    return cmocka_run_group_tests_name("vmm_x86_walk", tests, NULL, NULL);
}
