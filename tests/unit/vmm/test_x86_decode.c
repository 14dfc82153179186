/* Unit tests for vmm/emul/x86_decode: lengths against a table produced by
 * GNU objdump (x86_len_table.inc, see gen_x86_len_table.py), truncation and
 * the 15-byte limit, and the classification the monitor relies on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "emul/x86_decode.h"
#include "emul/x86_mmio.h"

struct len_case {
    int bits, len;
    const char *hex;
};
static const struct len_case len_table[] = {
#include "x86_len_table.inc"
};

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static size_t parse(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    unhex(hex, out, n);
    return n;
}

static enum x86_cpu_mode mode_of(int bits)
{
    return bits == 16 ? X86_MODE_16 : bits == 32 ? X86_MODE_32 : X86_MODE_64;
}

static void lengths_match_objdump(void **state)
{
    (void)state;
    size_t n = sizeof len_table / sizeof len_table[0], bad = 0, ud = 0;
    assert_true(n >= 2000);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[15];
        unhex(len_table[i].hex, b, 15);
        struct x86_insn in;
        tv_status_t st = x86_decode(b, 15, mode_of(len_table[i].bits), &in);
        bool ok = len_table[i].len == 0 ? st == TV_E_UNSUPPORTED
                                        : st == TV_OK && in.len == len_table[i].len;
        ud += len_table[i].len == 0;
        if (!ok && bad++ < 10)
            print_message("# mode %d %s: objdump %d, decoder status %d len %d\n",
                          len_table[i].bits, len_table[i].hex, len_table[i].len, st, in.len);
    }
    print_message("# %zu objdump cases (%zu #UD), %zu mismatches\n", n, ud, bad);
    assert_int_equal(bad, 0);
}

static void truncated_input_asks_for_more(void **state)
{
    (void)state;
    size_t n = sizeof len_table / sizeof len_table[0];
    for (size_t i = 0; i < n; i++) {
        if (len_table[i].len == 0)
            continue;
        uint8_t b[15];
        unhex(len_table[i].hex, b, 15);
        struct x86_insn in;
        enum x86_cpu_mode m = mode_of(len_table[i].bits);
        size_t len = (size_t)len_table[i].len;
        assert_int_equal(x86_decode(b, len, m, &in), TV_OK);
        assert_int_equal(in.len, len);
        tv_status_t st = x86_decode(b, len - 1, m, &in);
        if (st != TV_E_BUFFER_TOO_SMALL)
            fail_msg("mode %d %s with %zu bytes: status %d", len_table[i].bits,
                     len_table[i].hex, len - 1, st);
    }
}

static void fifteen_byte_limit(void **state)
{
    (void)state;
    uint8_t b[20];
    struct x86_insn in;
    /* 14 prefixes + NOP = 15 bytes: valid. */
    memset(b, 0x66, sizeof b);
    b[14] = 0x90;
    assert_int_equal(x86_decode(b, sizeof b, X86_MODE_32, &in), TV_OK);
    assert_int_equal(in.len, 15);
    /* 14 prefixes + ADD r/m, r with a ModRM: 16 bytes: #UD, not "need more". */
    b[14] = 0x01;
    b[15] = 0xc0;
    assert_int_equal(x86_decode(b, sizeof b, X86_MODE_32, &in), TV_E_UNSUPPORTED);
    /* 11 prefixes + mov [disp32], imm32 = 11 + 10 bytes. */
    memset(b, 0x2e, 11);
    memcpy(b + 11, "\xc7\x05\x00\x10\x00\x00", 6);
    assert_int_equal(x86_decode(b, sizeof b, X86_MODE_32, &in), TV_E_UNSUPPORTED);
    assert_int_equal(x86_decode(b, 0, X86_MODE_32, &in), TV_E_BUFFER_TOO_SMALL);
    assert_int_equal(x86_decode(b, 15, (enum x86_cpu_mode)3, &in), TV_E_INVALID_ARGUMENT);
    assert_int_equal(x86_decode(NULL, 15, X86_MODE_32, &in), TV_E_INVALID_ARGUMENT);
}

struct kind_case {
    int bits;
    const char *hex;
    enum x86_insn_kind kind;
    int len;
};

static void classification(void **state)
{
    (void)state;
    static const struct kind_case cases[] = {
        { 64, "0fa2", X86_INSN_CPUID, 2 },
        { 32, "0f32", X86_INSN_RDMSR, 2 },
        { 16, "0f30", X86_INSN_WRMSR, 2 },
        { 64, "f4", X86_INSN_HLT, 1 },
        { 64, "0f01d9", X86_INSN_VMMCALL, 3 },
        { 32, "0f01c1", X86_INSN_VMCALL, 3 },
        { 64, "0f01d8", X86_INSN_VMRUN, 3 },
        { 64, "0f01da", X86_INSN_VMLOAD, 3 },
        { 64, "0f01db", X86_INSN_VMSAVE, 3 },
        { 64, "0f01dc", X86_INSN_STGI, 3 },
        { 64, "0f01dd", X86_INSN_CLGI, 3 },
        { 32, "0f01de", X86_INSN_SKINIT, 3 },
        { 64, "670f01df", X86_INSN_INVLPGA, 4 },
        { 64, "0f01d1", X86_INSN_XSETBV, 3 },
        { 64, "0f31", X86_INSN_RDTSC, 2 },
        { 64, "0f01f9", X86_INSN_RDTSCP, 3 },
        { 64, "0f0118", X86_INSN_OTHER, 3 },         /* lidt (%rax): memory form */
        { 64, "0f01f8", X86_INSN_OTHER, 3 },         /* swapgs */
        { 64, "e460", X86_INSN_IN, 2 },
        { 64, "ec", X86_INSN_IN, 1 },
        { 32, "66ed", X86_INSN_IN, 2 },
        { 16, "e7f4", X86_INSN_OUT, 2 },
        { 64, "ee", X86_INSN_OUT, 1 },
        { 64, "f36c", X86_INSN_INS, 2 },
        { 32, "f3676f", X86_INSN_OUTS, 3 },
        { 64, "8907", X86_INSN_MOV_STORE, 2 },
        { 64, "8b0500100000", X86_INSN_MOV_LOAD, 6 },
        { 64, "c6400401", X86_INSN_MOV_STORE, 4 },
        { 64, "48c7c001000000", X86_INSN_OTHER, 7 },  /* mov $1, %rax: no memory */
        { 64, "89c0", X86_INSN_OTHER, 2 },
        { 64, "a1efcdab8967452301", X86_INSN_MOV_LOAD, 9 },
        { 32, "a2efcdab89", X86_INSN_MOV_STORE, 5 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[15] = { 0 };
        size_t n = parse(cases[i].hex, b);
        struct x86_insn in;
        tv_status_t st = x86_decode(b, n, mode_of(cases[i].bits), &in);
        if (st != TV_OK || in.kind != cases[i].kind || in.len != cases[i].len)
            fail_msg("%s: status %d kind %s len %d", cases[i].hex, st, x86_insn_kind_name(in.kind), in.len);
    }
    assert_string_equal(x86_insn_kind_name(X86_INSN_VMMCALL), "vmmcall");
    assert_string_equal(x86_insn_kind_name(X86_INSN_KIND_COUNT), "invalid");
}

static struct x86_insn dec(int bits, const char *hex)
{
    uint8_t b[15] = { 0 };
    size_t n = parse(hex, b);
    struct x86_insn in;
    assert_int_equal(x86_decode(b, n, mode_of(bits), &in), TV_OK);
    assert_int_equal(in.len, n);
    return in;
}

static void io_details(void **state)
{
    (void)state;
    struct x86_insn in = dec(64, "e460");
    assert_int_equal(in.access_size, 1);
    assert_false(in.port_in_dx);
    assert_int_equal(in.port, 0x60);
    in = dec(64, "e5f4");
    assert_int_equal(in.access_size, 4);
    in = dec(64, "48e5f4");                /* REX.W does not make I/O 64-bit */
    assert_int_equal(in.access_size, 4);
    in = dec(32, "66ef");
    assert_int_equal(in.access_size, 2);
    assert_true(in.port_in_dx);
    in = dec(16, "ed");
    assert_int_equal(in.access_size, 2);
    in = dec(16, "66ed");
    assert_int_equal(in.access_size, 4);
    in = dec(64, "f3676d");                /* rep insd with 32-bit addresses */
    assert_int_equal(in.kind, X86_INSN_INS);
    assert_int_equal(in.rep, 0xf3);
    assert_int_equal(in.addr_size, 4);
    assert_int_equal(in.access_size, 4);
    in = dec(32, "f3266e");                /* rep outsb %es:(%esi) */
    assert_int_equal(in.kind, X86_INSN_OUTS);
    assert_int_equal(in.seg_override, X86_SEG_ES);
    assert_int_equal(in.addr_size, 4);
    in = dec(16, "6f");
    assert_int_equal(in.addr_size, 2);
}

static void mov_memory_operands(void **state)
{
    (void)state;
    uint64_t gpr[16];
    for (int i = 0; i < 16; i++)
        gpr[i] = 0x1000u * (uint64_t)(i + 1);
    /* mov %ecx, 0x10(%rax,%rbx,4) */
    struct x86_insn in = dec(64, "894c9810");
    assert_int_equal(in.kind, X86_INSN_MOV_STORE);
    assert_int_equal(in.access_size, 4);
    assert_int_equal(in.gpr, 1);
    assert_int_equal(in.mem.base, 0);
    assert_int_equal(in.mem.index, 3);
    assert_int_equal(in.mem.scale, 4);
    assert_int_equal(in.mem.disp, 0x10);
    assert_int_equal(x86_effective_address(&in, gpr, 0), 0x1000 + 0x4000 * 4 + 0x10);
    /* mov -8(%r13), %r9 */
    in = dec(64, "4d8b4df8");
    assert_int_equal(in.kind, X86_INSN_MOV_LOAD);
    assert_int_equal(in.access_size, 8);
    assert_int_equal(in.gpr, 9);
    assert_int_equal(in.mem.base, 13);
    assert_int_equal(in.mem.index, X86_REG_NONE);
    assert_int_equal(in.mem.disp, -8);
    assert_int_equal(in.mem.seg, X86_SEG_DS);
    /* mov 0x100(%rip), %ax */
    in = dec(64, "668b0500010000");
    assert_int_equal(in.access_size, 2);
    assert_int_equal(in.mem.base, X86_REG_RIP);
    assert_int_equal(x86_effective_address(&in, gpr, 0x400000), 0x400000 + 7 + 0x100);
    /* mov %ah, (%rbp): no REX, reg 4 = AH; default segment SS */
    in = dec(64, "886500");
    assert_true(in.gpr_high8);
    assert_int_equal(in.gpr, 0);
    assert_int_equal(in.mem.seg, X86_SEG_SS);
    assert_int_equal(in.access_size, 1);
    /* With a REX prefix, reg 4 is SPL. */
    in = dec(64, "40886500");
    assert_false(in.gpr_high8);
    assert_int_equal(in.gpr, 4);
    /* movl $0x12345678, %fs:0x20 (no base, SIB with no index) */
    in = dec(64, "64c7042520000000" "78563412");
    assert_int_equal(in.kind, X86_INSN_MOV_STORE);
    assert_int_equal(in.mem.seg, X86_SEG_FS);
    assert_int_equal(in.mem.base, X86_REG_NONE);
    assert_int_equal(in.mem.index, X86_REG_NONE);
    assert_int_equal(in.imm, 0x12345678);
    assert_int_equal(in.imm_size, 4);
    assert_int_equal(x86_effective_address(&in, gpr, 0), 0x20);
    /* movq $-1, (%rdi): imm32 sign-extended by the CPU, 8-byte access */
    in = dec(64, "48c707ffffffff");
    assert_int_equal(in.access_size, 8);
    assert_int_equal(in.imm, 0xffffffffu);
    /* 16-bit: mov %ax, 2(%bp,%si) -> SS, BP + SI + 2 */
    in = dec(16, "894202");
    assert_int_equal(in.mem.base, 5);
    assert_int_equal(in.mem.index, 6);
    assert_int_equal(in.mem.seg, X86_SEG_SS);
    assert_int_equal(in.access_size, 2);
    gpr[5] = 0xfff0;
    gpr[6] = 0x20;
    assert_int_equal(x86_effective_address(&in, gpr, 0), (0xfff0 + 0x20 + 2) & 0xffff);
    /* 32-bit with address-size prefix: 16-bit addressing [disp16] */
    in = dec(32, "678b060010");
    assert_int_equal(in.addr_size, 2);
    assert_int_equal(in.mem.base, X86_REG_NONE);
    assert_int_equal(in.mem.disp, 0x1000);
    /* In 32-bit mode, mod=00 rm=101 is an absolute disp32, not RIP-relative. */
    in = dec(32, "8b0d00f0ffff");
    assert_int_equal(in.mem.base, X86_REG_NONE);
    assert_int_equal(x86_effective_address(&in, gpr, 0), 0xfffff000u);
    /* A0-A3 moffs: mov 0x1234, %al in 16-bit code */
    in = dec(16, "a03412");
    assert_int_equal(in.kind, X86_INSN_MOV_LOAD);
    assert_int_equal(in.mem.disp, 0x1234);
    assert_int_equal(in.access_size, 1);
}

static void mode_rules(void **state)
{
    (void)state;
    struct x86_insn in;
    uint8_t b[15];
    /* Opcodes that do not exist in 64-bit mode. */
    static const char *const inv64[] = { "06", "1f", "27", "37", "60", "61", "ce", "d40a", "9a000000000000", "ea000000000000", "82c001" };
    for (size_t i = 0; i < sizeof inv64 / sizeof inv64[0]; i++) {
        size_t n = parse(inv64[i], b);
        assert_int_equal(x86_decode(b, n, X86_MODE_64, &in), TV_E_UNSUPPORTED);
        assert_int_equal(x86_decode(b, n, X86_MODE_32, &in), TV_OK);
    }
    /* 40-4F: REX in 64-bit mode, INC/DEC elsewhere. */
    in = dec(32, "40");
    assert_int_equal(in.len, 1);
    in = dec(64, "4890");
    assert_int_equal(in.rex, 0x48);
    /* REX followed by a legacy prefix is ignored. */
    in = dec(64, "48668b00");
    assert_int_equal(in.rex, 0);
    assert_int_equal(in.op_size, 2);
    /* B8+r with REX.W: 64-bit immediate. */
    in = dec(64, "48b88877665544332211");
    assert_int_equal(in.imm, 0x1122334455667788ull);
    /* C4/C5 are LES/LDS in 32-bit code when ModRM.mod != 3, VEX otherwise. */
    in = dec(32, "c400");
    assert_int_equal(in.vex, X86_VEX_NONE);
    in = dec(32, "c5f877");
    assert_int_equal(in.vex, X86_VEX2);
    in = dec(64, "c4e27918c0");               /* vbroadcastss %xmm0,%xmm0 */
    assert_int_equal(in.vex, X86_VEX3);
    assert_int_equal(in.map, 2);
    /* VEX after 66 or REX: #UD. */
    assert_int_equal(x86_decode((const uint8_t *)"\x66\xc5\xf8\x77", 4, X86_MODE_64, &in), TV_E_UNSUPPORTED);
    assert_int_equal(x86_decode((const uint8_t *)"\x48\xc5\xf8\x77", 4, X86_MODE_64, &in), TV_E_UNSUPPORTED);
    /* Undefined opcodes and group members. */
    static const char *const undef[] = { "0f04", "0f0a", "0f0c", "0f36", "0f39", "0ffff0", "fe10", "ff38", "8fe0", "0fb8c0", "8dc0", "0fbac001" };
    for (size_t i = 0; i < sizeof undef / sizeof undef[0]; i++) {
        size_t n = parse(undef[i], b);
        tv_status_t st = x86_decode(b, n, X86_MODE_64, &in);
        if (strcmp(undef[i], "0ffff0") == 0)
            assert_int_equal(st, TV_OK);     /* UD0 with ModRM is a defined #UD instruction */
        else if (st != TV_E_UNSUPPORTED)
            fail_msg("%s decoded with status %d", undef[i], st);
    }
    /* VEX/EVEX/XOP with a map that does not exist. */
    static const char *const badmap[] = { "c4e07818c0", "c4e47818c0", "62f07c48100500100000",
                                          "62f1780810c0", "8fe778a2c000" };
    for (size_t i = 0; i < sizeof badmap / sizeof badmap[0]; i++) {
        size_t n = parse(badmap[i], b);
        if (x86_decode(b, n, X86_MODE_64, &in) != TV_E_UNSUPPORTED)
            fail_msg("%s accepted", badmap[i]);
    }
    /* XOP map 0x0A carries a 32-bit immediate. */
    in = dec(64, "8fea7810d834120000");
    assert_int_equal(in.vex, X86_XOP);
    assert_int_equal(in.imm_size, 4);
    assert_int_equal(in.imm, 0x1234);
    /* EVEX in 32-bit mode only with ModRM-like byte >= C0; else BOUND. */
    in = dec(32, "620510000000");
    assert_int_equal(in.vex, X86_VEX_NONE);
    /* More bytes than 15 available: the window is clamped. */
    uint8_t many[32];
    memset(many, 0x90, sizeof many);
    assert_int_equal(x86_decode(many, sizeof many, X86_MODE_64, &in), TV_OK);
    assert_int_equal(in.len, 1);
    /* ENTER keeps its first immediate; far pointers are 6 bytes in 32-bit code. */
    in = dec(32, "c8100001");
    assert_int_equal(in.imm, 0x10);
    assert_int_equal(in.imm_size, 3);
    in = dec(32, "9a785634120800");
    assert_int_equal(in.imm_size, 6);
    in = dec(16, "9a34120010");
    assert_int_equal(in.imm_size, 4);
    /* Code mode from guest state. */
    assert_int_equal(x86_code_mode(false, false, false, false, false), X86_MODE_16);
    assert_int_equal(x86_code_mode(true, true, false, false, true), X86_MODE_16);
    assert_int_equal(x86_code_mode(true, false, false, false, true), X86_MODE_32);
    assert_int_equal(x86_code_mode(true, false, true, true, false), X86_MODE_64);
    assert_int_equal(x86_code_mode(true, false, true, false, true), X86_MODE_32);
    assert_int_equal(x86_code_mode(true, false, true, false, false), X86_MODE_16);
}

static uint64_t mmio_last_gpa, mmio_last_val, mmio_reg_val;
static unsigned mmio_last_size;

static tv_status_t mmio_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *v)
{
    (void)ctx;
    mmio_last_gpa = gpa;
    mmio_last_size = size;
    *v = mmio_reg_val;
    return gpa == 0xdead ? TV_E_IO : TV_OK;
}
static tv_status_t mmio_write(void *ctx, uint64_t gpa, unsigned size, uint64_t v)
{
    (void)ctx;
    mmio_last_gpa = gpa;
    mmio_last_size = size;
    mmio_last_val = v;
    return TV_OK;
}

static void mmio_mov_emulation(void **state)
{
    (void)state;
    const struct x86_mmio_ops ops = { NULL, mmio_read, mmio_write };
    uint64_t gpr[16];
    for (int i = 0; i < 16; i++)
        gpr[i] = 0x1111111111111111ull * (uint64_t)(i + 1) ;
    /* Stores: register, high-byte register, immediates. */
    struct x86_insn in = dec(64, "894c9810");                /* mov %ecx, ... */
    assert_int_equal(x86_emulate_mov(&in, gpr, 0xfee00010, &ops), TV_OK);
    assert_int_equal(mmio_last_gpa, 0xfee00010);
    assert_int_equal(mmio_last_size, 4);
    assert_int_equal(mmio_last_val, 0x22222222);
    in = dec(64, "886500");                                  /* mov %ah, (%rbp) */
    x86_emulate_mov(&in, gpr, 0x1000, &ops);
    assert_int_equal(mmio_last_size, 1);
    assert_int_equal(mmio_last_val, 0x11);
    in = dec(64, "48c707ffffffff");                          /* movq $-1, (%rdi) */
    x86_emulate_mov(&in, gpr, 0x1000, &ops);
    assert_int_equal(mmio_last_size, 8);
    assert_int_equal(mmio_last_val, UINT64_MAX);
    in = dec(64, "66c7071234");                              /* movw $0x3412, (%rdi) */
    x86_emulate_mov(&in, gpr, 0x1000, &ops);
    assert_int_equal(mmio_last_size, 2);
    assert_int_equal(mmio_last_val, 0x3412);
    /* Loads: width rules for the destination register. */
    mmio_reg_val = 0xa1a2a3a4a5a6a7a8ull;
    in = dec(64, "8b07");                                    /* mov (%rdi), %eax */
    x86_emulate_mov(&in, gpr, 0x2000, &ops);
    assert_int_equal(gpr[0], 0xa5a6a7a8u);                   /* upper half zeroed */
    in = dec(64, "668b0f");                                  /* mov (%rdi), %cx */
    x86_emulate_mov(&in, gpr, 0x2000, &ops);
    assert_int_equal(gpr[1], 0x222222222222a7a8ull);
    in = dec(64, "8a37");                                    /* mov (%rdi), %dh */
    x86_emulate_mov(&in, gpr, 0x2000, &ops);
    assert_int_equal(gpr[2], 0x333333333333a833ull);
    in = dec(64, "408a37");                                  /* mov (%rdi), %sil */
    x86_emulate_mov(&in, gpr, 0x2000, &ops);
    assert_int_equal(gpr[6], 0x77777777777777a8ull);
    in = dec(64, "4c8b07");                                  /* mov (%rdi), %r8 */
    x86_emulate_mov(&in, gpr, 0x2000, &ops);
    assert_int_equal(gpr[8], 0xa1a2a3a4a5a6a7a8ull);
    in = dec(64, "a1efcdab8967452301");                      /* mov moffs, %eax */
    x86_emulate_mov(&in, gpr, 0x2000, &ops);
    assert_int_equal(gpr[0], 0xa5a6a7a8u);
    /* Errors: device error passes through, non-MOV refused. */
    uint64_t before = gpr[8];
    in = dec(64, "4c8b07");
    assert_int_equal(x86_emulate_mov(&in, gpr, 0xdead, &ops), TV_E_IO);
    assert_int_equal(gpr[8], before);
    in = dec(64, "0fa2");
    assert_int_equal(x86_emulate_mov(&in, gpr, 0x2000, &ops), TV_E_UNSUPPORTED);
    in = dec(64, "89c0");                                    /* register-only MOV */
    assert_int_equal(x86_emulate_mov(&in, gpr, 0x2000, &ops), TV_E_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lengths_match_objdump),
        cmocka_unit_test(truncated_input_asks_for_more),
        cmocka_unit_test(fifteen_byte_limit),
        cmocka_unit_test(classification),
        cmocka_unit_test(io_details),
        cmocka_unit_test(mov_memory_operands),
        cmocka_unit_test(mode_rules),
        cmocka_unit_test(mmio_mov_emulation),
    };
    return cmocka_run_group_tests_name("vmm_x86_decode", tests, NULL, NULL);
}
