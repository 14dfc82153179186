/* CPUID as guests see it: the host's answers, filtered, plus our leaves. */
#include "arch/x86/cpu.h"
#include "vm/exit.h"
#include "vm/fpu.h"
#include "kernel/time.h"
#include "dev/vapic.h"
#include "taskvisor/hypercall.h"


void handle_cpuid(struct vcpu *v, struct vm_exit *e)
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
        struct guest_mode m;
        switch (leaf) {
        case 1:
            virt->get_mode(v, &m);
            r.ebx = (r.ebx & 0x00ffffffu) | (v->apic.id << 24);
            r.ecx &= ~((1u << 5) | (1u << 3) | (1u << 27)); /* VMX, MONITOR, OSXSAVE */
            if (m.cr4 & CR4_OSXSAVE)
                r.ecx |= 1u << 27;
            if (!fpu_supported_xcr0())
                r.ecx &= ~(1u << 26);                        /* XSAVE */
            r.ecx |= (1u << 31) | (1u << 21) | (1u << 24);   /* hypervisor, x2APIC, TSC-deadline */
            break;
        case 0xd:
            if (sub == 0) {
                r.eax &= (uint32_t)fpu_supported_xcr0();
                r.edx = 0;
            }
            break;
        case 0x80000001:
            r.ecx &= ~(1u << 2);                             /* SVM */
            break;
        case 0x8000000a:
            r.eax = r.ebx = r.ecx = r.edx = 0;               /* no SVM features */
            break;
        default:
            break;
        }
    }
    v->regs.rax = r.eax;
    v->regs.rbx = r.ebx;
    v->regs.rcx = r.ecx;
    v->regs.rdx = r.edx;
    vcpu_advance_rip(v, e);
}
