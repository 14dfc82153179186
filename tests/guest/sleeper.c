/* sleeper: a guest that only sleeps.  Naps of "nap_ms" (default 20) in HLT,
 * each ended by its virtual x2APIC one-shot timer, for "seconds" (default 2)
 * of TSC time; then reports how many naps it took and exits.  With nothing
 * else to run the monitor sits in its idle loop between the naps: the
 * timer_watchdog_idle scenario strands the monitor's timer vector there
 * (test hook timer_stall_test=tpr), and the naps end only if the idle
 * loop's watchdog lets it in. */
#include "guest.h"

#define TIMER_VEC 0x50

static volatile uint64_t wakeups;

static void timer_handler(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
    wakeups++;
}

static uint64_t arg_u64(const char *key, uint64_t def)
{
    char num[24];
    uint64_t v;
    if (guest_cmdline_value(key, num, sizeof num) && guest_parse_u64(num, &v) && v > 0)
        return v;
    return def;
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    struct cpuid_regs r = guest_on_taskvisor() ? cpuid(TV_CPUID_LEAF_TIMING, 0) : (struct cpuid_regs){ 0 };
    uint64_t tsc_khz = r.eax, apic_khz = r.ebx;
    if (!reportf(tsc_khz >= 1000 && apic_khz >= 1000 && apic_enable(false) == APIC_X2APIC,
                 "timing leaf (TSC %lu kHz, APIC timer %lu kHz) and x2APIC",
                 (unsigned long)tsc_khz, (unsigned long)apic_khz))
        guest_exit_summary();
    uint64_t nap_ms = arg_u64("nap_ms", 20), seconds = arg_u64("seconds", 2);
    guest_irq_register(TIMER_VEC, timer_handler, NULL, true);
    apic_write(X2APIC_TIMER_DIV, APIC_DIV_1);
    apic_write(X2APIC_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | TIMER_VEC);
    uint64_t t0 = rdtsc(), total = seconds * 1000 * tsc_khz, naps = 0;
    while (rdtsc() - t0 < total) {
        uint64_t seen = wakeups;
        cpu_cli();
        apic_write(X2APIC_TIMER_INIT, (uint32_t)(apic_khz * nap_ms));
        while (wakeups == seen) {
            cpu_sti_hlt();
            cpu_cli();
        }
        cpu_sti();
        naps++;
    }
    uint64_t expected = seconds * 1000 / nap_ms;
    /* Each nap lasts at least nap_ms; a lost wake-up would end none. */
    reportf(naps >= 1 && naps <= expected, "%lu naps of %lu ms in %lu s (at most %lu)",
            (unsigned long)naps, (unsigned long)nap_ms, (unsigned long)seconds,
            (unsigned long)expected);
    guest_exit_summary();
    return 0;
}
