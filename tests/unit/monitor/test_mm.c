/* Hosted tests of the monitor's portable memory code: the physical page
 * allocator over a boot memory map, and the page-table walker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mm/pagetable.h"
#include "mm/pmm.h"

/* "Physical memory" for the tests: 64 MiB of host memory at fake address 0. */
#define FAKE_MEM (64ull << 20)
static uint8_t *fake;

static void *map_fake(uint64_t pa)
{
    assert_true(pa < FAKE_MEM);
    return fake + pa;
}

static int setup(void **state)
{
    (void)state;
    fake = aligned_alloc(4096, FAKE_MEM);
    return fake ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(fake);
    return 0;
}

static const struct tv_boot_mem_region sample_map[] = {
    { 0x0, 0x9f000, TV_MEM_USABLE, 0 },
    { 0x100000, 0x700000, TV_MEM_USABLE, 0 },       /* 1-8 MiB */
    { 0x800000, 0x100000, TV_MEM_ACPI_RECLAIM, 0 }, /* 8-9 MiB */
    { 0x900000, 0x100000, TV_MEM_FW_RUNTIME, 0 },   /* 9-10 MiB */
    { 0xa00000, 0x200000, TV_MEM_LOADED, 0 },       /* 10-12 MiB */
    { 0xc00000, 0x3400000, TV_MEM_USABLE, 0 },      /* 12-64 MiB */
    { 0x2000000, 0x100000, TV_MEM_RESERVED, 0 },    /* overlaps usable: reserved wins */
};

static void pmm_never_hands_out_reserved_memory(void **state)
{
    (void)state;
    struct pmm pmm;
    assert_int_equal(pmm_init(&pmm, sample_map, 7, 0x100000, map_fake), TV_OK);
    uint64_t got = 0, pa;
    while (pmm_alloc(&pmm, 1, 1, &pa) == TV_OK) {
        got++;
        assert_true(pa >= 0x100000);                       /* low limit */
        assert_false(pa >= 0x800000 && pa < 0xc00000);     /* ACPI, runtime, loaded */
        assert_false(pa >= 0x2000000 && pa < 0x2100000);   /* reserved overlap */
        assert_true(pa < FAKE_MEM);
    }
    assert_int_equal(pmm.free_pages, 0);
    assert_int_equal(got, pmm.total_usable);
    /* 7 MiB + 52 MiB - 1 MiB reserved overlap - bitmap page(s) */
    assert_true(got > (57ull << 20) / 4096 && got <= (58ull << 20) / 4096);
}

static void pmm_contiguous_aligned_and_free(void **state)
{
    (void)state;
    struct pmm pmm;
    assert_int_equal(pmm_init(&pmm, sample_map, 7, 0x100000, map_fake), TV_OK);
    uint64_t before = pmm.free_pages, a, b;
    assert_int_equal(pmm_alloc(&pmm, 512, 512, &a), TV_OK);
    assert_int_equal(a % (2 << 20), 0);
    assert_int_equal(pmm_alloc(&pmm, 3, 1, &b), TV_OK);
    assert_true(b + 3 * 4096 <= a || b >= a + (2 << 20));
    assert_int_equal(pmm.free_pages, before - 515);
    pmm_free(&pmm, a, 512);
    pmm_free(&pmm, b, 3);
    pmm_free(&pmm, b, 3); /* double free is harmless */
    assert_int_equal(pmm.free_pages, before);
    assert_int_equal(pmm_alloc(&pmm, 0, 1, &a), TV_E_INVALID_ARGUMENT);
    assert_int_equal(pmm_alloc(&pmm, 1, 3, &a), TV_E_INVALID_ARGUMENT);
    assert_int_equal(pmm_alloc(&pmm, before + 1, 1, &a), TV_E_NO_MEMORY);
}

/* The word-at-a-time bitmap against a page-by-page model: random aligned and
 * unaligned allocations and frees keep free_pages and every page's state
 * exactly as the model says, and allocations never overlap. */
static void pmm_matches_a_page_by_page_model(void **state)
{
    (void)state;
    struct pmm pmm;
    assert_int_equal(pmm_init(&pmm, sample_map, 7, 0x100000, map_fake), TV_OK);
    uint64_t pages = FAKE_MEM / PAGE_SIZE;
    static uint8_t model[FAKE_MEM / PAGE_SIZE];
    uint64_t free_count = 0;
    for (uint64_t i = 0; i < pages; i++) {
        model[i] = (uint8_t)pmm_is_free(&pmm, i * PAGE_SIZE);
        free_count += model[i];
    }
    assert_int_equal(free_count, pmm.free_pages);
    assert_false(model[0x800000 / PAGE_SIZE]);  /* ACPI */
    assert_false(model[0x2000000 / PAGE_SIZE]); /* reserved inside usable */
    assert_true(model[0xc00000 / PAGE_SIZE]);
    struct { uint64_t pa, n; } held[64];
    unsigned nheld = 0;
    srand(14);
    for (int round = 0; round < 2000; round++) {
        if (nheld < 64 && (rand() % 3 != 0 || nheld == 0)) {
            static const uint64_t sizes[] = { 1, 3, 63, 64, 65, 130, 512 };
            uint64_t n = sizes[rand() % 7], align = (rand() % 2) ? 512 : 1;
            uint64_t pa;
            if (pmm_alloc(&pmm, n, align, &pa) != TV_OK)
                continue;
            assert_int_equal(pa % (align * PAGE_SIZE), 0);
            for (uint64_t i = 0; i < n; i++) {
                assert_true(model[pa / PAGE_SIZE + i]);
                model[pa / PAGE_SIZE + i] = 0;
            }
            free_count -= n;
            held[nheld].pa = pa;
            held[nheld].n = n;
            nheld++;
        } else {
            unsigned k = (unsigned)rand() % nheld;
            pmm_free(&pmm, held[k].pa, held[k].n);
            for (uint64_t i = 0; i < held[k].n; i++)
                model[held[k].pa / PAGE_SIZE + i] = 1;
            free_count += held[k].n;
            held[k] = held[--nheld];
        }
        assert_int_equal(free_count, pmm.free_pages);
    }
    for (uint64_t i = 0; i < pages; i++)
        assert_int_equal(model[i], pmm_is_free(&pmm, i * PAGE_SIZE));
}

static void pmm_rejects_broken_maps(void **state)
{
    (void)state;
    struct pmm pmm;
    const struct tv_boot_mem_region wrap[] = { { 0xfffffffffffff000ull, 0x2000, TV_MEM_USABLE, 0 } };
    assert_int_equal(pmm_init(&pmm, wrap, 1, 0, map_fake), TV_E_INVALID_ARGUMENT);
    const struct tv_boot_mem_region none[] = { { 0x100000, 0x100000, TV_MEM_RESERVED, 0 } };
    assert_int_equal(pmm_init(&pmm, none, 1, 0, map_fake), TV_E_NO_MEMORY);
}

/* Page tables over the fake memory, tables taken from a pmm. */
static struct pmm pt_pmm;
static tv_status_t pt_alloc(void *ctx, uint64_t *pa)
{
    (void)ctx;
    tv_status_t st = pmm_alloc(&pt_pmm, 1, 1, pa);
    if (st == TV_OK)
        memset(fake + *pa, 0, 4096);
    return st;
}
static void pt_free(void *ctx, uint64_t pa) { (void)ctx; pmm_free(&pt_pmm, pa, 1); }
static uint64_t *pt_map_table(void *ctx, uint64_t pa) { (void)ctx; return (uint64_t *)(fake + pa); }
static const struct pt_ops ops = { NULL, pt_alloc, pt_free, pt_map_table };

static void pagetable_maps_large_and_small_pages(void **state)
{
    (void)state;
    assert_int_equal(pmm_init(&pt_pmm, sample_map, 7, 0x100000, map_fake), TV_OK);
    uint64_t base_free = pt_pmm.free_pages;
    struct page_table pt;
    assert_int_equal(pt_init(&pt, &pt_format_x86_64, &ops), TV_OK);
    /* 1 GiB at 0 -> a 1 GiB leaf; 2 MiB + 8 KiB elsewhere -> 2 MiB + 4 KiB leaves. */
    assert_int_equal(pt_map(&pt, 0, 0x40000000ull, 1ull << 30, PT_READ | PT_WRITE | PT_USER, 1), TV_OK);
    assert_int_equal(pt_map(&pt, 0x80000000ull, 0x200000, 0x202000, PT_READ | PT_WRITE | PT_USER, 1), TV_OK);
    uint64_t pa;
    assert_int_equal(pt_lookup(&pt, 0x12345678, &pa), TV_OK);
    assert_int_equal(pa, 0x40000000ull + 0x12345678);
    assert_int_equal(pt_lookup(&pt, 0x80000000ull + 0x1fffff, &pa), TV_OK);
    assert_int_equal(pa, 0x200000 + 0x1fffff);
    assert_int_equal(pt_lookup(&pt, 0x80000000ull + 0x201010, &pa), TV_OK);
    assert_int_equal(pa, 0x401010);
    assert_int_equal(pt_lookup(&pt, 0x80000000ull + 0x202000, &pa), TV_E_NOT_FOUND);
    assert_int_equal(pt_lookup(&pt, 0x7fffffffull, &pa), TV_E_NOT_FOUND);
    /* NPT needs P|RW|US on every level (APM 15.25.5): check the leaf bits. */
    uint64_t *pml4 = pt_map_table(NULL, pt.root_pa);
    assert_int_equal(pml4[0] & 7, 7);
    /* Mapping over a large page is refused, not silently split. */
    assert_int_equal(pt_map(&pt, 0x1000, 0x1000, 0x1000, PT_READ, 1), TV_E_EXISTS);
    assert_int_equal(pt_map(&pt, 0x1001, 0x1000, 0x1000, PT_READ, 1), TV_E_INVALID_ARGUMENT);
    pt_destroy(&pt);
    assert_int_equal(pt_pmm.free_pages, base_free);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pmm_never_hands_out_reserved_memory),
        cmocka_unit_test(pmm_contiguous_aligned_and_free),
        cmocka_unit_test(pmm_matches_a_page_by_page_model),
        cmocka_unit_test(pmm_rejects_broken_maps),
        cmocka_unit_test(pagetable_maps_large_and_small_pages),
    };
    return cmocka_run_group_tests_name("monitor-mm", tests, setup, teardown);
}
