/* CPUID as guests see it: the host's answers filtered by the one policy
 * table (vm/cpuid_policy.c), plus our leaves 0x40000000.. */
#include "arch/x86/cpu.h"
#include "vm/exit.h"
#include "vm/fpu.h"
#include "vm/cpuid_policy.h"
#include "kernel/time.h"
#include "dev/vapic.h"
#include "taskvisor/hypercall.h"

#ifndef CR4_PKE
#define CR4_PKE (1ull << 22)
#endif


void cpuid_answer(struct vcpu *v)
{
    uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
    struct cpuid_regs r = { 0, 0, 0, 0 };
    if (leaf >= TV_CPUID_BASE && leaf <= TV_CPUID_BASE + 0xff) {
        switch (leaf) {
        case TV_CPUID_BASE:
            r.eax = TV_CPUID_MAX_LEAF;
            r.ebx = TV_CPUID_SIGNATURE_EBX;
            r.ecx = TV_CPUID_SIGNATURE_ECX;
            r.edx = TV_CPUID_SIGNATURE_EDX;
            break;
        case TV_CPUID_LEAF_VERSION:
            r.eax = (TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR;
            r.ebx = monitor_features();
            break;
        case TV_CPUID_LEAF_TIMING:
            r.eax = (uint32_t)time_tsc_khz();
            r.ebx = VAPIC_TIMER_KHZ;
            r.ecx = (uint32_t)(sched_get_config()->tick_ns / 1000); /* scheduler tick, us */
            break;
        default:
            break;
        }
    } else {
        r = cpuid(leaf, sub);
        /* Only leaves 1 and 7 mirror the guest's CR4 (cpuid_policy.c). */
        uint64_t cr4 = 0;
        if (leaf == 1 || leaf == 7) {
            struct guest_mode m;
            virt->get_mode(v, &m);
            cr4 = m.cr4;
        }
        struct cpuid_guest_view g = {
            .apic_id = v->apic.id,
            .apic_enabled = (v->apic.apic_base >> 11) & 1,
            .cr4_osxsave = (cr4 & CR4_OSXSAVE) != 0,
            .cr4_pke = (cr4 & CR4_PKE) != 0,
            .xcr0_supported = fpu_supported_xcr0(),
        };
        uint32_t reg[4] = { r.eax, r.ebx, r.ecx, r.edx };
        cpuid_policy_apply(leaf, sub, reg, &g);
        r.eax = reg[CPUID_EAX];
        r.ebx = reg[CPUID_EBX];
        r.ecx = reg[CPUID_ECX];
        r.edx = reg[CPUID_EDX];
    }
    v->regs.rax = r.eax;
    v->regs.rbx = r.ebx;
    v->regs.rcx = r.ecx;
    v->regs.rdx = r.edx;
}

void handle_cpuid(struct vcpu *v, struct vm_exit *e)
{
    cpuid_answer(v);
    vcpu_advance_rip(v, e);
}
