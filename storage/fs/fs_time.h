/* Seconds since 2000-01-01 UTC to a calendar date (both formats store DOS-style stamps). */
#ifndef TV_FS_TIME_H
#define TV_FS_TIME_H
#include <stdint.h>

/* DOS date (bits 15-9 year-1980, 8-5 month, 4-0 day) and time (15-11 hour,
 * 10-5 minute, 4-0 seconds/2). */
static inline void fs_dos_time(uint32_t secs, uint16_t *date, uint16_t *time)
{
    uint32_t days = secs / 86400, rem = secs % 86400;
    uint32_t y = 2000;
    for (;;) {
        uint32_t len = (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 366 : 365;
        if (days < len)
            break;
        days -= len;
        y++;
    }
    static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    uint32_t m = 0;
    for (; m < 12; m++) {
        uint32_t len = mdays[m] + (m == 1 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
        if (days < len)
            break;
        days -= len;
    }
    if (y > 2107)
        y = 2107;
    *date = (uint16_t)((y - 1980) << 9 | (m + 1) << 5 | (days + 1));
    *time = (uint16_t)((rem / 3600) << 11 | (rem / 60 % 60) << 5 | (rem % 60) / 2);
}
#endif
