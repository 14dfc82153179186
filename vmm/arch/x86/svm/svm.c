/* AMD SVM backend (AMD APM vol. 2 ch. 15): detection, the VMCB, guest
 * entry and the decoding of #VMEXIT codes into struct vm_exit. */
#include "arch/x86/svm/vmcb.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "vm/vcpu.h"
#include "services/vm_savefile.h"
#include "vm/exit.h"
#include "kernel/timer.h"
#include "mm/mm.h"
#include "mm/pagetable.h"
#include "tv_fmt.h"
#include "tv_string.h"

void svm_vmrun(uint64_t vmcb_pa, struct vcpu_regs *regs, uint64_t host_save_pa);
void svm_clgi(void);
void svm_stgi(void);

struct svm_vcpu {
    uint8_t *vmcb;
    uint64_t vmcb_pa;
    bool first_run;
};

static bool has_nrips;
static bool has_flush_by_asid;
static bool has_decode_assists;
static uint64_t cr4_supported;   /* CR4 bits this CPU implements (never VMXE/SMXE) */
static uint32_t max_asid;
static uint64_t iopm_pa;     /* shared: every port intercepted */
static uint64_t msrpm_pa;    /* shared: the MSR allow-list */

#define CPUID_SVM_BIT (1u << 2)   /* 0x80000001 ECX */
#define SVM_FEAT_NP    (1u << 0)  /* 0x8000000A EDX */
#define SVM_FEAT_NRIPS (1u << 3)
#define SVM_FEAT_FLUSHBYASID (1u << 6)
#define SVM_FEAT_DECODE_ASSISTS (1u << 7)
#define VM_CR_SVMDIS (1ull << 4)

static tv_status_t svm_probe(char *why, size_t len)
{
    struct cpuid_regs r = cpuid(0x80000000, 0);
    if (r.eax < 0x8000000a || !(cpuid(0x80000001, 0).ecx & CPUID_SVM_BIT)) {
        tv_snprintf(why, len, "the CPU does not offer AMD SVM (CPUID 8000_0001h ECX bit 2 clear)");
        return TV_E_UNSUPPORTED;
    }
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
        tv_snprintf(why, len, "SVM is disabled by the firmware (VM_CR.SVMDIS set): enable it in the BIOS setup");
        return TV_E_UNSUPPORTED;
    }
    struct cpuid_regs f = cpuid(0x8000000a, 0);
    if (!(f.edx & SVM_FEAT_NP)) {
        tv_snprintf(why, len, "the CPU offers SVM without nested paging (CPUID 8000_000Ah EDX bit 0 clear)");
        return TV_E_UNSUPPORTED;
    }
    has_nrips = f.edx & SVM_FEAT_NRIPS;
    has_flush_by_asid = f.edx & SVM_FEAT_FLUSHBYASID;
    has_decode_assists = f.edx & SVM_FEAT_DECODE_ASSISTS;
    /* VME..OSXMMEXCPT always; the rest as CPUID says (APM 3.1.3). */
    struct cpuid_regs l1 = cpuid(1, 0), l7 = { 0, 0, 0, 0 };
    if (cpuid(0, 0).eax >= 7)
        l7 = cpuid(7, 0);
    cr4_supported = 0x7ff;
    if (l7.ecx & (1u << 2)) cr4_supported |= 1ull << 11;    /* UMIP */
    if (l7.ebx & (1u << 0)) cr4_supported |= 1ull << 16;    /* FSGSBASE */
    if (l1.ecx & (1u << 17)) cr4_supported |= 1ull << 17;   /* PCIDE */
    if (l1.ecx & (1u << 26)) cr4_supported |= 1ull << 18;   /* OSXSAVE */
    if (l7.ebx & (1u << 7)) cr4_supported |= 1ull << 20;    /* SMEP */
    if (l7.ebx & (1u << 20)) cr4_supported |= 1ull << 21;   /* SMAP */
    if (l7.ecx & (1u << 3)) cr4_supported |= 1ull << 22;    /* PKE */
    max_asid = f.ebx;
    if (max_asid < 2) {
        tv_snprintf(why, len, "SVM reports %u ASIDs; at least 2 are needed", max_asid);
        return TV_E_UNSUPPORTED;
    }
    return TV_OK;
}

static void msrpm_allow(uint8_t *pm, uint32_t msr)
{
    uint32_t base;
    if (msr <= 0x1fff) base = 0;
    else if (msr >= 0xc0000000u && msr <= 0xc0001fffu) { base = 0x800; msr -= 0xc0000000u; }
    else if (msr >= 0xc0010000u && msr <= 0xc0011fffu) { base = 0x1000; msr -= 0xc0010000u; }
    else return;
    uint32_t bit = msr * 2;
    pm[base + bit / 8] &= (uint8_t)~(3u << (bit % 8)); /* read and write pass */
}

static tv_status_t svm_cpu_enable(void)
{
    struct percpu *cpu = this_cpu();
    tv_status_t st;
    if ((st = page_alloc(1, 1, &cpu->hsave_pa)) != TV_OK ||
        (st = page_alloc(1, 1, &cpu->host_vmcb_pa)) != TV_OK)
        return st;
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, cpu->hsave_pa);

    /* I/O permission map: 12 KiB, every port intercepted (APM 15.10.1). */
    if ((st = page_alloc(3, 1, &iopm_pa)) != TV_OK)
        return st;
    tv_memset(phys_to_virt(iopm_pa), 0xff, 3 * PAGE_SIZE);
    /* MSR permission map: 8 KiB; all intercepted but the state VMLOAD/VMSAVE
     * switch for us (APM 15.11). */
    if ((st = page_alloc(2, 1, &msrpm_pa)) != TV_OK)
        return st;
    uint8_t *pm = phys_to_virt(msrpm_pa);
    tv_memset(pm, 0xff, 2 * PAGE_SIZE);
    static const uint32_t pass[] = {
        MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
        MSR_SFMASK, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
    };
    for (unsigned i = 0; i < sizeof pass / sizeof pass[0]; i++)
        msrpm_allow(pm, pass[i]);
    log_info("SVM enabled: %u ASIDs, next-RIP %s, flush-by-ASID %s",
             max_asid, has_nrips ? "yes" : "no (decoder used)", has_flush_by_asid ? "yes" : "no");
    return TV_OK;
}

static tv_status_t svm_vcpu_create(struct vcpu *v, uint64_t npt_root_pa, uint32_t asid)
{
    struct svm_vcpu *s = kzalloc(sizeof *s);
    if (!s)
        return TV_E_NO_MEMORY;
    if (page_alloc(1, 1, &s->vmcb_pa) != TV_OK) {
        kfree(s);
        return TV_E_NO_MEMORY;
    }
    if (asid == 0 || asid >= max_asid) {
        page_free(s->vmcb_pa, 1);
        kfree(s);
        return TV_E_LIMIT;
    }
    s->vmcb = phys_to_virt(s->vmcb_pa);
    s->first_run = true;
    uint8_t *vm = s->vmcb;
    /* #DB and #AC exit so that no delivery loop runs inside the CPU
     * without exits; common code reinjects them. */
    vmcb_set_intercept_exceptions(vm, (1u << 1) | (1u << 17));
    /* CR0/CR4 writes are checked by common code (vm/cr.c), the same rules
     * as on VMX whatever the CPU or emulator checks itself. */
    vmcb_set_intercept_cr(vm, INTERCEPT_CR0_WRITE | INTERCEPT_CR4_WRITE | INTERCEPT_CR8_WRITE);
    vmcb_set_intercept_misc1(vm, INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_INIT |
                                 INTERCEPT_CPUID | INTERCEPT_INVD | INTERCEPT_HLT |
                                 INTERCEPT_INVLPGA | INTERCEPT_IOIO | INTERCEPT_MSR |
                                 INTERCEPT_TASKSW | INTERCEPT_SHUTDOWN);
    /* VMRUN must be intercepted or VMRUN itself fails (APM 15.5.1). */
    vmcb_set_intercept_misc2(vm, INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
                                 INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI |
                                 INTERCEPT_SKINIT | INTERCEPT_XSETBV | INTERCEPT_WBINVD |
                                 INTERCEPT_ICEBP);
    vmcb_set_iopm_base_pa(vm, iopm_pa);
    vmcb_set_msrpm_base_pa(vm, msrpm_pa);
    vmcb_set_asid(vm, asid);
    vmcb_set_int_ctl(vm, V_INTR_MASKING);
    vmcb_set_nested_ctl(vm, 1);            /* NP_ENABLE */
    vmcb_set_nested_cr3(vm, npt_root_pa);
    vmcb_set_g_pat(vm, 0x0007040600070406ull);
    v->arch = s;
    return TV_OK;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
    struct svm_vcpu *s = v->arch;
    if (!s)
        return;
    page_free(s->vmcb_pa, 1);
    kfree(s);
    v->arch = 0;
}

static void svm_reset_pm32(struct vcpu *v)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    /* Flat 32-bit segments; attributes in the packed form (APM 15.5.1). */
    vmcb_set_seg(vm, VMCB_CS, 0x08, 0xc9b, 0xffffffffu, 0);
    vmcb_set_seg(vm, VMCB_DS, 0x10, 0xc93, 0xffffffffu, 0);
    vmcb_set_seg(vm, VMCB_ES, 0x10, 0xc93, 0xffffffffu, 0);
    vmcb_set_seg(vm, VMCB_SS, 0x10, 0xc93, 0xffffffffu, 0);
    vmcb_set_seg(vm, VMCB_FS, 0x10, 0xc93, 0xffffffffu, 0);
    vmcb_set_seg(vm, VMCB_GS, 0x10, 0xc93, 0xffffffffu, 0);
    vmcb_set_seg(vm, VMCB_GDTR, 0, 0, 0xffff, 0);
    vmcb_set_seg(vm, VMCB_IDTR, 0, 0, 0xffff, 0);
    vmcb_set_seg(vm, VMCB_LDTR, 0, 0x082, 0xffff, 0);
    vmcb_set_seg(vm, VMCB_TR, 0, 0x08b, 0xffff, 0);
    vmcb_set_cpl(vm, 0);
    vmcb_set_cr0(vm, CR0_PE | CR0_ET | CR0_NE);
    vmcb_set_cr3(vm, 0);
    vmcb_set_cr4(vm, 0);
    vmcb_set_dr6(vm, 0xffff0ff0u);
    vmcb_set_dr7(vm, 0x400);
    v->efer = 0;
    vmcb_set_efer(vm, EFER_SVME);      /* SVME must stay set in the VMCB */
    v->regs.rflags = 0x2;
}

static void decode_exit(struct vcpu *v, uint8_t *vm, struct vm_exit *e)
{
    uint64_t code = vmcb_get_exit_code(vm);
    uint64_t i1 = vmcb_get_exit_info1(vm), i2 = vmcb_get_exit_info2(vm);
    /* Not zeroed as a whole: the common fields are set here, and each case
     * sets every field of the union member its reason uses. */
    e->raw_code = code;
    e->info1 = i1;
    e->info2 = i2;
    e->next_rip = has_nrips ? vmcb_get_next_rip(vm) : 0;
    if ((uint32_t)code == SVM_EXIT_INVALID) {
        e->reason = EXIT_ENTRY_FAILED;
        return;
    }
    switch (code) {
    case SVM_EXIT_CPUID: e->reason = EXIT_CPUID; break;
    case SVM_EXIT_MSR: e->reason = i1 ? EXIT_MSR_WRITE : EXIT_MSR_READ; break;
    case SVM_EXIT_HLT: e->reason = EXIT_HLT; break;
    case SVM_EXIT_VMMCALL: e->reason = EXIT_HYPERCALL; break;
    case SVM_EXIT_SHUTDOWN: e->reason = EXIT_SHUTDOWN; break;
    case SVM_EXIT_INTR: case SVM_EXIT_NMI: case SVM_EXIT_SMI: case SVM_EXIT_INIT:
        e->reason = EXIT_EXTERNAL_INTERRUPT;
        break;
    case SVM_EXIT_VINTR: e->reason = EXIT_INTERRUPT_WINDOW; break;
    case SVM_EXIT_XSETBV: e->reason = EXIT_XSETBV; break;
    case SVM_EXIT_CR0_WRITE: case SVM_EXIT_CR4_WRITE: case SVM_EXIT_CR8_WRITE:
        /* With decode assists EXITINFO1 bit 63 says a MOV CR with its GPR
         * in bits 3:0 (APM 15.8.1); otherwise (CLTS, LMSW, no assists)
         * common code decodes the instruction. */
        e->reason = EXIT_CR_ACCESS;
        e->cr.cr = (uint8_t)(code - SVM_EXIT_CR0_WRITE);
        e->cr.op = CR_OP_WRITE;
        e->cr.gpr = (has_decode_assists && (i1 >> 63)) ? (uint8_t)(i1 & 15) : CR_GPR_UNKNOWN;
        e->cr.lmsw_src = 0;
        break;
    case SVM_EXIT_INVD: e->reason = EXIT_INVD; break;
    case SVM_EXIT_ICEBP:
        /* ICEBP (INT1, one byte) is intercepted so that its #DB, a trap,
         * is reinjected with RIP after the instruction like the CPU's; the
         * #DB intercept alone would leave the RIP ambiguous. */
        e->reason = EXIT_EXCEPTION;
        e->exception.vector = 1;
        e->exception.error_code = 0;
        e->exception.has_error = false;
        v->regs.rip = e->next_rip ? e->next_rip : v->regs.rip + 1;
        break;
    case SVM_EXIT_WBINVD: e->reason = EXIT_WBINVD; break;
    case SVM_EXIT_TASK_SWITCH:
        /* EXITINFO1 bits 15:0: the new task's TSS selector (APM 15.14.1). */
        e->reason = EXIT_TASK_SWITCH;
        e->task_switch.selector = (uint16_t)i1;
        break;
    case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE: case SVM_EXIT_STGI:
    case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT: case SVM_EXIT_INVLPGA:
        e->reason = EXIT_VIRT_INSTRUCTION;
        break;
    case SVM_EXIT_IOIO:
        /* EXITINFO1 (APM 15.10.2): bit 0 IN, 2 string, 3 REP, 4-6 size,
         * 7-9 address size, 10-12 segment, 16-31 port; EXITINFO2 next RIP. */
        e->reason = EXIT_IO;
        e->io.in = i1 & 1;
        e->io.string = (i1 >> 2) & 1;
        e->io.rep = (i1 >> 3) & 1;
        e->io.size = (i1 & (1u << 4)) ? 1 : (i1 & (1u << 5)) ? 2 : 4;
        e->io.addr_size = (i1 & (1u << 7)) ? 2 : (i1 & (1u << 8)) ? 4 : 8;
        e->io.segment = (uint8_t)((i1 >> 10) & 7);
        e->io.port = (uint16_t)(i1 >> 16);
        e->next_rip = i2;
        break;
    case SVM_EXIT_NPF:
        e->reason = EXIT_NESTED_PAGE_FAULT;
        e->npf.gpa = i2;
        e->npf.error = i1;
        e->npf.write = (i1 >> 1) & 1;
        e->npf.fetch = (i1 >> 4) & 1;
        break;
    default:
        if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
            /* EXITINFO1 holds the error code of those that push one;
             * #DB has already updated DR6 in the VMCB (APM 15.12). */
            e->reason = EXIT_EXCEPTION;
            e->exception.vector = (uint32_t)(code - SVM_EXIT_EXCP_BASE);
            e->exception.error_code = (uint32_t)i1;
            e->exception.has_error = e->exception.vector == 17;
        } else {
            e->reason = EXIT_UNKNOWN;
        }
        break;
    }
    (void)v;
}

/* CR8 is the virtual APIC's TPR on both vendors.  With V_INTR_MASKING a
 * guest's MOV CR8 would reach V_TPR only (APM 15.21.1), which the virtual
 * APIC never reads, so CR8 writes are intercepted and go to common code
 * (vm/cr.c) like VMX's CR8-load exits; reads are served by V_TPR, loaded
 * here with TPR[7:4] before each entry. */
static void sync_tpr_in(struct vcpu *v, uint8_t *vm)
{
    uint32_t ctl = vmcb_get_int_ctl(vm) & ~V_TPR_MASK;
    vmcb_set_int_ctl(vm, ctl | ((v->apic.tpr >> 4) & V_TPR_MASK));
}

/* An exit that common code may answer on the spot (exit_fast): VMMCALL or
 * CPUID that interrupted no event delivery and sits in no interrupt
 * shadow.  True: answered, enter again. */
static bool fast_exit(struct vcpu *v, uint8_t *vm, uint64_t code, uint64_t watchdog_tsc)
{
    if (code != SVM_EXIT_VMMCALL && code != SVM_EXIT_CPUID)
        return false;
    int reason = code == SVM_EXIT_VMMCALL ? EXIT_HYPERCALL : EXIT_CPUID;
    if (!exit_fast_candidate(v, reason) || (vmcb_get_exit_int_info(vm) & EVT_VALID) ||
        (vmcb_get_int_state(vm) & 1))
        return false;
    if (!exit_fast(v, reason, vmcb_get_cpl(vm),
                   has_nrips ? vmcb_get_next_rip(vm) : 0, watchdog_tsc))
        return false;
    vmcb_set_event_inj(vm, 0);
    return true;
}

/* Enters the guest until an exit the vCPU loop must see; the exits
 * exit_fast answers re-enter from here. */
static void svm_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
    struct svm_vcpu *s = v->arch;
    uint8_t *vm = s->vmcb;
    uint64_t watchdog_tsc = timer_watchdog_due_tsc();
    for (;;) {
        vmcb_set_rax(vm, v->regs.rax);
        vmcb_set_rsp(vm, v->regs.rsp);
        vmcb_set_rip(vm, v->regs.rip);
        vmcb_set_rflags(vm, v->regs.rflags);
        if (s->first_run) {
            vmcb_set_tlb_control(vm, 1);   /* flush everything once */
            s->first_run = false;
        } else {
            vmcb_set_tlb_control(vm, 0);
        }
        vmcb_set_clean_bits(vm, 0);        /* we do not track clean fields yet */
        sync_tpr_in(v, vm);

        /* GIF=0 holds physical interrupts while IF=1 makes them exit the
         * guest (V_INTR_MASKING: host IF governs physical interrupts in
         * the guest). */
        svm_clgi();
        cpu_sti();
        svm_vmrun(s->vmcb_pa, &v->regs, this_cpu()->host_vmcb_pa);
        cpu_cli();
        svm_stgi();

        v->regs.rax = vmcb_get_rax(vm);
        v->regs.rsp = vmcb_get_rsp(vm);
        v->regs.rip = vmcb_get_rip(vm);
        v->regs.rflags = vmcb_get_rflags(vm);
        if (!fast_exit(v, vm, vmcb_get_exit_code(vm), watchdog_tsc))
            break;
    }
    decode_exit(v, vm, exit);

    /* An event cut short by this exit goes back in on the next entry
     * (APM 15.7.2 EXITINTINFO). */
    uint64_t intinfo = vmcb_get_exit_int_info(vm);
    if (intinfo & EVT_VALID)
        vmcb_set_event_inj(vm, intinfo);
    else
        vmcb_set_event_inj(vm, 0);
}

static void svm_get_mode(struct vcpu *v, struct guest_mode *m)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    m->cr0 = vmcb_get_cr0(vm);
    m->cr3 = vmcb_get_cr3(vm);
    m->cr4 = vmcb_get_cr4(vm);
    m->efer = vmcb_get_efer(vm) & ~EFER_SVME;
    m->cpl = vmcb_get_cpl(vm);
    uint16_t cs_attr = vmcb_seg_attr(vm, VMCB_CS);
    m->cs_long = (cs_attr >> 9) & 1;  /* packed: L is bit 9 */
    m->cs_db = (cs_attr >> 10) & 1;   /* D/B is bit 10 */
    m->cs_base = vmcb_seg_base(vm, VMCB_CS);
    m->ss_base = vmcb_seg_base(vm, VMCB_SS);
    m->ds_base = vmcb_seg_base(vm, VMCB_DS);
    m->es_base = vmcb_seg_base(vm, VMCB_ES);
    m->fs_base = vmcb_seg_base(vm, VMCB_FS);   /* current: VMSAVE after every exit */
    m->gs_base = vmcb_seg_base(vm, VMCB_GS);
}

static unsigned svm_get_cpl(struct vcpu *v, bool *long_code)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    *long_code = (vmcb_get_efer(vm) & EFER_LMA) && ((vmcb_seg_attr(vm, VMCB_CS) >> 9) & 1);
    return vmcb_get_cpl(vm);
}

static void svm_set_efer(struct vcpu *v, uint64_t efer)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    v->efer = efer;
    /* LMA follows LME when paging is on; the hardware keeps it current. */
    uint64_t cur = vmcb_get_efer(vm);
    vmcb_set_efer(vm, (efer & ~EFER_LMA) | (cur & EFER_LMA) | EFER_SVME);
}

static uint64_t svm_get_pat(struct vcpu *v) { return vmcb_get_g_pat(((struct svm_vcpu *)v->arch)->vmcb); }
static void svm_set_pat(struct vcpu *v, uint64_t pat) { vmcb_set_g_pat(((struct svm_vcpu *)v->arch)->vmcb, pat); }
/* The VMCB TSC offset applies to RDTSC/RDTSCP in the guest (APM 15.30.1). */
static void svm_set_tsc_offset(struct vcpu *v, uint64_t off) { vmcb_set_tsc_offset(((struct svm_vcpu *)v->arch)->vmcb, off); }

static void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    uint64_t ev = EVT_VALID | EVT_TYPE_EXCP | vector;
    if (exception_is_fault(vector))
        v->regs.rflags |= RFLAGS_RF;
    if (has_error)
        ev |= EVT_ERR_VALID | ((uint64_t)error << 32);
    vmcb_set_event_inj(vm, ev);
}

static bool svm_event_pending(struct vcpu *v)
{
    return vmcb_get_event_inj(((struct svm_vcpu *)v->arch)->vmcb) & EVT_VALID;
}

static bool svm_can_inject_interrupt(struct vcpu *v)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    return (v->regs.rflags & (1u << 9)) && !(vmcb_get_int_state(vm) & 1) &&
           !(vmcb_get_event_inj(vm) & EVT_VALID);
}

static void svm_inject_interrupt(struct vcpu *v, uint8_t vector)
{
    vmcb_set_event_inj(((struct svm_vcpu *)v->arch)->vmcb, EVT_VALID | EVT_TYPE_INTR | vector);
}

/* Without vNMI, SVM does not track the guest's NMI blocking until IRET:
 * only the interrupt shadow and a queued event hold an NMI back. */
static bool svm_can_inject_nmi(struct vcpu *v)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    return !(vmcb_get_int_state(vm) & 1) && !(vmcb_get_event_inj(vm) & EVT_VALID);
}

static void svm_inject_nmi(struct vcpu *v)
{
    vmcb_set_event_inj(((struct svm_vcpu *)v->arch)->vmcb, EVT_VALID | EVT_TYPE_NMI | 2);
}

static void svm_request_interrupt_window(struct vcpu *v, bool on)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    uint32_t ctl = vmcb_get_int_ctl(vm);
    uint32_t misc = vmcb_get_intercept_misc1(vm);
    if (on) {
        /* A virtual interrupt that the guest takes when it can: its VINTR
         * intercept tells us the window is open (APM 15.21.4). */
        ctl |= V_IRQ | V_IGN_TPR | (0xfu << V_INTR_PRIO_SHIFT);
        misc |= INTERCEPT_VINTR;
    } else {
        ctl &= ~(V_IRQ | V_IGN_TPR | (0xfu << V_INTR_PRIO_SHIFT));
        misc &= ~INTERCEPT_VINTR;
    }
    vmcb_set_int_ctl(vm, ctl);
    vmcb_set_intercept_misc1(vm, misc);
}

static void svm_clear_interrupt_shadow(struct vcpu *v)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    vmcb_set_int_state(vm, vmcb_get_int_state(vm) & ~1u);
}

/* A CR value vm/cr.c accepted.  Emulating the write, we do what the CPU's
 * MOV CR would: EFER.LMA follows LME && PG (APM 14.6), and a paging change
 * flushes this ASID's TLB. */
static tv_status_t svm_set_cr(struct vcpu *v, unsigned cr, uint64_t value)
{
    struct svm_vcpu *s = v->arch;
    uint8_t *vm = s->vmcb;
    switch (cr) {
    case 0: {
        vmcb_set_cr0(vm, value);
        uint64_t efer = vmcb_get_efer(vm) & ~EFER_LMA;
        if ((efer & EFER_LME) && (value & CR0_PG))
            efer |= EFER_LMA;
        vmcb_set_efer(vm, efer);
        break;
    }
    case 3: vmcb_set_cr3(vm, value); break;
    case 4:
        if (value & ~cr4_supported)
            return TV_E_INVALID_ARGUMENT;
        vmcb_set_cr4(vm, value);
        break;
    default: return TV_E_INVALID_ARGUMENT;
    }
    s->first_run = true;               /* flush the guest TLB on the next entry */
    return TV_OK;
}

static uint64_t svm_get_dr6(struct vcpu *v) { return vmcb_get_dr6(((struct svm_vcpu *)v->arch)->vmcb); }
static void svm_set_dr6(struct vcpu *v, uint64_t dr6) { vmcb_set_dr6(((struct svm_vcpu *)v->arch)->vmcb, dr6); }

static void svm_npt_flush(struct vcpu *v)
{
    ((struct svm_vcpu *)v->arch)->first_run = true;
}

/* Save / restore: the VMCB's state save area is current after every exit
 * (VMSAVE included), so it is copied as it is; segments keep the packed
 * attribute form (APM 15.5.1). */
static const unsigned seg_off[SAVE_SEG_COUNT] = {
    [SAVE_ES] = VMCB_ES, [SAVE_CS] = VMCB_CS, [SAVE_SS] = VMCB_SS, [SAVE_DS] = VMCB_DS,
    [SAVE_FS] = VMCB_FS, [SAVE_GS] = VMCB_GS, [SAVE_GDTR] = VMCB_GDTR, [SAVE_LDTR] = VMCB_LDTR,
    [SAVE_IDTR] = VMCB_IDTR, [SAVE_TR] = VMCB_TR,
};

static void svm_save_state(struct vcpu *v, struct save_vcpu *o)
{
    const uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    for (unsigned i = 0; i < SAVE_SEG_COUNT; i++) {
        const uint8_t *s = vm + seg_off[i];
        o->seg[i] = (struct save_seg){ .sel = *(const volatile uint16_t *)s,
                                       .attr = *(const volatile uint16_t *)(s + 2),
                                       .limit = *(const volatile uint32_t *)(s + 4),
                                       .base = *(const volatile uint64_t *)(s + 8) };
    }
    o->cpl = vmcb_get_cpl(vm);
    o->cr0 = vmcb_get_cr0(vm);
    o->cr2 = vmcb_get_cr2(vm);
    o->cr3 = vmcb_get_cr3(vm);
    o->cr4 = vmcb_get_cr4(vm);
    o->dr6 = vmcb_get_dr6(vm);
    o->dr7 = vmcb_get_dr7(vm);
    o->efer = vmcb_get_efer(vm) & ~EFER_SVME;
    o->pat = vmcb_get_g_pat(vm);
    o->star = vmcb_get_star(vm);
    o->lstar = vmcb_get_lstar(vm);
    o->cstar = vmcb_get_cstar(vm);
    o->sfmask = vmcb_get_sfmask(vm);
    o->kernel_gs_base = vmcb_get_kernel_gs_base(vm);
    o->sysenter_cs = vmcb_get_sysenter_cs(vm);
    o->sysenter_esp = vmcb_get_sysenter_esp(vm);
    o->sysenter_eip = vmcb_get_sysenter_eip(vm);
    o->pending_event = vmcb_get_event_inj(vm);
    o->interruptibility = vmcb_get_int_state(vm) & 1;
}

static void svm_load_state(struct vcpu *v, const struct save_vcpu *in)
{
    uint8_t *vm = ((struct svm_vcpu *)v->arch)->vmcb;
    for (unsigned i = 0; i < SAVE_SEG_COUNT; i++) {
        const struct save_seg *s = &in->seg[i];
        vmcb_set_seg(vm, seg_off[i], s->sel, (uint16_t)(s->attr & 0xfff), s->limit, s->base);
    }
    vmcb_set_cpl(vm, (uint8_t)in->cpl);
    vmcb_set_cr0(vm, in->cr0);
    vmcb_set_cr2(vm, in->cr2);
    vmcb_set_cr3(vm, in->cr3);
    vmcb_set_cr4(vm, in->cr4);  /* bits this CPU lacks fail VMRUN: the guest stops */
    vmcb_set_dr6(vm, in->dr6);
    vmcb_set_dr7(vm, in->dr7);
    v->efer = in->efer & ~EFER_LMA;
    vmcb_set_efer(vm, in->efer | EFER_SVME);
    vmcb_set_g_pat(vm, in->pat);
    vmcb_set_star(vm, in->star);
    vmcb_set_lstar(vm, in->lstar);
    vmcb_set_cstar(vm, in->cstar);
    vmcb_set_sfmask(vm, in->sfmask);
    vmcb_set_kernel_gs_base(vm, in->kernel_gs_base);
    vmcb_set_sysenter_cs(vm, in->sysenter_cs);
    vmcb_set_sysenter_esp(vm, in->sysenter_esp);
    vmcb_set_sysenter_eip(vm, in->sysenter_eip);
    vmcb_set_event_inj(vm, in->pending_event);
    vmcb_set_int_state(vm, in->interruptibility & 1);
    ((struct svm_vcpu *)v->arch)->first_run = true; /* a full TLB flush at entry */
}

const struct virt_ops svm_ops = {
    .name = "AMD SVM",
    .probe = svm_probe,
    .cpu_enable = svm_cpu_enable,
    .vcpu_create = svm_vcpu_create,
    .vcpu_destroy = svm_vcpu_destroy,
    .vcpu_reset_pm32 = svm_reset_pm32,
    .vcpu_run = svm_vcpu_run,
    .get_mode = svm_get_mode,
    .get_cpl = svm_get_cpl,
    .set_efer = svm_set_efer,
    .get_pat = svm_get_pat,
    .set_pat = svm_set_pat,
    .set_tsc_offset = svm_set_tsc_offset,
    .inject_exception = svm_inject_exception,
    .can_inject_interrupt = svm_can_inject_interrupt,
    .event_pending = svm_event_pending,
    .inject_interrupt = svm_inject_interrupt,
    .request_interrupt_window = svm_request_interrupt_window,
    .clear_interrupt_shadow = svm_clear_interrupt_shadow,
    .can_inject_nmi = svm_can_inject_nmi,
    .inject_nmi = svm_inject_nmi,
    .set_cr = svm_set_cr,
    .guest_dr6_in_hw = false,
    .get_dr6 = svm_get_dr6,
    .set_dr6 = svm_set_dr6,
    .npt_format = &pt_format_x86_64,
    .npt_perms = PT_READ | PT_WRITE | PT_EXEC | PT_USER,
    .npt_flush = svm_npt_flush,
    .save_state = svm_save_state,
    .load_state = svm_load_state,
    .save_vendor = SAVE_VENDOR_SVM,
};
