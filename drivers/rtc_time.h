/* The CMOS real-time clock's registers to a calendar time, and calendar
 * time to Unix seconds.  Portable (tested hosted).
 *
 * MC146818 (and every PC RTC since): seconds 0x00, minutes 0x02, hours
 * 0x04, day of month 0x07, month 0x08, year 0x09 (two digits); status
 * register B bit 2 (DM) set = binary, clear = BCD; bit 1 (24/12) set = 24
 * hour mode, clear = 12 hour mode, where bit 7 of the hours register is
 * the PM flag and 12 stands for midnight/noon.  The century is in a
 * register the ACPI FADT names (CENTURY, commonly 0x32), in the same
 * number format; without one the year is taken as 20yy. */
#ifndef DRIVERS_RTC_TIME_H
#define DRIVERS_RTC_TIME_H

#include <stdbool.h>
#include <stdint.h>

struct rtc_raw {
    uint8_t sec, min, hour, mday, mon, year;
    uint8_t century;  /* raw register value, or 0 when the platform has none */
    uint8_t status_b;
};

#define RTC_B_24H    0x02
#define RTC_B_BINARY 0x04

/* Decodes raw registers into Unix seconds (the RTC is taken to keep UTC,
 * as Linux and UEFI firmware commonly set it on virtual machines).  False
 * when a field is out of range (a clock never set, a bad BCD digit): the
 * caller then has no wall clock from the RTC. */
bool rtc_decode(const struct rtc_raw *r, uint64_t *unix_secs);

/* Days since 1970-01-01 of a proleptic Gregorian date (year >= 1970). */
uint64_t rtc_days_from_civil(uint32_t year, uint32_t mon, uint32_t mday);

#endif
