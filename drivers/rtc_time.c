/* RTC register decoding: see rtc_time.h. */
#include "drivers/rtc_time.h"

/* A BCD byte to binary; false for a nibble above 9. */
static bool bcd(uint8_t v, uint32_t *out)
{
    if ((v & 0x0f) > 9 || (v >> 4) > 9)
        return false;
    *out = (uint32_t)(v >> 4) * 10 + (v & 0x0f);
    return true;
}

static bool field(uint8_t v, bool binary, uint32_t *out)
{
    if (binary) {
        *out = v;
        return true;
    }
    return bcd(v, out);
}

static bool leap(uint32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

uint64_t rtc_days_from_civil(uint32_t year, uint32_t mon, uint32_t mday)
{
    static const uint16_t before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    uint64_t days = 0;
    for (uint32_t y = 1970; y < year; y++)
        days += leap(y) ? 366 : 365;
    days += before[mon - 1] + (mon > 2 && leap(year)) + (mday - 1);
    return days;
}

bool rtc_decode(const struct rtc_raw *r, uint64_t *unix_secs)
{
    bool binary = (r->status_b & RTC_B_BINARY) != 0;
    uint32_t sec, min, hour, mday, mon, yy, cent = 20;
    /* In 12-hour mode the PM flag is bit 7 of the hours register, outside
     * the number in either format. */
    bool pm = !(r->status_b & RTC_B_24H) && (r->hour & 0x80);
    uint8_t hraw = (r->status_b & RTC_B_24H) ? r->hour : (uint8_t)(r->hour & 0x7f);
    if (!field(r->sec, binary, &sec) || !field(r->min, binary, &min) ||
        !field(hraw, binary, &hour) || !field(r->mday, binary, &mday) ||
        !field(r->mon, binary, &mon) || !field(r->year, binary, &yy))
        return false;
    if (r->century && !field(r->century, binary, &cent))
        return false;
    if (!(r->status_b & RTC_B_24H)) {
        if (hour < 1 || hour > 12)
            return false;
        hour %= 12;          /* 12 AM is midnight, 12 PM noon */
        if (pm)
            hour += 12;
    }
    uint32_t year = cent * 100 + yy;
    static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (sec > 59 || min > 59 || hour > 23 || yy > 99 || mon < 1 || mon > 12 || mday < 1 ||
        year < 1970 || year > 2199 ||
        mday > (uint32_t)mdays[mon - 1] + (mon == 2 && leap(year)))
        return false;
    *unix_secs = rtc_days_from_civil(year, mon, mday) * 86400ull + hour * 3600ull + min * 60ull + sec;
    return true;
}
