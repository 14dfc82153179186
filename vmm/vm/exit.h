/* Common exit handling: one dispatch table, per-reason counters. */
#ifndef VMM_EXIT_H
#define VMM_EXIT_H

#include "vm/vcpu.h"
#include "taskvisor/hypercall.h"

void exit_dispatch(struct vcpu *v, struct vm_exit *e);
/* The exit fast path, for the backend's entry loop: the NOP and
 * GET_VERSION hypercalls and CPUID answered on the spot, while the vCPU
 * loop has nothing to do between this exit and the next entry.  The
 * backend calls it right after an exit that interrupted no event delivery
 * and has no interrupt shadow to end (STI, MOV SS), with the guest's
 * RAX/RSP/RIP/RFLAGS in v->regs, its CPL, the next RIP (0 when the
 * hardware did not say: the decoded-instruction cache finds it) and
 * timer_watchdog_due_tsc() as it was when the loop last ran.  True: the
 * registers and RIP hold the answer, enter the guest again at once.
 * False: nothing was changed; the exit goes to the loop as usual. */
bool exit_fast(struct vcpu *v, int reason, unsigned cpl, uint64_t next_rip, uint64_t watchdog_tsc);
/* The first test of exit_fast (v->regs.rax loaded): the backend asks for
 * nothing more of its control block for an exit that cannot qualify. */
static inline bool exit_fast_candidate(const struct vcpu *v, int reason)
{
    return reason == EXIT_CPUID ||
           (reason == EXIT_HYPERCALL && v->regs.rax <= TV_HC_GET_VERSION);
}
const char *exit_reason_name(int reason);

/* Handlers live in files of their own. */
void handle_cpuid(struct vcpu *v, struct vm_exit *e);
void handle_msr_read(struct vcpu *v, struct vm_exit *e);
void handle_msr_write(struct vcpu *v, struct vm_exit *e);
void handle_io(struct vcpu *v, struct vm_exit *e);
void handle_hypercall(struct vcpu *v, struct vm_exit *e);
/* CPUID's answer in RAX/RBX/RCX/RDX, RIP untouched (handle_cpuid's work). */
void cpuid_answer(struct vcpu *v);
/* GET_VERSION's answer at CPL 0 as the dispatcher gives it (RAX, RDX,
 * RSI; all values fit 32 bits, so both code widths read the same), RIP
 * untouched. */
void hypercall_version_answer(struct vcpu *v);

/* Feature bits (TV_FEAT_*) this build offers, for CPUID and GET_VERSION. */
uint32_t monitor_features(void);

static inline void inject_gp(struct vcpu *v) { virt->inject_exception(v, 13, true, 0); }
static inline void inject_ud(struct vcpu *v) { virt->inject_exception(v, 6, false, 0); }

#endif
