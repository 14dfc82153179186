/* spinner: the noisy neighbour.  Spins forever with interrupts off; only the
 * monitor's preemption gets the CPU back.
 *
 * It still shows that it is alive: it polls the TSC while it spins and prints
 * "spinner: heartbeat N" every HEARTBEAT_MS of TSC time (command line
 * "heartbeat_ms=N" changes the interval), interrupts still off.  A scenario
 * that expects it running (expect.spinner=running) is judged on those lines
 * (tests/integration/judge.sh, "# heartbeat: MS"): a frozen spinner fails
 * even though the monitor still sees it as running.  The lines are port
 * writes, i.e. exits the monitor takes at most every HEARTBEAT_MS; between
 * them nothing but the monitor's timer takes the CPU away. */
#include "guest.h"

#define HEARTBEAT_MS 10u

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    cpu_cli();
    /* TSC kHz from the monitor's timing leaf (docs/guests.md). */
    uint64_t tsc_khz = guest_on_taskvisor() ? cpuid(TV_CPUID_LEAF_TIMING, 0).eax : 0;
    uint64_t ms = HEARTBEAT_MS, v;
    char num[24];
    if (guest_cmdline_value("heartbeat_ms", num, sizeof num) && guest_parse_u64(num, &v) && v > 0)
        ms = v;
    if (tsc_khz == 0) {
        /* No clock to pace heartbeats with: spin silently, and the judge
         * reports the missing heartbeats. */
        guest_printf("spinner: spinning with interrupts off, no TSC frequency: no heartbeats\n");
        __asm__ volatile("1: jmp 1b" ::: "memory");
        __builtin_unreachable();
    }
    guest_printf("spinner: spinning with interrupts off, heartbeat every %lu ms\n",
                 (unsigned long)ms);
    uint64_t period = ms * tsc_khz, next = rdtsc() + period;
    for (uint64_t n = 1;; n++) {
        while ((int64_t)(rdtsc() - next) < 0)
            ;   /* no PAUSE: a pure CPU hog, nothing a monitor could exit on */
        guest_printf("spinner: heartbeat %lu\n", (unsigned long)n);
        next += period;
        /* After a long preemption, pace from now instead of catching up. */
        uint64_t now = rdtsc();
        if ((int64_t)(now - next) > 0)
            next = now + period;
    }
}
