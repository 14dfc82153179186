/* Wall clock: see wallclock.h. */
#include "kernel/wallclock.h"
#include "drivers/rtc.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "tv_status.h"

static uint64_t base_unix_ns;  /* calendar time at base_mono_ns */
static uint64_t base_mono_ns;
static bool valid;

void wallclock_init(void)
{
    uint64_t secs = 0;
    tv_status_t st = rtc_read_unix(&secs);
    base_mono_ns = time_now_ns();
    if (st == TV_OK && secs >= WALLCLOCK_UNIX_2000) {
        base_unix_ns = secs * 1000000000ull;
        valid = true;
        log_info("wall clock: %llu (Unix seconds, CMOS RTC)", (unsigned long long)secs);
    } else {
        base_unix_ns = WALLCLOCK_UNIX_2000 * 1000000000ull;
        log_warn("wall clock: no RTC time (%s); time stamps count from 2000-01-01",
                 st == TV_OK ? "before 2000" : tv_status_name(st));
    }
}

bool wallclock_valid(void)
{
    return valid;
}

uint64_t wallclock_unix_ns(void)
{
    return base_unix_ns + (time_now_ns() - base_mono_ns);
}

uint32_t wallclock_vhd_seconds(void)
{
    uint64_t s = wallclock_unix_ns() / 1000000000ull;
    s = s > WALLCLOCK_UNIX_2000 ? s - WALLCLOCK_UNIX_2000 : 0;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}
