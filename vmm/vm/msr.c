/* Guest MSR accesses that reach us (the rest pass through the permission
 * map: FS/GS/kernel-GS base, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*, which
 * VMLOAD/VMSAVE switch).  Anything outside the allow-list gets #GP. */
#include "arch/x86/cpu.h"
#include "vm/exit.h"

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

void handle_msr_read(struct vcpu *v, struct vm_exit *e)
{
    uint32_t msr = (uint32_t)v->regs.rcx;
    uint64_t value = 0;
    bool ok = true;
    if (vapic_handles_msr(msr)) {
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
        default: ok = false; break;
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
    if (vapic_handles_msr(msr)) {
        ok = vapic_write_msr(&v->apic, msr, value) == TV_OK;
        if (ok)
            vcpu_post_request(v, VCPU_REQ_KICK);
    } else {
        switch (msr) {
        case MSR_EFER:
            ok = efer_valid(value);
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
        default: ok = false; break;
        }
    }
    if (!ok) {
        inject_gp(v);
        return;
    }
    vcpu_advance_rip(v, e);
}
