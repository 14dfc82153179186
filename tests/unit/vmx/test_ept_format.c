/* The EPT page-table format (vmm/mm/pagetable.c: pt_format_ept) driven through
 * the common walker: entry bits as Intel SDM vol. 3 28.3.2 defines them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mm/pagetable.h"

#define POOL_PAGES 64
static uint8_t pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static unsigned used;

/* Table "physical" addresses are pool indexes shifted into page frames. */
static tv_status_t alloc_page(void *ctx, uint64_t *pa)
{
    (void)ctx;
    if (used == POOL_PAGES)
        return TV_E_NO_MEMORY;
    memset(pool[used], 0, 4096);
    *pa = (uint64_t)(used + 1) << 12;
    used++;
    return TV_OK;
}
static void free_page(void *ctx, uint64_t pa) { (void)ctx; (void)pa; }
static uint64_t *map(void *ctx, uint64_t pa) { (void)ctx; return (uint64_t *)pool[(pa >> 12) - 1]; }
static const struct pt_ops ops = { NULL, alloc_page, free_page, map };

static int setup(void **state) { (void)state; used = 0; return 0; }

/* The entry mapping gpa at the given level (4 = PML4E ... 1 = PTE). */
static uint64_t entry_at(const struct page_table *pt, uint64_t gpa, int level)
{
    uint64_t table = pt->root_pa;
    for (int l = 4; ; l--) {
        uint64_t e = map(NULL, table)[(gpa >> (12 + 9 * (l - 1))) & 511];
        if (l == level)
            return e;
        table = e & 0x000ffffffffff000ull;
    }
}

static void test_2m_leaf_write_back(void **state)
{
    (void)state;
    struct page_table pt;
    assert_int_equal(pt_init(&pt, &pt_format_ept, &ops), TV_OK);
    assert_int_equal(pt_map(&pt, 0x200000, 0x4600000, 0x200000, PT_READ | PT_WRITE | PT_EXEC, 1),
                     TV_OK);
    uint64_t pml4e = entry_at(&pt, 0x200000, 4);
    assert_int_equal(pml4e & 7, 7);                     /* tables allow RWX */
    uint64_t pde = entry_at(&pt, 0x200000, 2);
    assert_int_equal(pde & 0x000ffffffffff000ull, 0x4600000);
    assert_int_equal(pde & 7, 7);
    assert_int_equal((pde >> 3) & 7, 6);                /* memory type write-back */
    assert_true(pde & (1ull << 7));                     /* 2 MiB page */
    uint64_t pa;
    assert_int_equal(pt_lookup(&pt, 0x2abcde, &pa), TV_OK);
    assert_int_equal(pa, 0x46abcde);
    assert_int_equal(pt_lookup(&pt, 0x400000, &pa), TV_E_NOT_FOUND);
}

static void test_4k_leaf_permissions(void **state)
{
    (void)state;
    struct page_table pt;
    assert_int_equal(pt_init(&pt, &pt_format_ept, &ops), TV_OK);
    assert_int_equal(pt_map(&pt, 0x1000, 0x9000, 0x1000, PT_READ, 0), TV_OK);
    assert_int_equal(pt_map(&pt, 0x2000, 0xa000, 0x1000, PT_WRITE, 0), TV_OK);
    assert_int_equal(pt_map(&pt, 0x3000, 0xb000, 0x1000, PT_EXEC | PT_UNCACHED, 0), TV_OK);
    uint64_t r = entry_at(&pt, 0x1000, 1), w = entry_at(&pt, 0x2000, 1), x = entry_at(&pt, 0x3000, 1);
    assert_int_equal(r & 7, 1);
    assert_int_equal(w & 7, 3);                         /* write-only would be a misconfiguration */
    assert_int_equal(x & 7, 4);
    assert_int_equal((r >> 3) & 7, 6);
    assert_int_equal((x >> 3) & 7, 0);                  /* uncached */
    assert_false(r & (1ull << 7));                      /* no large bit in a PTE */
    assert_int_equal(r & 0x000ffffffffff000ull, 0x9000);
}

static void test_present_and_large(void **state)
{
    (void)state;
    assert_false(pt_format_ept.is_present(0));
    assert_false(pt_format_ept.is_present(0x5000 | (6 << 3)));  /* no R/W/X: not present */
    assert_true(pt_format_ept.is_present(0x5000 | 4));          /* execute-only is present */
    assert_true(pt_format_ept.is_large(1 | (1ull << 7), 2));
    assert_false(pt_format_ept.is_large(1 | (1ull << 7), 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_2m_leaf_write_back, setup),
        cmocka_unit_test_setup(test_4k_leaf_permissions, setup),
        cmocka_unit_test(test_present_and_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
