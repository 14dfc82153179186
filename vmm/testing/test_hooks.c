#include "testing/test_hooks.h"
#include "testing/blk_selftest.h"
#include "testing/disk_memvol.h"
#include "testing/vm_cycles.h"

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/trap.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/sched.h"

/* Kept out of line so the crash report names it. */
__attribute__((noinline)) void monitor_crash_test(volatile int *where);
__attribute__((noinline)) void monitor_crash_test(volatile int *where)
{
    log_warn("test hook: crashing the monitor on purpose");
    if (where)
        *where = 1;                 /* page fault: the address is unmapped */
    __asm__ volatile("ud2");        /* invalid opcode */
}

static void crash_thread(void *arg)
{
    thread_sleep_ns(50000000ull);   /* let the partitions start first */
    monitor_crash_test(arg);
}

/* timer_stall_test: the two ways the monitor's timer interrupt stops
 * coming, made on purpose for the timer watchdog (kernel/timer.c).  "yes":
 * first the APIC timer is stopped with software timers still armed (the
 * timer did not fire), then TPR is raised to 0xf0 for 100 ms and the timer
 * vector sent to itself, so that it sits in IRR undelivered (what QEMU's
 * lost interrupt request looks like, except that TPR is 0 there and the
 * watchdog's nudge lets it in).
 * "tpr": only the second, for a monitor that is idle meanwhile (a stopped
 * timer would end its halt never).  Only the watchdog ends either;
 * partitions must keep running. */
static void timer_stall_thread(void *arg)
{
    bool stop_first = arg != 0;
    thread_sleep_ns(200000000ull);
    if (stop_first) {
        log_warn("test hook: stopping the monitor's APIC timer on purpose");
        bool irq = irq_save();
        lapic_timer_stop();
        irq_restore(irq);
        thread_sleep_ns(300000000ull);
    }
    log_warn("test hook: raising the local APIC's TPR to 0xf0 for 100 ms on purpose");
    bool irq = irq_save();
    lapic_test_set_tpr(0xf0);
    /* In IRR at once, as QEMU's race leaves it: before any halt. */
    lapic_self_ipi(VEC_TIMER);
    irq_restore(irq);
    thread_sleep_ns(100000000ull);     /* only the watchdog's runs end it */
    irq = irq_save();
    lapic_test_set_tpr(0);
    irq_restore(irq);
    log_warn("test hook: TPR back to 0");
}

void test_hooks_start(const char *options)
{
    blk_selftest_start(options);
    disk_memvol_start(options);
    vm_cycles_start(options);
    char how[16];
    if (option_get(options, "timer_stall_test", how, sizeof how))
        thread_create("timer-stall-test", CLASS_TASK, timer_stall_thread,
                      how[0] == 'y' ? (void *)1 : 0);
    if (!option_get(options, "crash_test", how, sizeof how))
        return;
    /* pf: a non-canonical address; ud: an invalid opcode. */
    void *where = how[0] == 'p' ? (void *)0x8000000000000000ull : 0;
    thread_create("crash-test", CLASS_TASK, crash_thread, where);
}
