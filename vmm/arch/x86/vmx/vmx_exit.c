/* Intel VMX backend: guest entry and the decoding of VM exits into struct
 * vm_exit.  Every exit goes to common code (vm/exit.c), control-register
 * accesses, INVD and WBINVD included; this file only applies a checked CR
 * value (vmx_set_cr) and handles NMIs that exit a guest. */
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_internal.h"
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "kernel/log.h"
#include "vm/partition.h"
#include "vm/vcpu.h"
#include "vm/exit.h"
#include "kernel/timer.h"
#include "tv_string.h"

int vmx_enter(struct vcpu_regs *regs, uint64_t launched, uint64_t *guest_cr2);

/* Long mode follows EFER.LME and CR0.PG (SDM vol. 3 9.8.5); the IA-32e
 * entry control must match EFER.LMA on every entry (SDM 26.3.1.1). */
void sync_long_mode(struct vcpu *v, uint64_t guest_cr0)
{
    bool lma = (v->efer & EFER_LME) && (guest_cr0 & CR0_PG);
    uint64_t efer = (v->efer & ~EFER_LMA) | (lma ? EFER_LMA : 0);
    vmw(v, VMCS_GUEST_EFER, efer);
    uint64_t entry = vmread(VMCS_ENTRY_CTLS);
    vmw(v, VMCS_ENTRY_CTLS, lma ? (entry | ENTRY_IA32E) : (entry & ~ENTRY_IA32E));
}


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
uint64_t guest_cr0(void)
{
    return (vmread(VMCS_GUEST_CR0) & ~cr0_mask()) | (vmread(VMCS_CR0_SHADOW) & cr0_mask());
}
uint64_t guest_cr4(void)
{
    return (vmread(VMCS_GUEST_CR4) & ~cr4_mask()) | (vmread(VMCS_CR4_SHADOW) & cr4_mask());
}

/* A CR value vm/cr.c accepted: the guest sees it through the read shadow,
 * the CPU runs with the VMX-fixed bits forced (SDM 23.8, A.7-A.8). */
tv_status_t vmx_set_cr(struct vcpu *v, unsigned cr, uint64_t value)
{
    load_vmcs(v);
    if (cr == 0) {
        if (!load_pdptes(v, value, guest_cr4()))
            return TV_E_INVALID_ARGUMENT;
        vmw(v, VMCS_CR0_SHADOW, value);
        vmw(v, VMCS_GUEST_CR0, real_cr0(value));
        sync_long_mode(v, value);
    } else if (cr == 4) {
        /* The guest may not set what VMX forbids, nor VMXE (not offered). */
        uint64_t allowed = vmx_caps.cr4_fixed1 & ~CR4_VMXE;
        if ((value & ~allowed) || !load_pdptes(v, guest_cr0(), value))
            return TV_E_INVALID_ARGUMENT;
        vmw(v, VMCS_CR4_SHADOW, value);
        vmw(v, VMCS_GUEST_CR4, real_cr4(value));
    } else if (cr == 3) {
        uint64_t old = vmread(VMCS_GUEST_CR3);
        vmw(v, VMCS_GUEST_CR3, value);
        if (!load_pdptes(v, guest_cr0(), guest_cr4())) {
            vmw(v, VMCS_GUEST_CR3, old);
            return TV_E_INVALID_ARGUMENT;
        }
    } else {
        return TV_E_INVALID_ARGUMENT;
    }
    return TV_OK;
}

/* Exit reason 0: an NMI (NMI exiting) or an exception the bitmap selects
 * (#DB, #AC).  An NMI is the host's: its handler runs right here, on this
 * stack with interrupts off, as if the NMI had arrived in the monitor; a
 * software INT 2 would not block NMIs and could nest on the NMI stack. */
static void decode_exception(struct vcpu *v, struct vm_exit *e, uint64_t q)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
    if ((info & 0x700) == INTR_TYPE_NMI) {
        e->reason = EXIT_EXTERNAL_INTERRUPT;
        trap_host_nmi();
        return;
    }
    e->reason = EXIT_EXCEPTION;
    e->exception.vector = info & 0xff;
    e->exception.has_error = info & INTR_INFO_ERROR_VALID;
    e->exception.error_code = e->exception.has_error ? (uint32_t)vmread(VMCS_EXIT_INTR_ERROR) : 0;
    /* ICEBP (INT1) is a privileged software exception (type 5): the exit
     * leaves RIP on the instruction, while its #DB returns after it. */
    if (((info >> 8) & 7) == 5)
        v->regs.rip += vmread(VMCS_EXIT_INSN_LEN);
    else if (e->exception.vector == 1) {
        /* A #DB exit leaves DR6 alone and reports its bits in the
         * qualification (SDM 27.1: B0-B3, BD, BS); delivery also clears
         * DR7.GD.  Make both what the CPU's own delivery would. */
        uint64_t dr6 = read_dr(6);
        dr6 = (dr6 & ~0xfull) | (q & 0xf) | (q & 0x6000);
        write_dr(6, dr6);
        if (q & (1u << 13))
            vmw(v, VMCS_GUEST_DR7, vmread(VMCS_GUEST_DR7) & ~(1ull << 13));
    }
}

static void decode_exit(struct vcpu *v, uint32_t reason, struct vm_exit *e)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    uint64_t len = vmread(VMCS_EXIT_INSN_LEN);
    /* Not zeroed as a whole: the common fields are set here, and each case
     * sets every field of the union member its reason uses. */
    e->raw_code = reason;
    e->info1 = q;
    e->info2 = 0;
    e->next_rip = 0;
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
    case VMX_EXIT_EXCEPTION_NMI: decode_exception(v, e, q); break;
    case VMX_EXIT_INVD: e->reason = EXIT_INVD; break;
    case VMX_EXIT_WBINVD: e->reason = EXIT_WBINVD; break;
    case VMX_EXIT_TASK_SWITCH:
        /* Qualification: bits 15:0 the new TSS selector (SDM table 28-2). */
        e->reason = EXIT_TASK_SWITCH;
        e->task_switch.selector = (uint16_t)q;
        break;
    case VMX_EXIT_CR:
        /* Qualification (SDM table 28-3): CR 3:0, type 5:4, GPR 11:8, LMSW
         * source 31:16. */
        e->reason = EXIT_CR_ACCESS;
        e->cr.cr = q & 15;
        e->cr.op = (q >> 4) & 3;
        e->cr.gpr = (q >> 8) & 15;
        e->cr.lmsw_src = (uint16_t)(q >> 16);
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

/* An exit that common code may answer on the spot (exit_fast): VMCALL or
 * CPUID that interrupted no event delivery and sits in no interrupt
 * shadow.  True: answered and RIP written, enter again. */
static bool fast_exit(struct vcpu *v, uint32_t reason, uint64_t watchdog_tsc)
{
    if ((reason != VMX_EXIT_VMCALL && reason != VMX_EXIT_CPUID) ||
        !exit_fast_candidate(v, reason == VMX_EXIT_VMCALL ? EXIT_HYPERCALL : EXIT_CPUID))
        return false;
    if ((vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID) ||
        (vmread(VMCS_GUEST_INTERRUPTIBILITY) & 3))
        return false;
    v->regs.rsp = vmread(VMCS_GUEST_RSP);
    v->regs.rip = vmread(VMCS_GUEST_RIP);
    v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
    unsigned cpl = ((uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * VSEG_SS) >> 5) & 3; /* SS.DPL */
    if (!exit_fast(v, reason == VMX_EXIT_VMCALL ? EXIT_HYPERCALL : EXIT_CPUID, cpl,
                   v->regs.rip + vmread(VMCS_EXIT_INSN_LEN), watchdog_tsc))
        return false;
    return vmwrite_ok(VMCS_GUEST_RIP, v->regs.rip) || vmw(v, VMCS_GUEST_RIP, v->regs.rip);
}

/* Enters the guest until an exit the vCPU loop must see; the exits
 * exit_fast answers re-enter from here (RSP and RFLAGS unchanged). */
void vmx_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
    struct vmx_vcpu *x = v->arch;
    load_vmcs(v);
    if (x->failed) {
        tv_memset(exit, 0, sizeof *exit);
        exit->reason = EXIT_ENTRY_FAILED;
        exit->raw_code = VMX_EXIT_ENTRY_FAILURE;
        return;
    }
    uint64_t watchdog_tsc = timer_watchdog_due_tsc();
    vmw(v, VMCS_GUEST_RSP, v->regs.rsp);
    vmw(v, VMCS_GUEST_RIP, v->regs.rip);
    vmw(v, VMCS_GUEST_RFLAGS, v->regs.rflags);
    uint32_t reason;
    for (;;) {
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
        reason = (uint32_t)vmread(VMCS_EXIT_REASON);
        if (!(reason & VMX_EXIT_ENTRY_FAILURE))
            x->launched = true;
        if (!fast_exit(v, reason, watchdog_tsc))
            break;
    }
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
    decode_exit(v, reason, exit);
}
