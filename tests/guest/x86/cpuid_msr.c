/* The CPU a guest sees is consistent (docs/guests.md, "The CPU a guest
 * sees"), checked from inside with a table of its own:
 * - every CPUID feature bit below that is set has its MSR (RDMSR does not
 *   fault), and every such MSR that faults has its bit clear: PKS/IA32_PKRS,
 *   DS/IA32_DS_AREA, PDCM/IA32_PERF_CAPABILITIES, TSC_ADJUST, the
 *   architectural PMU (leaf 0xA) and the rest;
 * - WRMSR to IA32_TIME_STAMP_COUNTER moves RDTSC and IA32_TSC_ADJUST with it
 *   (and writing IA32_TSC_ADJUST moves the TSC);
 * - IA32_MISC_ENABLE and IA32_MCG_STATUS take writes as on hardware and
 *   refuse reserved bits; IA32_MCG_CAP is read-only;
 * - the AMD legacy performance counters (0xC0010000-0xC0010007) read as
 *   zero and ignore writes: a guest that programs them at start-up lives;
 * - CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN; leaf 0xB's x2APIC ID is the
 *   one the APIC reports. */
#include "guest.h"

struct msr_arg { uint32_t msr; uint64_t value; };

static void do_rdmsr(void *arg) { struct msr_arg *a = arg; a->value = rdmsr(a->msr); }
static void do_wrmsr(void *arg) { struct msr_arg *a = arg; wrmsr(a->msr, a->value); }

static int try_rdmsr(uint32_t msr, uint64_t *value)
{
    struct msr_arg a = { msr, 0 };
    int v = guest_try(do_rdmsr, &a, 0);
    if (value)
        *value = a.value;
    return v;
}

static int try_wrmsr(uint32_t msr, uint64_t value)
{
    struct msr_arg a = { msr, value };
    return guest_try(do_wrmsr, &a, 0);
}

enum { EAX, EBX, ECX, EDX };

struct feature {
    uint32_t leaf, sub;
    int reg;
    uint32_t mask;          /* any of these bits set means "has the feature" */
    uint32_t msr;
    const char *name;
};

static const struct feature features[] = {
    { 1, 0, EDX, 1u << 4, 0x10, "TSC / IA32_TIME_STAMP_COUNTER" },
    { 1, 0, EDX, (1u << 7) | (1u << 14), 0x179, "MCE,MCA / IA32_MCG_CAP" },
    { 1, 0, EDX, (1u << 7) | (1u << 14), 0x17a, "MCE,MCA / IA32_MCG_STATUS" },
    { 1, 0, EDX, 1u << 9, 0x1b, "APIC / IA32_APIC_BASE" },
    { 1, 0, EDX, 1u << 11, 0x174, "SEP / IA32_SYSENTER_CS" },
    { 1, 0, EDX, 1u << 12, 0xfe, "MTRR / IA32_MTRRCAP" },
    { 1, 0, EDX, 1u << 16, 0x277, "PAT / IA32_PAT" },
    { 1, 0, EDX, 1u << 21, 0x600, "DS / IA32_DS_AREA" },
    { 1, 0, EDX, (1u << 22) | (1u << 29), 0x19c, "ACPI,TM / IA32_THERM_STATUS" },
    { 1, 0, ECX, (1u << 2) | (1u << 4), 0x600, "DTES64,DS-CPL / IA32_DS_AREA" },
    { 1, 0, ECX, 1u << 5, 0x480, "VMX / IA32_VMX_BASIC" },
    { 1, 0, ECX, 1u << 6, 0x3a, "SMX / IA32_FEATURE_CONTROL" },
    { 1, 0, ECX, 1u << 7, 0x198, "EST / IA32_PERF_STATUS" },
    { 1, 0, ECX, 1u << 15, 0x345, "PDCM / IA32_PERF_CAPABILITIES" },
    { 1, 0, ECX, 1u << 18, 0x1f8, "DCA / IA32_PLATFORM_DCA_CAP" },
    { 1, 0, ECX, 1u << 21, 0x802, "x2APIC / x2APIC ID register" },
    { 1, 0, ECX, 1u << 24, 0x6e0, "TSC-deadline / IA32_TSC_DEADLINE" },
    { 6, 0, ECX, 1u << 0, 0xe7, "hardware coordination feedback / IA32_MPERF" },
    { 7, 0, EBX, 1u << 1, 0x3b, "TSC_ADJUST / IA32_TSC_ADJUST" },
    { 7, 0, EBX, 1u << 2, 0x3a, "SGX / IA32_FEATURE_CONTROL" },
    { 7, 0, EBX, 1u << 14, 0xd90, "MPX / IA32_BNDCFGS" },
    { 7, 0, EBX, 1u << 25, 0x570, "Intel PT / IA32_RTIT_CTL" },
    { 7, 0, ECX, 1u << 5, 0xe1, "WAITPKG / IA32_UMWAIT_CONTROL" },
    { 7, 0, ECX, 1u << 31, 0x6e1, "PKS / IA32_PKRS" },
    { 7, 0, EDX, 1u << 26, 0x48, "IBRS / IA32_SPEC_CTRL" },
    { 7, 0, EDX, 1u << 29, 0x10a, "IA32_ARCH_CAPABILITIES" },
    { 0xa, 0, EAX, 0xffu, 0x186, "arch PMU version / IA32_PERFEVTSEL0" },
    { 0xa, 0, EAX, 0xff00u, 0xc1, "arch PMU counters / IA32_PMC0" },
    { 0xd, 1, EAX, 1u << 3, 0xda0, "XSAVES / IA32_XSS" },
    { 0x80000001u, 0, EDX, 1u << 11, 0xc0000081u, "SYSCALL / STAR" },
    { 0x80000001u, 0, EDX, 1u << 27, 0xc0000103u, "RDTSCP / TSC_AUX" },
    { 0x80000001u, 0, ECX, 1u << 2, 0xc0010114u, "SVM / VM_CR" },
    { 0x80000001u, 0, ECX, 1u << 9, 0xc0010140u, "OSVW / OSVW_ID_LENGTH" },
    { 0x80000001u, 0, ECX, 1u << 10, 0xc0011030u, "IBS / IBS_FETCH_CTL" },
    { 0x80000001u, 0, ECX, 1u << 23, 0xc0010200u, "PerfCtrExtCore / PERF_CTL0" },
    { 0x80000008u, 0, EBX, 1u << 1, 0xc00000e9u, "IRPERF / IRPerfCount" },
    { 0x80000008u, 0, EBX, 1u << 25, 0xc001011fu, "VIRT_SSBD / VIRT_SPEC_CTRL" },
};

static uint32_t reg_of(struct cpuid_regs r, int reg)
{
    return reg == EAX ? r.eax : reg == EBX ? r.ebx : reg == ECX ? r.ecx : r.edx;
}

static bool leaf_exists(uint32_t leaf)
{
    uint32_t top = cpuid(leaf & 0x80000000u, 0).eax;
    return leaf <= top;
}

static void check_rule(void)
{
    for (unsigned i = 0; i < sizeof features / sizeof features[0]; i++) {
        const struct feature *f = &features[i];
        uint32_t bits = leaf_exists(f->leaf) ? reg_of(cpuid(f->leaf, f->sub), f->reg) & f->mask : 0;
        int v = try_rdmsr(f->msr, 0);
        reportf(!(bits && v != GUEST_NO_TRAP),
                "CPUID and MSR agree: %s (CPUID %#x.%u bits %#x, RDMSR %#x: %s)", f->name,
                f->leaf, f->sub, bits, f->msr, guest_vector_name(v));
    }
    /* The ones the issue named: hidden, since their MSRs are not offered. */
    if (leaf_exists(7)) {
        struct cpuid_regs r7 = cpuid(7, 0);
        reportf(!(r7.ecx >> 31), "PKS hidden (leaf 7 ECX %#x)", r7.ecx);
        reportf((r7.ebx >> 1) & 1, "TSC_ADJUST offered (leaf 7 EBX %#x)", r7.ebx);
    }
    struct cpuid_regs r1 = cpuid(1, 0);
    reportf(!((r1.edx >> 21) & 1) && !((r1.ecx >> 2) & 1) && !((r1.ecx >> 4) & 1),
            "DS, DTES64, DS-CPL hidden (leaf 1 ECX %#x EDX %#x)", r1.ecx, r1.edx);
    reportf(!((r1.ecx >> 15) & 1), "PDCM hidden (leaf 1 ECX %#x)", r1.ecx);
    if (leaf_exists(0xa)) {
        struct cpuid_regs ra = cpuid(0xa, 0);
        reportf(ra.eax == 0 && ra.edx == 0, "no architectural PMU (leaf 0xA EAX %#x EDX %#x)",
                ra.eax, ra.edx);
    }
    reportf(try_rdmsr(0x6e1, 0) == VEC_GP, "RDMSR IA32_PKRS raises #GP");
    reportf(try_wrmsr(0x600, 0) == VEC_GP, "WRMSR IA32_DS_AREA raises #GP");
    reportf(try_rdmsr(0x345, 0) == VEC_GP, "RDMSR IA32_PERF_CAPABILITIES raises #GP");
    reportf(try_wrmsr(0x186, 0) == VEC_GP, "WRMSR IA32_PERFEVTSEL0 raises #GP");
}

static uint64_t absdiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

static void check_tsc(void)
{
    /* Under emulators a few million cycles pass between two reads. */
    const uint64_t slack = 1ull << 32;
    uint64_t adj0 = 0;
    reportf(try_rdmsr(0x3b, &adj0) == GUEST_NO_TRAP && adj0 == 0,
            "IA32_TSC_ADJUST starts at 0 (%#llx)", (unsigned long long)adj0);
    uint64_t before = rdtsc();
    uint64_t msr_now = rdmsr(0x10);
    reportf(msr_now >= before && msr_now - before < slack,
            "RDMSR TSC agrees with RDTSC (%llu, %llu)", (unsigned long long)msr_now,
            (unsigned long long)before);
    uint64_t target = before + (1ull << 44);           /* jump far ahead */
    int v = try_wrmsr(0x10, target);
    uint64_t after = rdtsc();
    reportf(v == GUEST_NO_TRAP, "WRMSR TSC accepted (%s)", guest_vector_name(v));
    reportf(after >= target && after - target < slack, "RDTSC follows the written TSC (%#llx, wrote %#llx)",
            (unsigned long long)after, (unsigned long long)target);
    uint64_t adj = rdmsr(0x3b);
    reportf(absdiff(adj, 1ull << 44) < slack, "IA32_TSC_ADJUST moved with the TSC (%#llx)",
            (unsigned long long)adj);
    /* Writing TSC_ADJUST back to 0 moves the TSC back by the same amount. */
    wrmsr(0x3b, 0);
    uint64_t back = rdtsc();
    reportf(back < target && back >= before && back - before < slack,
            "WRMSR TSC_ADJUST=0 moves RDTSC back (%#llx)", (unsigned long long)back);
    reportf(rdmsr(0x3b) == 0, "IA32_TSC_ADJUST reads back 0");
}

static void check_misc_mcg(void)
{
    uint64_t misc = 0;
    int v = try_rdmsr(0x1a0, &misc);
    reportf(v == GUEST_NO_TRAP, "RDMSR IA32_MISC_ENABLE (%#llx, %s)", (unsigned long long)misc,
            guest_vector_name(v));
    reportf((misc & (1ull << 11)) && (misc & (1ull << 12)) && !(misc & (1ull << 7)),
            "MISC_ENABLE: BTS/PEBS unavailable, no performance monitoring (%#llx)",
            (unsigned long long)misc);
    v = try_wrmsr(0x1a0, misc);
    reportf(v == GUEST_NO_TRAP, "WRMSR IA32_MISC_ENABLE with its own value (%s)", guest_vector_name(v));
    v = try_wrmsr(0x1a0, misc & ~1ull);
    reportf(v == GUEST_NO_TRAP && rdmsr(0x1a0) == (misc & ~1ull),
            "MISC_ENABLE fast-strings bit writable (%s)", guest_vector_name(v));
    wrmsr(0x1a0, misc);
    v = try_wrmsr(0x1a0, misc | (1ull << 40));
    reportf(v == VEC_GP, "MISC_ENABLE reserved bit raises #GP (%s)", guest_vector_name(v));
    reportf(rdmsr(0x1a0) == misc, "MISC_ENABLE unchanged after the refused write");

    uint64_t cap = 0;
    v = try_rdmsr(0x179, &cap);
    reportf(v == GUEST_NO_TRAP && (cap & 0xff) == 0, "IA32_MCG_CAP: no banks (%#llx, %s)",
            (unsigned long long)cap, guest_vector_name(v));
    reportf(try_rdmsr(0x400, 0) == VEC_GP, "IA32_MC0_CTL absent (no banks): #GP");
    reportf(try_wrmsr(0x179, 0) == VEC_GP, "IA32_MCG_CAP is read-only: #GP");
    v = try_wrmsr(0x17a, 0);
    reportf(v == GUEST_NO_TRAP, "WRMSR IA32_MCG_STATUS = 0 (%s)", guest_vector_name(v));
    v = try_wrmsr(0x17a, 1);
    reportf(v == GUEST_NO_TRAP && rdmsr(0x17a) == 1, "MCG_STATUS.RIPV writable (%s)",
            guest_vector_name(v));
    v = try_wrmsr(0x17a, 1ull << 20);
    reportf(v == VEC_GP, "MCG_STATUS reserved bit raises #GP (%s)", guest_vector_name(v));
    wrmsr(0x17a, 0);
}

static void check_amd_pmc(void)
{
    /* What a kernel's PMU probe does: program an event, write a counter,
     * read it back.  No PMU: the writes are ignored, the reads are 0. */
    bool ok = true;
    for (uint32_t m = 0xc0010000u; m <= 0xc0010007u; m++) {
        int v = try_wrmsr(m, m < 0xc0010004u ? 0x430076ull : 0x12345ull);
        uint64_t val = 1;
        int r = try_rdmsr(m, &val);
        if (v != GUEST_NO_TRAP || r != GUEST_NO_TRAP || val != 0) {
            reportf(false, "AMD counter MSR %#x: WRMSR %s, RDMSR %s = %#llx", m,
                    guest_vector_name(v), guest_vector_name(r), (unsigned long long)val);
            ok = false;
        }
    }
    reportf(ok, "AMD PerfEvtSel0-3/PerfCtr0-3: writes ignored, read as zero");
}

static void check_apic_bit(void)
{
    uint64_t base = rdmsr(0x1b);
    reportf((cpuid(1, 0).edx >> 9) & 1, "CPUID.1:EDX.APIC set while the APIC is enabled");
    if (leaf_exists(0xb)) {
        uint32_t id = (uint32_t)rdmsr(0x802);
        reportf(cpuid(0xb, 0).edx == id, "leaf 0xB x2APIC ID = APIC ID (%u)", id);
    }
    /* Disable (EN=0, EXTD=0), look, then back through xAPIC to x2APIC. */
    int v = try_wrmsr(0x1b, base & ~((1ull << 11) | (1ull << 10)));
    uint32_t edx = cpuid(1, 0).edx;
    reportf(v == GUEST_NO_TRAP && !((edx >> 9) & 1),
            "CPUID.1:EDX.APIC clear after IA32_APIC_BASE.EN=0 (%s, EDX %#x)", guest_vector_name(v), edx);
    if (cpuid(0x80000000u, 0).eax >= 0x80000001u)
        reportf(!((cpuid(0x80000001u, 0).edx >> 9) & 1), "CPUID.80000001:EDX.APIC clear too");
    wrmsr(0x1b, (base & ~(1ull << 10)) | (1ull << 11));
    wrmsr(0x1b, base);
    reportf((cpuid(1, 0).edx >> 9) & 1, "CPUID.1:EDX.APIC back after re-enabling");
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    check_rule();
    check_tsc();
    check_misc_mcg();
    check_amd_pmc();
    check_apic_bit();
    guest_exit_summary();
    return 0;
}
