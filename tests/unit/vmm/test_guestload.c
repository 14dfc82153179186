/* Unit tests for vmm/guestload: PVH and Multiboot1 plans, loading into a fake
 * guest memory, the boot-info structures, and refusal of broken images. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guestload/boot_abi.h"
#include "guestload/guestload.h"
#include "elf_builder.h"

#define MEM (4u << 20)
static uint8_t *gmem;
static uint8_t img[0x4000];
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
    memset(gmem, 0xaa, MEM);
    memset(img, 0, sizeof img);
    err[0] = 0;
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    free(gmem);
    return 0;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* A PVH ELF64 kernel: text at 1 MiB (0x1000 bytes file + 0x800 bss),
 * data at 2 MiB, note segment with the entry. */
static size_t make_pvh(uint32_t entry, unsigned descsz, uint64_t note_value)
{
    struct tph ph[3] = {
        { 1, 0x1000, 0xffffffff81000000ull, 0x100000, 0x1000, 0x1800, 0x1000 },
        { 1, 0x2000, 0xffffffff81200000ull, 0x200000, 0x100, 0x100, 0x1000 },
        { 4, 0x3000, 0, 0, 0, 0, 4 },
    };
    memset(img + 0x1000, 0x11, 0x1000);
    memset(img + 0x2000, 0x22, 0x100);
    /* A foreign note first, then the Xen entry note. */
    put32(img + 0x3000, 4); put32(img + 0x3004, 4); put32(img + 0x3008, 3);
    memcpy(img + 0x300c, "GNU", 4); put32(img + 0x3010, 0x12345678);
    unsigned n = 20 + tb_xen_note(img + 0x3014, 18, descsz == 8 ? note_value : entry, descsz);
    ph[2].offset = 0x3000;
    ph[2].filesz = n;
    tb_elf(img, true, 0xffffffff81000000ull, ph, 3);
    return 0x3000 + n;
}

static void pvh_plan_and_load(void **state)
{
    (void)state;
    size_t size = make_pvh(0x100040, 4, 0);
    struct guest_load_plan plan;
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_PVH);
    assert_int_equal(plan.entry, 0x100040);
    assert_int_equal(plan.nsegments, 2);
    assert_int_equal(plan.seg[0].gpa, 0x100000);
    assert_int_equal(plan.seg[0].mem_size, 0x1800);
    assert_int_equal(plan.seg[1].file_offset, 0x2000);
    assert_int_equal(plan.bootinfo_gpa, GUEST_BOOTINFO_LOW_GPA);
    assert_string_equal(guest_protocol_name(plan.protocol), "PVH");

    struct guest_entry_state es;
    assert_int_equal(guest_image_load(&plan, img, &writer, "console=ttyS0 quiet", MEM, &es), TV_OK);
    assert_int_equal(gmem[0x100000], 0x11);
    assert_int_equal(gmem[0x100fff], 0x11);
    assert_int_equal(gmem[0x101000], 0);          /* bss zeroed */
    assert_int_equal(gmem[0x1017ff], 0);
    assert_int_equal(gmem[0x101800], 0xaa);       /* past bss untouched */
    assert_int_equal(gmem[0x2000ff], 0x22);
    assert_int_equal(gmem[0x200100], 0xaa);

    const uint8_t *si = gmem + plan.bootinfo_gpa;
    assert_int_equal(rd32(si), HVM_START_MAGIC);
    assert_int_equal(rd32(si + 4), 1);
    assert_int_equal(rd32(si + 12), 0);           /* nr_modules */
    assert_int_equal(rd64(si + 32), 0);           /* rsdp */
    uint64_t cmd = rd64(si + 24), mm = rd64(si + 40);
    assert_string_equal((char *)gmem + cmd, "console=ttyS0 quiet");
    assert_int_equal(rd32(si + 48), 3);
    const uint8_t *e = gmem + mm;
    assert_int_equal(rd64(e), 0);
    assert_int_equal(rd64(e + 8), 0xa0000);
    assert_int_equal(rd32(e + 16), 1);
    assert_int_equal(rd32(e + 24 + 16), 2);
    assert_int_equal(rd64(e + 48), 0x100000);
    assert_int_equal(rd64(e + 56), MEM - 0x100000);
    assert_int_equal(rd32(e + 64), 1);
    /* Boot info lies outside every segment. */
    assert_true(cmd >= plan.bootinfo_gpa && cmd < plan.bootinfo_gpa + GUEST_BOOTINFO_SIZE);

    assert_int_equal(es.rip, 0x100040);
    assert_int_equal(es.rbx, plan.bootinfo_gpa);
    assert_int_equal(es.cr0 & 0x80000001u, 1);    /* PE on, PG off */
    assert_int_equal(es.cr4, 0);
    assert_int_equal(es.efer, 0);
    assert_int_equal(es.rflags, 2);
    assert_int_equal(es.cs.db, 1);
    assert_int_equal(es.cs.l, 0);
    assert_int_equal(es.cs.base, 0);
    assert_int_equal(es.cs.limit, 0xffffffffu);
    assert_int_equal(es.cs.type & 0x8, 0x8);      /* code */
    assert_int_equal(es.ds.type & 0x8, 0);        /* data */
    assert_int_equal(es.ss.db, 1);
    assert_int_equal(es.tr.type, 0xb);
    assert_int_equal(es.tr.limit, 0x67);
}

static void pvh_note_with_64bit_value(void **state)
{
    (void)state;
    size_t size = make_pvh(0, 8, 0x100010);
    struct guest_load_plan plan;
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.entry, 0x100010);
    size = make_pvh(0, 8, 0x100000100010ull);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
    assert_non_null(strstr(err, "above 4 GiB"));
    size = make_pvh(0x100010, 2, 0);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
}

static void pvh_entry_must_be_loaded(void **state)
{
    (void)state;
    size_t size = make_pvh(0x300000, 4, 0);
    struct guest_load_plan plan;
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
    assert_non_null(strstr(err, "entry point"));
}

static void pvh_note_bounds(void **state)
{
    (void)state;
    size_t size = make_pvh(0x100040, 4, 0);
    struct guest_load_plan plan;
    put32(img + 0x3014 + 4, 0xfffffff0u);     /* descsz runs past the segment */
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
    assert_non_null(strstr(err, "note"));
    make_pvh(0x100040, 4, 0);
    put64(img + TB_PHOFF + 2 * 56 + 32, 0x100000);   /* note filesz past the file */
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
}

/* Multiboot1 ELF32 kernel linked at 3 GiB + 1 MiB, loaded at 1 MiB. */
static size_t make_mb_elf(uint32_t flags)
{
    struct tph ph[1] = { { 1, 0x1000, 0xc0100000u, 0x100000, 0x200, 0x1000, 0x1000 } };
    tb_mb1(img + 0x1000, flags, NULL);
    memset(img + 0x100c, 0x90, 0x1f4);
    tb_elf(img, false, 0xc0100020u, ph, 1);
    return 0x1200;
}

static void multiboot_elf_plan_and_load(void **state)
{
    (void)state;
    size_t size = make_mb_elf(3);
    struct guest_load_plan plan;
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_MULTIBOOT1);
    assert_int_equal(plan.entry, 0x100020);            /* translated to physical */
    assert_int_equal(plan.nsegments, 1);
    struct guest_entry_state es;
    assert_int_equal(guest_image_load(&plan, img, &writer, NULL, MEM, &es), TV_OK);
    assert_int_equal(es.rax, 0x2BADB002u);
    assert_int_equal(es.rip, 0x100020);
    const uint8_t *mi = gmem + es.rbx;
    uint32_t flags = rd32(mi);
    assert_true(flags & (1u << 0));
    assert_true(flags & (1u << 2));
    assert_true(flags & (1u << 6));
    assert_int_equal(rd32(mi + 4), 640);
    assert_int_equal(rd32(mi + 8), (MEM - 0x100000) / 1024);
    assert_string_equal((char *)gmem + rd32(mi + 16), "");
    uint32_t mlen = rd32(mi + 44), maddr = rd32(mi + 48);
    assert_int_equal(mlen, 72);
    /* Walk the mmap the way a Multiboot kernel does. */
    unsigned n = 0;
    uint64_t ram = 0;
    for (uint32_t off = 0; off < mlen; off += rd32(gmem + maddr + off) + 4, n++) {
        const uint8_t *e = gmem + maddr + off;
        if (rd32(e + 20) == 1)
            ram += rd64(e + 12);
    }
    assert_int_equal(n, 3);
    assert_int_equal(ram, MEM - 0x60000);
    assert_string_equal((char *)gmem + rd32(mi + 64), "Taskvisor");
    assert_int_equal(gmem[0x100200], 0);               /* bss */
    assert_int_equal(gmem[0x100fff], 0);
}

static void multiboot_kludge(void **state)
{
    (void)state;
    /* Flat binary: header at offset 8 describes load at 0x200000. */
    uint32_t a[5] = { 0x200008, 0x200000, 0x200400, 0x201000, 0x200030 };
    memset(img, 0xcc, 0x800);
    tb_mb1(img + 8, 1u << 16, a);
    struct guest_load_plan plan;
    assert_int_equal(guest_image_plan(img, 0x800, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_MULTIBOOT1);
    assert_int_equal(plan.seg[0].file_offset, 0);
    assert_int_equal(plan.seg[0].file_size, 0x400);
    assert_int_equal(plan.seg[0].mem_size, 0x1000);
    assert_int_equal(plan.entry, 0x200030);
    struct guest_entry_state es;
    assert_int_equal(guest_image_load(&plan, img, &writer, "x", MEM, &es), TV_OK);
    assert_int_equal(gmem[0x2003ff], 0xcc);
    assert_int_equal(gmem[0x200400], 0);
    assert_int_equal(gmem[0x200fff], 0);
    assert_int_equal(gmem[0x201000], 0xaa);

    /* load_end 0: the rest of the file; bss_end 0: no bss. */
    uint32_t b[5] = { 0x200008, 0x200000, 0, 0, 0x200030 };
    tb_mb1(img + 8, 1u << 16, b);
    assert_int_equal(guest_image_plan(img, 0x800, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.seg[0].file_size, 0x800);
    assert_int_equal(plan.seg[0].mem_size, 0x800);
}

static void multiboot_kludge_rejects(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    const struct { uint32_t a[5]; const char *why; } bad[] = {
        { { 0x200008, 0x200010, 0, 0, 0x200030 }, "header_addr" },     /* load after header */
        { { 0x300008, 0x200000, 0, 0, 0x200030 }, "header_addr" },     /* before file start */
        { { 0x200008, 0x200000, 0x1f0000, 0, 0x200030 }, "load_end" },
        { { 0x200008, 0x200000, 0x300000, 0, 0x200030 }, "past the end" },
        { { 0x200008, 0x200000, 0x200400, 0x200300, 0x200030 }, "bss_end" },
        { { 0x200008, 0x200000, 0x200400, 0, 0x200400 }, "entry" },
        { { 0x200008, 0x200000, 0x200400, 0, 0x100 }, "entry" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(img, 0, 0x800);
        tb_mb1(img + 8, 1u << 16, bad[i].a);
        tv_status_t st = guest_image_plan(img, 0x800, MEM, &plan, err, sizeof err);
        assert_int_not_equal(st, TV_OK);
        if (!strstr(err, bad[i].why))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].why);
    }
}

static void multiboot_flag_policy(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    size_t size = make_mb_elf(1u << 2);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
    assert_non_null(strstr(err, "video mode"));
    size = make_mb_elf(1u << 5);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
    assert_non_null(strstr(err, "0x20"));
    size = make_mb_elf(1u << 20);      /* optional bits are fine */
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    /* Bad checksum: not a header at all. */
    size = make_mb_elf(3);
    img[0x1008] ^= 1;
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
    assert_string_equal(err, "no PVH note and no Multiboot1 header");
    /* Header past the first 8 KiB is not seen. */
    memset(img, 0, sizeof img);
    tb_mb1(img + 8192, 3, NULL);
    assert_int_equal(guest_image_plan(img, sizeof img, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
    /* Not ELF, no kludge. */
    memset(img, 0, sizeof img);
    tb_mb1(img + 4, 3, NULL);
    assert_int_equal(guest_image_plan(img, 64, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
    assert_non_null(strstr(err, "bit 16"));
    /* Unaligned header is not seen. */
    memset(img, 0, sizeof img);
    tb_mb1(img + 6, 0x10000, NULL);
    assert_int_equal(guest_image_plan(img, 64, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
}

static void selection_order_and_classes(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    /* PVH note and a Multiboot1 header: PVH wins. */
    size_t size = make_pvh(0x100040, 4, 0);
    tb_mb1(img + 0x1000, 3, NULL);
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_PVH);
    /* ELF64 Multiboot1 kernel (no note): e_entry is translated to physical. */
    put32(img + TB_PHOFF + 2 * 56, 6);             /* note segment -> PT_PHDR */
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_MULTIBOOT1);
    assert_int_equal(plan.entry, 0x100000);
    /* ...whose entry must land below 4 GiB. */
    put64(img + TB_PHOFF + 24, 0x100000000ull);
    put64(img + TB_PHOFF + 56 + 16, 0xffffffff80000000ull);   /* entry not in segment 1 */
    assert_int_not_equal(guest_image_plan(img, size, 1ull << 34, &plan, err, sizeof err), TV_OK);
    assert_non_null(strstr(err, "above 4 GiB"));
    /* ELF32 PVH kernel. */
    memset(img, 0, sizeof img);
    struct tph ph[2] = { { 1, 0x1000, 0x100000, 0x100000, 0x100, 0x100, 0x1000 },
                         { 4, 0x1100, 0, 0, 0, 0, 4 } };
    ph[1].filesz = tb_xen_note(img + 0x1100, 18, 0x100004, 4);
    tb_elf(img, false, 0x100000, ph, 2);
    assert_int_equal(guest_image_plan(img, 0x1200, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_PVH);
    assert_int_equal(plan.entry, 0x100004);
    /* Another owner's note with type 18 is not the PVH note. */
    memcpy(img + 0x1100 + 12, "Xem", 4);
    assert_int_equal(guest_image_plan(img, 0x1200, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
}

static void elf_header_rejects(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    struct { unsigned off; unsigned width; uint64_t val; tv_status_t st; } bad[] = {
        { 4, 1, 3, TV_E_CORRUPT },          /* class */
        { 5, 1, 2, TV_E_UNSUPPORTED },      /* big-endian */
        { 16, 2, 3, TV_E_UNSUPPORTED },     /* ET_DYN */
        { 18, 2, 3, TV_E_UNSUPPORTED },     /* machine for ELF64 */
        { 20, 4, 2, TV_E_CORRUPT },         /* version */
        { 56, 2, 0, TV_E_CORRUPT },         /* phnum 0 */
        { 56, 2, 65, TV_E_LIMIT },          /* phnum too large */
        { 56, 2, 0xffff, TV_E_LIMIT },      /* PN_XNUM */
        { 54, 2, 32, TV_E_CORRUPT },        /* phentsize */
        { 32, 8, 0x3ff8, TV_E_CORRUPT },    /* phoff near the end */
        { 32, 8, 0xfffffffffffffff8ull, TV_E_CORRUPT },
        { 32, 8, 0x41, TV_E_CORRUPT },      /* misaligned */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t size = make_pvh(0x100040, 4, 0);
        uint8_t *p = img + bad[i].off;
        if (bad[i].width == 1) p[0] = (uint8_t)bad[i].val;
        else if (bad[i].width == 2) put16(p, (uint16_t)bad[i].val);
        else if (bad[i].width == 4) put32(p, (uint32_t)bad[i].val);
        else put64(p, bad[i].val);
        tv_status_t st = guest_image_plan(img, size, MEM, &plan, err, sizeof err);
        if (st != bad[i].st)
            fail_msg("case %zu: got %d (%s)", i, st, err);
        assert_true(strlen(err) > 0);
    }
    /* Truncated ELF header. */
    make_pvh(0x100040, 4, 0);
    assert_int_equal(guest_image_plan(img, 40, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
}

static void segment_rejects(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    struct { unsigned field; uint64_t val; tv_status_t st; const char *why; } bad[] = {
        /* field offsets inside phdr 0 (ELF64) */
        { 32, 0x2000, TV_E_CORRUPT, "exceeds" },              /* filesz > memsz */
        { 8, 0x3800, TV_E_CORRUPT, "past the end" },           /* offset+filesz past file */
        { 8, 0xfffffffffffff000ull, TV_E_CORRUPT, "past the end" },
        { 24, 0x1ff800, TV_E_CORRUPT, "overlap" },             /* overlaps segment 1 */
        { 24, 0x3ff000, TV_E_NO_SPACE, "guest memory" },       /* runs past 4 MiB */
        { 24, 0xfffffffffffff000ull, TV_E_CORRUPT, "wraps" },
        { 24, 0x9f000, TV_E_UNSUPPORTED, "legacy hole" },
        { 48, 0x3000, TV_E_CORRUPT, "power of two" },
        { 16, 0xffffffff81000800ull, TV_E_CORRUPT, "modulo" },
        { 0, 3, TV_E_UNSUPPORTED, "interpreter" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t size = make_pvh(0x200010, 4, 0);     /* entry in segment 1 */
        uint8_t *p = img + TB_PHOFF + bad[i].field;
        if (bad[i].field == 0) put32(p, (uint32_t)bad[i].val);
        else put64(p, bad[i].val);
        tv_status_t st = guest_image_plan(img, size, MEM, &plan, err, sizeof err);
        if (st != bad[i].st || !strstr(err, bad[i].why))
            fail_msg("case %zu: got %d '%s', want %d '%s'", i, st, err, bad[i].st, bad[i].why);
    }
}

static void too_many_segments(void **state)
{
    (void)state;
    struct tph ph[20];
    for (unsigned i = 0; i < 20; i++)
        ph[i] = (struct tph){ 1, 0x2000, 0x100000 + i * 0x1000, 0x100000 + i * 0x1000, 0, 0x1000, 0x1000 };
    tb_mb1(img + 0x1800, 3, NULL);
    tb_elf(img, true, 0x100000, ph, 20);
    struct guest_load_plan plan;
    assert_int_equal(guest_image_plan(img, 0x3000, MEM, &plan, err, sizeof err), TV_E_LIMIT);
    tb_elf(img, true, 0x100000, ph, 16);
    assert_int_equal(guest_image_plan(img, 0x3000, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.nsegments, 16);
    /* No loadable segment at all. */
    ph[0].type = 6;
    tb_elf(img, true, 0x100000, ph, 1);
    assert_int_equal(guest_image_plan(img, 0x3000, MEM, &plan, err, sizeof err), TV_E_CORRUPT);
}

static void bootinfo_moves_above_low_segment(void **state)
{
    (void)state;
    /* A kernel loaded at 0x800..0x9000 covers the low area: boot info goes
     * right after it, still below the legacy hole. */
    struct tph ph[1] = { { 1, 0x800, 0x800, 0x800, 0x100, 0x8800, 0 } };
    tb_mb1(img + 0x800, 3, NULL);
    tb_elf(img, false, 0x800, ph, 1);
    struct guest_load_plan plan;
    assert_int_equal(guest_image_plan(img, 0x900, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.bootinfo_gpa, 0x9000);
    struct guest_entry_state es;
    assert_int_equal(guest_image_load(&plan, img, &writer, "", MEM, &es), TV_OK);
    assert_int_equal(es.rbx, 0x9000);
    /* Segment filling [0x800, 0xa0000) and [1 MiB, end): no room anywhere. */
    struct tph ph2[2] = { { 1, 0x800, 0x800, 0x800, 0x100, 0x9f800, 0 },
                          { 1, 0x800, 0x100000, 0x100000, 0x100, MEM - 0x100000, 0 } };
    tb_elf(img, false, 0x800, ph2, 2);
    assert_int_equal(guest_image_plan(img, 0x900, MEM, &plan, err, sizeof err), TV_E_NO_SPACE);
    assert_non_null(strstr(err, "boot information"));
}

static void validate_catches_tampered_plans(void **state)
{
    (void)state;
    size_t size = make_pvh(0x100040, 4, 0);
    struct guest_load_plan plan, p2;
    assert_int_equal(guest_image_plan(img, size, MEM, &plan, err, sizeof err), TV_OK);
    struct guest_entry_state es;
    p2 = plan; p2.bootinfo_gpa = 0x100000;
    assert_int_equal(guest_image_load(&p2, img, &writer, NULL, MEM, &es), TV_E_INVALID_ARGUMENT);
    p2 = plan; p2.bootinfo_gpa = 0xfffffffffffff000ull;
    assert_int_equal(guest_plan_validate(&p2, err, sizeof err), TV_E_INVALID_ARGUMENT);
    p2 = plan; p2.seg[1].file_offset = size;
    assert_int_equal(guest_image_load(&p2, img, &writer, NULL, MEM, &es), TV_E_CORRUPT);
    p2 = plan; p2.nsegments = 17;
    assert_int_equal(guest_plan_validate(&p2, err, sizeof err), TV_E_INVALID_ARGUMENT);
    p2 = plan; p2.entry = 0x5000;
    assert_int_equal(guest_plan_validate(&p2, err, sizeof err), TV_E_CORRUPT);
    p2 = plan;
    assert_int_equal(guest_image_load(&p2, img, &writer, NULL, MEM * 2, &es), TV_E_INVALID_ARGUMENT);
    /* Command line limit. */
    char *longcmd = malloc(GUEST_CMDLINE_MAX + 1);
    memset(longcmd, 'a', GUEST_CMDLINE_MAX);
    longcmd[GUEST_CMDLINE_MAX] = 0;
    assert_int_equal(guest_image_load(&plan, img, &writer, longcmd, MEM, &es), TV_E_INVALID_ARGUMENT);
    longcmd[GUEST_CMDLINE_MAX - 1] = 0;
    assert_int_equal(guest_image_load(&plan, img, &writer, longcmd, MEM, &es), TV_OK);
    assert_int_equal(strlen((char *)gmem + plan.bootinfo_gpa + 0x1000), GUEST_CMDLINE_MAX - 1);
    free(longcmd);
}

static void bad_arguments(void **state)
{
    (void)state;
    struct guest_load_plan plan;
    size_t size = make_pvh(0x100040, 4, 0);
    assert_int_equal(guest_image_plan(img, size, MEM + 1, &plan, err, sizeof err), TV_E_INVALID_ARGUMENT);
    assert_int_equal(guest_image_plan(img, size, 0x100000, &plan, err, sizeof err), TV_E_INVALID_ARGUMENT);
    assert_int_equal(guest_image_plan(img, 0, MEM, &plan, err, sizeof err), TV_E_INVALID_ARGUMENT);
    assert_int_equal(guest_image_plan(NULL, 10, MEM, &plan, NULL, 0), TV_E_INVALID_ARGUMENT);
    assert_int_equal(guest_image_plan(img, 3, MEM, &plan, err, sizeof err), TV_E_UNSUPPORTED);
    /* A one-byte error buffer stays terminated. */
    char tiny[1] = { 'x' };
    assert_int_equal(guest_image_plan(img, 3, MEM, &plan, tiny, 1), TV_E_UNSUPPORTED);
    assert_int_equal(tiny[0], 0);
}

/* Kernels assembled and linked by binutils (built by vmm/guestload/module.mk). */
static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the top of the tree after make)", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void toolchain_built_kernels(void **state)
{
    (void)state;
    static uint8_t buf[1 << 16];
    struct guest_load_plan plan;
    struct guest_entry_state es;
    size_t n = read_file("build/tests/vmm-guests/pvh64.elf", buf, sizeof buf);
    assert_int_equal(guest_image_plan(buf, n, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_PVH);
    assert_int_equal(plan.entry, 0x100000);
    assert_int_equal(guest_image_load(&plan, buf, &writer, "pvh", MEM, &es), TV_OK);
    assert_int_equal(gmem[0x100000], 0xfa);          /* cli */

    n = read_file("build/tests/vmm-guests/mb1-elf32.elf", buf, sizeof buf);
    assert_int_equal(guest_image_plan(buf, n, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_MULTIBOOT1);
    assert_int_equal(plan.entry, 0x100010);
    assert_int_equal(guest_image_load(&plan, buf, &writer, "mb", MEM, &es), TV_OK);
    assert_int_equal(gmem[0x100010], 0xfa);

    n = read_file("build/tests/vmm-guests/mb1-kludge.bin", buf, sizeof buf);
    assert_int_equal(guest_image_plan(buf, n, MEM, &plan, err, sizeof err), TV_OK);
    assert_int_equal(plan.protocol, GUEST_PROTO_MULTIBOOT1);
    assert_int_equal(plan.seg[0].gpa, 0x180000);
    assert_true(plan.seg[0].mem_size > plan.seg[0].file_size);
    assert_int_equal(guest_image_load(&plan, buf, &writer, NULL, MEM, &es), TV_OK);
    assert_int_equal(gmem[es.rip], 0xfa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pvh_plan_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(pvh_note_with_64bit_value, setup, teardown),
        cmocka_unit_test_setup_teardown(pvh_entry_must_be_loaded, setup, teardown),
        cmocka_unit_test_setup_teardown(pvh_note_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(multiboot_elf_plan_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(multiboot_kludge, setup, teardown),
        cmocka_unit_test_setup_teardown(multiboot_kludge_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(multiboot_flag_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(selection_order_and_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(elf_header_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(segment_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(too_many_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(bootinfo_moves_above_low_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(validate_catches_tampered_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(toolchain_built_kernels, setup, teardown),
    };
    return cmocka_run_group_tests_name("vmm_guestload", tests, NULL, NULL);
}
