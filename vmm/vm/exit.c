#include "vm/exit.h"
#include "vm/fpu.h"
#include "vm/cr.h"
#include "vm/mmio.h"
#include "kernel/log.h"
#include "vm/partition.h"
#include "taskvisor/hypercall.h"
#include "kernel/timer.h"
#include "arch/x86/cpu.h"
#include "vm/guest_insn.h"
#include "tv_fmt.h"

typedef void (*exit_handler_t)(struct vcpu *v, struct vm_exit *e);

static const char *const reason_names[EXIT_REASON_COUNT] = {
    [EXIT_NONE] = "none",
    [EXIT_CPUID] = "cpuid",
    [EXIT_MSR_READ] = "msr-read",
    [EXIT_MSR_WRITE] = "msr-write",
    [EXIT_IO] = "io",
    [EXIT_HLT] = "hlt",
    [EXIT_HYPERCALL] = "hypercall",
    [EXIT_NESTED_PAGE_FAULT] = "nested-page-fault",
    [EXIT_SHUTDOWN] = "shutdown",
    [EXIT_EXTERNAL_INTERRUPT] = "external-interrupt",
    [EXIT_INTERRUPT_WINDOW] = "interrupt-window",
    [EXIT_VIRT_INSTRUCTION] = "virtualization-instruction",
    [EXIT_XSETBV] = "xsetbv",
    [EXIT_ENTRY_FAILED] = "entry-failed",
    [EXIT_EXCEPTION] = "exception",
    [EXIT_CR_ACCESS] = "cr-access",
    [EXIT_INVD] = "invd",
    [EXIT_WBINVD] = "wbinvd",
    [EXIT_TASK_SWITCH] = "task-switch",
    [EXIT_UNKNOWN] = "unknown",
};

const char *exit_reason_name(int reason)
{
    if (reason < 0 || reason >= EXIT_REASON_COUNT || !reason_names[reason])
        return "?";
    return reason_names[reason];
}

static void handle_hlt(struct vcpu *v, struct vm_exit *e)
{
    vcpu_advance_rip(v, e);
    /* A single-step #DB queued by vcpu_advance_rip is taken first. */
    v->halted = !virt->event_pending(v);
}

static void handle_npf(struct vcpu *v, struct vm_exit *e)
{
    /* First touch of a chunk of its RAM: zeroed and mapped, re-enter. */
    if (guest_ram_fault_in(v->part, e->npf.gpa))
        return;
    mmio_handle_npf(v, e);   /* device models, or the stop of an access outside RAM */
}

static void handle_shutdown(struct vcpu *v, struct vm_exit *e)
{
    (void)e;
    vcpu_stop(v, STOP_TRIPLE_FAULT, 0, "triple fault (shutdown)");
}

static void handle_external_interrupt(struct vcpu *v, struct vm_exit *e)
{
    (void)v;
    (void)e; /* taken by the host when the vCPU thread re-enables interrupts */
}

static void handle_interrupt_window(struct vcpu *v, struct vm_exit *e)
{
    (void)e;
    vcpu_set_irq_window(v, false); /* the loop injects next */
}

static void handle_virt_instruction(struct vcpu *v, struct vm_exit *e)
{
    (void)e;
    inject_ud(v);
}

static void handle_xsetbv(struct vcpu *v, struct vm_exit *e)
{
    struct guest_mode m;
    virt->get_mode(v, &m);
    uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
    if (m.cpl != 0 || !fpu_guest_xsetbv(v, (uint32_t)v->regs.rcx, value)) {
        inject_gp(v);
        return;
    }
    vcpu_advance_rip(v, e);
}

static void handle_entry_failed(struct vcpu *v, struct vm_exit *e)
{
    char why[96];
    tv_snprintf(why, sizeof why, "VM entry refused (exit code %#llx, info %#llx/%#llx)",
                (unsigned long long)e->raw_code, (unsigned long long)e->info1,
                (unsigned long long)e->info2);
    vcpu_stop(v, STOP_ENTRY_FAILED, e->raw_code, why);
}

/* #AC and #DB are intercepted only so that a guest cannot hold the CPU in
 * an endless delivery loop without exits (an #AC while delivering #AC, a
 * data breakpoint on the #DB handler's own stack): each attempt exits, the
 * host gets its interrupts, and the exception goes back to the guest as
 * the CPU would have delivered it.  The backend has already made DR6/DR7
 * what the delivery would (vmx_exit.c). */
static void handle_unknown(struct vcpu *v, struct vm_exit *e);
static void handle_exception(struct vcpu *v, struct vm_exit *e)
{
    uint32_t vec = e->exception.vector;
    if (vec == 1 || vec == 17) {
        virt->inject_exception(v, (uint8_t)vec, vec == 17, 0);
        return;
    }
    handle_unknown(v, e);
}

static void handle_unknown(struct vcpu *v, struct vm_exit *e)
{
    char why[96];
    tv_snprintf(why, sizeof why, "unhandled exit %s (code %#llx, info %#llx/%#llx)",
                exit_reason_name(e->reason), (unsigned long long)e->raw_code,
                (unsigned long long)e->info1, (unsigned long long)e->info2);
    vcpu_stop(v, STOP_UNHANDLED_EXIT, e->raw_code, why);
}

static const exit_handler_t exit_handlers[EXIT_REASON_COUNT] = {
    [EXIT_CPUID] = handle_cpuid,
    [EXIT_MSR_READ] = handle_msr_read,
    [EXIT_MSR_WRITE] = handle_msr_write,
    [EXIT_IO] = handle_io,
    [EXIT_HLT] = handle_hlt,
    [EXIT_HYPERCALL] = handle_hypercall,
    [EXIT_NESTED_PAGE_FAULT] = handle_npf,
    [EXIT_SHUTDOWN] = handle_shutdown,
    [EXIT_EXTERNAL_INTERRUPT] = handle_external_interrupt,
    [EXIT_INTERRUPT_WINDOW] = handle_interrupt_window,
    [EXIT_VIRT_INSTRUCTION] = handle_virt_instruction,
    [EXIT_XSETBV] = handle_xsetbv,
    [EXIT_ENTRY_FAILED] = handle_entry_failed,
    [EXIT_EXCEPTION] = handle_exception,
    [EXIT_CR_ACCESS] = handle_cr_access,
    [EXIT_INVD] = handle_cache_flush,
    [EXIT_WBINVD] = handle_cache_flush,
    [EXIT_TASK_SWITCH] = handle_task_switch,
    /* EXIT_UNKNOWN: stops the partition (handle_unknown). */
};

/* The cheapest exit the monitor has: TV_HC_NOP answered before the
 * hypercall table (still refused at CPL > 0, like every hypercall). */
static bool nop_fast_path(struct vcpu *v, struct vm_exit *e)
{
    if (e->reason != EXIT_HYPERCALL || v->regs.rax != TV_HC_NOP)
        return false;
    bool long_code;
    if (virt->get_cpl(v, &long_code) != 0)
        return false;
    v->regs.rax = TV_OK;
    vcpu_advance_rip(v, e);
    return true;
}

void exit_dispatch(struct vcpu *v, struct vm_exit *e)
{
    int r = e->reason;
    if (nop_fast_path(v, e)) {
        v->exit_counts[EXIT_HYPERCALL]++;
        return;
    }
    if (r < 0 || r >= EXIT_REASON_COUNT)
        r = EXIT_UNKNOWN;
    v->exit_counts[r]++;
    exit_handler_t h = exit_handlers[r];
    if (h)
        h(v, e);
    else
        handle_unknown(v, e);
}

/* What the vCPU loop (vcpu_thread_main) would do between this exit and
 * the next entry is nothing at all: no request or pause posted, not
 * halted, no interrupt to deliver and no window to watch, and the timer
 * watchdog not due (when it is, the loop runs its full check).  A physical
 * interrupt that is pending meanwhile makes the next entry exit at once
 * (SVM: INTR intercept with host IF=1; VMX: external-interrupt exiting);
 * that exit goes to the loop, which takes it in its interrupt window, and
 * the scheduler preempts there as it always does. */
static bool loop_idle(const struct vcpu *v, uint64_t watchdog_tsc)
{
    return !v->requests && !v->pause_wanted && !v->halted && !v->stopped &&
           vcpu_interrupts_idle(v) && rdtsc() < watchdog_tsc;
}

bool exit_fast(struct vcpu *v, int reason, unsigned cpl, uint64_t next_rip, uint64_t watchdog_tsc)
{
    /* A single-step trap to raise, or RF to clear: vcpu_advance_rip's work. */
    if (v->regs.rflags & (RFLAGS_TF | RFLAGS_RF))
        return false;
    if (reason == EXIT_HYPERCALL) {
        /* NOP and GET_VERSION at CPL 0: answered from constants, no guest
         * memory, nothing that blocks or wakes a thread. */
        _Static_assert(TV_HC_NOP == 0 && TV_HC_GET_VERSION == 1, "exit_fast_candidate's range");
        if (cpl != 0 || !exit_fast_candidate(v, reason))
            return false;
    } else if (reason != EXIT_CPUID) {
        return false;
    }
    if (!loop_idle(v, watchdog_tsc))
        return false;
    if (!next_rip) {
        /* No next-RIP from the hardware: the decoded-instruction cache. */
        unsigned len;
        if (guest_insn_length(v, &len) != TV_OK)
            return false;           /* the loop stops the vCPU as before */
        next_rip = v->regs.rip + len;
    }
    v->exit_counts[reason]++;
    if (reason == EXIT_CPUID)
        cpuid_answer(v);
    else if (v->regs.rax == TV_HC_NOP)
        v->regs.rax = TV_OK;
    else
        hypercall_version_answer(v);
    v->regs.rip = next_rip;
    return true;
}
