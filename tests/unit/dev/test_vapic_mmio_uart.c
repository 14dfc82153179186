/* Unit tests for the device models that run on the monitor's services:
 * the xAPIC MMIO page over the virtual local APIC (vapic_mmio.c + vapic.c)
 * and the 16550's interrupt logic (vuart.c).  The monitor's timers, clock,
 * vCPU kick and log are stubbed: these tests drive registers only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dev/vapic_mmio.h"
#include "dev/vuart.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "vm/vcpu.h"

/* ---- stubs of the monitor services the models call ---- */
static uint64_t now_ns;
void timer_init(struct timer *t, void (*fn)(struct timer *), void *arg) { t->fn = fn; t->arg = arg; }
void timer_arm(struct timer *t, uint64_t deadline_ns) { t->deadline_ns = deadline_ns; t->armed = true; }
void timer_cancel(struct timer *t) { t->armed = false; }
uint64_t time_now_ns(void) { return now_ns; }
uint64_t time_tsc_to_ns(uint64_t cycles) { return cycles; }
void vcpu_post_request(struct vcpu *v, uint32_t req) { (void)v; (void)req; }
void log_msg(int level, const char *source, const char *fmt, ...)
{
    (void)level; (void)source; (void)fmt;
}
static char logged[256];
void log_line(const char *source, const char *text, int len)
{
    (void)source;
    snprintf(logged, sizeof logged, "%.*s", len, text);
}
void log_raw_bytes(const char *s, int len) { (void)s; (void)len; }

/* ---- xAPIC page ---- */
#define BASE_EN     (1ull << 11)
#define BASE_EXTD   (1ull << 10)
#define BASE_BSP    (1ull << 8)

static void xapic_mode_and_registers(void **state)
{
    (void)state;
    static struct vapic a;
    struct xapic_regs x;
    vapic_init(&a, NULL, 0);
    xapic_regs_init(&x);
    /* x2APIC at reset (the default): the page is not there. */
    assert_false(vapic_mmio_active(&a));
    /* Through "disabled" to xAPIC, as SDM 10.12.5 requires. */
    assert_int_equal(vapic_write_msr(&a, 0x1b, 0xfee00000ull | BASE_BSP | BASE_EN), TV_OK);
    assert_true(vapic_mmio_active(&a));
    /* The x2APIC MSRs are gone in xAPIC mode (#GP). */
    uint64_t v;
    assert_int_equal(vapic_read_msr(&a, 0x802, &v), TV_E_INVALID_ARGUMENT);
    assert_int_equal(vapic_mmio_read(&a, &x, 0x20, 4), 0);          /* ID 0 in bits 31:24 */
    assert_int_equal(vapic_mmio_read(&a, &x, 0x30, 4) & 0xff, 0x14); /* version */
    assert_int_equal(vapic_mmio_read(&a, &x, 0xe0, 4), 0xffffffffu); /* DFR: flat */
    vapic_mmio_write(&a, &x, 0xd0, 4, 0x01000000u);                 /* LDR writable */
    assert_int_equal(vapic_mmio_read(&a, &x, 0xd0, 4), 0x01000000u);
    vapic_mmio_write(&a, &x, 0x80, 4, 0x20);                        /* TPR */
    assert_int_equal(vapic_mmio_read(&a, &x, 0x80, 4), 0x20);
    vapic_mmio_write(&a, &x, 0xf0, 4, 0x1ff);                       /* SVR: enabled */
    assert_int_equal(vapic_mmio_read(&a, &x, 0xf0, 4), 0x1ff);
    /* Misaligned or not 32 bits: all ones, writes dropped. */
    assert_int_equal(vapic_mmio_read(&a, &x, 0x84, 4), 0xffffffffu);
    assert_int_equal(vapic_mmio_read(&a, &x, 0x80, 1), 0xff);
    vapic_mmio_write(&a, &x, 0x80, 2, 0x40);
    assert_int_equal(vapic_mmio_read(&a, &x, 0x80, 4), 0x20);
    /* Self IPI through the ICR halves (destination 0, fixed, vector 0x45):
     * pending above the TPR class, injected, then EOI through the page. */
    vapic_mmio_write(&a, &x, 0x310, 4, 0x00000000u);
    vapic_mmio_write(&a, &x, 0x300, 4, 0x45);
    assert_int_equal(vapic_pending_vector(&a), 0x45);
    vapic_ack(&a, 0x45);
    assert_int_equal(vapic_mmio_read(&a, &x, 0x100 + 0x10 * (0x45 / 32), 4),
                     1u << (0x45 % 32));                            /* ISR */
    vapic_mmio_write(&a, &x, 0xb0, 4, 0x12345678u);                 /* any value is an EOI */
    assert_int_equal(vapic_mmio_read(&a, &x, 0x100 + 0x10 * (0x45 / 32), 4), 0);
    /* TPR above the vector's class holds it back. */
    vapic_mmio_write(&a, &x, 0x300, 4, 0x45);
    vapic_mmio_write(&a, &x, 0x80, 4, 0x50);
    assert_int_equal(vapic_pending_vector(&a), -1);
    /* A destination that is not ours does not reach us. */
    vapic_mmio_write(&a, &x, 0x80, 4, 0);
    vapic_ack(&a, 0x45);
    vapic_mmio_write(&a, &x, 0xb0, 4, 0);
    vapic_mmio_write(&a, &x, 0x310, 4, 0x05000000u);
    vapic_mmio_write(&a, &x, 0x300, 4, 0x46);
    assert_int_equal(vapic_pending_vector(&a), -1);
    /* Back to x2APIC: the page goes away again. */
    assert_int_equal(vapic_write_msr(&a, 0x1b, 0xfee00000ull | BASE_BSP | BASE_EN | BASE_EXTD), TV_OK);
    assert_false(vapic_mmio_active(&a));
    assert_int_equal(vapic_read_msr(&a, 0x802, &v), TV_OK);
}

/* ---- UART interrupts ---- */
static int irq_changes, irq_level, kicks;
static void irq(void *ctx, bool level) { (void)ctx; irq_changes++; irq_level = level; }
static void kick(void *ctx) { (void)ctx; kicks++; }

static void uart_interrupts(void **state)
{
    (void)state;
    static struct vuart u;
    vuart_init(&u, "t", true);
    vuart_set_irq(&u, NULL, irq, kick);
    irq_changes = irq_level = kicks = 0;
    assert_int_equal(vuart_read(&u, 0x3fa), 0xc1);          /* FIFOs, nothing pending */
    /* THRE enabled with an empty holding register: pending, but the line
     * stays low without OUT2. */
    vuart_write(&u, 0x3f9, 0x02);
    assert_int_equal(irq_changes, 0);
    vuart_write(&u, 0x3fc, 0x08);                          /* MCR OUT2 */
    assert_int_equal(irq_changes, 1);
    assert_int_equal(irq_level, 1);
    /* Reading IIR identifies THRE and clears it: the line drops. */
    assert_int_equal(vuart_read(&u, 0x3fa), 0xc2);
    assert_int_equal(irq_level, 0);
    assert_int_equal(vuart_read(&u, 0x3fa), 0xc1);
    /* Each byte sent makes the register empty again: a new edge. */
    vuart_write(&u, 0x3f8, 'h');
    assert_int_equal(irq_level, 1);
    assert_int_equal(irq_changes, 3);
    vuart_write(&u, 0x3f8, 'i');                           /* still high: no new edge */
    assert_int_equal(irq_changes, 3);
    vuart_write(&u, 0x3f8, '\n');
    assert_string_equal(logged, "hi");
    /* Disabling THRE interrupts drops the line. */
    vuart_write(&u, 0x3f9, 0x00);
    assert_int_equal(irq_level, 0);
    /* Received data: kick from the poller when RX interrupts are on;
     * RDA outranks THRE; reading the byte clears it. */
    vuart_push_input(&u, 'x');
    assert_int_equal(kicks, 0);                            /* RX interrupts off */
    vuart_write(&u, 0x3f9, 0x03);
    assert_int_equal(irq_level, 1);
    assert_int_equal(vuart_read(&u, 0x3fa), 0xc4);
    assert_int_equal(vuart_read(&u, 0x3f8), 'x');
    assert_int_equal(vuart_read(&u, 0x3fa), 0xc2);         /* then THRE */
    assert_int_equal(irq_level, 0);
    vuart_push_input(&u, 'y');
    assert_int_equal(kicks, 1);
    /* The divisor latch hides THR and IER. */
    vuart_write(&u, 0x3fb, 0x83);
    vuart_write(&u, 0x3f8, 0x01);
    vuart_write(&u, 0x3f9, 0x00);
    assert_int_equal(vuart_read(&u, 0x3f8), 0x01);
    vuart_write(&u, 0x3fb, 0x03);
    assert_int_equal(vuart_read(&u, 0x3f9), 0x03);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xapic_mode_and_registers),
        cmocka_unit_test(uart_interrupts),
    };
    return cmocka_run_group_tests_name("vapic_mmio_uart", tests, NULL, NULL);
}
