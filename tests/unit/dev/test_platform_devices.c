/* Unit tests for the portable platform device models in vmm/dev: the I/O
 * APIC (registers, masking, edge delivery), the MP table (layout and
 * checksums, as an OS parses it) and the legacy port answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dev/ioapic.h"
#include "dev/legacy_ports.h"
#include "dev/mptable.h"

struct sent {
    int count;
    uint8_t vector, dest, mode;
    bool logical;
};

static void record(void *ctx, uint8_t vector, uint8_t dest, bool logical, uint8_t mode)
{
    struct sent *s = ctx;
    s->count++;
    s->vector = vector;
    s->dest = dest;
    s->logical = logical;
    s->mode = mode;
}

static uint32_t rd(struct ioapic *io, uint32_t reg)
{
    ioapic_mmio_write(io, 0x00, 4, reg);
    return (uint32_t)ioapic_mmio_read(io, 0x10, 4);
}

static void wr(struct ioapic *io, uint32_t reg, uint32_t v)
{
    ioapic_mmio_write(io, 0x00, 4, reg);
    ioapic_mmio_write(io, 0x10, 4, v);
}

static void ioapic_registers(void **state)
{
    (void)state;
    struct ioapic io;
    struct sent s = { 0 };
    ioapic_init(&io, 1, &s, record);
    assert_int_equal(rd(&io, 0x00), 1u << 24);                    /* ID */
    assert_int_equal(rd(&io, 0x01), (23u << 16) | 0x11);          /* 24 pins, version 0x11 */
    for (uint32_t pin = 0; pin < IOAPIC_PINS; pin++)
        assert_int_equal(rd(&io, 0x10 + 2 * pin), 1u << 16);      /* masked at reset */
    assert_int_equal(rd(&io, 0x10 + 2 * IOAPIC_PINS), 0xffffffffu); /* past the table */
    /* IOREGSEL reads back; only aligned dwords mean anything. */
    ioapic_mmio_write(&io, 0x00, 4, 0x12);
    assert_int_equal(ioapic_mmio_read(&io, 0x00, 4), 0x12);
    assert_int_equal(ioapic_mmio_read(&io, 0x10, 1), 0xff);
    assert_int_equal(ioapic_mmio_read(&io, 0x20, 4), 0xffffffffu);
    /* Read-only bits (delivery status 12, remote IRR 14) stay clear. */
    wr(&io, 0x10 + 8, 0xffffffffu);
    assert_int_equal(rd(&io, 0x10 + 8), 0xffffffffu & ~((1u << 12) | (1u << 14)) & 0x1ffff);
    wr(&io, 0x11 + 8, 0xffffffffu);
    assert_int_equal(rd(&io, 0x11 + 8), 0xff000000u);
    /* The version register is read-only; the ID takes bits 27:24. */
    wr(&io, 0x01, 0);
    assert_int_equal(rd(&io, 0x01), (23u << 16) | 0x11);
    wr(&io, 0x00, 0x0f000000u);
    assert_int_equal(rd(&io, 0x00), 0x0f000000u);
}

static void ioapic_edges(void **state)
{
    (void)state;
    struct ioapic io;
    struct sent s = { 0 };
    ioapic_init(&io, 1, &s, record);
    /* Masked: an edge is lost. */
    ioapic_set_irq(&io, 4, true);
    ioapic_set_irq(&io, 4, false);
    assert_int_equal(s.count, 0);
    /* Vector 0x31, fixed, logical destination 1. */
    wr(&io, 0x11 + 8, 0x01000000u);
    wr(&io, 0x10 + 8, 0x831);
    ioapic_set_irq(&io, 4, true);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.vector, 0x31);
    assert_int_equal(s.dest, 1);
    assert_true(s.logical);
    assert_int_equal(s.mode, 0);
    /* Staying high is not a new edge; low then high is. */
    ioapic_set_irq(&io, 4, true);
    assert_int_equal(s.count, 1);
    ioapic_set_irq(&io, 4, false);
    ioapic_set_irq(&io, 4, true);
    assert_int_equal(s.count, 2);
    assert_int_equal(io.delivered, 2);
    /* Other pins are independent; pins past 23 are ignored. */
    ioapic_set_irq(&io, 5, true);
    ioapic_set_irq(&io, 99, true);
    assert_int_equal(s.count, 2);
    /* Unmasking a level-triggered pin that is asserted sends it. */
    wr(&io, 0x10 + 10, (1u << 16) | (1u << 15) | 0x40);
    wr(&io, 0x10 + 10, (1u << 15) | 0x40);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.vector, 0x40);
}

/* Parses the bytes as an OS does: floating pointer, checksums, entries. */
static void mptable_layout(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t len = 0;
    const struct mptable_platform pf = {
        .cpus = 2, .cpu_signature = 0x00060fb1, .cpu_features = 0x078bfbff,
        .lapic_addr = 0xfee00000u, .lapic_version = 0x14, .ioapic_id = 2,
        .ioapic_version = 0x11, .ioapic_addr = 0xfec00000u, .ioapic_pins = 24,
    };
    memset(buf, 0xcc, sizeof buf);
    assert_int_equal(mptable_build(&pf, 0xf0000, buf, sizeof buf, &len), TV_OK);
    assert_memory_equal(buf, "_MP_", 4);
    uint32_t table;
    memcpy(&table, buf + 4, 4);
    assert_int_equal(table, 0xf0010);
    assert_int_equal(buf[8], 1);
    assert_int_equal(buf[9], 4);
    uint8_t sum = 0;
    for (int i = 0; i < 16; i++)
        sum = (uint8_t)(sum + buf[i]);
    assert_int_equal(sum, 0);
    const uint8_t *h = buf + 16;
    assert_memory_equal(h, "PCMP", 4);
    uint16_t tlen, count;
    memcpy(&tlen, h + 4, 2);
    memcpy(&count, h + 34, 2);
    assert_int_equal(16 + tlen, len);
    sum = 0;
    for (unsigned i = 0; i < tlen; i++)
        sum = (uint8_t)(sum + h[i]);
    assert_int_equal(sum, 0);
    uint32_t lapic;
    memcpy(&lapic, h + 36, 4);
    assert_int_equal(lapic, 0xfee00000u);
    /* Walk the entries. */
    const uint8_t *e = h + 44;
    int cpus = 0, buses = 0, ioapics = 0, ints = 0, lints = 0;
    int irq4_pin = -1, irq0_pin = -1;
    for (unsigned i = 0; i < count; i++) {
        switch (e[0]) {
        case 0:
            assert_int_equal(e[1], cpus);
            assert_int_equal(e[3], cpus == 0 ? 3 : 1);     /* enabled, BSP flag on CPU 0 */
            cpus++;
            e += 20;
            break;
        case 1:
            assert_memory_equal(e + 2, "ISA   ", 6);
            buses++;
            e += 8;
            break;
        case 2:
            assert_int_equal(e[1], 2);
            assert_int_equal(e[3], 1);
            uint32_t a;
            memcpy(&a, e + 4, 4);
            assert_int_equal(a, 0xfec00000u);
            ioapics++;
            e += 8;
            break;
        case 3:
            assert_int_equal(e[1], 0);                     /* INT */
            assert_int_equal(e[6], 2);                     /* to the I/O APIC */
            assert_int_not_equal(e[5], 2);                 /* no line for the cascade */
            if (e[5] == 4) irq4_pin = e[7];
            if (e[5] == 0) irq0_pin = e[7];
            ints++;
            e += 8;
            break;
        case 4:
            lints++;
            e += 8;
            break;
        default:
            fail_msg("unknown entry type %u", e[0]);
        }
    }
    assert_int_equal((size_t)(e - buf), len);
    assert_int_equal(cpus, 2);
    assert_int_equal(buses, 1);
    assert_int_equal(ioapics, 1);
    assert_int_equal(ints, 15);
    assert_int_equal(lints, 2);
    assert_int_equal(irq4_pin, 4);
    assert_int_equal(irq0_pin, 2);
}

static void mptable_refusals(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t len;
    struct mptable_platform pf = {
        .cpus = 1, .lapic_addr = 0xfee00000u, .ioapic_id = 1, .ioapic_addr = 0xfec00000u,
        .ioapic_pins = 24,
    };
    assert_int_equal(mptable_build(&pf, 0xf0000, buf, 100, &len), TV_E_LIMIT);
    assert_int_equal(mptable_build(&pf, 0xf0008, buf, sizeof buf, &len), TV_E_INVALID_ARGUMENT);
    pf.cpus = 0;
    assert_int_equal(mptable_build(&pf, 0xf0000, buf, sizeof buf, &len), TV_E_INVALID_ARGUMENT);
    pf.cpus = 2;                       /* the I/O APIC's ID would clash with CPU 1's */
    assert_int_equal(mptable_build(&pf, 0xf0000, buf, sizeof buf, &len), TV_E_INVALID_ARGUMENT);
    /* Fewer pins: IRQs without a pin are left out. */
    pf.cpus = 1;
    pf.ioapic_pins = 4;
    assert_int_equal(mptable_build(&pf, 0xf0000, buf, sizeof buf, &len), TV_OK);
    uint16_t count;
    memcpy(&count, buf + 16 + 34, 2);
    assert_int_equal(count, 1 + 1 + 1 + 3 + 2);   /* cpu, bus, ioapic, IRQ 0/1/3, 2 LINTs */
}

static void legacy_port_answers(void **state)
{
    (void)state;
    uint32_t v = 0x1234;
    for (uint16_t p = 0x40; p <= 0x43; p++) {
        assert_true(legacy_port_read(p, 1, &v));
        assert_int_equal(v, 0);
    }
    assert_true(legacy_port_read(0x61, 1, &v));
    assert_int_equal(v, 0x20);
    assert_false(legacy_port_read(0x60, 1, &v));   /* i8042: unknown port rule */
    assert_false(legacy_port_read(0x64, 1, &v));
    assert_false(legacy_port_read(0x80, 1, &v));
    assert_false(legacy_port_read(0x44, 1, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ioapic_registers),
        cmocka_unit_test(ioapic_edges),
        cmocka_unit_test(mptable_layout),
        cmocka_unit_test(mptable_refusals),
        cmocka_unit_test(legacy_port_answers),
    };
    return cmocka_run_group_tests_name("platform_devices", tests, NULL, NULL);
}
