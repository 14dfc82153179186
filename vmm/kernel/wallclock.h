/* The wall clock: calendar time read once at boot from the CMOS RTC
 * (drivers/rtc.c) and advanced by the TSC from then on.  Image files get
 * their timestamps from it (the VHD footer's creation time, the parent
 * time stamp of differencing disks, directory entries). */
#ifndef KERNEL_WALLCLOCK_H
#define KERNEL_WALLCLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Reads the RTC (after time_init and acpi_init); logs the time or why the
 * clock is unknown. */
void wallclock_init(void);
/* True when a real clock was read at boot. */
bool wallclock_valid(void);
/* Nanoseconds since 1970-01-01 00:00 UTC.  Without a clock: the time since
 * boot counted from 2000-01-01 (so stamps still move forward; logged once
 * at boot). */
uint64_t wallclock_unix_ns(void);
/* Seconds since 2000-01-01 00:00 UTC (the VHD and file-system epoch). */
uint32_t wallclock_vhd_seconds(void);

#define WALLCLOCK_UNIX_2000 946684800ull  /* Unix seconds of 2000-01-01 00:00 UTC */

#endif
