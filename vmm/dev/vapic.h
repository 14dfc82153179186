/* The virtual local APIC each vCPU sees, in x2APIC mode (MSR interface,
 * SDM vol. 3 10.12): ID, version, TPR, EOI, SVR, LVT timer (one-shot,
 * periodic, TSC-deadline), initial/current count, divide, self-IPI.
 * All state changes happen on the vCPU's own thread; the expiry timer only
 * posts a flag and wakes the thread. */
#ifndef VMM_VAPIC_H
#define VMM_VAPIC_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/timer.h"
#include "taskvisor/status.h"

/* Virtual APIC timer input clock: 100 MHz, reported in CPUID 0x40000010 EBX. */
#define VAPIC_TIMER_KHZ 100000u
/* Shortest periodic/one-shot period we honour, to bound interrupt storms. */
#define VAPIC_MIN_PERIOD_NS 20000ull

struct vcpu;

struct vapic {
    uint32_t id;
    uint64_t apic_base;          /* IA32_APIC_BASE as the guest sees it */
    uint32_t tpr;
    uint32_t svr;
    uint32_t lvt_timer;
    uint32_t lvt_error;
    uint32_t lvt_lint0, lvt_lint1;
    uint32_t initial_count;
    uint32_t divide_config;
    uint64_t tsc_deadline;
    uint64_t timer_start_ns;     /* when the count was loaded */
    uint64_t timer_period_ns;    /* one period of the current count */
    uint64_t timer_deadline_ns;  /* next expiry, 0 when disarmed */
    uint64_t irr[4];
    uint64_t isr[4];
    struct timer timer;
    volatile bool timer_fired;   /* set by the timer callback */
    struct vcpu *vcpu;
    uint64_t interrupts_delivered;
    bool nmi_pending;            /* an NMI sent to self through the ICR */
    uint8_t icr_refused_logged;  /* delivery modes already logged as refused */
    bool xapic_access;           /* set by vapic_mmio.c while it forwards an xAPIC access */
};

void vapic_init(struct vapic *a, struct vcpu *v, uint32_t id);
bool vapic_handles_msr(uint32_t msr);
/* Returns TV_OK, or TV_E_INVALID_ARGUMENT when the guest should get #GP. */
tv_status_t vapic_read_msr(struct vapic *a, uint32_t msr, uint64_t *value);
tv_status_t vapic_write_msr(struct vapic *a, uint32_t msr, uint64_t value);
/* Processes a fired timer (on the vCPU thread). */
void vapic_poll(struct vapic *a);
/* Highest-priority vector deliverable now (after TPR/ISR), or -1. */
int vapic_pending_vector(const struct vapic *a);
/* Moves a vector from IRR to ISR as it is injected. */
void vapic_ack(struct vapic *a, int vector);
/* Sets a vector pending (on the vCPU thread). */
void vapic_set_irr(struct vapic *a, int vector);
void vapic_destroy(struct vapic *a);

#endif
