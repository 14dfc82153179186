/* Hosted tests of the CPUID/MSR consistency rule (vmm/vm/cpuid_policy.c):
 * with every bit set by the "host", no bit whose MSR is not offered gets
 * through; the bits whose MSRs are offered do; the dynamic bits follow the
 * guest state. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vm/cpuid_policy.h"

static const struct cpuid_guest_view view = {
    .apic_id = 3, .apic_enabled = true, .cr4_osxsave = true, .cr4_pke = true,
    .xcr0_supported = 0x7,
};

static void apply_all_ones(uint32_t leaf, uint32_t sub, uint32_t reg[4],
                           const struct cpuid_guest_view *g)
{
    reg[0] = reg[1] = reg[2] = reg[3] = 0xffffffffu;
    cpuid_policy_apply(leaf, sub, reg, g);
}

static void hidden_unless_offered(void **state)
{
    (void)state;
    for (unsigned i = 0; i < cpuid_rule_count; i++) {
        const struct cpuid_rule *r = &cpuid_rules[i];
        uint32_t reg[4];
        apply_all_ones(r->leaf, r->subleaf == CPUID_ANY_SUBLEAF ? 0 : r->subleaf, reg, &view);
        bool offered = r->msr != CPUID_NO_MSR && guest_msr_offered(r->msr);
        uint32_t seen = reg[r->reg] & r->bits;
        if (!offered && seen)
            fail_msg("%s: leaf %#x reg %u bits %#x pass through without MSR %#x", r->what,
                     r->leaf, r->reg, seen, r->msr);
    }
}

static void issue_bits(void **state)
{
    (void)state;
    uint32_t reg[4];
    apply_all_ones(7, 0, reg, &view);
    assert_int_equal(reg[CPUID_ECX] >> 31, 0);             /* PKS: IA32_PKRS not offered */
    assert_int_equal((reg[CPUID_EBX] >> 1) & 1, 1);        /* TSC_ADJUST offered */
    assert_int_equal((reg[CPUID_ECX] >> 4) & 1, 1);        /* OSPKE follows CR4.PKE */
    apply_all_ones(1, 0, reg, &view);
    assert_int_equal((reg[CPUID_EDX] >> 21) & 1, 0);       /* DS */
    assert_int_equal((reg[CPUID_ECX] >> 15) & 1, 0);       /* PDCM */
    assert_int_equal((reg[CPUID_EDX] >> 4) & 1, 1);        /* TSC offered */
    assert_int_equal((reg[CPUID_EDX] >> 9) & 1, 1);        /* APIC enabled */
    assert_int_equal(reg[CPUID_EBX] >> 24, 3);             /* APIC ID */
    assert_int_equal((reg[CPUID_ECX] >> 27) & 1, 1);       /* OSXSAVE */
    apply_all_ones(0xa, 0, reg, &view);
    assert_int_equal(reg[0] | reg[1] | reg[2] | reg[3], 0); /* no PMU */
    apply_all_ones(0xb, 1, reg, &view);
    assert_int_equal(reg[CPUID_EDX], 3);
    apply_all_ones(6, 0, reg, &view);
    assert_int_equal(reg[CPUID_EAX], 1u << 2);             /* ARAT only */
    apply_all_ones(0x80000007u, 0, reg, &view);
    assert_int_equal(reg[CPUID_EDX], 1u << 8);             /* invariant TSC only */
}

static void dynamic_bits_follow_guest_state(void **state)
{
    (void)state;
    struct cpuid_guest_view g = view;
    g.apic_enabled = false;
    g.cr4_osxsave = false;
    g.cr4_pke = false;
    uint32_t reg[4];
    apply_all_ones(1, 0, reg, &g);
    assert_int_equal((reg[CPUID_EDX] >> 9) & 1, 0);
    assert_int_equal((reg[CPUID_ECX] >> 27) & 1, 0);
    apply_all_ones(0x80000001u, 0, reg, &g);
    assert_int_equal((reg[CPUID_EDX] >> 9) & 1, 0);
    apply_all_ones(7, 0, reg, &g);
    assert_int_equal((reg[CPUID_ECX] >> 4) & 1, 0);
    g.xcr0_supported = 0;
    apply_all_ones(1, 0, reg, &g);
    assert_int_equal((reg[CPUID_ECX] >> 26) & 3, 0);       /* XSAVE and OSXSAVE */
    /* Clear in, clear out: the policy never invents host features. */
    memset(reg, 0, sizeof reg);
    cpuid_policy_apply(7, 0, reg, &view);
    assert_int_equal(reg[CPUID_ECX], 0);
}

static void offered_msrs(void **state)
{
    (void)state;
    const uint32_t yes[] = { 0x10, 0x1b, 0x3b, 0x174, 0x179, 0x17a, 0x1a0, 0x277, 0x6e0, 0x800,
                             0x8ff, 0xc0000080u, 0xc0000103u, 0xc0010000u, 0xc0010007u };
    const uint32_t no[] = { 0x3a, 0x48, 0xfe, 0x186, 0x345, 0x600, 0x6e1, 0x7ff, 0x900, 0xda0,
                            0xc0010008u, 0xc0010114u, 0xc0010200u };
    for (unsigned i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!guest_msr_offered(yes[i]))
            fail_msg("MSR %#x should be offered", yes[i]);
    for (unsigned i = 0; i < sizeof no / sizeof no[0]; i++)
        if (guest_msr_offered(no[i]))
            fail_msg("MSR %#x should not be offered", no[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hidden_unless_offered),
        cmocka_unit_test(issue_bits),
        cmocka_unit_test(dynamic_bits_follow_guest_state),
        cmocka_unit_test(offered_msrs),
    };
    return cmocka_run_group_tests_name("monitor-cpuid-policy", tests, 0, 0);
}
