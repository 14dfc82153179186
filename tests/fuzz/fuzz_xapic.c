/* libFuzzer target: the xAPIC MMIO page and the APIC_BASE mode switches a
 * guest can drive (vapic_mmio.c over vapic.c), any offset, size and value.
 * Aborts when a pending vector is illegal (< 16) or the page answers while
 * the APIC is not in xAPIC mode; the sanitizers catch the rest.  The
 * monitor's timers, clock and vCPU kick are stubbed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/vapic_mmio.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "vm/vcpu.h"

void timer_init(struct timer *t, void (*fn)(struct timer *), void *arg) { t->fn = fn; t->arg = arg; }
void timer_arm(struct timer *t, uint64_t deadline_ns) { t->deadline_ns = deadline_ns; }
void timer_cancel(struct timer *t) { (void)t; }
uint64_t time_now_ns(void) { return 1000; }
uint64_t time_tsc_to_ns(uint64_t cycles) { return cycles; }
void vcpu_post_request(struct vcpu *v, uint32_t req) { (void)v; (void)req; }
void log_msg(int level, const char *source, const char *fmt, ...)
{
    (void)level; (void)source; (void)fmt;
}

static struct vapic a;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xapic_regs x;
    vapic_init(&a, NULL, 0);
    xapic_regs_init(&x);
    for (size_t i = 0; i + 7 <= size; i += 7) {
        const uint8_t *d = data + i;
        unsigned sz = 1u << (d[0] & 3);
        uint64_t off = ((uint64_t)d[1] << 4 | (d[2] & 0xf)) & 0xfff;
        uint32_t val;
        memcpy(&val, d + 3, 4);
        switch ((d[0] >> 2) & 3) {
        case 0:
            if (vapic_mmio_active(&a))
                (void)vapic_mmio_read(&a, &x, off, sz);
            break;
        case 1:
            if (vapic_mmio_active(&a))
                vapic_mmio_write(&a, &x, off, sz, val);
            break;
        case 2:   /* IA32_APIC_BASE: EN/EXTD from the input, BSP and base kept */
            (void)vapic_write_msr(&a, 0x1b, 0xfee00100ull | ((uint64_t)(val & 3) << 10));
            break;
        default: {
            int vec = vapic_pending_vector(&a);
            if (vec >= 0 && vec < 16)
                abort();
            if (vec >= 0)
                vapic_ack(&a, vec);
            break;
        }
        }
        if (vapic_mmio_active(&a) && ((a.apic_base >> 10) & 3) != 2)
            abort();
    }
    return 0;
}
