/* Unit tests for vmm/emul/x86_icache: a hit reads no guest memory through
 * the walker, and a guest that rewrites its code, any entry of its page
 * tables, or changes mode gets what a fresh fetch + decode returns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "emul/x86_icache.h"

#define PMEM (4u << 20)
static uint8_t *pmem;
static unsigned reads;          /* reads through the walker's callback */
static bool unmappable;         /* map() refuses everything */
static struct x86_icache cache;

static tv_status_t rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    if (gpa > PMEM || len > PMEM - gpa)
        return TV_E_NOT_FOUND;
    reads++;
    memcpy(buf, pmem + gpa, len);
    return TV_OK;
}

static const volatile uint8_t *map(void *ctx, uint64_t gpa, size_t len)
{
    (void)ctx;
    if (unmappable || gpa > PMEM || len > PMEM - gpa)
        return NULL;
    return pmem + gpa;
}

static void w64(uint64_t gpa, uint64_t v) { memcpy(pmem + gpa, &v, 8); }

#define P  1ull
#define RW 2ull
#define US 4ull
#define PS 0x80ull

/* 4-level paging: CR3 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000;
 * VA 0x400000 + n*4K -> PA 0x100000 + n*4K. */
static const struct x86_paging_state ps64 = {
    .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x1000, .cr4 = X86_CR4_PAE,
    .efer = X86_EFER_LME | X86_EFER_LMA,
};
#define CODE_VA 0x400100ull
#define CODE_PA 0x100100ull

static int setup(void **state)
{
    (void)state;
    pmem = calloc(1, PMEM);
    reads = 0;
    unmappable = false;
    memset(&cache, 0, sizeof cache);
    w64(0x1000, 0x2000 | P | RW);
    w64(0x2000, 0x3000 | P | RW);
    w64(0x3000 + 2 * 8, 0x4000 | P | RW);          /* PD[2]: 4 MiB .. 6 MiB */
    for (uint64_t n = 0; n < 8; n++)
        w64(0x4000 + n * 8, (0x100000 + n * 0x1000) | P | RW);
    static const uint8_t vmmcall[] = { 0x0f, 0x01, 0xd9 };
    memcpy(pmem + CODE_PA, vmmcall, sizeof vmmcall);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(pmem);
    return 0;
}

static tv_status_t lookup(const struct x86_paging_state *ps, enum x86_cpu_mode mode, uint64_t rip,
                          const struct x86_insn **insn)
{
    struct x86_walk_result fault;
    return x86_icache_decode(&cache, ps, mode, 0, rip, 0, rd, map, NULL, insn, &fault);
}

/* The answer a fresh fetch + decode gives, to compare a lookup with. */
static void expect_fresh(const struct x86_paging_state *ps, enum x86_cpu_mode mode, uint64_t rip,
                         const struct x86_insn *got)
{
    struct x86_insn want;
    struct x86_walk_result fault;
    assert_int_equal(x86_fetch_decode(ps, mode, 0, rip, 0, rd, NULL, &want, &fault), TV_OK);
    assert_memory_equal(got, &want, sizeof want);
}

static void hit_reads_nothing(void **state)
{
    (void)state;
    const struct x86_insn *in;
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(in->len, 3);
    assert_int_equal(in->kind, X86_INSN_VMMCALL);
    assert_int_equal(cache.misses, 1);
    unsigned before = reads;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
        assert_int_equal(in->len, 3);
    }
    assert_int_equal(reads, before);                /* verified through map() only */
    assert_int_equal(cache.hits, 5);
    assert_int_equal(cache.misses, 1);
}

/* The guest rewrites the exiting instruction in place. */
static void code_rewrite_misses(void **state)
{
    (void)state;
    const struct x86_insn *in;
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(in->len, 3);
    static const uint8_t prefixed[] = { 0x66, 0x0f, 0x01, 0xd9 };   /* 66 VMMCALL */
    memcpy(pmem + CODE_PA, prefixed, sizeof prefixed);
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(in->len, 4);
    assert_int_equal(cache.misses, 2);
    expect_fresh(&ps64, X86_MODE_64, CODE_VA, in);
    /* CPUID (0F A2) written over it, the length shrinking. */
    pmem[CODE_PA + 1] = 0xa2;
    pmem[CODE_PA] = 0x0f;
    pmem[CODE_PA + 2] = 0x90;
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(in->len, 2);
    assert_int_equal(in->kind, X86_INSN_CPUID);
    expect_fresh(&ps64, X86_MODE_64, CODE_VA, in);
}

/* The guest remaps its code page, at each level of the walk. */
static void page_table_rewrite_misses(void **state)
{
    (void)state;
    const struct x86_insn *in;
    static const uint8_t cpuid_insn[] = { 0x0f, 0xa2 };
    memcpy(pmem + 0x105100, cpuid_insn, sizeof cpuid_insn);     /* what the new PTE names */
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(in->len, 3);
    /* Leaf: PT[0] now points at 0x105000. */
    w64(0x4000, 0x105000 | P | RW);
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(in->len, 2);
    assert_int_equal(in->kind, X86_INSN_CPUID);
    expect_fresh(&ps64, X86_MODE_64, CODE_VA, in);

    /* PD: PD[2] becomes a 2 MiB page at 0x200000 holding RDMSR. */
    static const uint8_t rdmsr_insn[] = { 0x0f, 0x32 };
    memcpy(pmem + 0x200100, rdmsr_insn, sizeof rdmsr_insn);
    w64(0x3000 + 2 * 8, 0x200000 | P | RW | PS);
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(in->kind, X86_INSN_RDMSR);
    expect_fresh(&ps64, X86_MODE_64, CODE_VA, in);

    /* PML4: the entry goes away; the walk faults as a fresh one would. */
    w64(0x1000, 0);
    struct x86_walk_result fault;
    assert_int_equal(x86_icache_decode(&cache, &ps64, X86_MODE_64, 0, CODE_VA, 0, rd, map, NULL,
                                       &in, &fault), TV_E_FAULT);
    assert_int_equal(fault.fault_addr, CODE_VA);
}

/* A different CR3, mode or CPL is a different key. */
static void mode_is_part_of_the_key(void **state)
{
    (void)state;
    const struct x86_insn *in;
    static const uint8_t rex_in[] = { 0x48, 0xe5, 0x10 };   /* 64-bit: REX.W IN; 32-bit: DEC EAX */
    memcpy(pmem + CODE_PA, rex_in, sizeof rex_in);
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(in->len, 3);
    assert_int_equal(in->kind, X86_INSN_IN);
    /* Paging off, 32-bit code, RIP = the physical address: one byte, DEC EAX. */
    struct x86_paging_state off = { .cr0 = X86_CR0_PE };
    assert_int_equal(lookup(&off, X86_MODE_32, CODE_PA, &in), TV_OK);
    assert_int_equal(in->len, 1);
    /* Another CR3 naming the same tables: a miss, the same answer. */
    struct x86_paging_state other = ps64;
    other.cr3 = 0x1000 | 0x8;                     /* PWT: same tables */
    uint64_t m = cache.misses;
    assert_int_equal(lookup(&other, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(cache.misses, m + 1);
    assert_int_equal(in->len, 3);
    /* CPL 3 on a supervisor page: #PF, not the cached supervisor answer. */
    struct x86_walk_result fault;
    assert_int_equal(x86_icache_decode(&cache, &ps64, X86_MODE_64, 0, CODE_VA, 3, rd, map, NULL,
                                       &in, &fault), TV_E_FAULT);
    assert_true(fault.pf_error & X86_PF_U);
}

/* Near a page end (tail read) or without map(): decoded every time. */
static void uncacheable_cases_still_decode(void **state)
{
    (void)state;
    const struct x86_insn *in;
    static const uint8_t vmmcall[] = { 0x0f, 0x01, 0xd9 };
    memcpy(pmem + 0x100ff0, vmmcall, sizeof vmmcall);      /* 16 bytes before the page end */
    memcpy(pmem + 0x100ff8, vmmcall, sizeof vmmcall);      /* 8 bytes before it */
    assert_int_equal(lookup(&ps64, X86_MODE_64, 0x400ff8, &in), TV_OK);
    assert_int_equal(in->len, 3);
    assert_int_equal(lookup(&ps64, X86_MODE_64, 0x400ff8, &in), TV_OK);
    assert_int_equal(cache.hits, 0);
    assert_int_equal(cache.misses, 2);
    assert_int_equal(lookup(&ps64, X86_MODE_64, 0x400ff0, &in), TV_OK);
    assert_int_equal(lookup(&ps64, X86_MODE_64, 0x400ff0, &in), TV_OK);
    assert_int_equal(cache.hits, 1);                       /* 15 bytes fit: cached */

    unmappable = true;
    memset(&cache, 0, sizeof cache);
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(in->len, 3);
    assert_int_equal(cache.hits, 0);

    /* A flush forgets a valid entry. */
    unmappable = false;
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    x86_icache_flush(&cache);
    assert_int_equal(lookup(&ps64, X86_MODE_64, CODE_VA, &in), TV_OK);
    assert_int_equal(cache.hits, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hit_reads_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(code_rewrite_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(page_table_rewrite_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(mode_is_part_of_the_key, setup, teardown),
        cmocka_unit_test_setup_teardown(uncacheable_cases_still_decode, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
