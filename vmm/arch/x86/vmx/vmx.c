/* Intel VMX backend (Intel SDM vol. 3 ch. 23-29): detection from the
 * capability MSRs, VMXON, one VMCS per vCPU with EPT, VPID and unrestricted
 * guest, guest entry and the decoding of VM exits into struct vm_exit.
 * Control-register accesses are finished here (they are a VMX artefact of
 * the CR0/CR4 masks); everything else goes to common code. */
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_internal.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "kernel/log.h"
#include "vm/partition.h"
#include "kernel/percpu.h"
#include "vm/vcpu.h"
#include "mm/mm.h"
#include "mm/pagetable.h"
#include "tv_fmt.h"
#include "tv_string.h"

int vmx_enter(struct vcpu_regs *regs, uint64_t launched, uint64_t *guest_cr2);
extern char vmx_exit_point[];

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

struct vmx_vcpu {
    uint64_t vmcs_pa;
    uint64_t msr_area_pa;          /* SWITCHED_COUNT entries, guest values */
    uint64_t eptp;
    uint64_t cr2;
    bool launched;
    bool flush_ept;
    bool failed;                   /* a VMfail was reported: never enter again */
};

struct vmx_caps vmx_caps;
static uint64_t vmxon_pa;
static uint64_t io_bitmap_pa;      /* two pages: every port exits */
static uint64_t msr_bitmap_pa;     /* one page: the allow-list passes */
static uint64_t current_pa;        /* the current VMCS (one CPU), 0 when none */

#define CPUID1_ECX_VMX (1u << 5)

/* A control value from a capability MSR: allowed-0 bits (low word) must be
 * 1, allowed-1 bits (high word) may be 1 (SDM A.3-A.5). */
static uint32_t adjust(uint64_t cap, uint32_t want) { return (want | (uint32_t)cap) & (uint32_t)(cap >> 32); }

static bool wanted_survive(const char *what, uint64_t cap, uint32_t want, uint32_t *out,
                           char *why, size_t len)
{
    *out = adjust(cap, want);
    if ((*out & want) != want) {
        tv_snprintf(why, len, "the CPU refuses the %s controls %#x (allowed-1 %#x)", what,
                    want & ~*out, (uint32_t)(cap >> 32));
        return false;
    }
    return true;
}

static tv_status_t vmx_probe(char *why, size_t len)
{
    if (!(cpuid(1, 0).ecx & CPUID1_ECX_VMX)) {
        tv_snprintf(why, len, "the CPU does not offer Intel VMX (CPUID 1 ECX bit 5 clear)");
        return TV_E_UNSUPPORTED;
    }
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUT)) {
        tv_snprintf(why, len, "VMX is disabled by the firmware (IA32_FEATURE_CONTROL locked with "
                    "VMX off): enable virtualization (VT-x) in the BIOS setup");
        return TV_E_UNSUPPORTED;
    }
    struct vmx_caps *c = &vmx_caps;
    tv_memset(c, 0, sizeof *c);
    c->basic = rdmsr(MSR_VMX_BASIC);
    c->revision = (uint32_t)c->basic & 0x7fffffffu;
    c->vmcs_size = (uint32_t)(c->basic >> 32) & 0x1fff;
    if (c->vmcs_size == 0 || c->vmcs_size > PAGE_SIZE || ((c->basic >> 50) & 0xf) != 6) {
        tv_snprintf(why, len, "IA32_VMX_BASIC %#llx: VMCS size %u or memory type not write-back",
                    (unsigned long long)c->basic, c->vmcs_size);
        return TV_E_UNSUPPORTED;
    }
    bool true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
    uint64_t pin_cap = rdmsr(true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED);
    uint64_t proc_cap = rdmsr(true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
    uint64_t exit_cap = rdmsr(true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT);
    uint64_t entry_cap = rdmsr(true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY);
    if (!((proc_cap >> 32) & PROC_SECONDARY)) {
        tv_snprintf(why, len, "VMX without secondary controls: no EPT");
        return TV_E_UNSUPPORTED;
    }
    uint64_t proc2_cap = rdmsr(MSR_VMX_PROCBASED2);
    uint32_t want2 = PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED;
    if (((proc2_cap >> 32) & want2) != want2) {
        uint32_t missing = want2 & ~(uint32_t)(proc2_cap >> 32);
        tv_snprintf(why, len, "VMX without %s%s%s%s%s (IA32_VMX_PROCBASED_CTLS2 %#llx)",
                    (missing & PROC2_EPT) ? "EPT" : "",
                    (missing & PROC2_EPT) && (missing & ~PROC2_EPT) ? ", " : "",
                    (missing & PROC2_VPID) ? "VPID" : "",
                    (missing & PROC2_VPID) && (missing & PROC2_UNRESTRICTED) ? ", " : "",
                    (missing & PROC2_UNRESTRICTED) ? "unrestricted guest" : "",
                    (unsigned long long)proc2_cap);
        return TV_E_UNSUPPORTED;
    }
    c->ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
    uint64_t need_ept = EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_INVEPT;
    if ((c->ept_vpid & need_ept) != need_ept ||
        !(c->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
        tv_snprintf(why, len, "EPT lacks 4-level walks, write-back, 2 MiB pages or INVEPT "
                    "(IA32_VMX_EPT_VPID_CAP %#llx)", (unsigned long long)c->ept_vpid);
        return TV_E_UNSUPPORTED;
    }
    /* Guest-owned: CPUID, HLT, I/O, MSRs exit; CR3 accesses do not (EPT). */
    uint32_t want_proc = PROC_HLT | PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY |
                         PROC_TSC_OFFSET;
    uint32_t want2_all = want2 | ((uint32_t)(proc2_cap >> 32) & (PROC2_RDTSCP | PROC2_INVPCID |
                                                               PROC2_XSAVES));
    if (!wanted_survive("pin-based", pin_cap, PIN_EXT_INTR | PIN_NMI, &c->pin, why, len) ||
        !wanted_survive("processor-based", proc_cap, want_proc, &c->proc, why, len) ||
        !wanted_survive("secondary", proc2_cap, want2_all, &c->proc2, why, len) ||
        !wanted_survive("VM-exit", exit_cap, EXIT_HOST_64 | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
                        EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_DEBUG, &c->exit, why, len) ||
        !wanted_survive("VM-entry", entry_cap, ENTRY_LOAD_PAT | ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG,
                        &c->entry, why, len))
        return TV_E_UNSUPPORTED;
    /* Interrupt-window exiting is switched on and off per entry. */
    if (!((proc_cap >> 32) & PROC_INTR_WINDOW)) {
        tv_snprintf(why, len, "VMX without interrupt-window exiting");
        return TV_E_UNSUPPORTED;
    }
    /* Without the TRUE MSRs CR3 exits may be forced on: handle_cr_access
     * serves them. */
    c->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
    c->inout_info = c->basic & VMX_BASIC_INOUT_INFO;
    return TV_OK;
}

static void msr_bitmap_allow(uint8_t *bm, uint32_t msr)
{
    uint32_t off;
    if (msr <= 0x1fff) off = 0;
    else if (msr >= 0xc0000000u && msr <= 0xc0001fffu) { off = 0x400; msr -= 0xc0000000u; }
    else return;
    bm[off + msr / 8] &= (uint8_t)~(1u << (msr % 8));          /* reads */
    bm[0x800 + off + msr / 8] &= (uint8_t)~(1u << (msr % 8));  /* writes */
}

static tv_status_t vmx_cpu_enable(void)
{
    struct vmx_caps *c = &vmx_caps;
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK))
        wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUT);
    /* CR0/CR4 bits VMX operation fixes (SDM A.7, A.8). */
    uint64_t cr0 = (read_cr0() | c->cr0_fixed0) & c->cr0_fixed1;
    uint64_t cr4 = (read_cr4() | c->cr4_fixed0 | CR4_VMXE) & c->cr4_fixed1;
    write_cr0(cr0);
    write_cr4(cr4);
    tv_status_t st;
    if ((st = page_alloc(1, 1, &vmxon_pa)) != TV_OK)
        return st;
    *(uint32_t *)phys_to_virt(vmxon_pa) = c->revision;
    if (!vmx_on(&vmxon_pa)) {
        log_err("VMXON failed (CR0 %#llx CR4 %#llx, IA32_FEATURE_CONTROL %#llx)",
                (unsigned long long)read_cr0(), (unsigned long long)read_cr4(),
                (unsigned long long)rdmsr(MSR_FEATURE_CONTROL));
        return TV_E_UNSUPPORTED;
    }
    if ((st = page_alloc(2, 1, &io_bitmap_pa)) != TV_OK)
        return st;
    tv_memset(phys_to_virt(io_bitmap_pa), 0xff, 2 * PAGE_SIZE);
    if ((st = page_alloc(1, 1, &msr_bitmap_pa)) != TV_OK)
        return st;
    uint8_t *bm = phys_to_virt(msr_bitmap_pa);
    tv_memset(bm, 0xff, PAGE_SIZE);
    static const uint32_t pass[] = {
        MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
        MSR_SFMASK, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
    };
    for (unsigned i = 0; i < sizeof pass / sizeof pass[0]; i++)
        msr_bitmap_allow(bm, pass[i]);
    log_info("VMX enabled: VMCS revision %#x, controls pin %#x proc %#x/%#x exit %#x entry %#x%s",
             c->revision, c->pin, c->proc, c->proc2, c->exit, c->entry,
             (c->basic & VMX_BASIC_TRUE_CTLS) ? " (TRUE capability MSRs)" : "");
    return TV_OK;
}

static bool vmw(struct vcpu *v, uint32_t field, uint64_t value)
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
static uint64_t cr0_mask(void)
{
    return ((vmx_caps.cr0_fixed0 | ~vmx_caps.cr0_fixed1) & 0xffffffffull) | CR0_PG | CR0_PE;
}
static uint64_t cr4_mask(void)
{
    return ((vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1) & 0xffffffffull) | CR4_VMXE;
}
static uint64_t real_cr0(uint64_t guest)
{
    /* Unrestricted guest frees PE and PG from CR0_FIXED0 (SDM 26.3.1.1). */
    uint64_t f0 = vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);
    return (guest | f0) & (vmx_caps.cr0_fixed1 | CR0_PE | CR0_PG);
}
static uint64_t real_cr4(uint64_t guest) { return (guest | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1; }

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

static tv_status_t vmx_vcpu_create(struct vcpu *v, uint64_t npt_root_pa, uint32_t asid)
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
              vmw(v, VMCS_EXCEPTION_BITMAP, 0) &&
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

static void vmx_vcpu_destroy(struct vcpu *v)
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
static void load_vmcs(struct vcpu *v)
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

static void vmx_reset_pm32(struct vcpu *v)
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

static uint64_t *gpr_slot(struct vcpu *v, unsigned n)
{
    struct vcpu_regs *r = &v->regs;
    uint64_t *const slots[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi,
                                  &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
                                  &r->r14, &r->r15 };
    return slots[n & 15];
}

/* Long mode follows EFER.LME and CR0.PG (SDM vol. 3 9.8.5); the IA-32e
 * entry control must match EFER.LMA on every entry (SDM 26.3.1.1). */
static void sync_long_mode(struct vcpu *v, uint64_t guest_cr0)
{
    bool lma = (v->efer & EFER_LME) && (guest_cr0 & CR0_PG);
    uint64_t efer = (v->efer & ~EFER_LMA) | (lma ? EFER_LMA : 0);
    vmw(v, VMCS_GUEST_EFER, efer);
    uint64_t entry = vmread(VMCS_ENTRY_CTLS);
    vmw(v, VMCS_ENTRY_CTLS, lma ? (entry | ENTRY_IA32E) : (entry & ~ENTRY_IA32E));
}

static void inject_gp0(struct vcpu *v);

/* PAE paging outside long mode: with EPT the CPU takes the four PDPTEs from
 * the VMCS on entry, so a paging change we emulate loads them as MOV CR0/CR4
 * would (SDM 4.4.1, 26.3.2.4).  False when they lie outside guest RAM. */
static bool load_pdptes(struct vcpu *v, uint64_t cr0, uint64_t cr4)
{
    if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (v->efer & EFER_LME))
        return true;
    uint64_t pdpte[4];
    if (guest_read(v->part, vmread(VMCS_GUEST_CR3) & 0xffffffe0ull, pdpte, sizeof pdpte) != TV_OK)
        return false;
    for (unsigned i = 0; i < 4; i++)
        vmw(v, VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
    return true;
}

/* The guest's view: its own bits where it owns them, the shadow elsewhere. */
static uint64_t guest_cr0(void)
{
    return (vmread(VMCS_GUEST_CR0) & ~cr0_mask()) | (vmread(VMCS_CR0_SHADOW) & cr0_mask());
}
static uint64_t guest_cr4(void)
{
    return (vmread(VMCS_GUEST_CR4) & ~cr4_mask()) | (vmread(VMCS_CR4_SHADOW) & cr4_mask());
}

/* MOV to CR0/CR4 touching a masked bit, CLTS, LMSW (SDM 27.1.3, table 28-3). */
static bool handle_cr_access(struct vcpu *v, uint64_t q, unsigned insn_len)
{
    unsigned cr = q & 15, type = (q >> 4) & 3, gpr = (q >> 8) & 15;
    uint64_t cr0 = guest_cr0();
    uint64_t value;
    if (type == 1) {                               /* MOV from CR (CR3 without TRUE MSRs) */
        if (cr != 3)
            return false;
        *gpr_slot(v, gpr) = vmread(VMCS_GUEST_CR3);
        v->regs.rip += insn_len;
        return true;
    }
    if (type == 2) {                               /* CLTS */
        value = cr0 & ~CR0_TS;
        cr = 0;
    } else if (type == 3) {                        /* LMSW: low 4 bits, PE cannot clear */
        uint64_t src = (q >> 16) & 0xf;
        value = (cr0 & ~0xeull) | (src & 0xe) | ((cr0 | src) & 1);
        cr = 0;
    } else {
        value = *gpr_slot(v, gpr);
        if (!(vmread(VMCS_ENTRY_CTLS) & ENTRY_IA32E))
            value &= 0xffffffffull;
    }
    if (cr == 0) {
        if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) ||
            ((value & CR0_NW) && !(value & CR0_CD))) {
            inject_gp0(v);
            return true;
        }
        uint64_t cr4 = guest_cr4();
        if ((value & CR0_PG) && !(cr0 & CR0_PG) && (v->efer & EFER_LME) && !(cr4 & CR4_PAE)) {
            inject_gp0(v);
            return true;
        }
        if (!load_pdptes(v, value, cr4)) {
            inject_gp0(v);
            return true;
        }
        vmw(v, VMCS_CR0_SHADOW, value);
        vmw(v, VMCS_GUEST_CR0, real_cr0(value));
        sync_long_mode(v, value);
    } else if (cr == 4) {
        /* The guest may not set what VMX forbids, nor VMXE (not offered). */
        uint64_t allowed = vmx_caps.cr4_fixed1 & ~CR4_VMXE;
        if ((value & ~allowed) || !load_pdptes(v, cr0, value)) {
            inject_gp0(v);
            return true;
        }
        vmw(v, VMCS_CR4_SHADOW, value);
        vmw(v, VMCS_GUEST_CR4, real_cr4(value));
    } else if (cr == 3) {
        vmw(v, VMCS_GUEST_CR3, value);
    } else {
        return false;
    }
    v->regs.rip += insn_len;
    virt->clear_interrupt_shadow(v);
    return true;
}

static void decode_exit(struct vcpu *v, uint32_t reason, struct vm_exit *e)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    uint64_t len = vmread(VMCS_EXIT_INSN_LEN);
    tv_memset(e, 0, sizeof *e);
    e->raw_code = reason;
    e->info1 = q;
    if (reason & VMX_EXIT_ENTRY_FAILURE) {
        e->reason = EXIT_ENTRY_FAILED;
        vmx_report_entry_failure(v, reason, q);
        return;
    }
    switch (reason & 0xffff) {
    case VMX_EXIT_CPUID: e->reason = EXIT_CPUID; break;
    case VMX_EXIT_RDMSR: e->reason = EXIT_MSR_READ; break;
    case VMX_EXIT_WRMSR: e->reason = EXIT_MSR_WRITE; break;
    case VMX_EXIT_HLT: e->reason = EXIT_HLT; break;
    case VMX_EXIT_VMCALL: e->reason = EXIT_HYPERCALL; break;
    case VMX_EXIT_TRIPLE_FAULT: e->reason = EXIT_SHUTDOWN; break;
    case VMX_EXIT_EXTERNAL_INTR: case VMX_EXIT_INIT: case VMX_EXIT_SIPI:
    case VMX_EXIT_SMI: case VMX_EXIT_OTHER_SMI:
        e->reason = EXIT_EXTERNAL_INTERRUPT;
        break;
    case VMX_EXIT_EXCEPTION_NMI:
        /* Only NMIs exit here (the exception bitmap is empty): the host
         * takes it as its own NMI. */
        e->reason = EXIT_EXTERNAL_INTERRUPT;
        if ((vmread(VMCS_EXIT_INTR_INFO) & 0x700) == INTR_TYPE_NMI)
            __asm__ volatile("int $2");
        break;
    case VMX_EXIT_INTR_WINDOW: e->reason = EXIT_INTERRUPT_WINDOW; break;
    case VMX_EXIT_XSETBV: e->reason = EXIT_XSETBV; break;
    case VMX_EXIT_GETSEC: case VMX_EXIT_VMCLEAR: case VMX_EXIT_VMLAUNCH: case VMX_EXIT_VMPTRLD:
    case VMX_EXIT_VMPTRST: case VMX_EXIT_VMREAD: case VMX_EXIT_VMRESUME: case VMX_EXIT_VMWRITE:
    case VMX_EXIT_VMXOFF: case VMX_EXIT_VMXON: case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID:
    case VMX_EXIT_VMFUNC:
        e->reason = EXIT_VIRT_INSTRUCTION;
        break;
    case VMX_EXIT_IO: {
        /* Qualification (SDM table 28-5): size-1 in 2:0, IN bit 3, string
         * bit 4, REP bit 5, port 31:16. */
        e->reason = EXIT_IO;
        e->io.size = (uint8_t)((q & 7) + 1);
        e->io.in = (q >> 3) & 1;
        e->io.string = (q >> 4) & 1;
        e->io.rep = (q >> 5) & 1;
        e->io.port = (uint16_t)(q >> 16);
        e->io.segment = 3;                       /* DS unless the CPU says */
        struct guest_mode m;
        virt->get_mode(v, &m);
        e->io.addr_size = m.cs_long ? 8 : m.cs_db ? 4 : 2;
        if (e->io.string && vmx_caps.inout_info) {
            uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSN_INFO);
            unsigned as = (info >> 7) & 7;
            e->io.addr_size = as == 0 ? 2 : as == 1 ? 4 : 8;
            e->io.segment = (uint8_t)((info >> 15) & 7);
        }
        break;
    }
    case VMX_EXIT_EPT_VIOLATION:
        /* Qualification bits 0-2: the access was a read, write, fetch. */
        e->reason = EXIT_NESTED_PAGE_FAULT;
        e->npf.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
        e->npf.error = q;
        e->npf.write = (q >> 1) & 1;
        e->npf.fetch = (q >> 2) & 1;
        e->info2 = e->npf.gpa;
        break;
    case VMX_EXIT_EPT_MISCONFIG:
        /* Our own tables are wrong: say so, and stop the guest. */
        e->reason = EXIT_UNKNOWN;
        e->info2 = vmread(VMCS_GUEST_PHYS_ADDR);
        log_msg(TV_LOG_WARN, v->part->name, "EPT misconfiguration at guest-physical %#llx "
                "(a monitor bug in the EPT entries)", (unsigned long long)e->info2);
        break;
    default:
        e->reason = EXIT_UNKNOWN;
        break;
    }
    e->next_rip = v->regs.rip + len;
}

static void vmx_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
    struct vmx_vcpu *x = v->arch;
    load_vmcs(v);
    for (;;) {
        if (x->failed) {
            tv_memset(exit, 0, sizeof *exit);
            exit->reason = EXIT_ENTRY_FAILED;
            exit->raw_code = VMX_EXIT_ENTRY_FAILURE;
            return;
        }
        vmw(v, VMCS_GUEST_RSP, v->regs.rsp);
        vmw(v, VMCS_GUEST_RIP, v->regs.rip);
        vmw(v, VMCS_GUEST_RFLAGS, v->regs.rflags);
        if (x->flush_ept) {
            /* INVEPT after EPT changes (SDM 28.4.3.1). */
            bool single = vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE;
            invept(single ? 1 : 2, x->eptp);
            x->flush_ept = false;
        }
        vmx_test_fault(v);
        /* Interrupts stay off: an external interrupt exits the guest
         * (pin-based control) and is taken by the host after the exit. */
        int rc = vmx_enter(&v->regs, x->launched, &x->cr2);
        if (rc != 0) {
            uint32_t err = rc == 2 ? (uint32_t)vmread(VMCS_VM_INSN_ERROR) : 0;
            log_msg(TV_LOG_WARN, v->part->name, "%s failed: %s", x->launched ? "VMRESUME" : "VMLAUNCH",
                    rc == 2 ? vmx_insn_error_text(err) : "VMfailInvalid: no current VMCS");
            x->failed = true;
            tv_memset(exit, 0, sizeof *exit);
            exit->reason = EXIT_ENTRY_FAILED;
            exit->raw_code = VMX_EXIT_ENTRY_FAILURE;
            exit->info1 = err;
            return;
        }
        uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
        if (!(reason & VMX_EXIT_ENTRY_FAILURE))
            x->launched = true;
        v->regs.rsp = vmread(VMCS_GUEST_RSP);
        v->regs.rip = vmread(VMCS_GUEST_RIP);
        v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
        /* An event cut short by this exit goes back in (SDM 27.2.4, 26.6). */
        uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
        if ((idt & INTR_INFO_VALID) && !(reason & VMX_EXIT_ENTRY_FAILURE)) {
            vmw(v, VMCS_ENTRY_INTR_INFO, idt & ~(1u << 12));
            if (idt & INTR_INFO_ERROR_VALID)
                vmw(v, VMCS_ENTRY_EXC_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
            vmw(v, VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
        }
        if ((reason & 0xffff) == VMX_EXIT_CR && !(reason & VMX_EXIT_ENTRY_FAILURE) &&
            handle_cr_access(v, vmread(VMCS_EXIT_QUALIFICATION), (unsigned)vmread(VMCS_EXIT_INSN_LEN)))
            continue;
        if ((reason & 0xffff) == VMX_EXIT_INVD || (reason & 0xffff) == VMX_EXIT_WBINVD) {
            v->regs.rip += vmread(VMCS_EXIT_INSN_LEN);   /* caches are coherent: nothing to do */
            continue;
        }
        decode_exit(v, reason, exit);
        return;
    }
}

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

static void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    load_vmcs(v);
    uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXC | vector;
    /* No error code in real mode (SDM 26.2.1.3). */
    if (has_error && (vmread(VMCS_CR0_SHADOW) & CR0_PE)) {
        info |= INTR_INFO_ERROR_VALID;
        vmw(v, VMCS_ENTRY_EXC_ERROR, error);
    }
    vmw(v, VMCS_ENTRY_INTR_INFO, info);
}

static void inject_gp0(struct vcpu *v) { vmx_inject_exception(v, 13, true, 0); }

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

const struct virt_ops vmx_ops = {
    .name = "Intel VMX",
    .probe = vmx_probe,
    .cpu_enable = vmx_cpu_enable,
    .vcpu_create = vmx_vcpu_create,
    .vcpu_destroy = vmx_vcpu_destroy,
    .vcpu_reset_pm32 = vmx_reset_pm32,
    .vcpu_run = vmx_vcpu_run,
    .get_mode = vmx_get_mode,
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
    .npt_format = &pt_format_ept,
    .npt_perms = PT_READ | PT_WRITE | PT_EXEC,
    .npt_flush = vmx_npt_flush,
};
