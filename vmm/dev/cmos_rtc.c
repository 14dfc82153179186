/* The CMOS clock (see cmos_rtc.h). */
#include "dev/cmos_rtc.h"

#define REG_SECONDS  0x00
#define REG_MINUTES  0x02
#define REG_HOURS    0x04
#define REG_WEEKDAY  0x06
#define REG_DAY      0x07
#define REG_MONTH    0x08
#define REG_YEAR     0x09
#define REG_STATUS_A 0x0a
#define REG_STATUS_B 0x0b
#define REG_STATUS_C 0x0c
#define REG_STATUS_D 0x0d
#define REG_CENTURY  0x32

#define STATUS_A_RESET 0x26
#define STATUS_B_24H   0x02 /* 1 = 24-hour mode */
#define STATUS_B_DM    0x04 /* 1 = binary, 0 = BCD */
#define STATUS_D_VRT   0x80 /* valid RAM and time */
#define HOUR_PM        0x80 /* 12-hour mode */

void cmos_rtc_init(struct cmos_rtc *c)
{
    for (unsigned i = 0; i < sizeof c->ram; i++)
        c->ram[i] = 0;
    c->ram[REG_STATUS_A] = STATUS_A_RESET;
    c->ram[REG_STATUS_B] = STATUS_B_24H;
    c->index = 0;
}

bool cmos_rtc_handles_port(uint16_t port)
{
    return port == CMOS_PORT_INDEX || port == CMOS_PORT_DATA;
}

/* Days since 1970-01-01 to a civil date: count in 400-year eras of 146,097
 * days starting on 1 March, so the leap day is the last day of a year. */
void cmos_date_of(int64_t unix_seconds, struct cmos_date *out)
{
    int64_t days = unix_seconds / 86400, rem = unix_seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    out->hour = (unsigned)(rem / 3600);
    out->minute = (unsigned)(rem / 60 % 60);
    out->second = (unsigned)(rem % 60);
    /* 1970-01-01 was a Thursday (4). */
    int64_t wd = (days + 4) % 7;
    out->weekday = (unsigned)(wd < 0 ? wd + 7 : wd);
    int64_t z = days + 719468;            /* days since 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;       /* day of the era, 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* from 1 March */
    int64_t mp = (5 * doy + 2) / 153;     /* March = 0 */
    out->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    out->year = yoe + era * 400 + (out->month <= 2);
}

static uint8_t encode(const struct cmos_rtc *c, unsigned v)
{
    if (c->ram[REG_STATUS_B] & STATUS_B_DM)
        return (uint8_t)v;
    return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t hours(const struct cmos_rtc *c, unsigned h)
{
    if (c->ram[REG_STATUS_B] & STATUS_B_24H)
        return encode(c, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(encode(c, h12) | (h >= 12 ? HOUR_PM : 0));
}

static uint8_t reg_read(const struct cmos_rtc *c, uint8_t reg, int64_t unix_seconds)
{
    struct cmos_date d;
    switch (reg) {
    case REG_SECONDS: case REG_MINUTES: case REG_HOURS: case REG_WEEKDAY:
    case REG_DAY: case REG_MONTH: case REG_YEAR: case REG_CENTURY:
        break;
    case REG_STATUS_A:
        return c->ram[REG_STATUS_A] & 0x7f; /* UIP never set */
    case REG_STATUS_C:
        return 0;
    case REG_STATUS_D:
        return STATUS_D_VRT;
    default:
        return c->ram[reg];
    }
    cmos_date_of(unix_seconds, &d);
    int64_t y = d.year < 0 ? 0 : d.year > 9999 ? 9999 : d.year;
    switch (reg) {
    case REG_SECONDS: return encode(c, d.second);
    case REG_MINUTES: return encode(c, d.minute);
    case REG_HOURS:   return hours(c, d.hour);
    case REG_WEEKDAY: return encode(c, d.weekday + 1);
    case REG_DAY:     return encode(c, d.day);
    case REG_MONTH:   return encode(c, d.month);
    case REG_YEAR:    return encode(c, (unsigned)(y % 100));
    default:          return encode(c, (unsigned)(y / 100)); /* century */
    }
}

uint8_t cmos_rtc_read(struct cmos_rtc *c, uint16_t port, int64_t unix_seconds)
{
    if (port != CMOS_PORT_DATA)
        return 0xff;
    return reg_read(c, c->index, unix_seconds);
}

void cmos_rtc_write(struct cmos_rtc *c, uint16_t port, uint8_t value)
{
    if (port == CMOS_PORT_INDEX) {
        c->index = value & 0x7f;
        return;
    }
    if (port != CMOS_PORT_DATA)
        return;
    switch (c->index) {
    case REG_SECONDS: case REG_MINUTES: case REG_HOURS: case REG_WEEKDAY:
    case REG_DAY: case REG_MONTH: case REG_YEAR: case REG_CENTURY:
    case REG_STATUS_C: case REG_STATUS_D:
        return;                      /* the time is the host's; C and D are read-only */
    case REG_STATUS_A:
        c->ram[REG_STATUS_A] = value & 0x7f;
        return;
    default:
        c->ram[c->index] = value;
    }
}
