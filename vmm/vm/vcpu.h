/* Vendor-neutral virtual CPUs, the exit record vendors decode into, and the
 * one ops table each virtualization backend (SVM now, VMX next) provides. */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "kernel/sched.h"
#include "dev/vapic.h"
#include "emul/x86_icache.h"
#include "hcall/hcall.h"
#include "taskvisor/status.h"

struct partition;

/* Guest general-purpose registers; the backend syncs RAX/RSP/RIP/RFLAGS with
 * its control structure around each entry. */
struct vcpu_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rsp, rip, rflags;
};

enum exit_reason {
    EXIT_NONE = 0,
    EXIT_CPUID,
    EXIT_MSR_READ,
    EXIT_MSR_WRITE,
    EXIT_IO,
    EXIT_HLT,
    EXIT_HYPERCALL,
    EXIT_NESTED_PAGE_FAULT,
    EXIT_SHUTDOWN,          /* triple fault */
    EXIT_EXTERNAL_INTERRUPT,
    EXIT_INTERRUPT_WINDOW,
    EXIT_VIRT_INSTRUCTION,  /* VMRUN/VMLOAD/.../VMX instructions: #UD */
    EXIT_XSETBV,
    EXIT_ENTRY_FAILED,      /* VMEXIT_INVALID / VM-entry failure */
    EXIT_EXCEPTION,         /* an intercepted guest exception (#AC, #DB) */
    EXIT_CR_ACCESS,         /* MOV to/from CR0/CR3/CR4/CR8, CLTS, LMSW */
    EXIT_INVD,
    EXIT_WBINVD,
    EXIT_TASK_SWITCH,       /* hardware task switch (32-bit guests) */
    EXIT_UNKNOWN,
    EXIT_REASON_COUNT
};

struct vm_exit {
    int reason;
    uint64_t raw_code;          /* vendor exit code, for logs */
    uint64_t info1, info2;      /* vendor qualification, for logs */
    uint64_t next_rip;          /* 0 when the hardware did not say */
    union {
        struct {
            uint16_t port;
            uint8_t size;       /* 1, 2, 4 */
            uint8_t addr_size;  /* 2, 4, 8 for string forms */
            bool in, string, rep;
            uint8_t segment;    /* OUTS source segment (0 ES .. 5 GS) */
        } io;
        struct {
            uint64_t gpa;
            uint64_t error;     /* fault bits as the vendor reports them */
            bool write, fetch;
        } npf;
        struct {
            uint32_t vector;
            uint32_t error_code;
            bool has_error;
        } exception;
        struct {
            uint8_t cr;         /* 0, 3, 4, 8 */
            uint8_t op;         /* CR_OP_* */
            uint8_t gpr;        /* 0 RAX .. 15 R15 (MOV forms) */
            uint16_t lmsw_src;  /* LMSW source operand */
        } cr;
        struct {
            uint16_t selector;  /* the new task's TSS selector */
        } task_switch;
    };
};

enum { CR_OP_WRITE = 0, CR_OP_READ = 1, CR_OP_CLTS = 2, CR_OP_LMSW = 3 };
/* exit.cr.gpr when the hardware did not say (SVM without decode assists). */
#define CR_GPR_UNKNOWN 0xff

/* Requests posted to a vCPU by other threads; handled on its own thread. */
#define VCPU_REQ_STOP   (1u << 0)
#define VCPU_REQ_KICK   (1u << 1)   /* re-evaluate pending interrupts */

enum vcpu_stop_reason {
    STOP_NONE = 0,
    STOP_EXIT_PORT,         /* guest wrote the exit port */
    STOP_TRIPLE_FAULT,
    STOP_BAD_ACCESS,        /* touched memory outside its own */
    STOP_ENTRY_FAILED,
    STOP_UNHANDLED_EXIT,
    STOP_REQUESTED,
    STOP_INTERNAL_ERROR,
};

struct fpu_area;
struct save_vcpu;

/* What the hypercall dispatcher is told about its caller that does not
 * change during a run: built at the run's first hypercall (vm/hypercall.c)
 * instead of on every call; only the CPL and code width are per call. */
struct vcpu_hcall {
    bool ready;
    struct guest_mem_range ram;
    struct guest_mem_view view;
    struct hcall_caller caller;
    struct hcall_services svc;
    struct hcall_env env;
};

struct vcpu {
    struct partition *part;
    uint32_t id;
    struct thread *thread;
    struct vcpu_regs regs;
    void *arch;                     /* backend state (VMCB, VMCS) */
    volatile uint32_t requests;     /* VCPU_REQ_* */
    volatile uint64_t posted_irr[4];/* interrupts posted by other threads */
    bool halted;
    bool stopped;
    volatile bool pause_wanted;     /* set by a Pause, cleared by a Resume */
    volatile bool held;             /* the thread sits paused, out of the guest */
    bool irq_window;                /* interrupt-window exit requested (vcpu_set_irq_window) */
    int stop_reason;
    uint64_t stop_code;
    uint64_t xcr0;
    uint64_t efer;                  /* guest-visible EFER (SVME hidden) */
    uint64_t tsc_aux;
    /* Emulated MSR state (vm/msr.c); all zero at reset. */
    uint64_t tsc_offset;            /* guest TSC = host TSC + tsc_offset */
    uint64_t tsc_adjust;            /* IA32_TSC_ADJUST */
    uint64_t misc_enable_xor;       /* IA32_MISC_ENABLE ^ its reset value */
    uint64_t mcg_status;            /* IA32_MCG_STATUS */
    /* Debug registers and PKRU the hardware does not switch: loaded when
     * this vCPU takes the CPU over (fpu_switch_to), saved when it leaves. */
    uint64_t dr[4];
    uint64_t dr6;                   /* VMX only (SVM keeps DR6 in the VMCB) */
    uint32_t pkru;
    bool task_switch_logged;        /* vm/cr.c logs the first one only */
    struct fpu_area *fpu;
    struct vapic apic;
    uint64_t exit_counts[EXIT_REASON_COUNT];
    uint64_t first_entry_tsc;
    /* Exiting instructions decoded without next-RIP (vm/guest_insn.c). */
    struct x86_icache icache;
    struct vcpu_hcall hcall;
};

struct guest_mode {
    uint64_t cr0, cr3, cr4, efer;
    unsigned cpl;
    bool cs_long;       /* CS.L */
    bool cs_db;         /* CS.D */
    uint64_t cs_base, ss_base, ds_base, es_base, fs_base, gs_base;
};

/* The backend ops table (one per vendor, chosen at run time). */
struct virt_ops {
    const char *name;
    /* Checks the CPU; on failure writes a reason a person can act on. */
    tv_status_t (*probe)(char *why, size_t why_len);
    tv_status_t (*cpu_enable)(void);
    /* vcpu_create, vcpu_destroy and vcpu_reset_pm32 may run on any thread
     * (a Startup's task worker) but are called with interrupts off. */
    tv_status_t (*vcpu_create)(struct vcpu *v, uint64_t npt_root_pa, uint32_t asid);
    void (*vcpu_destroy)(struct vcpu *v);
    /* 32-bit protected mode, paging off, flat segments; registers from regs. */
    void (*vcpu_reset_pm32)(struct vcpu *v);
    /* Enters the guest once and returns the decoded exit (interrupts off). */
    void (*vcpu_run)(struct vcpu *v, struct vm_exit *exit);
    void (*get_mode)(struct vcpu *v, struct guest_mode *m);
    /* The CPL and, in *long_code, whether the guest runs 64-bit code
     * (EFER.LMA && CS.L): what every hypercall exit needs, without the
     * rest of get_mode. */
    unsigned (*get_cpl)(struct vcpu *v, bool *long_code);
    void (*set_efer)(struct vcpu *v, uint64_t guest_efer);
    uint64_t (*get_pat)(struct vcpu *v);
    void (*set_pat)(struct vcpu *v, uint64_t pat);
    /* Guest RDTSC/RDTSCP read host TSC + offset from the next entry on. */
    void (*set_tsc_offset)(struct vcpu *v, uint64_t offset);
    /* Queues an exception for the next entry (error code when has_error). */
    void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
    /* True when an external interrupt could be delivered now. */
    bool (*can_inject_interrupt)(struct vcpu *v);
    bool (*event_pending)(struct vcpu *v);    /* an injection is already queued */
    void (*inject_interrupt)(struct vcpu *v, uint8_t vector);
    /* NMIs for the guest (a self-NMI through its ICR). */
    bool (*can_inject_nmi)(struct vcpu *v);
    void (*inject_nmi)(struct vcpu *v);
    void (*request_interrupt_window)(struct vcpu *v, bool on);
    /* An emulated instruction completed: the STI/MOV-SS shadow ends. */
    void (*clear_interrupt_shadow)(struct vcpu *v);
    /* Applies a guest-visible CR0, CR3 or CR4 value that common code has
     * checked against the architectural rules (vm/cr.c); TV_E_INVALID_ARGUMENT
     * when this CPU cannot take it (#GP). */
    tv_status_t (*set_cr)(struct vcpu *v, unsigned cr, uint64_t value);
    /* True when the guest's DR6 lives in the hardware register while it
     * runs (VMX); false when the control block holds it (SVM). */
    bool guest_dr6_in_hw;
    uint64_t (*get_dr6)(struct vcpu *v);
    void (*set_dr6)(struct vcpu *v, uint64_t dr6);
    /* Nested paging format for this vendor (NPT or EPT). */
    const struct pt_format *npt_format;
    unsigned npt_perms;
    void (*npt_flush)(struct vcpu *v);
    /* Save / restore (services/vm_save.c): the state the backend keeps in
     * its control block (segments in its own encoding, CR0/2/3/4, DR6 where
     * it holds it, DR7, EFER, PAT, the syscall/sysenter MSRs, PDPTEs, the
     * event being delivered, interruptibility, CPL) into or out of the
     * record; common code does the rest.  Interrupts off, vCPU not running.
     * load_state takes a record of its own vendor that passed
     * save_vcpu_check; what the hardware still refuses fails the next entry
     * (the guest stops, ENTRY_FAILED), never the monitor. */
    void (*save_state)(struct vcpu *v, struct save_vcpu *out);
    void (*load_state)(struct vcpu *v, const struct save_vcpu *in);
    uint32_t save_vendor;           /* enum save_vendor */
};

extern const struct virt_ops *virt;

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_RF (1ull << 16)
#define DR6_BS    (1ull << 14)

/* Faults push RFLAGS.RF = 1 (SDM 17.3.1.1, APM 13.1.1.4): every exception
 * class but the traps (#DB, #BP, #OF) and the aborts (#DF, #MC).  An
 * injected fault must look the same, so the backends set RF for these. */
static inline bool exception_is_fault(uint8_t vector)
{
    return vector < 32 && vector != 1 && vector != 3 && vector != 4 && vector != 8 &&
           vector != 18 && vector != 2;
}

void vcpu_thread_main(void *arg);
void vcpu_post_request(struct vcpu *v, uint32_t req);
/* Raises a fixed interrupt in the vCPU's virtual APIC from any thread (or
 * interrupt context); the vCPU thread moves it into the IRR. */
void vcpu_post_interrupt(struct vcpu *v, uint8_t vector);
void vcpu_stop(struct vcpu *v, int reason, uint64_t code, const char *why);
void vcpu_advance_rip(struct vcpu *v, const struct vm_exit *exit);
/* Requests (or drops) an exit when the guest can take an interrupt; the
 * backend is told only when this changes. */
void vcpu_set_irq_window(struct vcpu *v, bool on);
/* General-purpose register n in the instruction encoding's order
 * (0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15). */
uint64_t *vcpu_gpr(struct vcpu *v, unsigned n);

/* Nothing to deliver and nothing to undo: no posted interrupt, no timer
 * expiry or NMI to look at, an empty IRR and no window requested.  Then
 * the loop's interrupt delivery would change nothing: it is skipped, and
 * the exit fast path (exit_fast) may re-enter at once. */
static inline bool vcpu_interrupts_idle(const struct vcpu *v)
{
    const struct vapic *a = &v->apic;
    return !(v->posted_irr[0] | v->posted_irr[1] | v->posted_irr[2] | v->posted_irr[3]) &&
           !a->timer_fired && !a->nmi_pending && !v->irq_window &&
           !(a->irr[0] | a->irr[1] | a->irr[2] | a->irr[3]);
}

#endif
