/* Intel VMX backend: small accessors (mode, EFER, PAT), event injection
 * and interrupt windows, and the ops table. */
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_internal.h"
#include "arch/x86/cpu.h"
#include "vm/vcpu.h"
#include "services/vm_savefile.h"
#include "mm/pagetable.h"

static void vmx_get_mode(struct vcpu *v, struct guest_mode *m)
{
    load_vmcs(v);
    m->cr0 = guest_cr0();
    m->cr3 = vmread(VMCS_GUEST_CR3);
    m->cr4 = guest_cr4();
    m->efer = vmread(VMCS_GUEST_EFER);
    uint32_t ss_ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * VSEG_SS);
    uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * VSEG_CS);
    m->cpl = (ss_ar >> 5) & 3;                 /* CPL is SS.DPL (SDM 24.4.1) */
    m->cs_long = (cs_ar >> 13) & 1;
    m->cs_db = (cs_ar >> 14) & 1;
    m->cs_base = vmread(VMCS_GUEST_ES_BASE + 2 * VSEG_CS);
    m->ss_base = vmread(VMCS_GUEST_ES_BASE + 2 * VSEG_SS);
    m->ds_base = vmread(VMCS_GUEST_ES_BASE + 2 * VSEG_DS);
    m->es_base = vmread(VMCS_GUEST_ES_BASE + 2 * VSEG_ES);
    m->fs_base = vmread(VMCS_GUEST_ES_BASE + 2 * VSEG_FS);
    m->gs_base = vmread(VMCS_GUEST_ES_BASE + 2 * VSEG_GS);
}

static void vmx_set_efer(struct vcpu *v, uint64_t efer)
{
    load_vmcs(v);
    v->efer = efer & ~EFER_LMA;
    sync_long_mode(v, guest_cr0());
}

static uint64_t vmx_get_pat(struct vcpu *v) { load_vmcs(v); return vmread(VMCS_GUEST_PAT); }
static void vmx_set_pat(struct vcpu *v, uint64_t pat) { load_vmcs(v); vmw(v, VMCS_GUEST_PAT, pat); }
/* "Use TSC offsetting" is on: RDTSC/RDTSCP return TSC + offset (SDM 25.3). */
static void vmx_set_tsc_offset(struct vcpu *v, uint64_t off) { load_vmcs(v); vmw(v, VMCS_TSC_OFFSET, off); }

void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    load_vmcs(v);
    uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXC | vector;
    if (exception_is_fault(vector))
        v->regs.rflags |= RFLAGS_RF;
    /* No error code in real mode (SDM 26.2.1.3). */
    if (has_error && (vmread(VMCS_CR0_SHADOW) & CR0_PE)) {
        info |= INTR_INFO_ERROR_VALID;
        vmw(v, VMCS_ENTRY_EXC_ERROR, error);
    }
    vmw(v, VMCS_ENTRY_INTR_INFO, info);
}


static unsigned vmx_get_cpl(struct vcpu *v, bool *long_code)
{
    load_vmcs(v);
    uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * VSEG_CS);
    *long_code = (vmread(VMCS_GUEST_EFER) & EFER_LMA) && ((cs_ar >> 13) & 1);
    return ((uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * VSEG_SS) >> 5) & 3;   /* SS.DPL */
}

static bool vmx_event_pending(struct vcpu *v)
{
    load_vmcs(v);
    return vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID;
}

static bool vmx_can_inject_interrupt(struct vcpu *v)
{
    load_vmcs(v);
    return (v->regs.rflags & (1u << 9)) && !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & 3) &&
           !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

static void vmx_inject_interrupt(struct vcpu *v, uint8_t vector)
{
    load_vmcs(v);
    vmw(v, VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT | vector);
}

static bool vmx_can_inject_nmi(struct vcpu *v)
{
    /* Blocking by MOV SS (bit 1) or by NMI (bit 3, SDM 24.4.2). */
    load_vmcs(v);
    return !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & ((1u << 1) | (1u << 3))) &&
           !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

static void vmx_inject_nmi(struct vcpu *v)
{
    load_vmcs(v);
    vmw(v, VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | 2);
}

static void vmx_request_interrupt_window(struct vcpu *v, bool on)
{
    load_vmcs(v);
    uint64_t proc = vmread(VMCS_PROC_CTLS);
    uint64_t want = on ? (proc | PROC_INTR_WINDOW) : (proc & ~(uint64_t)PROC_INTR_WINDOW);
    if (want != proc)
        vmw(v, VMCS_PROC_CTLS, want);
}

static void vmx_clear_interrupt_shadow(struct vcpu *v)
{
    load_vmcs(v);
    uint64_t s = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (s & 3)
        vmw(v, VMCS_GUEST_INTERRUPTIBILITY, s & ~3ull);
}

static void vmx_npt_flush(struct vcpu *v)
{
    ((struct vmx_vcpu *)v->arch)->flush_ept = true;
}

/* The guest's DR6 is the hardware register while this vCPU owns the CPU
 * (fpu_switch_to): VMX has no DR6 field. */
static uint64_t vmx_get_dr6(struct vcpu *v) { (void)v; return read_dr(6); }
static void vmx_set_dr6(struct vcpu *v, uint64_t dr6) { (void)v; write_dr(6, dr6); }

const struct virt_ops vmx_ops = {
    .name = "Intel VMX",
    .probe = vmx_probe,
    .cpu_enable = vmx_cpu_enable,
    .vcpu_create = vmx_vcpu_create,
    .vcpu_destroy = vmx_vcpu_destroy,
    .vcpu_reset_pm32 = vmx_reset_pm32,
    .vcpu_run = vmx_vcpu_run,
    .get_mode = vmx_get_mode,
    .get_cpl = vmx_get_cpl,
    .set_efer = vmx_set_efer,
    .get_pat = vmx_get_pat,
    .set_pat = vmx_set_pat,
    .set_tsc_offset = vmx_set_tsc_offset,
    .inject_exception = vmx_inject_exception,
    .can_inject_interrupt = vmx_can_inject_interrupt,
    .event_pending = vmx_event_pending,
    .inject_interrupt = vmx_inject_interrupt,
    .request_interrupt_window = vmx_request_interrupt_window,
    .clear_interrupt_shadow = vmx_clear_interrupt_shadow,
    .can_inject_nmi = vmx_can_inject_nmi,
    .inject_nmi = vmx_inject_nmi,
    .set_cr = vmx_set_cr,
    .guest_dr6_in_hw = true,
    .get_dr6 = vmx_get_dr6,
    .set_dr6 = vmx_set_dr6,
    .npt_format = &pt_format_ept,
    .npt_perms = PT_READ | PT_WRITE | PT_EXEC,
    .npt_flush = vmx_npt_flush,
    .save_state = vmx_save_state,
    .load_state = vmx_load_state,
    .save_vendor = SAVE_VENDOR_VMX,
};
