/* The CPUID/MSR consistency rule, as data (see cpuid_policy.h). */
#include "vm/cpuid_policy.h"

#define BIT(n) (1u << (n))
#define ALL 0xffffffffu
#define ANY CPUID_ANY_SUBLEAF
#define NONE CPUID_NO_MSR

/* Each row: these CPUID bits need this MSR; when guest_msr_offered() says
 * no, the bits are cleared.  NONE: hidden whatever the MSRs, for the reason
 * given (an instruction, mode or EFER bit the monitor does not offer).
 * Bit numbers: SDM vol. 2A CPUID, AMD APM vol. 3 appendix E. */
const struct cpuid_rule cpuid_rules[] = {
    /* Leaf 1 EDX */
    { 1, ANY, CPUID_EDX, BIT(4), GMSR_TSC, "TSC: IA32_TIME_STAMP_COUNTER" },
    { 1, ANY, CPUID_EDX, BIT(7) | BIT(14), GMSR_MCG_CAP, "MCE/MCA: IA32_MCG_CAP/STATUS" },
    { 1, ANY, CPUID_EDX, BIT(11), GMSR_SYSENTER_CS, "SEP: IA32_SYSENTER_*" },
    { 1, ANY, CPUID_EDX, BIT(12), GMSR_MTRRCAP, "MTRR: IA32_MTRRCAP and the range MSRs" },
    { 1, ANY, CPUID_EDX, BIT(16), GMSR_PAT, "PAT: IA32_PAT" },
    { 1, ANY, CPUID_EDX, BIT(18), NONE, "PSN: the serial number (leaf 3) is not offered" },
    { 1, ANY, CPUID_EDX, BIT(21), GMSR_DS_AREA, "DS: IA32_DS_AREA" },
    { 1, ANY, CPUID_EDX, BIT(22) | BIT(29), GMSR_THERM_STATUS, "ACPI/TM: IA32_CLOCK_MODULATION, IA32_THERM_*" },
    { 1, ANY, CPUID_EDX, BIT(31), NONE, "PBE: its IA32_MISC_ENABLE bit is not offered" },
    /* Leaf 1 ECX */
    { 1, ANY, CPUID_ECX, BIT(2) | BIT(4), GMSR_DS_AREA, "DTES64/DS-CPL: IA32_DS_AREA" },
    { 1, ANY, CPUID_ECX, BIT(3), NONE, "MONITOR/MWAIT: not offered" },
    { 1, ANY, CPUID_ECX, BIT(5), 0x480u, "VMX: IA32_VMX_BASIC (no nested virtualization)" },
    { 1, ANY, CPUID_ECX, BIT(6), GMSR_FEATURE_CONTROL, "SMX: IA32_FEATURE_CONTROL" },
    { 1, ANY, CPUID_ECX, BIT(7), 0x199u, "EST: IA32_PERF_CTL/STATUS" },
    { 1, ANY, CPUID_ECX, BIT(8), GMSR_THERM_STATUS, "TM2: IA32_THERM_*" },
    { 1, ANY, CPUID_ECX, BIT(11), 0xc80u, "SDBG: IA32_DEBUG_INTERFACE" },
    { 1, ANY, CPUID_ECX, BIT(14), NONE, "xTPR update control: its IA32_MISC_ENABLE bit is not offered" },
    { 1, ANY, CPUID_ECX, BIT(15), GMSR_PERF_CAPABILITIES, "PDCM: IA32_PERF_CAPABILITIES" },
    { 1, ANY, CPUID_ECX, BIT(18), 0x1f8u, "DCA: IA32_PLATFORM_DCA_CAP" },
    /* Leaf 6: thermal and power management */
    { 6, ANY, CPUID_EAX, ALL & ~BIT(2), GMSR_THERM_STATUS, "thermal/turbo/HWP: IA32_THERM_*, IA32_HWP_* (ARAT stays: the virtual APIC timer never stops)" },
    { 6, ANY, CPUID_EBX, ALL, GMSR_THERM_STATUS, "thermal interrupt thresholds" },
    { 6, ANY, CPUID_ECX, ALL, 0xe7u, "hardware coordination feedback: IA32_MPERF/APERF, ENERGY_PERF_BIAS" },
    { 6, ANY, CPUID_EDX, ALL, GMSR_THERM_STATUS, "hardware feedback interface" },
    /* Leaf 7 subleaf 0 */
    { 7, 0, CPUID_EBX, BIT(1), GMSR_TSC_ADJUST, "TSC_ADJUST: IA32_TSC_ADJUST" },
    { 7, 0, CPUID_EBX, BIT(2), GMSR_FEATURE_CONTROL, "SGX: IA32_FEATURE_CONTROL, SGX MSRs" },
    { 7, 0, CPUID_EBX, BIT(12) | BIT(15), 0xc8fu, "RDT monitoring/allocation: IA32_PQR_ASSOC" },
    { 7, 0, CPUID_EBX, BIT(14), 0xd90u, "MPX: IA32_BNDCFGS" },
    { 7, 0, CPUID_EBX, BIT(25), 0x570u, "Intel PT: IA32_RTIT_CTL" },
    { 7, 0, CPUID_ECX, BIT(5), 0xe1u, "WAITPKG: IA32_UMWAIT_CONTROL" },
    { 7, 0, CPUID_ECX, BIT(7), 0x6a0u, "CET shadow stacks: IA32_U_CET/S_CET" },
    { 7, 0, CPUID_ECX, BIT(30), 0x8cu, "SGX launch control: IA32_SGXLEPUBKEYHASH" },
    { 7, 0, CPUID_ECX, BIT(31), GMSR_PKRS, "PKS: IA32_PKRS" },
    { 7, 0, CPUID_EDX, BIT(18), NONE, "PCONFIG: not offered" },
    { 7, 0, CPUID_EDX, BIT(20), 0x6a2u, "CET IBT: IA32_S_CET" },
    { 7, 0, CPUID_EDX, BIT(26) | BIT(27) | BIT(31), GMSR_SPEC_CTRL, "IBRS/IBPB, STIBP, SSBD: IA32_SPEC_CTRL, IA32_PRED_CMD" },
    { 7, 0, CPUID_EDX, BIT(28), 0x10bu, "L1D_FLUSH: IA32_FLUSH_CMD" },
    { 7, 0, CPUID_EDX, BIT(29), GMSR_ARCH_CAPABILITIES, "IA32_ARCH_CAPABILITIES" },
    { 7, 0, CPUID_EDX, BIT(30), 0xcfu, "IA32_CORE_CAPABILITIES" },
    { 7, 1, CPUID_EAX, BIT(22), 0x6b0u, "HRESET: IA32_HRESET_ENABLE" },
    /* Architectural performance monitoring: no PMU is offered. */
    { 0xa, ANY, CPUID_EAX, ALL, GMSR_PERFEVTSEL0, "architectural PMU: IA32_PERFEVTSELx, IA32_PMCx" },
    { 0xa, ANY, CPUID_EBX, ALL, GMSR_PERFEVTSEL0, "architectural PMU events" },
    { 0xa, ANY, CPUID_ECX, ALL, GMSR_PERFEVTSEL0, "architectural PMU fixed counters" },
    { 0xa, ANY, CPUID_EDX, ALL, GMSR_PERFEVTSEL0, "architectural PMU fixed counters" },
    /* XSAVE subleaf 1: XSAVES and supervisor state need IA32_XSS. */
    { 0xd, 1, CPUID_EAX, BIT(3), GMSR_XSS, "XSAVES/XRSTORS: IA32_XSS" },
    { 0xd, 1, CPUID_ECX, ALL, GMSR_XSS, "IA32_XSS state components" },
    { 0xd, 1, CPUID_EDX, ALL, GMSR_XSS, "IA32_XSS state components" },
    /* Whole leaves behind MSRs that are not offered. */
    { 0xf, ANY, CPUID_EAX, ALL, 0xc8fu, "RDT monitoring" },
    { 0xf, ANY, CPUID_EBX, ALL, 0xc8fu, "RDT monitoring" },
    { 0xf, ANY, CPUID_ECX, ALL, 0xc8fu, "RDT monitoring" },
    { 0xf, ANY, CPUID_EDX, ALL, 0xc8fu, "RDT monitoring" },
    { 0x10, ANY, CPUID_EAX, ALL, 0xc8fu, "RDT allocation" },
    { 0x10, ANY, CPUID_EBX, ALL, 0xc8fu, "RDT allocation" },
    { 0x10, ANY, CPUID_ECX, ALL, 0xc8fu, "RDT allocation" },
    { 0x10, ANY, CPUID_EDX, ALL, 0xc8fu, "RDT allocation" },
    { 0x12, ANY, CPUID_EAX, ALL, GMSR_FEATURE_CONTROL, "SGX" },
    { 0x12, ANY, CPUID_EBX, ALL, GMSR_FEATURE_CONTROL, "SGX" },
    { 0x12, ANY, CPUID_ECX, ALL, GMSR_FEATURE_CONTROL, "SGX" },
    { 0x12, ANY, CPUID_EDX, ALL, GMSR_FEATURE_CONTROL, "SGX" },
    { 0x14, ANY, CPUID_EAX, ALL, 0x570u, "Intel PT" },
    { 0x14, ANY, CPUID_EBX, ALL, 0x570u, "Intel PT" },
    { 0x14, ANY, CPUID_ECX, ALL, 0x570u, "Intel PT" },
    { 0x14, ANY, CPUID_EDX, ALL, 0x570u, "Intel PT" },
    /* Extended leaf 0x80000001 (EDX mirrors leaf 1 on AMD) */
    { 0x80000001u, ANY, CPUID_EDX, BIT(4), GMSR_TSC, "TSC" },
    { 0x80000001u, ANY, CPUID_EDX, BIT(7) | BIT(14), GMSR_MCG_CAP, "MCE/MCA" },
    { 0x80000001u, ANY, CPUID_EDX, BIT(11), GMSR_STAR, "SYSCALL: STAR/LSTAR/CSTAR/SFMASK" },
    { 0x80000001u, ANY, CPUID_EDX, BIT(12), GMSR_MTRRCAP, "MTRR" },
    { 0x80000001u, ANY, CPUID_EDX, BIT(16), GMSR_PAT, "PAT" },
    { 0x80000001u, ANY, CPUID_EDX, BIT(25), NONE, "FFXSR: EFER.FFXSR is not offered" },
    { 0x80000001u, ANY, CPUID_EDX, BIT(27), GMSR_TSC_AUX, "RDTSCP: TSC_AUX" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(2), GMSR_VM_CR, "SVM: VM_CR, VM_HSAVE_PA (no nested virtualization)" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(3), NONE, "extended APIC space: the virtual APIC is x2APIC only" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(9), 0xc0010140u, "OSVW: OSVW_ID_LENGTH/STATUS" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(10), 0xc0011030u, "IBS: IBS_FETCH_CTL and the IBS MSRs" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(12), NONE, "SKINIT: raises #UD" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(13), 0xc0010074u, "WDT: the watchdog timer MSR" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(15), 0xc0000105u, "LWP: LWP_CFG" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(17), NONE, "TCE: EFER.TCE is not offered" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(23), 0xc0010200u, "PerfCtrExtCore: PERF_CTL0-5/PERF_CTR0-5" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(24), 0xc0010240u, "PerfCtrExtNB: NB_PERF_CTL/CTR" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(26), 0xc0011027u, "data breakpoint extension: DR0-3 address masks" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(27), 0xc0010280u, "PerfTsc: PTSC" },
    { 0x80000001u, ANY, CPUID_ECX, BIT(28), 0xc0010230u, "PerfCtrExtLLC: L2I_PERF_CTL/CTR" },
    /* AMD RAS and power management (invariant TSC, EDX bit 8, stays) */
    { 0x80000007u, ANY, CPUID_EBX, ALL, NONE, "RAS: MCA overflow recovery, SUCCOR, scalable MCA need banks (none offered)" },
    { 0x80000007u, ANY, CPUID_ECX, ALL, NONE, "power reporting" },
    { 0x80000007u, ANY, CPUID_EDX, ALL & ~BIT(8), 0xc0010061u, "power management: P-state MSRs, CPB, power reporting" },
    /* AMD extended features */
    { 0x80000008u, ANY, CPUID_EBX, BIT(1), 0xc00000e9u, "IRPERF: IRPerfCount" },
    { 0x80000008u, ANY, CPUID_EBX, BIT(3) | BIT(21), NONE, "INVLPGB/TLBSYNC: not offered" },
    { 0x80000008u, ANY, CPUID_EBX, BIT(4), NONE, "RDPRU: reads MPERF/APERF, not offered" },
    { 0x80000008u, ANY, CPUID_EBX, BIT(8), NONE, "MCOMMIT: EFER.MCOMMIT is not offered" },
    { 0x80000008u, ANY, CPUID_EBX, BIT(12) | BIT(14) | BIT(15) | BIT(16) | BIT(17) | BIT(18) |
                                   BIT(19) | BIT(24), GMSR_SPEC_CTRL, "IBPB, IBRS, STIBP, SSBD: SPEC_CTRL, PRED_CMD" },
    { 0x80000008u, ANY, CPUID_EBX, BIT(23), 0xc00102f0u, "PPIN: PPIN_CTL/PPIN" },
    { 0x80000008u, ANY, CPUID_EBX, BIT(25), 0xc001011fu, "VIRT_SSBD: VIRT_SPEC_CTRL" },
    { 0x8000000au, ANY, CPUID_EAX, ALL, GMSR_VM_CR, "SVM revision and features" },
    { 0x8000000au, ANY, CPUID_EBX, ALL, GMSR_VM_CR, "SVM ASIDs" },
    { 0x8000000au, ANY, CPUID_ECX, ALL, GMSR_VM_CR, "SVM" },
    { 0x8000000au, ANY, CPUID_EDX, ALL, GMSR_VM_CR, "SVM features" },
    { 0x8000001bu, ANY, CPUID_EAX, ALL, 0xc0011030u, "IBS features" },
    { 0x8000001fu, ANY, CPUID_EAX, ALL, 0xc0010010u, "SME/SEV: SYSCFG" },
    { 0x8000001fu, ANY, CPUID_EBX, ALL, 0xc0010010u, "SME/SEV" },
    { 0x8000001fu, ANY, CPUID_ECX, ALL, 0xc0010010u, "SEV" },
    { 0x8000001fu, ANY, CPUID_EDX, ALL, 0xc0010010u, "SEV" },
    { 0x80000020u, ANY, CPUID_EBX, ALL, 0xc8fu, "AMD platform QoS: PQR_ASSOC" },
    { 0x80000021u, ANY, CPUID_EAX, BIT(7) | BIT(8), NONE, "EFER.UAIE/AIBRSE are not offered" },
    { 0x80000022u, ANY, CPUID_EAX, ALL, 0xc0000300u, "PerfMonV2: PerfCntrGlobalStatus/Ctl" },
    { 0x80000022u, ANY, CPUID_EBX, ALL, 0xc0000300u, "PerfMonV2 counters" },
};
const unsigned cpuid_rule_count = sizeof cpuid_rules / sizeof cpuid_rules[0];

bool guest_msr_offered(uint32_t msr)
{
    switch (msr) {
    case GMSR_TSC: case GMSR_TSC_ADJUST: case GMSR_APIC_BASE: case GMSR_TSC_DEADLINE:
    case GMSR_SYSENTER_CS: case GMSR_SYSENTER_ESP: case GMSR_SYSENTER_EIP:
    case GMSR_MCG_CAP: case GMSR_MCG_STATUS: case GMSR_MISC_ENABLE: case GMSR_PAT:
    case GMSR_EFER: case GMSR_STAR: case GMSR_LSTAR: case GMSR_CSTAR: case GMSR_SFMASK:
    case GMSR_FS_BASE: case GMSR_GS_BASE: case GMSR_KERNEL_GS_BASE: case GMSR_TSC_AUX:
        return true;
    default:
        break;
    }
    /* The x2APIC registers (the virtual APIC says which ones exist) and the
     * AMD legacy performance counters, which have no CPUID bit to hide them
     * behind: they read as zero and ignore writes, as under other
     * hypervisors without a virtual PMU. */
    return (msr >= GMSR_X2APIC_FIRST && msr <= GMSR_X2APIC_LAST) ||
           (msr >= GMSR_K7_PERF_FIRST && msr <= GMSR_K7_PERF_LAST);
}

/* Leaves 0..31 and 0x80000000..0x8000001f map to bits 0..63 of a mask of
 * the leaves that have rules, so that the CPUID exit of a leaf without any
 * (leaf 0, say) does not scan the table; -1: not in the mask, scan. */
static int leaf_bit(uint32_t leaf)
{
    if (leaf < 32)
        return (int)leaf;
    if (leaf >= 0x80000000u && leaf < 0x80000020u)
        return 32 + (int)(leaf - 0x80000000u);
    return -1;
}

static bool leaf_has_rules(uint32_t leaf)
{
    /* Built on first use from the const table; rebuilding it twice (a
     * race) gives the same value. */
    static uint64_t mask;
    static bool ready;
    int b = leaf_bit(leaf);
    if (b < 0)
        return true;
    if (!ready) {
        uint64_t m = 0;
        for (unsigned i = 0; i < cpuid_rule_count; i++) {
            int rb = leaf_bit(cpuid_rules[i].leaf);
            if (rb >= 0)
                m |= 1ull << rb;
        }
        mask = m;
        ready = true;
    }
    return (mask >> b) & 1;
}

void cpuid_policy_apply(uint32_t leaf, uint32_t subleaf, uint32_t reg[4],
                        const struct cpuid_guest_view *g)
{
    for (unsigned i = 0; leaf_has_rules(leaf) && i < cpuid_rule_count; i++) {
        const struct cpuid_rule *r = &cpuid_rules[i];
        if (r->leaf != leaf || (r->subleaf != ANY && r->subleaf != subleaf))
            continue;
        if (r->msr == NONE || !guest_msr_offered(r->msr))
            reg[r->reg] &= ~r->bits;
    }
    switch (leaf) {
    case 1:
        reg[CPUID_EBX] = (reg[CPUID_EBX] & 0x00ffffffu) | (g->apic_id << 24);
        if (!g->xcr0_supported)
            reg[CPUID_ECX] &= ~BIT(26);                      /* XSAVE */
        /* OSXSAVE mirrors the guest's CR4, not the monitor's. */
        reg[CPUID_ECX] &= ~BIT(27);
        if (g->cr4_osxsave && (reg[CPUID_ECX] & BIT(26)))
            reg[CPUID_ECX] |= BIT(27);
        /* Emulated whatever the host has: hypervisor present, x2APIC,
         * TSC-deadline timer. */
        reg[CPUID_ECX] |= BIT(31) | BIT(21) | BIT(24);
        /* The APIC is always there but CPUID.1:EDX.APIC follows
         * IA32_APIC_BASE.EN (SDM 10.4.3). */
        if (g->apic_enabled)
            reg[CPUID_EDX] |= BIT(9);
        else
            reg[CPUID_EDX] &= ~BIT(9);
        break;
    case 7:
        if (subleaf == 0) {
            reg[CPUID_EBX] |= BIT(1);                        /* TSC_ADJUST: emulated */
            reg[CPUID_ECX] &= ~BIT(4);                       /* OSPKE mirrors CR4.PKE */
            if (g->cr4_pke && (reg[CPUID_ECX] & BIT(3)))
                reg[CPUID_ECX] |= BIT(4);
        }
        break;
    case 0xb: case 0x1f:
        reg[CPUID_EDX] = g->apic_id;                         /* x2APIC ID */
        break;
    case 0xd:
        if (subleaf == 0) {
            reg[CPUID_EAX] &= (uint32_t)g->xcr0_supported;
            reg[CPUID_EDX] &= (uint32_t)(g->xcr0_supported >> 32);
        }
        break;
    case 0x80000001u:
        /* AMD mirrors the APIC bit here (Intel keeps it 0). */
        if (!g->apic_enabled)
            reg[CPUID_EDX] &= ~BIT(9);
        break;
    default:
        break;
    }
}
