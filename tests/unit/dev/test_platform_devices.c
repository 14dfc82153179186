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
#include "dev/cmos_rtc.h"
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

/* With PCI slots: bus 0 is PCI, ISA moves to bus 1, and each slot's INTA#
 * is a level-triggered, active-low entry on its pin. */
static void mptable_pci_routing(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t len = 0;
    const struct mptable_platform pf = {
        .cpus = 1, .lapic_addr = 0xfee00000u, .ioapic_id = 1, .ioapic_version = 0x11,
        .ioapic_addr = 0xfec00000u, .ioapic_pins = 24, .pci_slots = 2, .pci_first_pin = 16,
    };
    assert_int_equal(mptable_build(&pf, 0xf0000, buf, sizeof buf, &len), TV_OK);
    const uint8_t *h = buf + 16;
    uint16_t count;
    memcpy(&count, h + 34, 2);
    const uint8_t *e = h + 44;
    int pci_bus = -1, isa_bus = -1, isa4_bus = -1, pins[3] = { -1, -1, -1 };
    for (unsigned i = 0; i < count; i++) {
        if (e[0] == 0) {
            e += 20;
            continue;
        }
        if (e[0] == 1 && !memcmp(e + 2, "PCI   ", 6))
            pci_bus = e[1];
        if (e[0] == 1 && !memcmp(e + 2, "ISA   ", 6))
            isa_bus = e[1];
        if (e[0] == 3 && e[4] == 0 && (e[5] & 3) == 0 && e[5] >> 2 <= 2) {
            uint16_t flags;
            memcpy(&flags, e + 2, 2);
            assert_int_equal(flags, 0xf);
            pins[e[5] >> 2] = e[7];
        }
        if (e[0] == 3 && e[4] == 1 && e[5] == 4)
            isa4_bus = e[4];
        e += 8;
    }
    assert_int_equal(pci_bus, 0);
    assert_int_equal(isa_bus, 1);
    assert_int_equal(isa4_bus, 1);
    assert_int_equal(pins[1], 16);
    assert_int_equal(pins[2], 17);
    struct mptable_platform bad = pf;
    bad.pci_slots = 9;                    /* 16 + 9 > 24 pins */
    assert_int_equal(mptable_build(&bad, 0xf0000, buf, sizeof buf, &len), TV_E_INVALID_ARGUMENT);
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

static uint8_t cmos_reg(struct cmos_rtc *c, uint8_t reg, int64_t now)
{
    cmos_rtc_write(c, CMOS_PORT_INDEX, reg);
    return cmos_rtc_read(c, CMOS_PORT_DATA, now);
}

static void cmos_dates(void **state)
{
    (void)state;
    static const struct { int64_t t; int64_t y; unsigned mo, d, h, mi, s, wd; } cases[] = {
        { 0,          1970, 1, 1, 0, 0, 0, 4 },
        { -1,         1969, 12, 31, 23, 59, 59, 3 },
        { 951868799,  2000, 2, 29, 23, 59, 59, 2 },   /* 2000 is a leap year */
        { 1709213862, 2024, 2, 29, 13, 37, 42, 4 },
        { 2147483648, 2038, 1, 19, 3, 14, 8, 2 },     /* past 32-bit seconds */
        { 4107499200, 2100, 2, 28, 12, 0, 0, 0 },
        { 4107542400, 2100, 3, 1, 0, 0, 0, 1 },       /* 2100 is not */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cmos_date d;
        cmos_date_of(cases[i].t, &d);
        assert_int_equal(d.year, cases[i].y);
        assert_int_equal(d.month, cases[i].mo);
        assert_int_equal(d.day, cases[i].d);
        assert_int_equal(d.hour, cases[i].h);
        assert_int_equal(d.minute, cases[i].mi);
        assert_int_equal(d.second, cases[i].s);
        assert_int_equal(d.weekday, cases[i].wd);
    }
}

static void cmos_registers(void **state)
{
    (void)state;
    struct cmos_rtc c;
    cmos_rtc_init(&c);
    const int64_t now = 1709213862; /* 2024-02-29 13:37:42 UTC, a Thursday */
    assert_true(cmos_rtc_handles_port(0x70) && cmos_rtc_handles_port(0x71));
    assert_false(cmos_rtc_handles_port(0x72));
    /* BCD, 24-hour (status B at reset). */
    assert_int_equal(cmos_reg(&c, 0x00, now), 0x42);
    assert_int_equal(cmos_reg(&c, 0x02, now), 0x37);
    assert_int_equal(cmos_reg(&c, 0x04, now), 0x13);
    assert_int_equal(cmos_reg(&c, 0x06, now), 0x05); /* 1 = Sunday */
    assert_int_equal(cmos_reg(&c, 0x07, now), 0x29);
    assert_int_equal(cmos_reg(&c, 0x08, now), 0x02);
    assert_int_equal(cmos_reg(&c, 0x09, now), 0x24);
    assert_int_equal(cmos_reg(&c, 0x32, now), 0x20);
    assert_int_equal(cmos_reg(&c, 0x0a, now), 0x26);  /* UIP clear */
    assert_int_equal(cmos_reg(&c, 0x0b, now), 0x02);
    assert_int_equal(cmos_reg(&c, 0x0c, now), 0x00);
    assert_int_equal(cmos_reg(&c, 0x0d, now), 0x80);
    /* The NMI-mask bit of the index is ignored; port 0x70 reads all ones. */
    cmos_rtc_write(&c, 0x70, 0x80 | 0x09);
    assert_int_equal(cmos_rtc_read(&c, 0x71, now), 0x24);
    assert_int_equal(cmos_rtc_read(&c, 0x70, now), 0xff);
    /* Binary and 12-hour, as the guest may ask through status B. */
    cmos_rtc_write(&c, 0x70, 0x0b);
    cmos_rtc_write(&c, 0x71, 0x04);
    assert_int_equal(cmos_reg(&c, 0x04, now), 0x80 | 1);  /* 1 PM */
    assert_int_equal(cmos_reg(&c, 0x00, now), 42);
    assert_int_equal(cmos_reg(&c, 0x04, 1709164800), 12); /* midnight = 12 AM */
    cmos_rtc_write(&c, 0x70, 0x0b);
    cmos_rtc_write(&c, 0x71, 0x02);
    /* The time cannot be set; RAM keeps what is written; UIP cannot be set. */
    cmos_rtc_write(&c, 0x70, 0x00);
    cmos_rtc_write(&c, 0x71, 0x59);
    assert_int_equal(cmos_reg(&c, 0x00, now), 0x42);
    cmos_rtc_write(&c, 0x70, 0x0a);
    cmos_rtc_write(&c, 0x71, 0xa6);
    assert_int_equal(cmos_reg(&c, 0x0a, now), 0x26);
    cmos_rtc_write(&c, 0x70, 0x7f);
    cmos_rtc_write(&c, 0x71, 0x5a);
    assert_int_equal(cmos_reg(&c, 0x7f, now), 0x5a);
    assert_int_equal(cmos_reg(&c, 0x10, now), 0x00);
    cmos_rtc_write(&c, 0x70, 0x0d);
    cmos_rtc_write(&c, 0x71, 0x00);
    assert_int_equal(cmos_reg(&c, 0x0d, now), 0x80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ioapic_registers),
        cmocka_unit_test(ioapic_edges),
        cmocka_unit_test(mptable_layout),
        cmocka_unit_test(mptable_pci_routing),
        cmocka_unit_test(mptable_refusals),
        cmocka_unit_test(legacy_port_answers),
        cmocka_unit_test(cmos_dates),
        cmocka_unit_test(cmos_registers),
    };
    return cmocka_run_group_tests_name("platform_devices", tests, NULL, NULL);
}
