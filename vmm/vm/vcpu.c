/* The vCPU thread: enter the guest, handle the exit in common code, deliver
 * interrupts, sleep in HLT.  Guest state is touched only on this thread;
 * other threads post requests (vcpu_post_request) and wake it. */
#include "vm/vcpu.h"
#include "vm/vm_disks.h"
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "vm/exit.h"
#include "vm/fpu.h"
#include "kernel/log.h"
#include "vm/partition.h"
#include "kernel/time.h"
#include "vm/guest_insn.h"

const struct virt_ops *virt;
extern uint64_t monitor_entry_tsc;

void vcpu_post_request(struct vcpu *v, uint32_t req)
{
    __atomic_or_fetch(&v->requests, req, __ATOMIC_SEQ_CST);
    if (v->thread)
        thread_wake(v->thread);
}

void vcpu_post_interrupt(struct vcpu *v, uint8_t vector)
{
    __atomic_or_fetch(&v->posted_irr[vector / 64], 1ull << (vector % 64), __ATOMIC_SEQ_CST);
    vcpu_post_request(v, VCPU_REQ_KICK);
}

void vcpu_stop(struct vcpu *v, int reason, uint64_t code, const char *why)
{
    if (v->stopped)
        return;
    v->stopped = true;
    v->stop_reason = reason;
    v->stop_code = code;
    struct partition *p = v->part;
    p->stop_reason = reason;
    p->stop_code = code;
    vuart_flush(&p->uart);
    int level = reason == STOP_EXIT_PORT ? TV_LOG_INFO : TV_LOG_WARN;
    if (reason == STOP_REQUESTED)
        level = p->start_count <= 3 ? TV_LOG_INFO : TV_LOG_DEBUG; /* a TurnOff: not a fault */
    log_msg(level, p->name,
            "partition stopped: %s (code %#llx, RIP %#llx)%s%s", stop_reason_name(reason),
            (unsigned long long)code, (unsigned long long)v->regs.rip, why ? ": " : "",
            why ? why : "");
}

uint64_t *vcpu_gpr(struct vcpu *v, unsigned n)
{
    struct vcpu_regs *r = &v->regs;
    uint64_t *const slots[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi,
                                  &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
                                  &r->r14, &r->r15 };
    return slots[n & 15];
}

/* The instruction the monitor emulated retires as the CPU's would: the
 * STI/MOV-SS shadow ends, RF clears, and with RFLAGS.TF set a single-step
 * #DB (DR6.BS) is taken before the next instruction (SDM 17.3.1.4). */
void vcpu_advance_rip(struct vcpu *v, const struct vm_exit *exit)
{
    virt->clear_interrupt_shadow(v);
    if (exit->next_rip) {
        v->regs.rip = exit->next_rip;
    } else {
        /* No next-RIP from the hardware (QEMU TCG): decode the instruction. */
        unsigned len;
        tv_status_t st = guest_insn_length(v, &len);
        if (st != TV_OK) {
            vcpu_stop(v, STOP_INTERNAL_ERROR, exit->raw_code, "cannot decode the exiting instruction");
            return;
        }
        v->regs.rip += len;
    }
    v->regs.rflags &= ~RFLAGS_RF;
    if ((v->regs.rflags & RFLAGS_TF) && !virt->event_pending(v)) {
        virt->set_dr6(v, virt->get_dr6(v) | DR6_BS);
        virt->inject_exception(v, 1, false, 0);
    }
}

/* TSC_AUX is not switched by the hardware; the host never reads it (no
 * RDTSCP in the monitor), so load the guest's value lazily. */
static void load_tsc_aux(struct vcpu *v)
{
    static int have_rdtscp = -1;
    static uint64_t loaded = ~0ull;
    if (have_rdtscp < 0)
        have_rdtscp = (cpuid(0x80000001, 0).edx >> 27) & 1;
    if (have_rdtscp && loaded != v->tsc_aux) {
        wrmsr(MSR_TSC_AUX, v->tsc_aux);
        loaded = v->tsc_aux;
    }
}

void vcpu_set_irq_window(struct vcpu *v, bool on)
{
    if (v->irq_window == on)
        return;
    v->irq_window = on;
    virt->request_interrupt_window(v, on);
}

static void deliver_interrupts(struct vcpu *v)
{
    if (vcpu_interrupts_idle(v))
        return;
    for (int w = 0; w < 4; w++) {
        uint64_t bits = __atomic_exchange_n(&v->posted_irr[w], 0, __ATOMIC_SEQ_CST);
        while (bits) {
            int b = __builtin_ctzll(bits);
            bits &= bits - 1;
            vapic_set_irr(&v->apic, w * 64 + b);
        }
    }
    vapic_poll(&v->apic);
    /* An NMI goes before maskable interrupts; one still blocked waits for a
     * later exit (no NMI-window exiting is used). */
    if (v->apic.nmi_pending && !virt->event_pending(v) && virt->can_inject_nmi(v)) {
        virt->inject_nmi(v);
        v->apic.nmi_pending = false;
        v->halted = false;
    }
    if (virt->event_pending(v)) {
        vcpu_set_irq_window(v, false);
        return;
    }
    int vec = vapic_pending_vector(&v->apic);
    if (vec < 0) {
        vcpu_set_irq_window(v, false);
        return;
    }
    if (virt->can_inject_interrupt(v)) {
        virt->inject_interrupt(v, (uint8_t)vec);
        vapic_ack(&v->apic, vec);
        vcpu_set_irq_window(v, false);
        v->halted = false;
    } else {
        vcpu_set_irq_window(v, true);
        /* HLT ends on a pending interrupt the guest has enabled (IF=1);
         * the window exit then delivers it. */
        if (v->regs.rflags & (1u << 9))
            v->halted = false;
    }
}

void vcpu_thread_main(void *arg)
{
    struct vcpu *v = arg;
    struct vm_exit exit;
    /* A VM started at boot opens its disks here, before its first
     * instruction (at boot nothing could wait for the image store); a
     * Startup has opened them already. */
    tv_status_t dst = vm_disks_start(v->part);
    if (dst != TV_OK)
        vcpu_stop(v, STOP_INTERNAL_ERROR, (uint64_t)dst, "its virtual disks cannot be opened");
    for (;;) {
        cpu_cli();
        uint32_t req = __atomic_exchange_n(&v->requests, 0, __ATOMIC_SEQ_CST);
        if (req & VCPU_REQ_STOP)
            vcpu_stop(v, STOP_REQUESTED, 0, 0);
        if (v->stopped)
            break;
        if (v->pause_wanted) {
            /* Paused (VM_PAUSE): out of the guest until resumed or stopped;
             * posted interrupts wait in posted_irr. */
            v->held = true;
            if (!v->requests && v->pause_wanted)
                thread_block_until(UINT64_MAX);
            cpu_irq_window();
            continue;
        }
        v->held = false;
        deliver_interrupts(v);
        if (v->halted) {
            /* Sleep until an interrupt can be delivered; the vAPIC timer and
             * other threads wake us through vcpu_post_request. */
            if (!v->requests)
                thread_block_until(UINT64_MAX);
            cpu_irq_window();
            continue;
        }
        fpu_switch_to(v);
        load_tsc_aux(v);
        if (!v->first_entry_tsc) {
            v->first_entry_tsc = rdtsc();
            log_msg(v->part->start_count <= 3 ? TV_LOG_INFO : TV_LOG_DEBUG, "mon", "%s: first guest entry %llu us after monitor entry", v->part->name,
                     (unsigned long long)(time_tsc_to_ns(v->first_entry_tsc - monitor_entry_tsc) / 1000));
        }
        virt->vcpu_run(v, &exit);
        exit_dispatch(v, &exit);
        if (timer_watchdog())
            sched_preempt_point(); /* what the lost timer interrupt would have done */
        cpu_irq_window(); /* a pending physical interrupt is taken here */
        trap_nmi_report();
    }
    cpu_sti();
    /* The disks close as soon as the guest is gone, before anyone hears it
     * stopped (a test build's verdict powers the machine off right then,
     * unmounting the volumes the images are on). */
    vm_disks_stop(v->part);
    partition_stopped(v->part);
    /* This run is over: its VMCB/VMCS, extended state, nested page tables
     * and guest RAM go back to the allocators (the record, the VM's
     * definition, stays for queries and the next Startup). */
    partition_vcpu_ended(v->part);
}
