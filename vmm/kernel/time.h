/* Monotonic time from the TSC, calibrated once at boot. */
#ifndef VMM_TIME_H
#define VMM_TIME_H

#include <stdint.h>

void time_init(void);            /* calibrates the TSC once (CPUID leaves or the PIT) */
const char *time_tsc_source(void);
/* The local APIC timer's input clock when a CPUID leaf gave it, else 0. */
uint64_t time_apic_input_khz(void);
uint64_t time_tsc_khz(void);
uint64_t time_now_ns(void);      /* 0 until calibrated */
uint64_t time_tsc_to_ns(uint64_t cycles);
uint64_t time_ns_to_tsc(uint64_t ns);
/* The TSC value from which time_now_ns() >= ns (never later; it may be a
 * few cycles early); UINT64_MAX until calibrated. */
uint64_t time_ns_to_tsc_abs(uint64_t ns);
/* Busy-waits (used only before the scheduler runs and for calibration). */
void time_delay_us(uint64_t us);

#endif
