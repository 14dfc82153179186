/* Unit tests for the UEFI -> boot_info memory map conversion (boot/common/mem_map.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../../boot/common/mem_map.h"

/* Firmware descriptors are often 48 bytes apart, larger than the struct. */
#define STRIDE 48
static uint8_t descs[64 * STRIDE];
static size_t ndesc;
static struct tv_boot_mem_region out[TV_BOOT_MAX_MEM];
static uint32_t nout;

static void add(uint32_t type, uint64_t base, uint64_t pages)
{
    struct tv_efi_mem_desc d = { .type = type, .phys_start = base, .pages = pages };
    memset(descs + ndesc * STRIDE, 0x5a, STRIDE);
    memcpy(descs + ndesc * STRIDE, &d, sizeof d);
    ndesc++;
}

static void expect_region(uint32_t i, uint64_t base, uint64_t length, uint32_t type)
{
    assert_true(i < nout);
    assert_true(out[i].base == base);
    assert_true(out[i].length == length);
    assert_int_equal(out[i].type, type);
}

static int reset(void **state)
{
    (void)state;
    ndesc = 0;
    nout = 0;
    memset(out, 0, sizeof out);
    return 0;
}

static void every_efi_type_is_mapped(void **state)
{
    (void)state;
    static const uint32_t expect[] = {
        TV_MEM_RESERVED, TV_MEM_USABLE, TV_MEM_USABLE, TV_MEM_USABLE, TV_MEM_USABLE,
        TV_MEM_FW_RUNTIME, TV_MEM_FW_RUNTIME, TV_MEM_USABLE, TV_MEM_BAD, TV_MEM_ACPI_RECLAIM,
        TV_MEM_ACPI_NVS, TV_MEM_MMIO, TV_MEM_MMIO, TV_MEM_RESERVED, TV_MEM_PERSISTENT,
        TV_MEM_RESERVED, /* 15: unaccepted memory */
    };
    for (uint32_t t = 0; t < sizeof expect / sizeof expect[0]; t++)
        assert_int_equal(tv_mem_type_from_efi(t), expect[t]);
    assert_int_equal(tv_mem_type_from_efi(TV_EFI_MEMTYPE_LOADED), TV_MEM_LOADED);
    assert_int_equal(tv_mem_type_from_efi(0x80000000u), TV_MEM_RESERVED);
    assert_int_equal(tv_mem_type_from_efi(0x70000001u), TV_MEM_RESERVED);
    assert_int_equal(tv_mem_type_from_efi(99), TV_MEM_RESERVED);
}

static void sorts_and_merges(void **state)
{
    (void)state;
    add(7, 0x100000, 0x100);                  /* conventional */
    add(4, 0x0, 0xa0);                        /* boot services data */
    add(TV_EFI_MEMTYPE_LOADED, 0x200000, 4);
    add(3, 0x200000 + 0x4000, 0x10);          /* bs code right after LOADED */
    add(1, 0x200000 + 0x14000, 0x10);         /* loader code, adjacent: merges */
    add(9, 0x80000000, 1);                    /* ACPI reclaim after a hole */
    add(5, 0x7000000, 2);                     /* runtime code */
    add(6, 0x7002000, 2);                     /* runtime data: merges with it */
    add(0, 0xfeffc000, 0);                    /* empty: skipped */
    assert_int_equal(tv_mem_map_convert(descs, ndesc, STRIDE, out, TV_BOOT_MAX_MEM, &nout), TV_OK);
    assert_int_equal(nout, 6);
    expect_region(0, 0x0, 0xa0000, TV_MEM_USABLE);
    expect_region(1, 0x100000, 0x100000, TV_MEM_USABLE);
    expect_region(2, 0x200000, 0x4000, TV_MEM_LOADED);
    expect_region(3, 0x204000, 0x20000, TV_MEM_USABLE);
    expect_region(4, 0x7000000, 0x4000, TV_MEM_FW_RUNTIME);
    expect_region(5, 0x80000000, 0x1000, TV_MEM_ACPI_RECLAIM);
    /* 0x100000 follows 0xa0000 with a hole: not merged even though both usable */
}

static void overlaps_never_make_memory_usable(void **state)
{
    (void)state;
    add(7, 0x0, 0x10);                  /* usable 0x0-0x10000 */
    add(0, 0x8000, 0x4);                /* reserved inside it: the usable tail is dropped */
    add(7, 0x20000, 0x10);              /* usable 0x20000-0x30000 */
    add(10, 0x18000, 0x10);             /* NVS 0x18000-0x28000 overlaps the next usable */
    add(11, 0x40000, 0x10);             /* MMIO 0x40000-0x50000 */
    add(8, 0x48000, 0x10);              /* bad 0x48000-0x58000: MMIO keeps the overlap */
    add(7, 0x40000, 0x4);               /* usable, fully covered by MMIO: dropped */
    assert_int_equal(tv_mem_map_convert(descs, ndesc, STRIDE, out, TV_BOOT_MAX_MEM, &nout), TV_OK);
    expect_region(0, 0x0, 0x8000, TV_MEM_USABLE);
    expect_region(1, 0x8000, 0x4000, TV_MEM_RESERVED);
    expect_region(2, 0x18000, 0x10000, TV_MEM_ACPI_NVS);
    expect_region(3, 0x28000, 0x8000, TV_MEM_USABLE);
    expect_region(4, 0x40000, 0x10000, TV_MEM_MMIO);
    expect_region(5, 0x50000, 0x8000, TV_MEM_BAD);
    assert_int_equal(nout, 6);
    for (uint32_t i = 1; i < nout; i++)
        assert_true(out[i].base >= out[i - 1].base + out[i - 1].length);
}

static void huge_and_unaligned_descriptors_are_clipped(void **state)
{
    (void)state;
    add(7, 0xfffffffffffff000ull, 0x100);   /* would wrap past 2^64 */
    add(7, 0x1234, 1);                       /* unaligned base: rounded down */
    add(0, 0x1000, UINT64_MAX);              /* page count overflows */
    assert_int_equal(tv_mem_map_convert(descs, ndesc, STRIDE, out, TV_BOOT_MAX_MEM, &nout), TV_OK);
    /* the last page below 2^64 cannot be described: dropped; the usable
     * page under the reserved range is dropped too */
    expect_region(0, 0x1000, 0xfffffffffffff000ull - 0x1000, TV_MEM_RESERVED);
    assert_int_equal(nout, 1);
}

static void limits_and_bad_arguments(void **state)
{
    (void)state;
    for (int i = 0; i < 10; i++)
        add(i % 2 ? 7 : 0, (uint64_t)i << 20, 1);
    assert_int_equal(tv_mem_map_convert(descs, ndesc, STRIDE, out, 10, &nout), TV_OK);
    assert_int_equal(nout, 10);
    assert_int_equal(tv_mem_map_convert(descs, ndesc, STRIDE, out, 9, &nout), TV_E_LIMIT);
    assert_int_equal(tv_mem_map_convert(descs, ndesc, 16, out, 10, &nout), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_mem_map_convert(descs, 0, STRIDE, out, 10, &nout), TV_OK);
    assert_int_equal(nout, 0);
    /* identical duplicates collapse into one */
    reset(NULL);
    add(7, 0x5000, 2);
    add(7, 0x5000, 2);
    assert_int_equal(tv_mem_map_convert(descs, ndesc, STRIDE, out, 10, &nout), TV_OK);
    assert_int_equal(nout, 1);
    expect_region(0, 0x5000, 0x2000, TV_MEM_USABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(every_efi_type_is_mapped, reset),
        cmocka_unit_test_setup(sorts_and_merges, reset),
        cmocka_unit_test_setup(overlaps_never_make_memory_usable, reset),
        cmocka_unit_test_setup(huge_and_unaligned_descriptors_are_clipped, reset),
        cmocka_unit_test_setup(limits_and_bad_arguments, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
