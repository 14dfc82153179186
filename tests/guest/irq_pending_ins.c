/* irq_pending_ins: the load that lost the monitor's own timer under QEMU
 * (issue 9, item 7), made small: interrupts off, one virtual interrupt
 * pending that the guest never takes (a self-IPI while IF=0, never
 * acknowledged), and a stream of REP INSB exits from a port nobody
 * emulates (each exit moves one batch and continues).  A heartbeat every
 * "heartbeat_ms" of TSC time (default 1000) and an exit after "seconds"
 * (default 10) of TSC time; "pending=0" leaves the interrupt out (the
 * comparison run); "bytes=N" (1-4096, default 4096) moves N bytes per
 * REP INSB (fewer: more exits per second, each a VMRUN with the pending
 * interrupt).
 *
 * The scenario puts a spinner beside it and asserts the monitor's worst
 * vCPU wait: if the monitor's timer stops, nothing preempts this guest any
 * more, the spinner's heartbeats stop and the wait grows without bound. */
#include "guest.h"

#define PENDING_VEC 0x60

static uint8_t buf[4096];

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
    cpu_cli();
    uint64_t tsc_khz = guest_on_taskvisor() ? cpuid(TV_CPUID_LEAF_TIMING, 0).eax : 0;
    if (tsc_khz == 0 || apic_enable(false) == APIC_NONE) {
        report("TSC frequency and x2APIC", false);
        guest_exit_summary();
    }
    uint64_t beat = arg_u64("heartbeat_ms", 1000) * tsc_khz;
    uint64_t total = arg_u64("seconds", 10) * 1000 * tsc_khz;
    bool pending = arg_u64("pending", 1) != 0;
    uint64_t bytes = arg_u64("bytes", sizeof buf);
    if (bytes == 0 || bytes > sizeof buf)
        bytes = sizeof buf;
    if (pending)
        apic_self_ipi(PENDING_VEC);          /* pending for good: IF stays 0 */
    guest_printf("irq_pending_ins: vector %#x %s, interrupts off, REP INSB stream\n",
                 PENDING_VEC, pending ? "pending" : "not pending (pending=0)");
    uint64_t t0 = rdtsc(), next = t0 + beat, batches = 0, n = 1;
    while (rdtsc() - t0 < total) {
        void *p = buf;
        uint64_t count = bytes;
        __asm__ volatile("rep insb" : "+D"(p), "+c"(count) : "d"((uint16_t)0x2f8) : "memory");
        batches++;
        if ((int64_t)(rdtsc() - next) >= 0) {
            guest_printf("irq_pending_ins: heartbeat %lu (%lu REP INSB of %u bytes)\n",
                         (unsigned long)n++, (unsigned long)batches, (unsigned)bytes);
            next += beat;
        }
    }
    reportf(buf[0] == 0xff && buf[bytes - 1] == 0xff,
            "%lu REP INSB of %u bytes read all ones", (unsigned long)batches,
            (unsigned)bytes);
    guest_exit_summary();
    return 0;
}
