#include "kernel/timer.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/trap.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/time.h"

/* Each CPU's list (struct percpu), sorted by deadline; protected by
 * disabling interrupts, as only its own CPU touches it. */
#define timer_list (this_cpu()->timer_list)

static void reprogram(void)
{
    if (!timer_list) {
        lapic_timer_stop();
        return;
    }
    uint64_t now = time_now_ns();
    uint64_t d = timer_list->deadline_ns;
    lapic_timer_oneshot_ns(d > now ? d - now : 0);
}

static void unlink(struct timer *t)
{
    for (struct timer **pp = &timer_list; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->armed = false;
    t->next = 0;
}

void timer_init(struct timer *t, void (*fn)(struct timer *), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    t->armed = false;
    t->next = 0;
}

void timer_arm(struct timer *t, uint64_t deadline_ns)
{
    bool irq = irq_save();
    if (t->armed)
        unlink(t);
    t->deadline_ns = deadline_ns;
    struct timer **pp = &timer_list;
    while (*pp && (*pp)->deadline_ns <= deadline_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    t->armed = true;
    if (timer_list == t)
        reprogram();
    irq_restore(irq);
}

void timer_cancel(struct timer *t)
{
    bool irq = irq_save();
    if (t->armed) {
        bool was_first = timer_list == t;
        unlink(t);
        if (was_first)
            reprogram();
    }
    irq_restore(irq);
}

uint64_t timer_next_deadline(void)
{
    return timer_list ? timer_list->deadline_ns : UINT64_MAX;
}

static void run_expired(void)
{
    uint64_t now = time_now_ns();
    while (timer_list && timer_list->deadline_ns <= now) {
        struct timer *t = timer_list;
        unlink(t);
        t->fn(t);
        now = time_now_ns();
    }
    reprogram();
}

static void timer_irq(struct trap_frame *tf)
{
    (void)tf;
    lapic_eoi();
    run_expired();
}

/* The watchdog.  Under QEMU TCG (7.2, without -icount) the monitor's timer
 * interrupt can stay in the local APIC's IRR (ISR empty, TPR 0) across
 * interrupt window after interrupt window: the emulator's VMRUN sets the
 * virtual-interrupt request of the emulated CPU (V_IRQ, which the SVM
 * backend keeps set while a guest with IF=0 has an interrupt queued) with
 * an unlocked read-modify-write of the CPU's interrupt-request word, and
 * loses the hard-interrupt request the I/O thread posts at the same moment
 * for the APIC.  The APIC raises it again only when something makes it
 * re-evaluate (a TPR write, EOI, another vector).  bench/bare/timerloss.c
 * reproduces it without this monitor (docs/testing.md, "QEMU's lost timer
 * interrupt").  Two places call in here: the vCPU loop after every exit (a
 * guest that keeps exiting) and the idle loop before it halts (a halt would
 * wait for good). */
static uint64_t watchdog_events, watchdog_stranded;

uint64_t timer_watchdog_events(void)
{
    return watchdog_events;
}

static bool overdue(uint64_t min_late_ns, uint64_t *late_ns)
{
    if (!timer_list)
        return false;
    uint64_t now = time_now_ns(), due = timer_list->deadline_ns;
    if (now < due || now - due < min_late_ns)
        return false;
    *late_ns = now - due;
    return true;
}

/* Logged like denials: the first 8 events, then every power of two. */
static void report(uint64_t late, const struct lapic_vector_state *before, bool stranded,
                   bool delivered, const struct lapic_vector_state *after, const char *where)
{
    uint64_t n = watchdog_events;
    if (n > 8 && (n & (n - 1)))
        return;
    log_warn("timer watchdog (%s): timer interrupt %llu us overdue; vector %u %s (IRR %u ISR %u "
             "TPR %u); %s (event %llu, %llu stranded)",
             where, (unsigned long long)(late / 1000), VEC_TIMER,
             stranded ? "stranded in IRR across an interrupt window" : "not pending",
             before->irr ? 1 : 0, before->isr ? 1 : 0, (unsigned)before->tpr,
             delivered ? "delivered after an APIC nudge"
                       : after->irr ? "still stranded: running the expired timers"
                                    : "running the expired timers",
             (unsigned long long)n, (unsigned long long)watchdog_stranded);
}

/* The APIC state is read before the window: a vector that was in IRR then
 * and is not taken in the window is stranded; one the APIC raises during
 * the window (a timer merely late) is taken there. */
static bool check(uint64_t min_late_ns, const char *where)
{
    uint64_t late;
    if (!overdue(min_late_ns, &late))
        return false;
    struct lapic_vector_state before, after;
    lapic_vector_state(VEC_TIMER, &before);
    /* A timer that is merely late (this CPU did not run for a while: an
     * emulator's host thread descheduled, an SMI) is taken in a window. */
    cpu_irq_window();
    if (!overdue(min_late_ns, &late))
        return false;
    watchdog_events++;
    bool stranded = before.irr && !before.isr;
    if (stranded) {
        /* Pending, deliverable (ISR empty), yet not taken in a window:
         * make the APIC re-arbitrate, and let it in. */
        watchdog_stranded++;
        lapic_nudge();
        cpu_irq_window();
    }
    lapic_vector_state(VEC_TIMER, &after);
    bool delivered = !overdue(min_late_ns, &late);
    report(late, &before, stranded, delivered, &after, where);
    if (!delivered)
        run_expired();
    return true;
}

bool timer_watchdog(void)
{
    return check(TIMER_WATCHDOG_NS, "vCPU loop");
}

/* For the exit fast path, which re-enters the guest without the vCPU
 * loop's full check: the TSC from which that check would find the next
 * timer overdue.  Nothing re-arms a timer while the fast path runs (no
 * interrupt is taken, no other thread runs), so the value stays right
 * until the loop is back; at or past it, the exit goes to the loop. */
uint64_t timer_watchdog_due_tsc(void)
{
    if (!timer_list || timer_list->deadline_ns > UINT64_MAX - TIMER_WATCHDOG_NS)
        return UINT64_MAX;
    return time_ns_to_tsc_abs(timer_list->deadline_ns + TIMER_WATCHDOG_NS);
}

/* Before a halt, whatever the deadline (the APIC may fire a little before
 * the software deadline it was programmed from): a vector in IRR that a
 * window does not let in would keep the halt going for good. */
bool timer_watchdog_idle(void)
{
    struct lapic_vector_state before, after;
    lapic_vector_state(VEC_TIMER, &before);
    if (!before.irr || before.isr)
        return false;               /* the halt ends when the APIC fires */
    cpu_irq_window();
    lapic_vector_state(VEC_TIMER, &after);
    if (!after.irr)
        return false;               /* taken in the window */
    watchdog_events++;
    watchdog_stranded++;
    lapic_nudge();
    cpu_irq_window();
    lapic_vector_state(VEC_TIMER, &after);
    uint64_t now = time_now_ns(), due = timer_list ? timer_list->deadline_ns : now;
    report(now > due ? now - due : 0, &before, true, !after.irr, &after, "idle");
    if (after.irr)
        run_expired();
    return true;
}

void timer_subsystem_init(void)
{
    irq_register(VEC_TIMER, timer_irq);
    /* The log's UART writes move to a timer now that timers exist. */
    log_start_async();
}
