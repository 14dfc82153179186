/* Hosted tests of the virtual UART's console output (vmm/dev/vuart.c):
 * lines go to the log whole, and a partition that floods its console is
 * held to its budget (VUART_RATE_BPS, bursts of VUART_BURST_BYTES): the
 * lines beyond it are dropped, counted, and reported before the next line
 * that fits and when the partition stops.  The log and the clock are
 * stubs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dev/vuart.h"
#include "kernel/log.h"
#include "kernel/time.h"

static uint64_t now_ns;
static unsigned lines, warnings;
static char last_warning[256], last_line[256];

uint64_t time_now_ns(void) { return now_ns; }

void log_line(const char *source, const char *text, int len)
{
    (void)source;
    lines++;
    snprintf(last_line, sizeof last_line, "%.*s", len, text);
}

void log_msg(int level, const char *source, const char *fmt, ...)
{
    (void)source;
    assert_int_equal(level, TV_LOG_WARN);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_warning, sizeof last_warning, fmt, ap);
    va_end(ap);
    warnings++;
}

void log_raw_bytes(const char *s, int len) { (void)s; (void)len; }

static void put_line(struct vuart *u, const char *text)
{
    for (const char *p = text; *p; p++)
        vuart_write(u, VUART_BASE, (uint8_t)*p);
    vuart_write(u, VUART_BASE, '\n');
}

/* 100 bytes per line (99 + the newline). */
static char line99[100];

static void make_line99(void)
{
    memset(line99, 'x', 99);
    line99[99] = 0;
}

static int setup(void **state)
{
    (void)state;
    now_ns = 1000000000ull;
    lines = warnings = 0;
    last_warning[0] = last_line[0] = 0;
    make_line99();
    return 0;
}


static void burst_then_drops_then_report(void **state)
{
    (void)state;
    struct vuart u;
    vuart_init(&u, "flood", false);
    unsigned fit = VUART_BURST_BYTES / 100;
    for (unsigned i = 0; i < fit + 50; i++)
        put_line(&u, line99);
    assert_int_equal(lines, fit);             /* the burst, then nothing */
    assert_int_equal(warnings, 0);
    assert_int_equal(u.dropped, 50);
    /* One second later 4000 bytes are earned: the report, then 40 lines. */
    now_ns += 1000000000ull;
    for (unsigned i = 0; i < 60; i++)
        put_line(&u, line99);
    assert_int_equal(lines, fit + VUART_RATE_BPS / 100);
    assert_int_equal(warnings, 1);
    assert_non_null(strstr(last_warning, "50 lines dropped"));
    assert_int_equal(u.dropped, 20);
    /* The partition stops: what was dropped since is reported. */
    vuart_flush(&u);
    assert_int_equal(warnings, 2);
    assert_non_null(strstr(last_warning, "20 lines dropped"));
    assert_int_equal(u.dropped, 0);
    assert_int_equal(u.dropped_total, 70);
}

static void quiet_partition_never_limited(void **state)
{
    (void)state;
    struct vuart u;
    vuart_init(&u, "quiet", false);
    /* 10 lines a second, for a minute: far below the rate. */
    for (int s = 0; s < 60; s++) {
        for (int i = 0; i < 10; i++)
            put_line(&u, "GUEST SUMMARY: 1 passed, 0 failed");
        now_ns += 1000000000ull;
    }
    assert_int_equal(lines, 600);
    assert_int_equal(warnings, 0);
    assert_string_equal(last_line, "GUEST SUMMARY: 1 passed, 0 failed");
    /* The budget never grows past the burst, however long it was quiet. */
    now_ns += 3600ull * 1000000000ull;
    unsigned before = lines;
    for (unsigned i = 0; i < VUART_BURST_BYTES / 100 + 5; i++)
        put_line(&u, line99);
    assert_int_equal(lines - before, VUART_BURST_BYTES / 100);
}

static void long_lines_are_split_within_the_budget(void **state)
{
    (void)state;
    struct vuart u;
    vuart_init(&u, "long", false);
    /* A line far longer than the buffer, without a newline: pieces of
     * sizeof u.line, each paid for; a flood of them is limited too. */
    char big[1000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    unsigned total = 0;
    for (int i = 0; i < 100; i++) {
        for (const char *p = big; *p; p++)
            vuart_write(&u, VUART_BASE, (uint8_t)*p);
        total += sizeof big - 1;
    }
    assert_true(lines > 0);
    assert_true(lines * (sizeof u.line + 1) <= VUART_BURST_BYTES + sizeof u.line + 1);
    assert_true(u.dropped > 0);
    assert_int_equal(warnings, 0);  /* drops are reported with a later line, not per piece */
    (void)total;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(burst_then_drops_then_report, setup),
        cmocka_unit_test_setup(quiet_partition_never_limited, setup),
        cmocka_unit_test_setup(long_lines_are_split_within_the_budget, setup),
    };
    return cmocka_run_group_tests_name("vuart", tests, NULL, NULL);
}
