/* libFuzzer target: the I/O APIC's guest-facing side (MMIO accesses of any
 * offset and size, pin changes).  Aborts when a read-only or reserved
 * redirection bit becomes set, or an interrupt is sent for a masked pin or
 * with a vector other than its entry's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/ioapic.h"

static struct ioapic io;
static int expect_pin = -1;

static void deliver(void *ctx, uint8_t vector, uint8_t dest, bool logical, uint8_t mode)
{
    (void)ctx; (void)dest; (void)logical; (void)mode;
    if (expect_pin < 0)
        abort();                         /* sent without a pin change */
    uint64_t e = io.redir[expect_pin];
    if ((e & (1ull << 16)) || vector != (uint8_t)e)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ioapic_init(&io, 1, NULL, deliver);
    for (size_t i = 0; i + 6 <= size; i += 6) {
        const uint8_t *d = data + i;
        unsigned op = d[0] & 3, sz = 1u << ((d[0] >> 2) & 3);
        uint64_t off = d[1] & 0x1f;
        uint32_t val;
        memcpy(&val, d + 2, 4);
        if (op == 0) {
            expect_pin = -1;
            (void)ioapic_mmio_read(&io, off, sz);
        } else if (op == 1) {
            /* An unmask of an asserted level pin may send: allow that pin. */
            expect_pin = (io.ioregsel >= 0x10 && io.ioregsel < 0x10 + 2 * IOAPIC_PINS)
                             ? (int)((io.ioregsel - 0x10) / 2) : -1;
            ioapic_mmio_write(&io, off, sz, val);
        } else {
            unsigned pin = d[1] % (IOAPIC_PINS + 2);
            expect_pin = pin < IOAPIC_PINS ? (int)pin : -1;
            ioapic_set_irq(&io, pin, op == 2);
        }
        for (unsigned p = 0; p < IOAPIC_PINS; p++)
            if (io.redir[p] & ((1ull << 12) | (1ull << 14) | (((1ull << 39) - 1) << 17)))
                abort();
    }
    return 0;
}
