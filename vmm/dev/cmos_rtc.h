/* The MC146818-style CMOS clock at ports 0x70 (index) and 0x71 (data), as
 * a PC's RTC presents it, reading the platform's wall clock (portable: the
 * caller passes the time).  An OS reads its boot time here; without it a
 * probe that reads all ones costs Linux about a second, twice.
 *
 *   0x00/0x02/0x04  seconds, minutes, hours (24-hour unless status B says
 *                   12-hour; bit 7 of the hour = PM then)
 *   0x06/0x07/0x08/0x09  day of week (1 = Sunday), day, month, year % 100
 *   0x32            century
 *   0x0A            status A: 0x26 (32.768 kHz base, 1024 Hz rate); the
 *                   update-in-progress bit never reads 1, because every
 *                   read takes a fresh, whole time
 *   0x0B            status B: 0x02 at reset (24-hour, BCD); the guest may
 *                   switch to binary (bit 2) and 12-hour (bit 1 clear),
 *                   which reads honour; interrupt enables are kept but no
 *                   RTC interrupt is ever raised
 *   0x0C            status C: 0 (no interrupt flags)
 *   0x0D            status D: 0x80 (valid RAM and time)
 *   others          battery-backed RAM: 128 bytes per partition, zero at
 *                   start, read and written as stored
 * Writes to the time registers are dropped: a guest cannot set the host's
 * clock (an OS that syncs its time to the RTC changes nothing).  Port 0x70
 * is write-only on a PC (reads all ones); bit 7 of the index (NMI mask) is
 * ignored. */
#ifndef VMM_CMOS_RTC_H
#define VMM_CMOS_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define CMOS_PORT_INDEX 0x70
#define CMOS_PORT_DATA  0x71

struct cmos_rtc {
    uint8_t index;
    uint8_t ram[128];
};

void cmos_rtc_init(struct cmos_rtc *c);
bool cmos_rtc_handles_port(uint16_t port);
/* unix_seconds: the wall clock now (UTC). */
uint8_t cmos_rtc_read(struct cmos_rtc *c, uint16_t port, int64_t unix_seconds);
void cmos_rtc_write(struct cmos_rtc *c, uint16_t port, uint8_t value);

/* Civil date of a Unix time (UTC, proleptic Gregorian); exposed for tests. */
struct cmos_date {
    int64_t year;
    unsigned month, day, hour, minute, second, weekday; /* weekday 0 = Sunday */
};
void cmos_date_of(int64_t unix_seconds, struct cmos_date *out);

#endif
