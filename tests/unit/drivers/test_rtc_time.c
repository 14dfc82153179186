/* Hosted tests of the CMOS RTC decoding (drivers/rtc_time.c): BCD and
 * binary, 12- and 24-hour modes, the century register, malformed values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "drivers/rtc_time.h"

static void test_bcd_24h(void **state)
{
    (void)state;
    /* 2026-12-02 12:06:22, BCD, 24-hour, no century register. */
    struct rtc_raw r = { 0x22, 0x06, 0x12, 0x02, 0x12, 0x26, 0, RTC_B_24H };
    uint64_t s = 0;
    assert_true(rtc_decode(&r, &s));
    assert_int_equal(s, 1796213182ull);
    /* The same with a century register holding 0x20. */
    r.century = 0x20;
    assert_true(rtc_decode(&r, &s));
    assert_int_equal(s, 1796213182ull);
    /* 2100-03-01 00:30:00 through the century register (2100 is no leap year). */
    struct rtc_raw c = { 0x00, 0x30, 0x00, 0x01, 0x03, 0x00, 0x21, RTC_B_24H };
    assert_true(rtc_decode(&c, &s));
    assert_int_equal(s, 4107544200ull);
}

static void test_binary_12h(void **state)
{
    (void)state;
    /* 12:06:22 PM in binary 12-hour mode: hours = 12 | PM. */
    struct rtc_raw r = { 22, 6, 12 | 0x80, 2, 12, 26, 0, RTC_B_BINARY };
    uint64_t s = 0;
    assert_true(rtc_decode(&r, &s));
    assert_int_equal(s, 1796213182ull);
    /* 12 AM is midnight: 2024-02-29 00:00:00 (leap day). */
    struct rtc_raw m = { 0, 0, 12, 29, 2, 24, 0, RTC_B_BINARY };
    assert_true(rtc_decode(&m, &s));
    assert_int_equal(s, 1709164800ull);
    /* BCD 12-hour: 11 PM = 0x91 -> 23:00. */
    struct rtc_raw p = { 0x59, 0x59, 0x91, 0x31, 0x12, 0x99, 0x19, 0 };
    assert_true(rtc_decode(&p, &s));
    assert_int_equal(s, 946684799ull);
}

static void test_malformed(void **state)
{
    (void)state;
    uint64_t s = 0;
    /* No RTC: the ports read all ones. */
    struct rtc_raw ff = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0xff };
    assert_false(rtc_decode(&ff, &s));
    /* A BCD nibble above 9. */
    struct rtc_raw nib = { 0x1a, 0x00, 0x00, 0x01, 0x01, 0x26, 0, RTC_B_24H };
    assert_false(rtc_decode(&nib, &s));
    /* February 29 of a common year, month 13, day 0, hour 24, 12-hour 0. */
    struct rtc_raw feb = { 0, 0, 0, 0x29, 0x02, 0x25, 0, RTC_B_24H };
    assert_false(rtc_decode(&feb, &s));
    feb.year = 0x24;
    assert_true(rtc_decode(&feb, &s));
    struct rtc_raw mon = { 0, 0, 0, 1, 13, 26, 0, RTC_B_24H | RTC_B_BINARY };
    assert_false(rtc_decode(&mon, &s));
    struct rtc_raw day = { 0, 0, 0, 0, 1, 26, 0, RTC_B_24H | RTC_B_BINARY };
    assert_false(rtc_decode(&day, &s));
    struct rtc_raw hour = { 0, 0, 24, 1, 1, 26, 0, RTC_B_24H | RTC_B_BINARY };
    assert_false(rtc_decode(&hour, &s));
    struct rtc_raw h12 = { 0, 0, 0, 1, 1, 26, 0, RTC_B_BINARY };
    assert_false(rtc_decode(&h12, &s));
    /* A year before 1970 (century 19, year 69). */
    struct rtc_raw old = { 0, 0, 0, 1, 1, 69, 19, RTC_B_24H | RTC_B_BINARY };
    assert_false(rtc_decode(&old, &s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bcd_24h),
        cmocka_unit_test(test_binary_12h),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
