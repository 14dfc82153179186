/* Unit tests for lib/: formatted printing and string helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tv_fmt.h"
#include "tv_status.h"
#include "tv_string.h"

static void check_fmt(const char *expect, const char *fmt, ...)
{
    char ours[128], libc[128];
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n1 = tv_vsnprintf(ours, sizeof ours, fmt, ap);
    int n2 = vsnprintf(libc, sizeof libc, fmt, ap2);
    va_end(ap2);
    va_end(ap);
    assert_string_equal(ours, expect);
    assert_string_equal(ours, libc);
    assert_int_equal(n1, n2);
}

static void fmt_matches_libc(void **state)
{
    (void)state;
    check_fmt("42", "%d", 42);
    check_fmt("-42", "%d", -42);
    check_fmt("-9223372036854775808", "%lld", (long long)INT64_MIN);
    check_fmt("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    check_fmt("00ff", "%04x", 255);
    check_fmt("00FF", "%04X", 255);
    check_fmt("  ab|", "%4s|", "ab");
    check_fmt("ab  |", "%-4s|", "ab");
    check_fmt("abc", "%.3s", "abcdef");
    check_fmt("x=   7;", "x=%*d;", 4, 7);
    check_fmt("100%", "%d%%", 100);
    check_fmt("0x000000000000beef", "0x%016lx", 0xbeefUL);
    check_fmt("z=12", "z=%zu", (size_t)12);
    check_fmt("-0005", "%05d", -5);
    check_fmt("c", "%c", 'c');
    check_fmt("0x1f", "%#x", 31);
    check_fmt("0X1F", "%#X", 31);
    check_fmt("0", "%#x", 0);
    check_fmt("0x00001f", "%#08x", 31);
    check_fmt("    0x1f", "%#8llx", 31ull);
    check_fmt("017", "%#o", 15);
}

static void fmt_truncates_and_terminates(void **state)
{
    (void)state;
    char buf[5];
    memset(buf, 'x', sizeof buf);
    int n = tv_snprintf(buf, sizeof buf, "%s", "hello world");
    assert_int_equal(n, 11);
    assert_string_equal(buf, "hell");
    assert_int_equal(tv_snprintf(NULL, 0, "%d", 12345), 5);
}

static void strings_behave(void **state)
{
    (void)state;
    char dst[4];
    assert_int_equal(tv_strlcpy(dst, "abcdef", sizeof dst), 6);
    assert_string_equal(dst, "abc");
    assert_int_equal(tv_strnlen("abc", 2), 2);
    assert_true(tv_strcmp("a", "b") < 0);
    assert_int_equal(tv_strncmp("abcx", "abcy", 3), 0);
    uint8_t buf[37] = { 0 };
    assert_true(tv_all_zero(buf, sizeof buf));
    buf[36] = 1;
    assert_false(tv_all_zero(buf, sizeof buf));
    assert_true(tv_all_zero(buf + 1, 35));
    uint8_t m[16];
    for (int i = 0; i < 16; i++) m[i] = (uint8_t)i;
    tv_memmove(m + 2, m, 10);
    for (int i = 0; i < 10; i++) assert_int_equal(m[i + 2], i);
    tv_memset(m, 0xab, 11);
    for (int i = 0; i < 11; i++) assert_int_equal(m[i], 0xab);
    assert_int_equal(tv_memcmp("ab", "ac", 2), -1);
}

static void status_names_are_complete(void **state)
{
    (void)state;
    for (tv_status_t s = 0; s < TV_STATUS_COUNT; s++)
        assert_string_not_equal(tv_status_name(s), "UNKNOWN_STATUS");
    assert_string_equal(tv_status_name(TV_E_NOT_CANCELABLE), "NOT_CANCELABLE");
    assert_string_equal(tv_status_name(-1), "UNKNOWN_STATUS");
    assert_string_equal(tv_status_name(TV_STATUS_COUNT), "UNKNOWN_STATUS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fmt_matches_libc),
        cmocka_unit_test(fmt_truncates_and_terminates),
        cmocka_unit_test(strings_behave),
        cmocka_unit_test(status_names_are_complete),
    };
    return cmocka_run_group_tests_name("lib", tests, NULL, NULL);
}
