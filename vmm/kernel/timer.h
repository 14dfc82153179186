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

#endif
