/* Unit tests for the Linux bzImage loader (vmm/guestload/bzimage.c and the
 * zero page in guest_load.c): a synthetic setup header, the refusals, the
 * initrd placement, and Debian's real kernel when /boot has one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guestload/boot_abi.h"
#include "guestload/guestload.h"

#define MEM (256ull << 20)
static uint8_t *gmem;
static uint8_t *img;
#define IMG_SIZE (1u << 20)
static char err[160];

static tv_status_t mem_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    (void)ctx;
    if (gpa > MEM || len > MEM - gpa)
        fail_msg("write outside guest memory: 0x%llx +0x%zx", (unsigned long long)gpa, len);
    memcpy(gmem + gpa, src, len);
    return TV_OK;
}
static const struct guest_mem_writer writer = { NULL, mem_write, NULL };

static int setup(void **state)
{
    (void)state;
    gmem = malloc(MEM);
    img = calloc(1, IMG_SIZE);
    memset(gmem, 0xaa, MEM);
    err[0] = 0;
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    free(gmem);
    free(img);
    return 0;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* A bzImage as Debian's looks: protocol 2.15, 4+1 sectors of setup code
 * (0xA00 bytes), relocatable, preferred address 16 MiB, init_size 8 MiB,
 * a protected-mode part filled with 0x5a. */
static size_t make_bz(size_t size)
{
    memset(img, 0, IMG_SIZE);
    img[LNX_SETUP_SECTS] = 4;
    put16(img + LNX_BOOT_FLAG, 0xAA55);
    img[LNX_JUMP] = 0xeb;
    img[LNX_JUMP + 1] = 0x6a;                 /* header ends at 0x26c */
    put32(img + LNX_HEADER, LNX_HDRS_MAGIC);
    put16(img + LNX_VERSION, 0x020f);
    img[LNX_LOADFLAGS] = LNX_LOADED_HIGH;
    put32(img + LNX_CODE32_START, 0x100000);
    put32(img + LNX_INITRD_ADDR_MAX, 0x7fffffff);
    put32(img + LNX_KERNEL_ALIGNMENT, 0x200000);
    img[LNX_RELOCATABLE] = 1;
    put16(img + LNX_XLOADFLAGS, 0x7f);
    put32(img + LNX_CMDLINE_SIZE, 2047);
    put64(img + LNX_PREF_ADDRESS, 0x1000000);
    put32(img + LNX_INIT_SIZE, 8u << 20);
    img[0x268] = 0x77;                        /* a header byte past init_size: copied too */
    memset(img + 0xa00, 0x5a, size - 0xa00);
    return size;
}

static void synthetic_plan_and_load(void **state)
{
    (void)state;
    size_t size = make_bz(0x10000);
    struct guest_load_plan plan;
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_LINUX);
    assert_string_equal(guest_protocol_name(plan.protocol), "Linux bzImage");
    assert_int_equal(plan.nsegments, 1);
    assert_int_equal(plan.seg[0].file_offset, 0xa00);
    assert_int_equal(plan.seg[0].file_size, size - 0xa00);
    assert_int_equal(plan.seg[0].gpa, 0x1000000);
    assert_int_equal(plan.seg[0].mem_size, 8u << 20);
    assert_int_equal(plan.entry, 0x1000000);
    assert_int_equal(plan.bootinfo_gpa, GUEST_BOOTINFO_LOW_GPA);

    assert_int_equal(guest_plan_add_initrd(&plan, 12345, err, sizeof err), TV_OK);
    /* Highest page-aligned place in RAM. */
    assert_int_equal(plan.initrd_gpa, MEM - 0x4000);
    assert_int_equal(plan.initrd_size, 12345);

    struct guest_entry_state es;
    assert_int_equal(guest_image_load(&plan, img, &writer, "console=ttyS0 rdinit=/init", MEM, &es),
                     TV_OK);
    static uint8_t rd[12345];
    memset(rd, 0x3c, sizeof rd);
    assert_int_equal(guest_load_initrd(&plan, rd, &writer), TV_OK);
    assert_memory_equal(gmem + plan.initrd_gpa, rd, sizeof rd);

    /* Kernel bytes at 16 MiB, the rest of init_size cleared. */
    assert_int_equal(gmem[0x1000000], 0x5a);
    assert_int_equal(gmem[0x1000000 + size - 0xa00 - 1], 0x5a);
    assert_int_equal(gmem[0x1000000 + size - 0xa00], 0);
    assert_int_equal(gmem[0x1000000 + (8u << 20) - 1], 0);

    /* Entry: 32-bit boot protocol. */
    assert_int_equal(es.protocol, GUEST_PROTO_LINUX);
    assert_int_equal(es.rip, 0x1000000);
    assert_int_equal(es.rsi, GUEST_BOOTINFO_LOW_GPA);
    assert_int_equal(es.rbx, 0);
    assert_int_equal(es.rbp, 0);
    assert_int_equal(es.rdi, 0);
    assert_int_equal(es.cr0 & 0x80000001u, 1);     /* PE, no paging */
    assert_int_equal(es.rflags & 0x200, 0);        /* IF clear */
    assert_int_equal(es.cs.selector, 0x10);
    assert_int_equal(es.ds.selector, 0x18);
    assert_int_equal(es.cs.limit, 0xffffffffu);

    /* Zero page. */
    const uint8_t *zp = gmem + GUEST_BOOTINFO_LOW_GPA;
    assert_int_equal(rd32(zp + LNX_HEADER), LNX_HDRS_MAGIC);
    assert_int_equal(zp[0x268], 0x77);
    assert_int_equal(zp[0x26c], 0);                /* past the header: not copied */
    assert_int_equal(zp[LNX_TYPE_OF_LOADER], 0xff);
    assert_int_equal(rd32(zp + LNX_CODE32_START), 0x1000000);
    uint32_t cmd = rd32(zp + LNX_CMD_LINE_PTR);
    assert_int_equal(cmd, GUEST_BOOTINFO_LOW_GPA + 0x1000);
    assert_string_equal((char *)gmem + cmd, "console=ttyS0 rdinit=/init");
    assert_int_equal(rd32(zp + LNX_ZP_EXT_CMD_LINE_PTR), 0);
    assert_int_equal(rd32(zp + LNX_RAMDISK_IMAGE), MEM - 0x4000);
    assert_int_equal(rd32(zp + LNX_RAMDISK_SIZE), 12345);
    assert_int_equal(zp[LNX_ZP_E820_ENTRIES], 3);
    const uint8_t *e = zp + LNX_ZP_E820_TABLE;
    assert_int_equal(rd64(e), 0);
    assert_int_equal(rd64(e + 8), 0xa0000);
    assert_int_equal(rd32(e + 16), E820_RAM);
    assert_int_equal(rd64(e + 20), 0xa0000);
    assert_int_equal(rd32(e + 36), E820_RESERVED);
    assert_int_equal(rd64(e + 40), 0x100000);
    assert_int_equal(rd64(e + 48), MEM - 0x100000);
    assert_int_equal(rd32(e + 56), E820_RAM);
    assert_int_equal(zp[0], 0);                    /* screen_info empty: no VGA */
}

static void load_address_rules(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    /* 16 MiB + 8 MiB does not fit in 20 MiB: first aligned address from 1 MiB. */
    size_t size = make_bz(0x4000);
    assert_int_equal(guest_image_plan(img, size, 20u << 20, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.seg[0].gpa, 0x200000);
    assert_int_equal(plan.entry, 0x200000);
    /* A misaligned preferred address is not used either. */
    put64(img + LNX_PREF_ADDRESS, 0x1100000);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.seg[0].gpa, 0x200000);
    /* Not relocatable: 1 MiB, and code32_start must say so. */
    make_bz(0x4000);
    img[LNX_RELOCATABLE] = 0;
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.seg[0].gpa, 0x100000);
    put32(img + LNX_CODE32_START, 0x200000);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
    assert_non_null(strstr(err, "code32_start"));
    /* init_size larger than RAM. */
    make_bz(0x4000);
    put32(img + LNX_INIT_SIZE, 0xf0000000u);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_NO_SPACE);
    assert_non_null(strstr(err, "init_size"));
}

static void header_rejects(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    size_t size = make_bz(0x4000);
    put16(img + LNX_VERSION, 0x0209);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
    assert_non_null(strstr(err, "2.09"));
    make_bz(0x4000);
    img[LNX_LOADFLAGS] = 0;
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
    assert_non_null(strstr(err, "zImage"));
    make_bz(0x4000);
    img[LNX_JUMP + 1] = 0x10;                 /* header too short to hold init_size */
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
    make_bz(0x4000);
    img[LNX_JUMP + 1] = 0xa0;                 /* past the zero page's header area */
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
    make_bz(0x4000);
    img[LNX_SETUP_SECTS] = 0x40;              /* setup longer than the file */
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
    assert_non_null(strstr(err, "setup sectors"));
    make_bz(0x4000);
    put32(img + LNX_KERNEL_ALIGNMENT, 0x300000);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
    /* Truncated right after the magic: not taken for a bzImage at all. */
    make_bz(0x4000);
    assert_int_not_equal(guest_image_plan(img, 0x210, MEM, &plan, err, sizeof err), TV_OK);
    /* Wrong magic: not a bzImage (and nothing else either). */
    make_bz(0x4000);
    put32(img + LNX_HEADER, 0x53726449);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
}

static void cmdline_and_initrd_limits(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    size_t size = make_bz(0x4000);
    put32(img + LNX_CMDLINE_SIZE, 8);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    struct guest_entry_state es;
    assert_int_equal(guest_image_load(&plan, img, &writer, "12345678", MEM, &es), TV_OK);
    assert_int_equal(guest_image_load(&plan, img, &writer, "123456789", MEM, &es),
                     TV_E_INVALID_ARGUMENT);

    /* initrd_addr_max keeps it low; the kernel's init_size area is avoided. */
    make_bz(0x4000);
    put32(img + LNX_INITRD_ADDR_MAX, 0x17fffff);   /* 24 MiB - 1: the kernel is at 16..24 */
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(guest_plan_add_initrd(&plan, 0x100000, err, sizeof err), TV_OK);
    assert_int_equal(plan.initrd_gpa, 0xf00000);
    assert_int_equal(guest_plan_validate(&plan, err, sizeof err), TV_OK);
    /* Larger than what lies below the kernel. */
    assert_int_equal(guest_plan_add_initrd(&plan, 0x1000000, err, sizeof err), TV_E_NO_SPACE);
    assert_int_equal(plan.initrd_size, 0);
    assert_int_equal(guest_plan_add_initrd(&plan, MEM + 1, err, sizeof err), TV_E_NO_SPACE);
    assert_int_equal(guest_plan_add_initrd(&plan, 0, err, sizeof err), TV_E_INVALID_ARGUMENT);

    /* A tampered plan: the initrd over the kernel or unaligned. */
    make_bz(0x4000);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(guest_plan_add_initrd(&plan, 0x1000, err, sizeof err), TV_OK);
    struct guest_load_plan bad = plan;
    bad.initrd_gpa = 0x1000000;
    assert_int_equal(guest_plan_validate(&bad, err, sizeof err), TV_E_INVALID_ARGUMENT);
    bad.initrd_gpa = plan.initrd_gpa + 8;
    assert_int_equal(guest_plan_validate(&bad, err, sizeof err), TV_E_INVALID_ARGUMENT);
    bad = plan;
    bad.initrd_size = 0x2000;                      /* runs past the end of RAM */
    assert_int_equal(guest_plan_validate(&bad, err, sizeof err), TV_E_INVALID_ARGUMENT);
    bad = plan;
    bad.lnx_hdr_end = 0x300;
    assert_int_equal(guest_plan_validate(&bad, err, sizeof err), TV_E_INVALID_ARGUMENT);
}

/* Multiboot1 and PVH kernels take no initrd (yet): refused, not ignored. */
static void initrd_only_for_linux(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.protocol = GUEST_PROTO_MULTIBOOT1;
    assert_int_equal(guest_plan_add_initrd(&plan, 4096, err, sizeof err), TV_E_UNSUPPORTED);
    assert_non_null(strstr(err, "Multiboot1"));
}

/* Debian's kernel from /boot (the linux-image-amd64 package of the deps
 * step): its real header must plan, and the result must be what its
 * header asks for. */
static void real_debian_kernel(void **state)
{
    (void)state;
    char path[512] = "";
    DIR *d = opendir("/boot");
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strncmp(de->d_name, "vmlinuz-", 8) == 0)
            snprintf(path, sizeof path, "/boot/%s", de->d_name);
    if (d)
        closedir(d);
    if (!path[0])
        skip();   /* scripts/deps.sh installs it; without it there is nothing to check */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *k = malloc((size_t)n);
    assert_int_equal(fread(k, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    struct guest_load_plan plan;
    assert_int_equal(guest_image_plan(k, (size_t)n, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_LINUX);
    uint32_t sects = k[LNX_SETUP_SECTS] ? k[LNX_SETUP_SECTS] : 4;
    assert_int_equal(plan.seg[0].file_offset, (sects + 1) * 512);
    assert_int_equal(plan.seg[0].gpa, rd64(k + LNX_PREF_ADDRESS));
    assert_true(plan.seg[0].mem_size >= rd32(k + LNX_INIT_SIZE));
    assert_int_equal(guest_plan_add_initrd(&plan, 4u << 20, err, sizeof err), TV_OK);
    struct guest_entry_state es;
    assert_int_equal(guest_image_load(&plan, k, &writer, "console=ttyS0", MEM, &es), TV_OK);
    assert_int_equal(memcmp(gmem + plan.seg[0].gpa, k + plan.seg[0].file_offset, 4096), 0);
    print_message("# %s: protocol %x, loaded at 0x%llx, init_size 0x%x\n", path,
                  (unsigned)(k[LNX_VERSION] | k[LNX_VERSION + 1] << 8),
                  (unsigned long long)plan.seg[0].gpa, rd32(k + LNX_INIT_SIZE));
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(synthetic_plan_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(load_address_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(header_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(cmdline_and_initrd_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(initrd_only_for_linux, setup, teardown),
        cmocka_unit_test_setup_teardown(real_debian_kernel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
