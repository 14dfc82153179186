/* Intel VMX backend: one VMCS per vCPU (EPT, VPID, unrestricted guest),
 * its host state, the CR0/CR4 ownership masks and the 32-bit reset state. */
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_internal.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "vm/vcpu.h"
#include "services/vm_savefile.h"
#include "mm/mm.h"
#include "tv_string.h"

extern char vmx_exit_point[];   /* vmx_run.asm */

/* MSRs the hardware does not switch but guests may own: loaded on entry
 * and stored on exit through the VMCS MSR areas (SDM 24.7.2, 24.8.2).  The
 * host does not use them (no SYSCALL, no SWAPGS in the monitor). */
static const uint32_t switched_msrs[] = {
    MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
};
#define SWITCHED_COUNT (sizeof switched_msrs / sizeof switched_msrs[0])

struct vmx_msr_entry {
    uint32_t index, reserved;
    uint64_t value;
};

static uint64_t current_pa;        /* the current VMCS (one CPU), 0 when none */

bool vmw(struct vcpu *v, uint32_t field, uint64_t value)
{
    if (vmwrite_ok(field, value))
        return true;
    log_err("VMWRITE of field %#x failed: %s", field, vmx_insn_error_text((uint32_t)vmread(VMCS_VM_INSN_ERROR)));
    if (v)
        ((struct vmx_vcpu *)v->arch)->failed = true;
    return false;
}

/* The CR0/CR4 bits the guest may not own: VMX-fixed ones, PG/PE (mode
 * changes keep the IA-32e entry control in step) and CR4.VMXE. */
uint64_t cr0_mask(void)
{
    return ((vmx_caps.cr0_fixed0 | ~vmx_caps.cr0_fixed1) & 0xffffffffull) | CR0_PG | CR0_PE;
}
uint64_t cr4_mask(void)
{
    return ((vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1) & 0xffffffffull) | CR4_VMXE;
}
uint64_t real_cr0(uint64_t guest)
{
    /* Unrestricted guest frees PE and PG from CR0_FIXED0 (SDM 26.3.1.1). */
    uint64_t f0 = vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);
    return (guest | f0) & (vmx_caps.cr0_fixed1 | CR0_PE | CR0_PG);
}
uint64_t real_cr4(uint64_t guest) { return (guest | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1; }

static void write_host_state(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));
    vmw(v, VMCS_HOST_CR0, read_cr0());
    vmw(v, VMCS_HOST_CR3, read_cr3());
    vmw(v, VMCS_HOST_CR4, read_cr4());
    vmw(v, VMCS_HOST_CS_SEL, GDT_CODE);
    vmw(v, VMCS_HOST_SS_SEL, GDT_DATA);
    vmw(v, VMCS_HOST_DS_SEL, GDT_DATA);
    vmw(v, VMCS_HOST_ES_SEL, GDT_DATA);
    vmw(v, VMCS_HOST_FS_SEL, 0);
    vmw(v, VMCS_HOST_GS_SEL, 0);
    vmw(v, VMCS_HOST_TR_SEL, GDT_TSS);
    vmw(v, VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
    vmw(v, VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
    vmw(v, VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&cpu->tss);
    vmw(v, VMCS_HOST_GDTR_BASE, gdtr.base);
    vmw(v, VMCS_HOST_IDTR_BASE, idtr.base);
    vmw(v, VMCS_HOST_SYSENTER_CS, 0);
    vmw(v, VMCS_HOST_SYSENTER_ESP, 0);
    vmw(v, VMCS_HOST_SYSENTER_EIP, 0);
    vmw(v, VMCS_HOST_EFER, rdmsr(MSR_EFER));
    vmw(v, VMCS_HOST_PAT, rdmsr(MSR_PAT));
    vmw(v, VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_point);
}

tv_status_t vmx_vcpu_create(struct vcpu *v, uint64_t npt_root_pa, uint32_t asid)
{
    if (asid == 0 || asid > 0xffff)
        return TV_E_LIMIT;
    struct vmx_vcpu *x = kzalloc(sizeof *x);
    if (!x)
        return TV_E_NO_MEMORY;
    if (page_alloc(1, 1, &x->vmcs_pa) != TV_OK) {
        kfree(x);
        return TV_E_NO_MEMORY;
    }
    if (page_alloc(1, 1, &x->msr_area_pa) != TV_OK) {
        page_free(x->vmcs_pa, 1);
        kfree(x);
        return TV_E_NO_MEMORY;
    }
    struct vmx_msr_entry *area = phys_to_virt(x->msr_area_pa);
    for (unsigned i = 0; i < SWITCHED_COUNT; i++)
        area[i].index = switched_msrs[i];   /* values start at 0 */
    *(uint32_t *)phys_to_virt(x->vmcs_pa) = vmx_caps.revision;
    x->eptp = npt_root_pa | (3u << 3) | 6u;  /* 4-level walk, write-back */
    x->flush_ept = true;
    v->arch = x;
    current_pa = 0;
    if (!vmx_clear(&x->vmcs_pa) || !vmx_ptrld(&x->vmcs_pa)) {
        log_err("VMCLEAR/VMPTRLD of a new VMCS failed");
        page_free(x->msr_area_pa, 1);
        page_free(x->vmcs_pa, 1);
        kfree(x);
        v->arch = 0;
        return TV_E_UNSUPPORTED;
    }
    current_pa = x->vmcs_pa;
    struct vmx_caps *c = &vmx_caps;
    bool ok = vmw(v, VMCS_PIN_CTLS, c->pin) &&
              vmw(v, VMCS_PROC_CTLS, c->proc) &&
              vmw(v, VMCS_PROC_CTLS2, c->proc2) &&
              vmw(v, VMCS_EXIT_CTLS, c->exit) &&
              vmw(v, VMCS_ENTRY_CTLS, c->entry) &&
              /* #DB and #AC exit so that no delivery loop runs inside the
               * CPU without exits; common code reinjects them. */
              vmw(v, VMCS_EXCEPTION_BITMAP, (1u << 1) | (1u << 17)) &&
              vmw(v, VMCS_CR3_TARGET_COUNT, 0) &&
              vmw(v, VMCS_IO_BITMAP_A, io_bitmap_pa) &&
              vmw(v, VMCS_IO_BITMAP_B, io_bitmap_pa + PAGE_SIZE) &&
              vmw(v, VMCS_MSR_BITMAP, msr_bitmap_pa) &&
              vmw(v, VMCS_TSC_OFFSET, 0) &&
              vmw(v, VMCS_ENTRY_MSR_LOAD, x->msr_area_pa) &&
              vmw(v, VMCS_ENTRY_MSR_LOAD_COUNT, SWITCHED_COUNT) &&
              vmw(v, VMCS_EXIT_MSR_STORE, x->msr_area_pa) &&
              vmw(v, VMCS_EXIT_MSR_STORE_COUNT, SWITCHED_COUNT) &&
              vmw(v, VMCS_EXIT_MSR_LOAD_COUNT, 0) &&
              vmw(v, VMCS_EPTP, x->eptp) &&
              vmw(v, VMCS_VPID, asid) &&
              vmw(v, VMCS_LINK_POINTER, ~0ull) &&
              vmw(v, VMCS_CR0_MASK, cr0_mask()) &&
              vmw(v, VMCS_CR4_MASK, cr4_mask()) &&
              vmw(v, VMCS_GUEST_PAT, 0x0007040600070406ull) &&
              vmw(v, VMCS_GUEST_DEBUGCTL, 0) &&
              vmw(v, VMCS_ENTRY_INTR_INFO, 0);
    if (!ok) {
        vmx_clear(&x->vmcs_pa);
        current_pa = 0;
        page_free(x->msr_area_pa, 1);
        page_free(x->vmcs_pa, 1);
        kfree(x);
        v->arch = 0;
        return TV_E_UNSUPPORTED;
    }
    write_host_state(v);
    return TV_OK;
}

void vmx_vcpu_destroy(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    if (!x)
        return;
    vmx_clear(&x->vmcs_pa);
    if (current_pa == x->vmcs_pa)
        current_pa = 0;
    page_free(x->msr_area_pa, 1);
    page_free(x->vmcs_pa, 1);
    kfree(x);
    v->arch = 0;
}

/* The one VMCS current on this CPU is the running vCPU's (SDM 24.1). */
void load_vmcs(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    if (current_pa != x->vmcs_pa) {
        if (!vmx_ptrld(&x->vmcs_pa))
            x->failed = true;
        current_pa = x->vmcs_pa;
    }
}

static void set_seg(struct vcpu *v, unsigned i, uint16_t sel, uint32_t ar, uint32_t limit, uint64_t base)
{
    vmw(v, VMCS_GUEST_ES_SEL + 2 * i, sel);
    vmw(v, VMCS_GUEST_ES_AR + 2 * i, ar);
    vmw(v, VMCS_GUEST_ES_LIMIT + 2 * i, limit);
    vmw(v, VMCS_GUEST_ES_BASE + 2 * i, base);
}

void vmx_reset_pm32(struct vcpu *v)
{
    load_vmcs(v);
    /* Flat 32-bit segments; access rights in the VMCS form (SDM 24.4.1). */
    set_seg(v, VSEG_CS, 0x08, 0xc09b, 0xffffffffu, 0);
    for (unsigned i = 0; i < 6; i++)
        if (i != VSEG_CS)
            set_seg(v, i, 0x10, 0xc093, 0xffffffffu, 0);
    vmw(v, VMCS_GUEST_LDTR_SEL, 0);
    vmw(v, VMCS_GUEST_LDTR_AR, 0x10000);        /* unusable */
    vmw(v, VMCS_GUEST_LDTR_LIMIT, 0xffff);
    vmw(v, VMCS_GUEST_LDTR_BASE, 0);
    vmw(v, VMCS_GUEST_TR_SEL, 0);
    vmw(v, VMCS_GUEST_TR_AR, 0x8b);             /* busy 32-bit TSS */
    vmw(v, VMCS_GUEST_TR_LIMIT, 0xffff);
    vmw(v, VMCS_GUEST_TR_BASE, 0);
    vmw(v, VMCS_GUEST_GDTR_BASE, 0);
    vmw(v, VMCS_GUEST_GDTR_LIMIT, 0xffff);
    vmw(v, VMCS_GUEST_IDTR_BASE, 0);
    vmw(v, VMCS_GUEST_IDTR_LIMIT, 0xffff);
    uint64_t cr0 = CR0_PE | CR0_ET | CR0_NE;
    vmw(v, VMCS_CR0_SHADOW, cr0);
    vmw(v, VMCS_GUEST_CR0, real_cr0(cr0));
    vmw(v, VMCS_CR4_SHADOW, 0);
    vmw(v, VMCS_GUEST_CR4, real_cr4(0));
    vmw(v, VMCS_GUEST_CR3, 0);
    vmw(v, VMCS_GUEST_DR7, 0x400);
    vmw(v, VMCS_GUEST_SYSENTER_CS, 0);
    vmw(v, VMCS_GUEST_SYSENTER_ESP, 0);
    vmw(v, VMCS_GUEST_SYSENTER_EIP, 0);
    vmw(v, VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmw(v, VMCS_GUEST_ACTIVITY, 0);
    vmw(v, VMCS_GUEST_PENDING_DBG, 0);
    v->efer = 0;
    vmw(v, VMCS_GUEST_EFER, 0);
    vmw(v, VMCS_ENTRY_CTLS, vmx_caps.entry & ~ENTRY_IA32E);
    v->regs.rflags = 0x2;
}

/* Save / restore: the guest-state area (SDM 24.4) and the switched MSRs'
 * area, in the VMCS's own encodings (access rights with the unusable bit;
 * the pending event as VM-entry interruption information). */
static uint64_t *msr_slot(struct vcpu *v, uint32_t msr)
{
    struct vmx_msr_entry *area = phys_to_virt(((struct vmx_vcpu *)v->arch)->msr_area_pa);
    for (unsigned i = 0; i < SWITCHED_COUNT; i++)
        if (area[i].index == msr)
            return &area[i].value;
    return 0; /* never: every MSR asked for is switched */
}

static uint64_t msr_get(struct vcpu *v, uint32_t msr)
{
    uint64_t *p = msr_slot(v, msr);
    return p ? *p : 0;
}

static void msr_set(struct vcpu *v, uint32_t msr, uint64_t value)
{
    uint64_t *p = msr_slot(v, msr);
    if (p)
        *p = value;
}

/* SAVE_ES.. order is VMX's own segment order (ES CS SS DS FS GS LDTR TR). */
static const unsigned vseg[8] = { SAVE_ES, SAVE_CS, SAVE_SS, SAVE_DS, SAVE_FS, SAVE_GS,
                                  SAVE_LDTR, SAVE_TR };

void vmx_save_state(struct vcpu *v, struct save_vcpu *o)
{
    struct vmx_vcpu *x = v->arch;
    load_vmcs(v);
    for (unsigned i = 0; i < 8; i++) {
        struct save_seg *s = &o->seg[vseg[i]];
        s->sel = (uint16_t)vmread(VMCS_GUEST_ES_SEL + 2 * i);
        s->attr = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * i);
        s->limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2 * i);
        s->base = vmread(VMCS_GUEST_ES_BASE + 2 * i);
    }
    o->seg[SAVE_GDTR].limit = (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT);
    o->seg[SAVE_GDTR].base = vmread(VMCS_GUEST_GDTR_BASE);
    o->seg[SAVE_IDTR].limit = (uint32_t)vmread(VMCS_GUEST_IDTR_LIMIT);
    o->seg[SAVE_IDTR].base = vmread(VMCS_GUEST_IDTR_BASE);
    o->cpl = (o->seg[SAVE_SS].attr >> 5) & 3;  /* SS.DPL (SDM 24.4.1) */
    o->cr0 = guest_cr0();
    o->cr2 = x->cr2;
    o->cr3 = vmread(VMCS_GUEST_CR3);
    o->cr4 = guest_cr4();
    o->dr7 = vmread(VMCS_GUEST_DR7);
    o->dr6 = v->dr6;  /* live in the hardware register: fpu_vcpu_sync took it */
    o->efer = vmread(VMCS_GUEST_EFER);
    o->pat = vmread(VMCS_GUEST_PAT);
    o->debugctl = vmread(VMCS_GUEST_DEBUGCTL);
    o->sysenter_cs = vmread(VMCS_GUEST_SYSENTER_CS);
    o->sysenter_esp = vmread(VMCS_GUEST_SYSENTER_ESP);
    o->sysenter_eip = vmread(VMCS_GUEST_SYSENTER_EIP);
    o->star = msr_get(v, MSR_STAR);
    o->lstar = msr_get(v, MSR_LSTAR);
    o->cstar = msr_get(v, MSR_CSTAR);
    o->sfmask = msr_get(v, MSR_SFMASK);
    o->kernel_gs_base = msr_get(v, MSR_KERNEL_GS_BASE);
    for (unsigned i = 0; i < 4; i++)
        o->pdpte[i] = vmread(VMCS_GUEST_PDPTE0 + 2 * i);
    uint32_t info = (uint32_t)vmread(VMCS_ENTRY_INTR_INFO);
    if (info & INTR_INFO_VALID) {
        o->pending_event = info;
        if (info & INTR_INFO_ERROR_VALID)
            o->pending_event |= vmread(VMCS_ENTRY_EXC_ERROR) << 32;
        o->event_insn_len = (uint32_t)vmread(VMCS_ENTRY_INSN_LEN) & 0xf;
    }
    o->interruptibility = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY) & 0xf;
}

void vmx_load_state(struct vcpu *v, const struct save_vcpu *in)
{
    struct vmx_vcpu *x = v->arch;
    load_vmcs(v);
    for (unsigned i = 0; i < 8; i++) {
        const struct save_seg *s = &in->seg[vseg[i]];
        set_seg(v, i, s->sel, s->attr, s->limit, s->base);
    }
    vmw(v, VMCS_GUEST_GDTR_LIMIT, in->seg[SAVE_GDTR].limit);
    vmw(v, VMCS_GUEST_GDTR_BASE, in->seg[SAVE_GDTR].base);
    vmw(v, VMCS_GUEST_IDTR_LIMIT, in->seg[SAVE_IDTR].limit);
    vmw(v, VMCS_GUEST_IDTR_BASE, in->seg[SAVE_IDTR].base);
    vmw(v, VMCS_CR0_SHADOW, in->cr0);
    vmw(v, VMCS_GUEST_CR0, real_cr0(in->cr0));
    vmw(v, VMCS_CR4_SHADOW, in->cr4);
    vmw(v, VMCS_GUEST_CR4, real_cr4(in->cr4));
    vmw(v, VMCS_GUEST_CR3, in->cr3);
    x->cr2 = in->cr2;
    vmw(v, VMCS_GUEST_DR7, in->dr7);
    v->dr6 = in->dr6;
    vmw(v, VMCS_GUEST_PAT, in->pat);
    vmw(v, VMCS_GUEST_DEBUGCTL, in->debugctl);
    vmw(v, VMCS_GUEST_SYSENTER_CS, in->sysenter_cs);
    vmw(v, VMCS_GUEST_SYSENTER_ESP, in->sysenter_esp);
    vmw(v, VMCS_GUEST_SYSENTER_EIP, in->sysenter_eip);
    msr_set(v, MSR_STAR, in->star);
    msr_set(v, MSR_LSTAR, in->lstar);
    msr_set(v, MSR_CSTAR, in->cstar);
    msr_set(v, MSR_SFMASK, in->sfmask);
    msr_set(v, MSR_KERNEL_GS_BASE, in->kernel_gs_base);
    for (unsigned i = 0; i < 4; i++)
        vmw(v, VMCS_GUEST_PDPTE0 + 2 * i, in->pdpte[i]);
    /* EFER and the IA-32e entry control follow EFER.LME and CR0.PG. */
    v->efer = in->efer & ~EFER_LMA;
    sync_long_mode(v, in->cr0);
    if (in->pending_event & INTR_INFO_VALID) {
        vmw(v, VMCS_ENTRY_INTR_INFO, (uint32_t)in->pending_event);
        vmw(v, VMCS_ENTRY_EXC_ERROR, in->pending_event >> 32);
        vmw(v, VMCS_ENTRY_INSN_LEN, in->event_insn_len);
    } else {
        vmw(v, VMCS_ENTRY_INTR_INFO, 0);
    }
    vmw(v, VMCS_GUEST_INTERRUPTIBILITY, in->interruptibility);
    vmw(v, VMCS_GUEST_ACTIVITY, 0);
    vmw(v, VMCS_GUEST_PENDING_DBG, 0);
    x->flush_ept = true;
}
