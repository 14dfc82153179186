/* Unit tests for the monitor ELF loader (boot/common/monitor_elf.c): a
 * synthetic PIE image is built in memory, then broken one field at a time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../boot/common/monitor_elf.h"

#define FILE_SIZE 0x1800
#define DYN_OFF   0x1400
#define RELA_OFF  0x1500

static uint8_t file[FILE_SIZE];
static char why[200];
static struct tv_elf_image img;

static Elf64_Ehdr *ehdr(void) { return (Elf64_Ehdr *)file; }
static Elf64_Phdr *phdr(int i) { return (Elf64_Phdr *)(file + 64) + i; }
static Elf64_Dyn *dyn(int i) { return (Elf64_Dyn *)(file + DYN_OFF) + i; }
static Elf64_Rela *rela(int i) { return (Elf64_Rela *)(file + RELA_OFF) + i; }

/* A valid image: text (R+X) at 0, data+bss (RW) at 0x1000, a dynamic section
 * with two RELATIVE relocations, entry at 0x10. */
static int build(void **state)
{
    (void)state;
    memset(file, 0, sizeof file);
    Elf64_Ehdr *e = ehdr();
    memcpy(e->e_ident, ELFMAG, SELFMAG);
    e->e_ident[EI_CLASS] = ELFCLASS64;
    e->e_ident[EI_DATA] = ELFDATA2LSB;
    e->e_ident[EI_VERSION] = EV_CURRENT;
    e->e_type = ET_DYN;
    e->e_machine = EM_X86_64;
    e->e_version = EV_CURRENT;
    e->e_entry = 0x100;
    e->e_phoff = 64;
    e->e_ehsize = sizeof *e;
    e->e_phentsize = sizeof(Elf64_Phdr);
    e->e_phnum = 4;
    *phdr(0) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
                             .p_vaddr = 0, .p_filesz = 0x1000, .p_memsz = 0x1000, .p_align = 0x1000 };
    *phdr(1) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = 0x1000,
                             .p_vaddr = 0x1000, .p_filesz = 0x800, .p_memsz = 0x2800, .p_align = 0x1000 };
    *phdr(2) = (Elf64_Phdr){ .p_type = PT_DYNAMIC, .p_flags = PF_R | PF_W, .p_offset = DYN_OFF,
                             .p_vaddr = DYN_OFF, .p_filesz = 0x60, .p_memsz = 0x60, .p_align = 8 };
    *phdr(3) = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W };
    *dyn(0) = (Elf64_Dyn){ DT_RELA, { RELA_OFF } };
    *dyn(1) = (Elf64_Dyn){ DT_RELASZ, { 2 * sizeof(Elf64_Rela) } };
    *dyn(2) = (Elf64_Dyn){ DT_RELAENT, { sizeof(Elf64_Rela) } };
    *dyn(3) = (Elf64_Dyn){ DT_NULL, { 0 } };
    *rela(0) = (Elf64_Rela){ 0x1100, ELF64_R_INFO(0, R_X86_64_RELATIVE), 0x20 };
    *rela(1) = (Elf64_Rela){ 0x1108, ELF64_R_INFO(0, R_X86_64_RELATIVE), 0x3800 };
    memcpy(file + 0x100, "\xf4\xeb\xfd", 3);
    memcpy(file + 0x1000, "data!", 5);
    return 0;
}

static void expect_inspect(tv_status_t st, const char *needle)
{
    tv_status_t got = tv_elf_inspect(file, sizeof file, &img, why, sizeof why);
    if (got != st || !strstr(why, needle)) {
        fprintf(stderr, "# got %d '%s', want %d '%s'\n", got, why, st, needle);
        fail();
    }
}

static void valid_image_loads_and_relocates(void **state)
{
    (void)state;
    assert_int_equal(tv_elf_inspect(file, sizeof file, &img, why, sizeof why), TV_OK);
    assert_true(img.span == 0x4000);
    assert_true(img.align == 0x1000);
    assert_true(img.entry == 0x100);
    assert_true(img.rela_offset == RELA_OFF);
    assert_true(img.rela_count == 2);
    assert_int_equal(img.load_count, 2);

    uint8_t *dest = malloc(img.span);
    memset(dest, 0xaa, img.span);
    const uint64_t base = 0x7654000;
    assert_int_equal(tv_elf_load(file, sizeof file, &img, dest, base, why, sizeof why), TV_OK);
    assert_memory_equal(dest, file, 0x1000);
    assert_memory_equal(dest + 0x1000, "data!", 5);
    uint64_t v;
    memcpy(&v, dest + 0x1100, 8);
    assert_true(v == base + 0x20);
    memcpy(&v, dest + 0x1108, 8);
    assert_true(v == base + 0x3800);
    for (uint64_t i = 0x1800; i < img.span; i++)
        assert_int_equal(dest[i], 0); /* bss and the page tail are zero */
    free(dest);
}

static void header_errors(void **state)
{
    (void)state;
    assert_int_equal(tv_elf_inspect(file, 63, &img, why, sizeof why), TV_E_CORRUPT);
    assert_non_null(strstr(why, "too short for an ELF header (63 bytes)"));
    file[1] = 'X';
    expect_inspect(TV_E_CORRUPT, "not an ELF file (bad magic)");
    build(NULL); ehdr()->e_ident[EI_CLASS] = ELFCLASS32;
    expect_inspect(TV_E_UNSUPPORTED, "not a 64-bit ELF");
    build(NULL); ehdr()->e_ident[EI_DATA] = ELFDATA2MSB;
    expect_inspect(TV_E_UNSUPPORTED, "not a little-endian ELF");
    build(NULL); ehdr()->e_version = 2;
    expect_inspect(TV_E_UNSUPPORTED, "unknown ELF version");
    build(NULL); ehdr()->e_machine = EM_386;
    expect_inspect(TV_E_UNSUPPORTED, "not an x86-64 ELF (machine 3)");
    build(NULL); ehdr()->e_type = ET_EXEC;
    expect_inspect(TV_E_UNSUPPORTED, "is not ET_DYN");
    build(NULL); ehdr()->e_ehsize = 32;
    expect_inspect(TV_E_CORRUPT, "ELF header size 32");
    build(NULL); ehdr()->e_phentsize = 32;
    expect_inspect(TV_E_CORRUPT, "program header size 32");
    build(NULL); ehdr()->e_phnum = 0;
    expect_inspect(TV_E_CORRUPT, "0 program headers");
    build(NULL); ehdr()->e_phnum = 65;
    expect_inspect(TV_E_CORRUPT, "65 program headers");
    build(NULL); ehdr()->e_phoff = FILE_SIZE - 100;
    expect_inspect(TV_E_CORRUPT, "lie outside the file");
    build(NULL); ehdr()->e_phoff = UINT64_MAX - 7;
    expect_inspect(TV_E_CORRUPT, "lie outside the file");
    build(NULL); ehdr()->e_phoff = 65;
    expect_inspect(TV_E_CORRUPT, "lie outside the file");
}

static void segment_errors(void **state)
{
    (void)state;
    assert_int_equal(tv_elf_inspect(file, 0x1700, &img, why, sizeof why), TV_E_CORRUPT);
    assert_non_null(strstr(why, "segment 1: bytes 0x1000+0x800 lie outside the 5888-byte file (truncated?)"));
    phdr(1)->p_filesz = 0x3000;
    expect_inspect(TV_E_CORRUPT, "segment 1: file size exceeds memory size");
    build(NULL); phdr(1)->p_offset = UINT64_MAX;
    expect_inspect(TV_E_CORRUPT, "outside the");
    build(NULL); phdr(1)->p_memsz = TV_ELF_MAX_SPAN;
    expect_inspect(TV_E_LIMIT, "beyond the 64 MiB image limit");
    build(NULL); phdr(1)->p_vaddr = UINT64_MAX - 0x1000 + 1; phdr(1)->p_offset = 0x1000;
    expect_inspect(TV_E_LIMIT, "image limit");
    build(NULL); phdr(1)->p_align = 0x1800;
    expect_inspect(TV_E_CORRUPT, "alignment 0x1800 is not a power of two");
    build(NULL); phdr(1)->p_align = 0x400000;
    expect_inspect(TV_E_UNSUPPORTED, "alignment 0x400000 is above 2 MiB");
    build(NULL); phdr(1)->p_offset = 0x1200; phdr(1)->p_filesz = 0x100;
    expect_inspect(TV_E_CORRUPT, "disagree modulo the alignment");
    build(NULL); phdr(1)->p_vaddr = 0x800; phdr(1)->p_offset = 0x800; phdr(1)->p_align = 0x800;
    expect_inspect(TV_E_CORRUPT, "segment 1 overlaps the previous one");
    build(NULL);
    Elf64_Phdr tmp = *phdr(0); *phdr(0) = *phdr(1); *phdr(1) = tmp;
    expect_inspect(TV_E_CORRUPT, "out of address order");
    build(NULL); phdr(0)->p_type = PT_NULL; phdr(1)->p_type = PT_NULL;
    expect_inspect(TV_E_CORRUPT, "no loadable segment");
    build(NULL); ehdr()->e_entry = 0x1010;
    expect_inspect(TV_E_CORRUPT, "entry point 0x1010 is not inside an executable segment");
    build(NULL); ehdr()->e_entry = 0x1000;
    expect_inspect(TV_E_CORRUPT, "entry point");
    build(NULL); phdr(3)->p_type = PT_INTERP;
    expect_inspect(TV_E_UNSUPPORTED, "asks for an interpreter");
    build(NULL); phdr(3)->p_type = PT_TLS;
    expect_inspect(TV_E_UNSUPPORTED, "thread-local storage");
    /* an empty PT_LOAD is ignored; 2 MiB alignment is honoured */
    build(NULL); phdr(3)->p_type = PT_LOAD; phdr(3)->p_vaddr = 0;
    assert_int_equal(tv_elf_inspect(file, sizeof file, &img, why, sizeof why), TV_OK);
    build(NULL); phdr(0)->p_align = 0x200000;
    assert_int_equal(tv_elf_inspect(file, sizeof file, &img, why, sizeof why), TV_OK);
    assert_true(img.align == 0x200000);
}

static void dynamic_errors(void **state)
{
    (void)state;
    phdr(3)->p_type = PT_DYNAMIC; phdr(3)->p_offset = DYN_OFF; phdr(3)->p_filesz = 0x10;
    expect_inspect(TV_E_CORRUPT, "more than one dynamic section");
    build(NULL); phdr(2)->p_filesz = 0x1000;
    expect_inspect(TV_E_CORRUPT, "dynamic section lies outside the file");
    build(NULL); *dyn(3) = (Elf64_Dyn){ DT_NEEDED, { 1 } };
    expect_inspect(TV_E_UNSUPPORTED, "needs a shared library");
    build(NULL); *dyn(3) = (Elf64_Dyn){ DT_RELSZ, { 16 } };
    expect_inspect(TV_E_UNSUPPORTED, "REL relocations are not supported");
    build(NULL); *dyn(3) = (Elf64_Dyn){ DT_JMPREL, { 0x1300 } };
    expect_inspect(TV_E_UNSUPPORTED, "PLT relocations");
    build(NULL); *dyn(3) = (Elf64_Dyn){ 36 /* DT_RELR */, { 0x1300 } };
    expect_inspect(TV_E_UNSUPPORTED, "packed RELR");
    build(NULL); dyn(2)->d_un.d_val = 16;
    expect_inspect(TV_E_CORRUPT, "DT_RELAENT is 16, not 24");
    build(NULL); dyn(1)->d_un.d_val = 25;
    expect_inspect(TV_E_CORRUPT, "DT_RELASZ is not a multiple of 24");
    build(NULL); dyn(0)->d_tag = DT_DEBUG;
    expect_inspect(TV_E_CORRUPT, "DT_RELASZ without DT_RELA");
    build(NULL); dyn(0)->d_un.d_ptr = 0x2000; /* in bss: not file data */
    expect_inspect(TV_E_CORRUPT, "relocation table 0x2000+0x30 is not inside a segment's file data");
    build(NULL); dyn(1)->d_un.d_val = 0x600; /* runs past the data segment's file bytes */
    expect_inspect(TV_E_CORRUPT, "not inside a segment's file data");
    /* entries after DT_NULL are ignored; no dynamic section means no relocations */
    build(NULL); *dyn(0) = (Elf64_Dyn){ DT_NULL, { 0 } };
    assert_int_equal(tv_elf_inspect(file, sizeof file, &img, why, sizeof why), TV_OK);
    assert_true(img.rela_count == 0);
    build(NULL); phdr(2)->p_type = PT_NOTE;
    assert_int_equal(tv_elf_inspect(file, sizeof file, &img, why, sizeof why), TV_OK);
    assert_true(img.rela_count == 0);
    build(NULL); dyn(1)->d_un.d_val = 0;
    assert_int_equal(tv_elf_inspect(file, sizeof file, &img, why, sizeof why), TV_OK);
    assert_true(img.rela_count == 0 && img.rela_offset == 0);
}

static void expect_load(tv_status_t st, const char *needle)
{
    assert_int_equal(tv_elf_inspect(file, sizeof file, &img, why, sizeof why), TV_OK);
    uint8_t *dest = malloc(img.span);
    tv_status_t got = tv_elf_load(file, sizeof file, &img, dest, 0x100000, why, sizeof why);
    free(dest);
    if (got != st || !strstr(why, needle)) {
        fprintf(stderr, "# got %d '%s', want %d '%s'\n", got, why, st, needle);
        fail();
    }
}

static void relocation_errors(void **state)
{
    (void)state;
    rela(1)->r_info = ELF64_R_INFO(0, R_X86_64_64);
    expect_load(TV_E_UNSUPPORTED, "relocation 1 has type 1: only R_X86_64_RELATIVE is supported");
    build(NULL); rela(0)->r_info = ELF64_R_INFO(0, R_X86_64_NONE);
    expect_load(TV_E_UNSUPPORTED, "relocation 0 has type 0");
    build(NULL); rela(0)->r_info = ELF64_R_INFO(3, R_X86_64_RELATIVE);
    expect_load(TV_E_UNSUPPORTED, "only R_X86_64_RELATIVE");
    build(NULL); rela(0)->r_offset = 0x37fc;
    expect_load(TV_E_CORRUPT, "relocation 0 writes at 0x37fc, outside the loaded segments");
    build(NULL); rela(0)->r_offset = UINT64_MAX - 3;
    expect_load(TV_E_CORRUPT, "outside the loaded segments");
    build(NULL); rela(0)->r_addend = -8;
    expect_load(TV_E_CORRUPT, "relocation 0 points at");
    build(NULL); rela(0)->r_addend = 0x4001;
    expect_load(TV_E_CORRUPT, "points at 0x4001, outside the image");
    build(NULL);
    assert_int_equal(tv_elf_inspect(file, sizeof file, &img, why, sizeof why), TV_OK);
    uint8_t *dest = malloc(img.span);
    assert_int_equal(tv_elf_load(file, sizeof file, &img, dest, 0x100800, why, sizeof why),
                     TV_E_INVALID_ARGUMENT);
    /* a forged descriptor cannot make the loader write past dest */
    struct tv_elf_image small = img;
    small.span = 0x1000;
    assert_int_equal(tv_elf_load(file, sizeof file, &small, dest, 0x100000, why, sizeof why),
                     TV_E_CORRUPT);
    small = img;
    small.rela_offset = img.span - 8;
    assert_int_equal(tv_elf_load(file, sizeof file, &small, dest, 0x100000, why, sizeof why),
                     TV_E_CORRUPT);
    free(dest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(valid_image_loads_and_relocates, build),
        cmocka_unit_test_setup(header_errors, build),
        cmocka_unit_test_setup(segment_errors, build),
        cmocka_unit_test_setup(dynamic_errors, build),
        cmocka_unit_test_setup(relocation_errors, build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
