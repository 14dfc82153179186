/* heartbeat: the VM the lifecycle tests start, pause, reset and turn off.
 *
 * At boot it counts its boots in a variable of its data section and prints
 * "heartbeat: boot N": the image is loaded afresh for every Startup and
 * Reset, so N is 1 on every boot the monitor gives it (a Reset that kept the
 * old memory would show 2).  Then it prints "heartbeat: beat N" every
 * HEARTBEAT_MS of TSC time ("heartbeat_ms=N" on its command line changes
 * it); each line is a port write, i.e. VM exits, so the control partition
 * sees it run through VM_QUERY's exit count. */
#include "guest.h"

#define HEARTBEAT_MS 20u

/* In .data, not .bss: the start code zeroes .bss at every entry, only a
 * fresh load of the image puts the 0 back here. */
static volatile uint32_t boots __attribute__((section(".data")));

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    boots++;
    uint64_t tsc_khz = guest_on_taskvisor() ? cpuid(TV_CPUID_LEAF_TIMING, 0).eax : 0;
    guest_printf("heartbeat: boot %u\n", (unsigned)boots);
    if (tsc_khz == 0)
        tsc_khz = 1000000; /* unpaced: still beats */
    uint64_t ms = HEARTBEAT_MS, v;
    char num[24];
    if (guest_cmdline_value("heartbeat_ms", num, sizeof num) && guest_parse_u64(num, &v) && v > 0)
        ms = v;
    uint64_t period = ms * tsc_khz, next = rdtsc() + period;
    for (uint64_t n = 1;; n++) {
        while ((int64_t)(rdtsc() - next) < 0)
            cpu_pause();
        guest_printf("heartbeat: beat %lu\n", (unsigned long)n);
        next += period;
        uint64_t now = rdtsc();
        if ((int64_t)(now - next) > 0)
            next = now + period;
    }
}
