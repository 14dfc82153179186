/* Hosted tests of the monitor's option checking (vmm/kernel/options.c):
 * every bad value is refused with a line naming the option and the value,
 * nothing is replaced by a default. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kernel/options.h"

static bool check(const char *line, char *why, size_t len)
{
    why[0] = 0;
    return options_check(line, monitor_options, monitor_option_count, why, len);
}

static void good_lines_pass(void **state)
{
    (void)state;
    char why[160];
    const char *good[] = {
        "", "   ", "debug_exit=0xf4", "debug_exit=0xf4 console=raw",
        "sched_tick_us=100 task_share=99 task_workers=16 task_max=65536",
        "task_max_running=1 task_retention_s=1 task_wait_slice_us=1000000",
        "task_share=1\tconsole=raw",
#ifdef TV_TEST_BUILD
        "assert_vcpu_wait_us=2200\ttask_share=1", "expect.a=exit:0 expect.b=triple_fault",
        "expect.vmxfault-control=entry_failed expect.x=running expect.y=bad_access",
        "expect.z=exit:0xffffffff",
#endif
    };
    for (unsigned i = 0; i < sizeof good / sizeof good[0]; i++) {
        bool ok = check(good[i], why, sizeof why);
        if (!ok)
            fail_msg("'%s' refused: %s", good[i], why);
    }
}

struct bad { const char *line, *why; };

static void bad_lines_are_refused_by_name(void **state)
{
    (void)state;
    static const struct bad bad[] = {
        { "task_workers=0", "option task_workers=0: out of range 1..16" },
        { "task_workers=17", "option task_workers=17: out of range 1..16" },
        { "debug_exit=0x10000", "option debug_exit=0x10000: out of range 0..65535" },
        { "sched_tick_us=99", "option sched_tick_us=99: out of range 100..1000000" },
        { "task_share=0", "option task_share=0: out of range 1..99" },
        { "task_share=100", "option task_share=100: out of range 1..99" },
        { "task_share=50%", "option task_share=50%: not a number (decimal or 0x hex)" },
        { "task_max=-1", "option task_max=-1: not a number (decimal or 0x hex)" },
        { "task_retention_s=99999999999999999999", "option task_retention_s=99999999999999999999: not a number (decimal or 0x hex)" },
        { "task_wait_slice_us=0", "option task_wait_slice_us=0: out of range 1..1000000" },
        { "console=cooked", "option console=cooked: expected one of raw" },
        { "sched_tik_us=1000", "unknown option 'sched_tik_us=1000'" },
        { "debug_exit=0xf4 hello", "unknown option 'hello'" },
        { "debug_exit", "option 'debug_exit' has no value (key=value)" },
        { "debug_exit=", "option 'debug_exit=' has no value (key=value)" },
        { "task_share=10 task_share=20", "option 'task_share' given twice" },
#ifdef TV_TEST_BUILD
        { "expect.x=exit:zz", "option expect.x=exit:zz: not a number (decimal or 0x hex)" },
        { "expect.x=exit:0x100000000", "option expect.x=exit:0x100000000: out of range 0..4294967295" },
        { "expect.x=crash", "option expect.x=crash: expected exit:N or one of triple_fault|bad_access|entry_failed|running|exception_loop|off" },
        { "expect.=running", "unknown option 'expect.=running'" },
#else
        /* the scenario verdict's options exist only in the test build */
        { "expect.a=exit:0", "unknown option 'expect.a=exit:0'" },
        { "assert_vcpu_wait_us=2200", "unknown option 'assert_vcpu_wait_us=2200'" },
#endif
        { "debug_exit=0xf4 task_max_running=65", "option task_max_running=65: out of range 1..64" },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[160];
        if (check(bad[i].line, why, sizeof why))
            fail_msg("'%s' accepted", bad[i].line);
        assert_string_equal(why, bad[i].why);
    }
}

static void crash_test_only_in_test_builds(void **state)
{
    (void)state;
    char why[160];
    bool ok = check("crash_test=pf", why, sizeof why);
#ifdef TV_TEST_BUILD
    assert_true(ok);
    assert_false(check("crash_test=boom", why, sizeof why));
#else
    assert_false(ok);
    assert_string_equal(why, "unknown option 'crash_test=pf'");
#endif
}

static void option_get_still_reads_values(void **state)
{
    (void)state;
    assert_int_equal(option_get_u64("a=1 task_share=30", "task_share", 50), 30);
    assert_int_equal(option_get_u64("a=1", "task_share", 50), 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_lines_pass),
        cmocka_unit_test(bad_lines_are_refused_by_name),
        cmocka_unit_test(crash_test_only_in_test_builds),
        cmocka_unit_test(option_get_still_reads_values),
    };
    return cmocka_run_group_tests_name("monitor-options", tests, 0, 0);
}
