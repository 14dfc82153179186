/* libFuzzer target: a guest's port accesses to the CMOS clock, at any wall
 * clock time.  Every time register must read as a valid value of its field
 * (BCD digits in BCD mode), whatever the guest wrote before. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/cmos_rtc.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static unsigned field(const struct cmos_rtc *c, uint8_t v)
{
    if (c->ram[0x0b] & 0x04)
        return v;
    CHECK((v & 0x0f) <= 9 && ((v >> 4) & 0x07) <= 9);
    return (v >> 4) * 10u + (v & 0x0f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cmos_rtc c;
    cmos_rtc_init(&c);
    int64_t now = 0;
    if (size >= 8) {
        memcpy(&now, data, 8);
        /* Any time from year 0 to 9999 (the clamp beyond is exercised too). */
        now %= 320000000000ll;
        data += 8;
        size -= 8;
    }
    for (size_t i = 0; i + 1 < size; i += 2) {
        uint16_t port = data[i] & 1 ? 0x71 : 0x70;
        if (data[i] & 2) {
            cmos_rtc_write(&c, port, data[i + 1]);
            continue;
        }
        uint8_t v = cmos_rtc_read(&c, port, now);
        if (port == 0x70) {
            CHECK(v == 0xff);
            continue;
        }
        switch (c.index) {
        case 0x00: case 0x02: CHECK(field(&c, v) < 60); break;
        case 0x04: {
            unsigned h = field(&c, v & 0x7f);
            CHECK((c.ram[0x0b] & 0x02) ? h < 24 && !(v & 0x80) : h >= 1 && h <= 12);
            break;
        }
        case 0x06: CHECK(field(&c, v) >= 1 && field(&c, v) <= 7); break;
        case 0x07: CHECK(field(&c, v) >= 1 && field(&c, v) <= 31); break;
        case 0x08: CHECK(field(&c, v) >= 1 && field(&c, v) <= 12); break;
        case 0x09: case 0x32: CHECK(field(&c, v) <= 99); break;
        case 0x0a: CHECK(!(v & 0x80)); break;
        case 0x0d: CHECK(v == 0x80); break;
        default: break;
        }
    }
    return 0;
}
