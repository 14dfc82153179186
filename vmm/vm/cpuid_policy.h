/* The CPU a guest sees, in one place: which MSRs the monitor offers and
 * which CPUID bits it hides because the MSRs (or the state) behind them are
 * not offered.  The rule (docs/guests.md, "The CPU a guest sees"): every
 * CPUID bit that passes through has its MSRs and behaviour; every MSR that
 * is not offered is hidden from CPUID.  Portable: the hosted unit test
 * (tests/unit/monitor/test_cpuid_policy.c) checks the rule over the table. */
#ifndef VMM_CPUID_POLICY_H
#define VMM_CPUID_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum { CPUID_EAX = 0, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/* MSRs guests see (numbers from SDM vol. 4 and the AMD APM/PPR). */
#define GMSR_TSC              0x00000010u
#define GMSR_APIC_BASE        0x0000001bu
#define GMSR_FEATURE_CONTROL  0x0000003au
#define GMSR_TSC_ADJUST       0x0000003bu
#define GMSR_SPEC_CTRL        0x00000048u
#define GMSR_MTRRCAP          0x000000feu
#define GMSR_ARCH_CAPABILITIES 0x0000010au
#define GMSR_SYSENTER_CS      0x00000174u
#define GMSR_SYSENTER_ESP     0x00000175u
#define GMSR_SYSENTER_EIP     0x00000176u
#define GMSR_MCG_CAP          0x00000179u
#define GMSR_MCG_STATUS       0x0000017au
#define GMSR_PERFEVTSEL0      0x00000186u
#define GMSR_THERM_STATUS     0x0000019cu
#define GMSR_MISC_ENABLE      0x000001a0u
#define GMSR_PAT              0x00000277u
#define GMSR_PERF_CAPABILITIES 0x00000345u
#define GMSR_DS_AREA          0x00000600u
#define GMSR_TSC_DEADLINE     0x000006e0u
#define GMSR_PKRS             0x000006e1u
#define GMSR_X2APIC_FIRST     0x00000800u
#define GMSR_X2APIC_LAST      0x000008ffu
#define GMSR_XSS              0x00000da0u
#define GMSR_EFER             0xc0000080u
#define GMSR_STAR             0xc0000081u
#define GMSR_LSTAR            0xc0000082u
#define GMSR_CSTAR            0xc0000083u
#define GMSR_SFMASK           0xc0000084u
#define GMSR_FS_BASE          0xc0000100u
#define GMSR_GS_BASE          0xc0000101u
#define GMSR_KERNEL_GS_BASE   0xc0000102u
#define GMSR_TSC_AUX          0xc0000103u
#define GMSR_K7_PERF_FIRST    0xc0010000u   /* PerfEvtSel0-3, PerfCtr0-3 */
#define GMSR_K7_PERF_LAST     0xc0010007u
#define GMSR_VM_CR            0xc0010114u

/* Guest IA32_MISC_ENABLE (SDM vol. 4 table 2-2): fast strings and automatic
 * thermal control are read/write and change nothing here; "performance
 * monitoring available" reads 0 (no PMU is offered) and "BTS/PEBS
 * unavailable" read 1; those three are read-only (a write may not change
 * them); every other bit is reserved: setting it raises #GP. */
#define GUEST_MISC_ENABLE_RESET  ((1ull << 0) | (1ull << 11) | (1ull << 12))
#define GUEST_MISC_ENABLE_RW     ((1ull << 0) | (1ull << 3))
#define GUEST_MISC_ENABLE_RO     ((1ull << 7) | (1ull << 11) | (1ull << 12))
/* IA32_MCG_STATUS: RIPV, EIPV, MCIP (SDM 15.3.1.2); LMCE is not offered. */
#define GUEST_MCG_STATUS_BITS    0x7ull
/* IA32_MCG_CAP: no banks, no MCG_CTL, no extended state (read-only). */
#define GUEST_MCG_CAP            0ull

/* The guest state CPUID answers depend on. */
struct cpuid_guest_view {
    uint32_t apic_id;
    bool apic_enabled;      /* IA32_APIC_BASE.EN */
    bool cr4_osxsave;       /* CR4.OSXSAVE (CPUID.1:ECX.OSXSAVE mirrors it) */
    bool cr4_pke;           /* CR4.PKE (CPUID.7:ECX.OSPKE mirrors it) */
    uint64_t xcr0_supported;/* XCR0 bits the monitor switches; 0: no XSAVE */
};

/* Rewrites the host's answer for (leaf, subleaf) into the guest's.  Leaves
 * in the hypervisor range 0x40000000.. are the caller's. */
void cpuid_policy_apply(uint32_t leaf, uint32_t subleaf, uint32_t reg[4],
                        const struct cpuid_guest_view *g);

/* True for every MSR a guest may read or write without #GP (some pass
 * through to the hardware, the rest are emulated in vmm/vm/msr.c). */
bool guest_msr_offered(uint32_t msr);

/* The table behind cpuid_policy_apply, for the unit test and the docs. */
#define CPUID_NO_MSR 0xffffffffu
#define CPUID_ANY_SUBLEAF 0xffffffffu
struct cpuid_rule {
    uint32_t leaf, subleaf;
    uint8_t reg;            /* CPUID_EAX .. CPUID_EDX */
    uint32_t bits;          /* the bits the rule is about */
    uint32_t msr;           /* the MSR they need; CPUID_NO_MSR: always hidden */
    const char *what;
};
extern const struct cpuid_rule cpuid_rules[];
extern const unsigned cpuid_rule_count;

#endif
