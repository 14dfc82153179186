/* Intel VMX backend: guest entry and the decoding of VM exits into struct
 * vm_exit.  Control-register accesses are finished here (they are a VMX
 * artefact of the CR0/CR4 masks); everything else goes to common code. */
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_internal.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "vm/partition.h"
#include "vm/vcpu.h"
#include "tv_string.h"

int vmx_enter(struct vcpu_regs *regs, uint64_t launched, uint64_t *guest_cr2);

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

void vmx_vcpu_run(struct vcpu *v, struct vm_exit *exit)
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
