/* Exits the monitor handles in common code, seen from a guest:
 * - MSRs outside the allow-list raise #GP on read and write; EFER hides SVME
 *   and refuses reserved bits; PAT refuses undefined memory types;
 * - unknown I/O ports read as all ones and swallow writes, in every size;
 * - string I/O: REP OUTSB to the UART, REP INSB/INSW/INSD from an unknown
 *   port (all ones), with RCX and RDI/RSI advanced exactly, forwards and
 *   backwards (DF=1), including a count larger than one exit's batch;
 *   OUTS with an FS or GS override reads through that segment's base; a
 *   non-canonical address in REP INS/OUTS raises #GP(0);
 * - XSETBV: refused (#GP or #UD) for bad values, accepted for a good one
 *   when the CPU offers XSAVE. */
#include "guest.h"

struct msr_arg { uint32_t msr; uint64_t value; };

static void do_rdmsr(void *arg) { struct msr_arg *a = arg; a->value = rdmsr(a->msr); }
static void do_wrmsr(void *arg) { struct msr_arg *a = arg; wrmsr(a->msr, a->value); }

static void check_msr_gp(uint32_t msr, const char *name)
{
    struct msr_arg a = { msr, 0 };
    struct guest_trap t;
    int v = guest_try(do_rdmsr, &a, &t);
    reportf(v == VEC_GP, "RDMSR %s (%#x) raises #GP (got %s)", name, msr, guest_vector_name(v));
    a.value = 0;
    v = guest_try(do_wrmsr, &a, &t);
    reportf(v == VEC_GP, "WRMSR %s (%#x) raises #GP (got %s)", name, msr, guest_vector_name(v));
}

static void check_msrs(void)
{
    check_msr_gp(0xfe, "MTRRCAP");
    check_msr_gp(0xc0010114, "VM_CR");
    check_msr_gp(0xc0010117, "VM_HSAVE_PA");
    check_msr_gp(0x3a, "FEATURE_CONTROL");
    check_msr_gp(0x12345678, "unknown");

    uint64_t efer = rdmsr(0xc0000080);
    reportf(!(efer & (1ull << 12)), "EFER reads without SVME (%#llx)", (unsigned long long)efer);
    struct msr_arg a = { 0xc0000080, efer | (1ull << 12) };
    struct guest_trap t;
    int v = guest_try(do_wrmsr, &a, &t);
    reportf(v == VEC_GP, "setting EFER.SVME raises #GP (got %s)", guest_vector_name(v));
    a.value = efer | (1ull << 20);
    v = guest_try(do_wrmsr, &a, &t);
    reportf(v == VEC_GP, "a reserved EFER bit raises #GP (got %s)", guest_vector_name(v));
    reportf(rdmsr(0xc0000080) == efer, "EFER unchanged after refused writes");

    uint64_t pat = rdmsr(0x277);
    a.msr = 0x277;
    a.value = (pat & ~0xffull) | 2; /* type 2 is reserved */
    v = guest_try(do_wrmsr, &a, &t);
    reportf(v == VEC_GP, "PAT with a reserved memory type raises #GP (got %s)", guest_vector_name(v));
    wrmsr(0x277, 0x0007040600070406ull);
    reportf(rdmsr(0x277) == 0x0007040600070406ull, "PAT write/read back");
}

static void check_plain_io(void)
{
    uint8_t b = inb(0x2f8); /* COM2: not offered */
    uint16_t w;
    uint32_t d;
    __asm__ volatile("inw %1, %0" : "=a"(w) : "Nd"((uint16_t)0xcfc));
    __asm__ volatile("inl %1, %0" : "=a"(d) : "Nd"((uint16_t)0xcfc));
    reportf(b == 0xff, "IN byte from an unknown port reads 0xff (%#x)", b);
    reportf(w == 0xffff, "IN word from an unknown port reads 0xffff (%#x)", w);
    reportf(d == 0xffffffffu, "IN dword from an unknown port reads all ones (%#x)", d);
    uint64_t rax = 0x1122334455667788ull;
    __asm__ volatile("inb $0x80, %%al" : "+a"(rax));
    reportf(rax == 0x11223344556677ffull, "IN AL merges into RAX (%#llx)", (unsigned long long)rax);
    rax = 0x1122334455667788ull;
    __asm__ volatile("inl $0x80, %%eax" : "+a"(rax));
    reportf(rax == 0xffffffffull, "IN EAX zero-extends into RAX (%#llx)", (unsigned long long)rax);
    outb(0x80, 0x12);               /* dropped: no crash, no effect */
    outl(0xcf8, 0x80000000u);
    report("OUT to unknown ports is dropped", true);
}

static uint8_t buf[3000];

static void check_string_io(void)
{
    /* REP OUTSB of a whole line to the UART: appears in the log as one line. */
    static const char line[] = "io_msr: rep outsb line through the UART\n";
    const char *src = line;
    uint64_t count = sizeof line - 1;
    __asm__ volatile("cld; rep outsb" : "+S"(src), "+c"(count) : "d"((uint16_t)0x3f8) : "memory");
    reportf(count == 0 && src == line + sizeof line - 1, "REP OUTSB advances RSI and clears RCX");

    /* REP INSB from an unknown port: 2500 bytes (more than one exit's batch). */
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = 0x5a;
    uint8_t *dst = buf + 100;
    count = 2500;
    __asm__ volatile("cld; rep insb" : "+D"(dst), "+c"(count) : "d"((uint16_t)0x2f8) : "memory");
    bool ok = count == 0 && dst == buf + 2600;
    for (unsigned i = 0; i < sizeof buf; i++)
        ok &= buf[i] == ((i >= 100 && i < 2600) ? 0xff : 0x5a);
    reportf(ok, "REP INSB of 2500 bytes fills exactly its range with 0xff");

    /* REP INSD backwards (DF=1). */
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = 0;
    uint32_t *dd = (uint32_t *)(buf + 400);
    count = 10;
    __asm__ volatile("std; rep insl; cld" : "+D"(dd), "+c"(count) : "d"((uint16_t)0x2f8) : "memory");
    ok = count == 0 && (uint8_t *)dd == buf + 400 - 40;
    for (unsigned i = 0; i < sizeof buf; i++)
        ok &= buf[i] == ((i >= 364 && i < 404) ? 0xff : 0);
    reportf(ok, "REP INSD with DF=1 fills downwards and moves RDI back");

    /* A single INSW without REP. */
    uint16_t one = 0;
    uint16_t *p = &one;
    __asm__ volatile("cld; insw" : "+D"(p) : "d"((uint16_t)0x2f8) : "memory");
    reportf(one == 0xffff && p == &one + 1, "INSW moves one word");
}

/* The UART scratch register (COM1 + 7) keeps the last byte written: an
 * OUTSB there shows which byte the monitor fetched. */
#define UART_SCR 0x3ff
static volatile uint8_t seg_bytes[2] = { 0x11, 0x22 };

static void outs_fs(void *arg)
{
    const volatile uint8_t *src = arg;
    __asm__ volatile("cld; outsb %%fs:(%%rsi), (%%dx)" : "+S"(src) : "d"((uint16_t)UART_SCR) : "memory");
}
static void outs_gs_rep(void *arg)
{
    const volatile uint8_t *src = arg;
    uint64_t n = 1;
    __asm__ volatile("cld; rep outsb %%gs:(%%rsi), (%%dx)" : "+S"(src), "+c"(n)
                     : "d"((uint16_t)UART_SCR) : "memory");
}
static void outs_ds(void *arg)
{
    const volatile uint8_t *src = arg;
    __asm__ volatile("cld; outsb (%%rsi), (%%dx)" : "+S"(src) : "d"((uint16_t)UART_SCR) : "memory");
}

static void check_outs_segments(void)
{
    /* FS/GS base = the distance between the two bytes: through the right
     * base the instruction fetches seg_bytes[1], through DS seg_bytes[0]. */
    uint64_t fs = rdmsr(0xc0000100), gs = rdmsr(0xc0000101);
    wrmsr(0xc0000100, 1);
    wrmsr(0xc0000101, 1);
    struct guest_trap t;
    int v = guest_try(outs_fs, (void *)&seg_bytes[0], &t);
    uint8_t got = inb(UART_SCR);
    reportf(v == GUEST_NO_TRAP && got == 0x22, "OUTSB with an FS override uses the FS base (%#x, %s)",
            got, guest_vector_name(v));
    v = guest_try(outs_gs_rep, (void *)&seg_bytes[0], &t);
    got = inb(UART_SCR);
    reportf(v == GUEST_NO_TRAP && got == 0x22, "REP OUTSB with a GS override uses the GS base (%#x, %s)",
            got, guest_vector_name(v));
    v = guest_try(outs_ds, (void *)&seg_bytes[0], &t);
    got = inb(UART_SCR);
    reportf(v == GUEST_NO_TRAP && got == 0x11, "OUTSB without override: DS, base 0 in 64-bit mode (%#x)", got);
    wrmsr(0xc0000100, fs);
    wrmsr(0xc0000101, gs);
}

#define NONCANON 0x8000000000001000ull

static void ins_noncanon(void *arg)
{
    (void)arg;
    uint64_t dst = NONCANON, n = 4;
    __asm__ volatile("cld; rep insb" : "+D"(dst), "+c"(n) : "d"((uint16_t)0x2f8) : "memory");
}
static void outs_noncanon(void *arg)
{
    (void)arg;
    uint64_t src = NONCANON, n = 4;
    __asm__ volatile("cld; rep outsb" : "+S"(src), "+c"(n) : "d"((uint16_t)UART_SCR) : "memory");
}
static void check_noncanonical(void)
{
    struct guest_trap t;
    int v = guest_try(ins_noncanon, 0, &t);
    reportf(v == VEC_GP && t.error_code == 0, "REP INSB to a non-canonical address raises #GP(0) (got %s)",
            guest_vector_name(v));
    v = guest_try(outs_noncanon, 0, &t);
    reportf(v == VEC_GP && t.error_code == 0, "REP OUTSB from a non-canonical address raises #GP(0) (got %s)",
            guest_vector_name(v));
}

static void do_xsetbv(void *arg)
{
    uint64_t v = *(uint64_t *)arg;
    __asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static void check_xsetbv(void)
{
    struct cpuid_regs r = cpuid(1, 0);
    bool xsave = (r.ecx >> 26) & 1;
    struct guest_trap t;
    uint64_t bad = 0; /* x87 bit clear: always invalid */
    int v = guest_try(do_xsetbv, &bad, &t);
    if (!xsave) {
        reportf(v == VEC_UD, "XSETBV without XSAVE raises #UD (got %s)", guest_vector_name(v));
        return;
    }
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | (1ull << 18)));
    v = guest_try(do_xsetbv, &bad, &t);
    reportf(v == VEC_GP, "XSETBV with x87 clear raises #GP (got %s)", guest_vector_name(v));
    uint64_t avx_only = 5; /* AVX without SSE */
    v = guest_try(do_xsetbv, &avx_only, &t);
    reportf(v == VEC_GP, "XSETBV with AVX but not SSE raises #GP (got %s)", guest_vector_name(v));
    uint64_t good = 3;
    v = guest_try(do_xsetbv, &good, &t);
    reportf(v == GUEST_NO_TRAP, "XSETBV x87|SSE accepted (got %s)", guest_vector_name(v));
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    check_msrs();
    check_plain_io();
    check_string_io();
    check_outs_segments();
    check_noncanonical();
    check_xsetbv();
    guest_exit_summary();
    return 0;
}
