/* The PC's CMOS real-time clock (MC146818 and compatibles), read once at
 * boot for the wall clock (vmm/kernel/wallclock.h). */
#ifndef DRIVERS_RTC_H
#define DRIVERS_RTC_H

#include <stdint.h>
#include "taskvisor/status.h"

/* Reads the clock: Unix seconds (the RTC taken as UTC).  TV_E_TIMEOUT when
 * the update-in-progress flag never cleared or two reads never agreed;
 * TV_E_CORRUPT when the registers do not hold a valid date (no RTC on the
 * ports reads all ones, a clock never set). */
tv_status_t rtc_read_unix(uint64_t *unix_secs);

#endif
