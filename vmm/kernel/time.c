#include "kernel/time.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include <stdbool.h>

static uint64_t tsc_khz;
static uint64_t tsc_boot;

/* PIT channel 2 runs at 1.193182 MHz; its gate and output are in port 0x61
 * (bit 0 gate, bit 1 speaker, bit 5 output). */
#define PIT_HZ 1193182u

static uint64_t measure_tsc_over_pit(uint16_t ticks)
{
    uint8_t ctl = inb(0x61);
    outb(0x61, (uint8_t)((ctl & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(0x43, 0xb0);                            /* ch2, lobyte/hibyte, mode 0 */
    outb(0x42, (uint8_t)ticks);
    outb(0x42, (uint8_t)(ticks >> 8));
    uint64_t start = rdtsc();
    uint64_t guard = 0;
    while (!(inb(0x61) & 0x20)) {
        if (++guard > 100000000ull)
            return 0; /* no PIT: the caller falls back */
    }
    uint64_t end = rdtsc();
    outb(0x61, ctl);
    return end - start;
}

/* One calibration, from the first source the CPU offers:
 *  1. the hypervisor timing leaf 0x40000010 (EAX TSC kHz, EBX local APIC
 *     timer input kHz), when CPUID.1:ECX[31] says we run under one and its
 *     leaf range reaches it;
 *  2. CPUID 0x15 when it gives the crystal (SDM vol. 3B 18.7.3: TSC =
 *     crystal x EBX / EAX; the local APIC timer counts the crystal clock,
 *     SDM vol. 3A 10.5.4);
 *  3. one 2 ms pass of PIT channel 2 (1 tick in 2386: 0.04%).
 * This replaced three 10 ms PIT passes and three 5 ms APIC passes: most of
 * the start-up time before a guest ran. */
static uint64_t apic_input_khz;
static const char *tsc_source = "none";

static bool from_hypervisor_leaf(void)
{
    if (!((cpuid(1, 0).ecx >> 31) & 1) || cpuid(0x40000000, 0).eax < 0x40000010)
        return false;
    struct cpuid_regs r = cpuid(0x40000010, 0);
    if (r.eax == 0)
        return false;
    tsc_khz = r.eax;
    apic_input_khz = r.ebx;
    tsc_source = "hypervisor leaf 0x40000010";
    return true;
}

static bool from_cpuid_15(void)
{
    uint32_t max = cpuid(0, 0).eax;
    if (max < 0x15)
        return false;
    struct cpuid_regs r = cpuid(0x15, 0);
    if (r.eax == 0 || r.ebx == 0)
        return false;
    /* Without the crystal (ECX 0) the TSC rate is not enumerated.  Leaf
     * 0x16's base frequency is no substitute: Bochs' skylake_x says 3.5 GHz
     * there while its TSC counts 4 MHz of emulated instructions. */
    if (r.ecx == 0)
        return false;
    tsc_khz = (uint64_t)r.ecx * r.ebx / r.eax / 1000u;
    apic_input_khz = r.ecx / 1000u;
    tsc_source = "CPUID 0x15";
    return tsc_khz != 0;
}

void time_init(void)
{
    if (!from_hypervisor_leaf() && !from_cpuid_15()) {
        uint64_t c = measure_tsc_over_pit(2386); /* 2 ms */
        /* No PIT either: assume 2 GHz rather than divide by zero. */
        tsc_khz = c ? c * PIT_HZ / 2386u / 1000u : 2000000ull;
        tsc_source = c ? "PIT" : "assumed";
    }
    tsc_boot = rdtsc();
    log_info("time: TSC calibrated from %s", tsc_source);
}

const char *time_tsc_source(void) { return tsc_source; }
uint64_t time_apic_input_khz(void) { return apic_input_khz; }

uint64_t time_tsc_khz(void)
{
    return tsc_khz;
}

uint64_t time_tsc_to_ns(uint64_t cycles)
{
    if (!tsc_khz)
        return 0;
    /* Split to avoid 64-bit overflow for long uptimes. */
    uint64_t whole = cycles / tsc_khz;           /* ms */
    uint64_t rest = cycles % tsc_khz;
    return whole * 1000000ull + rest * 1000000ull / tsc_khz;
}

uint64_t time_ns_to_tsc(uint64_t ns)
{
    uint64_t ms = ns / 1000000ull;
    uint64_t rest = ns % 1000000ull;
    return ms * tsc_khz + rest * tsc_khz / 1000000ull;
}

/* time_ns_to_tsc rounds down, so a TSC below this gives a time below ns. */
uint64_t time_ns_to_tsc_abs(uint64_t ns)
{
    if (!tsc_khz)
        return UINT64_MAX;
    return tsc_boot + time_ns_to_tsc(ns);
}

uint64_t time_now_ns(void)
{
    if (!tsc_khz)
        return 0;
    return time_tsc_to_ns(rdtsc() - tsc_boot);
}

void time_delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + time_ns_to_tsc(us * 1000ull);
    while (rdtsc() < end)
        cpu_pause();
}
