/* The physical local APIC, in xAPIC (MMIO) mode: QEMU TCG offers the monitor
 * neither x2APIC nor TSC-deadline.  SDM vol. 3 ch. 10. */
#ifndef VMM_LAPIC_H
#define VMM_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

void lapic_init(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Timer frequency after calibration, in kHz (input clock / divider). */
uint64_t lapic_timer_khz(void);
/* Arms the one-shot timer to fire `ns` from now (0 = as soon as possible). */
void lapic_timer_oneshot_ns(uint64_t ns);
void lapic_timer_stop(void);
void lapic_self_ipi(uint8_t vector);
/* Diagnostics for the timer watchdog: the vector's IRR and ISR bits, TPR. */
struct lapic_vector_state {
    bool irr, isr;
    uint32_t tpr;
};
void lapic_vector_state(uint8_t vector, struct lapic_vector_state *out);
/* Makes the local APIC re-evaluate what it has pending (rewrites TPR with
 * its own value: SDM vol. 3 10.8.3.1, a TPR write re-arbitrates).  The
 * timer watchdog's recovery for an interrupt left in IRR. */
void lapic_nudge(void);
#ifdef TV_TEST_BUILD
void lapic_test_set_tpr(uint32_t tpr); /* test hook: timer_stall_test */
#endif

#endif
