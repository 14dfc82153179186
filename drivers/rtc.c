/* CMOS RTC: index port 0x70, data port 0x71.
 *
 * The update-in-progress rule (MC146818 data sheet, register A bit 7, UIP):
 * the time registers must not be read while the clock is updating them.
 * UIP rises 244 us before an update starts and the update takes at most
 * 2 ms, so a read started right after UIP reads 0 finishes before the next
 * update; to be safe against a slow bus (or an emulator descheduled between
 * two port reads) the registers are read until two complete reads, each
 * after UIP was seen clear, agree. */
#include "drivers/rtc.h"
#include "arch/x86/cpu.h"
#include "drivers/acpi.h"
#include "drivers/rtc_time.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define RTC_REG_A  0x0a
#define RTC_REG_B  0x0b
#define RTC_A_UIP  0x80
#define FADT_CENTURY 108   /* ACPI 6.x table 5.9: CMOS index of the century, 0 = none */

static spinlock_t cmos_lock = SPINLOCK_INIT;

/* Bit 7 of the index port masks NMIs on many chipsets; we leave it clear,
 * as the firmware and Linux do. */
static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg & 0x7f);
    return inb(CMOS_DATA);
}

static uint8_t century_register(void)
{
    uint32_t len = 0;
    const uint8_t *fadt = acpi_find_table("FACP", &len);
    if (!fadt || len <= FADT_CENTURY)
        return 0;
    uint8_t r = fadt[FADT_CENTURY];
    /* Only the standard bank (0x0e..0x7f holds battery-backed RAM). */
    return r >= 0x0e && r < 0x80 ? r : 0;
}

/* One read after UIP was seen clear; false when UIP stayed set for more
 * than an update cycle's worth of polls (about 10 ms). */
static bool read_once(struct rtc_raw *r, uint8_t cent_reg)
{
    bool clear = false;
    for (unsigned i = 0; i < 1000 && !clear; i++) {
        bool irq = spin_lock_irqsave(&cmos_lock);
        clear = !(cmos_read(RTC_REG_A) & RTC_A_UIP);
        if (clear) {
            r->sec = cmos_read(0x00);
            r->min = cmos_read(0x02);
            r->hour = cmos_read(0x04);
            r->mday = cmos_read(0x07);
            r->mon = cmos_read(0x08);
            r->year = cmos_read(0x09);
            r->century = cent_reg ? cmos_read(cent_reg) : 0;
            r->status_b = cmos_read(RTC_REG_B);
        }
        spin_unlock_irqrestore(&cmos_lock, irq);
        if (!clear)
            time_delay_us(10);
    }
    return clear;
}

static bool same(const struct rtc_raw *a, const struct rtc_raw *b)
{
    return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->mday == b->mday &&
           a->mon == b->mon && a->year == b->year && a->century == b->century &&
           a->status_b == b->status_b;
}

tv_status_t rtc_read_unix(uint64_t *unix_secs)
{
    uint8_t cent_reg = century_register();
    struct rtc_raw a, b;
    if (!read_once(&a, cent_reg))
        return TV_E_TIMEOUT;
    for (unsigned tries = 0; tries < 5; tries++) {
        if (!read_once(&b, cent_reg))
            return TV_E_TIMEOUT;
        if (same(&a, &b))
            return rtc_decode(&b, unix_secs) ? TV_OK : TV_E_CORRUPT;
        a = b;
    }
    return TV_E_TIMEOUT;
}
