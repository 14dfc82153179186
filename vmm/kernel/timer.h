/* Software timers multiplexed on the local APIC's one-shot timer. */
#ifndef VMM_TIMER_H
#define VMM_TIMER_H

#include <stdint.h>
#include <stdbool.h>

struct timer {
    uint64_t deadline_ns;
    void (*fn)(struct timer *t);   /* runs in interrupt context, IRQs off */
    void *arg;
    struct timer *next;
    bool armed;
};

void timer_subsystem_init(void);
void timer_init(struct timer *t, void (*fn)(struct timer *), void *arg);
void timer_arm(struct timer *t, uint64_t deadline_ns);
void timer_cancel(struct timer *t);
uint64_t timer_next_deadline(void); /* UINT64_MAX when none */

/* The watchdog for a timer interrupt that stopped arriving: when the
 * earliest deadline is TIMER_WATCHDOG_NS past and an interrupt window does
 * not let it in, logs it (with the vector's APIC state), nudges the local
 * APIC when the vector is stranded in IRR, and runs the expired timers
 * itself if it still did not come.
 * Call with interrupts off from code that runs whatever the timer does (the
 * vCPU loop); returns true when it had to act (then reschedule). */
#define TIMER_WATCHDOG_NS 20000000ull   /* ten default ticks */
bool timer_watchdog(void);
/* The TSC value from which timer_watchdog() finds the next timer overdue
 * (UINT64_MAX: no timer); valid until a timer is armed or cancelled. */
uint64_t timer_watchdog_due_tsc(void);
/* The same for the idle loop, with interrupts off just before it halts: a
 * timer vector that sits in IRR and is not taken in a window is nudged at
 * once and the expired timers run (nothing else would end the halt).  True
 * when it acted (then look for work again instead of halting). */
bool timer_watchdog_idle(void);
uint64_t timer_watchdog_events(void);

#endif
