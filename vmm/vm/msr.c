/* Guest MSR accesses that reach us (the rest pass through the permission
 * map: FS/GS/kernel-GS base, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*, which
 * VMLOAD/VMSAVE switch).  guest_msr_offered() (vm/cpuid_policy.c) is the
 * one list of MSRs guests have; anything else gets #GP, and CPUID hides the
 * features behind it. */
#include "arch/x86/cpu.h"
#include "vm/cpuid_policy.h"
#include "vm/exit.h"
#include "vm/cr.h"

static bool pat_valid(uint64_t pat)
{
    /* Each byte must be a defined memory type: 0,1,4,5,6,7 (SDM 11.12.2). */
    for (int i = 0; i < 8; i++) {
        uint8_t t = (uint8_t)(pat >> (8 * i));
        if (t > 7 || t == 2 || t == 3)
            return false;
    }
    return true;
}

static bool efer_valid(uint64_t efer)
{
    /* SCE, LME, LMA (ignored on write), NXE; SVME is never offered. */
    return (efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) == 0;
}

/* Guest TSC = host TSC + v->tsc_offset.  IA32_TSC_ADJUST counts what the
 * guest added to its TSC; a write to either moves the other by the same
 * amount (SDM 17.17.3). */
static void write_tsc(struct vcpu *v, uint64_t guest_tsc)
{
    uint64_t old = rdtsc() + v->tsc_offset;
    v->tsc_offset = guest_tsc - rdtsc();
    v->tsc_adjust += guest_tsc - old;
    virt->set_tsc_offset(v, v->tsc_offset);
}

static void write_tsc_adjust(struct vcpu *v, uint64_t adjust)
{
    v->tsc_offset += adjust - v->tsc_adjust;
    v->tsc_adjust = adjust;
    virt->set_tsc_offset(v, v->tsc_offset);
}

/* The virtual APIC keeps the TSC deadline in host TSC units; the guest
 * writes and reads it in its own (0 disarms in both). */
static uint64_t deadline_to_host(const struct vcpu *v, uint64_t guest)
{
    if (guest == 0)
        return 0;
    uint64_t host = guest - v->tsc_offset;
    return host ? host : 1;
}

static bool misc_enable_write(struct vcpu *v, uint64_t value)
{
    uint64_t cur = v->misc_enable_xor ^ GUEST_MISC_ENABLE_RESET;
    if (value & ~(GUEST_MISC_ENABLE_RW | GUEST_MISC_ENABLE_RO))
        return false;                        /* reserved bits: #GP */
    /* Read-only bits keep their value whatever is written. */
    uint64_t next = (value & GUEST_MISC_ENABLE_RW) | (cur & ~GUEST_MISC_ENABLE_RW);
    v->misc_enable_xor = next ^ GUEST_MISC_ENABLE_RESET;
    return true;
}

void handle_msr_read(struct vcpu *v, struct vm_exit *e)
{
    uint32_t msr = (uint32_t)v->regs.rcx;
    uint64_t value = 0;
    bool ok = true;
    if (!guest_msr_offered(msr)) {
        ok = false;
    } else if (msr == MSR_TSC_DEADLINE) {
        ok = vapic_read_msr(&v->apic, msr, &value) == TV_OK;
        if (value)
            value += v->tsc_offset;
    } else if (vapic_handles_msr(msr)) {
        ok = vapic_read_msr(&v->apic, msr, &value) == TV_OK;
    } else {
        struct guest_mode m;
        switch (msr) {
        case MSR_EFER:
            virt->get_mode(v, &m);
            value = m.efer;   /* SVME hidden; LMA as the hardware keeps it */
            break;
        case MSR_PAT: value = virt->get_pat(v); break;
        case MSR_TSC_AUX: value = v->tsc_aux; break;
        case GMSR_TSC: value = rdtsc() + v->tsc_offset; break;
        case GMSR_TSC_ADJUST: value = v->tsc_adjust; break;
        case GMSR_MISC_ENABLE: value = v->misc_enable_xor ^ GUEST_MISC_ENABLE_RESET; break;
        case GMSR_MCG_CAP: value = GUEST_MCG_CAP; break;
        case GMSR_MCG_STATUS: value = v->mcg_status; break;
        default:
            /* AMD PerfEvtSel0-3/PerfCtr0-3: read as zero (no PMU). */
            ok = msr >= GMSR_K7_PERF_FIRST && msr <= GMSR_K7_PERF_LAST;
            break;
        }
    }
    if (!ok) {
        inject_gp(v);
        return;
    }
    v->regs.rax = (uint32_t)value;
    v->regs.rdx = value >> 32;
    vcpu_advance_rip(v, e);
}

void handle_msr_write(struct vcpu *v, struct vm_exit *e)
{
    uint32_t msr = (uint32_t)v->regs.rcx;
    uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
    bool ok = true;
    if (!guest_msr_offered(msr)) {
        ok = false;
    } else if (vapic_handles_msr(msr)) {
        if (msr == MSR_TSC_DEADLINE)
            value = deadline_to_host(v, value);
        ok = vapic_write_msr(&v->apic, msr, value) == TV_OK;
        if (ok)
            vcpu_post_request(v, VCPU_REQ_KICK);
    } else {
        switch (msr) {
        case MSR_EFER:
            ok = efer_valid(value) && cr_efer_write_allowed(v, value);
            if (ok)
                virt->set_efer(v, value & ~EFER_LMA);
            break;
        case MSR_PAT:
            ok = pat_valid(value);
            if (ok)
                virt->set_pat(v, value);
            break;
        case MSR_TSC_AUX:
            ok = (value >> 32) == 0;
            if (ok)
                v->tsc_aux = value;
            break;
        case GMSR_TSC: write_tsc(v, value); break;
        case GMSR_TSC_ADJUST: write_tsc_adjust(v, value); break;
        case GMSR_MISC_ENABLE: ok = misc_enable_write(v, value); break;
        case GMSR_MCG_STATUS:
            ok = (value & ~GUEST_MCG_STATUS_BITS) == 0;
            if (ok)
                v->mcg_status = value;
            break;
        default:
            /* MCG_CAP is read-only; the AMD legacy counters ignore writes. */
            ok = msr >= GMSR_K7_PERF_FIRST && msr <= GMSR_K7_PERF_LAST;
            break;
        }
    }
    if (!ok) {
        inject_gp(v);
        return;
    }
    vcpu_advance_rip(v, e);
}
