/* serial_flood: floods its console.  For "flood_ms" of TSC time (default
 * 400) it writes long lines to its UART as fast as it can, then stays quiet
 * for "quiet_ms" (default 200) so its line budget refills, and reports how
 * many lines it wrote.
 *
 * Beside a timer-sensitive neighbour this checks that a guest's console
 * output cannot delay other partitions: the monitor queues log lines in a
 * ring and drains it to its UART from a timer, a bounded piece of work per
 * run, and rate-limits each partition's console (vmm/dev/vuart.c), logging
 * how many lines it dropped.  The scenario asserts the neighbour's wake-up
 * bound (assert_vcpu_wait_us) and the drop report. */
#include "guest.h"

static uint64_t arg_u64(const char *key, uint64_t def)
{
    char num[24];
    uint64_t v;
    if (guest_cmdline_value(key, num, sizeof num) && guest_parse_u64(num, &v))
        return v;
    return def;
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    uint64_t tsc_khz = guest_on_taskvisor() ? cpuid(TV_CPUID_LEAF_TIMING, 0).eax : 0;
    if (tsc_khz == 0) {
        report("TSC frequency from the timing leaf", false);
        guest_exit_summary();
    }
    uint64_t flood = arg_u64("flood_ms", 400) * tsc_khz, quiet = arg_u64("quiet_ms", 200) * tsc_khz;
    static const char text[] =
        "flooding the console with a long line of text that goes on and on and on and on "
        "and on until it is about one hundred and eighty characters long, line number ";
    uint64_t t0 = rdtsc(), lines = 0;
    while (rdtsc() - t0 < flood) {
        serial_write(text, sizeof text - 1);
        guest_printf("%lu\n", (unsigned long)lines);
        lines++;
    }
    t0 = rdtsc();
    while (rdtsc() - t0 < quiet)
        cpu_pause();
    reportf(lines > 100, "flood done: %lu lines written in %lu ms", (unsigned long)lines,
            (unsigned long)(flood / tsc_khz));
    guest_exit_summary();
    return 0;
}
