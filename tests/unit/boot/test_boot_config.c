/* Unit tests for the boot configuration parser (boot/common/): the accepted
 * format, every error path with its line number, and the value parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../boot/common/boot_config.h"

static struct tv_boot_config cfg;
static struct tv_config_error err;

static tv_status_t parse(const char *text)
{
    return tv_boot_config_parse(text, strlen(text), &cfg, &err);
}

/* Parses text and expects failure with status st at line, the message
 * containing needle. */
static void expect_error(const char *text, tv_status_t st, uint32_t line, const char *needle)
{
    tv_status_t got = parse(text);
    if (got != st || err.line != line || !strstr(err.message, needle)) {
        fprintf(stderr, "# input:\n%s\n# got status %d line %u message '%s'\n"
                "# want status %d line %u containing '%s'\n",
                text, got, err.line, err.message, st, line, needle);
        fail();
    }
}

#define HEAD "monitor = \\taskvisor\\monitor.elf\n"
#define PART "[partition ctl]\nimage = ctl.bin\nmemory = 16M\n"

static void parses_full_config(void **state)
{
    (void)state;
    const char *text =
        "\xef\xbb\xbf# Taskvisor\r\n"
        "  ; another comment\n"
        "\n"
        "monitor = \\taskvisor\\monitor.elf\r\n"
        "log_level = DEBUG\n"
        "options =   sched_tick_us=1000  serial=com1  \n"
        "[partition control]\n"
        "image\t=\t/taskvisor/control.bin\n"
        "memory = 64M\n"
        "cmdline = console=ttyS0 # not a comment\n"
        "control = yes\n"
        "[ partition   guest-1.a ]\n"
        "image = guest.bin\n"
        "memory = 1G\n"
        "control = off\n"
        "[partition g2]\n"
        "memory=2048k\n"
        "image=g2.img";                 /* no newline at the end */
    assert_int_equal(parse(text), TV_OK);
    assert_string_equal(cfg.monitor_path, "\\taskvisor\\monitor.elf");
    assert_int_equal(cfg.monitor_line, 4);
    assert_int_equal(cfg.log_level, TV_LOG_DEBUG);
    assert_string_equal(cfg.options, "sched_tick_us=1000  serial=com1");
    assert_int_equal(cfg.partition_count, 3);
    assert_string_equal(cfg.partitions[0].name, "control");
    assert_string_equal(cfg.partitions[0].image_path, "/taskvisor/control.bin");
    assert_int_equal(cfg.partitions[0].image_line, 8);
    assert_int_equal(cfg.partitions[0].line, 7);
    assert_true(cfg.partitions[0].memory_bytes == 64ull << 20);
    assert_string_equal(cfg.partitions[0].cmdline, "console=ttyS0 # not a comment");
    assert_int_equal(cfg.partitions[0].flags, TV_PART_CONTROL);
    assert_string_equal(cfg.partitions[1].name, "guest-1.a");
    assert_true(cfg.partitions[1].memory_bytes == 1ull << 30);
    assert_int_equal(cfg.partitions[1].flags, 0);
    assert_string_equal(cfg.partitions[1].cmdline, "");
    assert_string_equal(cfg.partitions[2].name, "g2");
    assert_true(cfg.partitions[2].memory_bytes == 2048ull << 10);
    assert_int_equal(cfg.partitions[2].image_line, 18);
}

static void defaults_apply(void **state)
{
    (void)state;
    assert_int_equal(parse(HEAD PART), TV_OK);
    assert_int_equal(cfg.log_level, TV_LOG_INFO);
    assert_string_equal(cfg.options, "");
    assert_int_equal(cfg.partitions[0].flags, 0);
    /* empty options and cmdline are allowed */
    assert_int_equal(parse(HEAD "options =\n" PART "cmdline=\n"), TV_OK);
}

static void required_keys_are_reported(void **state)
{
    (void)state;
    expect_error(PART, TV_E_NOT_FOUND, 0, "no 'monitor =' line");
    expect_error(HEAD, TV_E_NOT_FOUND, 0, "at least one partition");
    expect_error(HEAD "[partition a]\nmemory = 16M\n", TV_E_NOT_FOUND, 2,
                 "partition 'a' has no 'image =' line");
    expect_error(HEAD "[partition a]\nimage = a\n[partition b]\n", TV_E_NOT_FOUND, 2,
                 "partition 'a' has no 'memory =' line");
    expect_error(HEAD PART "[partition b]\nimage = b\n", TV_E_NOT_FOUND, 5,
                 "partition 'b' has no 'memory =' line");
    expect_error("", TV_E_NOT_FOUND, 0, "monitor");
}

static void syntax_errors_name_the_line(void **state)
{
    (void)state;
    expect_error(HEAD "this is not valid\n" PART, TV_E_CORRUPT, 2, "expected 'key = value'");
    expect_error(HEAD "= value\n", TV_E_CORRUPT, 2, "expected 'key = value'");
    expect_error(HEAD "monitor: x\n", TV_E_CORRUPT, 2, "expected 'key = value'");
    expect_error(HEAD "[partition a\n", TV_E_CORRUPT, 2, "without closing ']'");
    expect_error(HEAD "[disk a]\n", TV_E_CORRUPT, 2, "unknown section '[disk a]'");
    expect_error(HEAD "[partitions a]\n", TV_E_CORRUPT, 2, "unknown section");
    expect_error(HEAD "[partition]\n", TV_E_CORRUPT, 2, "needs a name");
    expect_error(HEAD "[partition   ]\n", TV_E_CORRUPT, 2, "needs a name");
    expect_error(HEAD "colour = red\n", TV_E_CORRUPT, 2, "unknown key 'colour'");
    expect_error(HEAD PART "colour = red\n", TV_E_CORRUPT, 5,
                 "unknown key 'colour' in partition 'ctl'");
    expect_error(HEAD "image = a\n", TV_E_CORRUPT, 2, "belongs inside a [partition NAME]");
    expect_error(HEAD PART "log_level = info\n", TV_E_CORRUPT, 5, "is a global key");
    expect_error(HEAD "Monitor = x\n", TV_E_CORRUPT, 2, "unknown key 'Monitor'");
}

static void bad_bytes_are_refused(void **state)
{
    (void)state;
    static const char nul[] = "monitor = a\nlog_level = in\0fo\n";
    assert_int_equal(tv_boot_config_parse(nul, sizeof nul - 1, &cfg, &err), TV_E_CORRUPT);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "NUL byte at column 15"));
    expect_error(HEAD "options = a\x01" "b\n", TV_E_CORRUPT, 2, "control character 0x01 at column 12");
    expect_error(HEAD "options = \x7f\n", TV_E_CORRUPT, 2, "control character 0x7f");
    expect_error(HEAD "options = caf\xc3\xa9\n", TV_E_CORRUPT, 2, "non-ASCII byte 0xc3");
    /* non-ASCII is fine inside comments */
    assert_int_equal(parse("# caf\xc3\xa9\n" HEAD PART), TV_OK);
    assert_int_equal(parse("   ; \xff\n" HEAD PART), TV_OK);
}

static void limits_are_enforced(void **state)
{
    (void)state;
    char *big = malloc(TV_CONFIG_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, '#', TV_CONFIG_MAX_BYTES + 1);
    assert_int_equal(tv_boot_config_parse(big, TV_CONFIG_MAX_BYTES + 1, &cfg, &err), TV_E_LIMIT);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "too large"));

    /* a line of exactly the maximum is fine, one more byte is not */
    char line[TV_CONFIG_MAX_LINE + 200];
    memset(line, '#', TV_CONFIG_MAX_LINE);
    strcpy(line + TV_CONFIG_MAX_LINE, "\n" HEAD PART);
    assert_int_equal(parse(line), TV_OK);
    memset(line, '#', TV_CONFIG_MAX_LINE + 1);
    strcpy(line + TV_CONFIG_MAX_LINE + 1, "\n");
    expect_error(line, TV_E_LIMIT, 1, "line is too long (513 bytes");
    /* the \r of a CRLF line does not count */
    memset(line, '#', TV_CONFIG_MAX_LINE);
    strcpy(line + TV_CONFIG_MAX_LINE, "\r\n" HEAD PART);
    assert_int_equal(parse(line), TV_OK);

    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, HEAD);
    for (int i = 0; i <= TV_BOOT_MAX_PARTITIONS; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "[partition p%d]\nimage = p\nmemory = 1M\n", i);
    expect_error(text, TV_E_LIMIT, 2 + 3 * TV_BOOT_MAX_PARTITIONS, "too many partitions (at most 8)");
    /* exactly the maximum is accepted */
    text[strlen(text) - strlen("[partition p8]\nimage = p\nmemory = 1M\n")] = 0;
    assert_int_equal(parse(text), TV_OK);
    assert_int_equal(cfg.partition_count, TV_BOOT_MAX_PARTITIONS);

    char opt[400];
    snprintf(opt, sizeof opt, HEAD "options = %0255d\n" PART, 0);
    assert_int_equal(parse(opt), TV_OK);
    assert_int_equal(strlen(cfg.options), 255);
    snprintf(opt, sizeof opt, HEAD "options = %0256d\n" PART, 0);
    expect_error(opt, TV_E_LIMIT, 2, "'options' is too long (256 bytes, at most 255)");
    snprintf(opt, sizeof opt, HEAD PART "cmdline = %0300d\n", 0);
    expect_error(opt, TV_E_LIMIT, 5, "'cmdline' is too long (300 bytes");

    char path[300];
    snprintf(path, sizeof path, "monitor = %0127d\n" PART, 0);
    assert_int_equal(parse(path), TV_OK);
    snprintf(path, sizeof path, "monitor = %0128d\n" PART, 0);
    expect_error(path, TV_E_INVALID_ARGUMENT, 1, "'monitor' is not a valid path");
    free(big);
}

static void duplicates_are_refused(void **state)
{
    (void)state;
    expect_error(HEAD "monitor = b\n" PART, TV_E_EXISTS, 2,
                 "'monitor' is given twice (first at line 1)");
    expect_error(HEAD "log_level = info\nlog_level = warn\n", TV_E_EXISTS, 3, "'log_level' is given twice");
    expect_error(HEAD PART "memory = 32M\n", TV_E_EXISTS, 5, "'memory' is given twice (first at line 4)");
    expect_error(HEAD PART "image = x\n", TV_E_EXISTS, 5, "'image' is given twice");
    expect_error(HEAD PART "[partition ctl]\n", TV_E_EXISTS, 5,
                 "partition name 'ctl' is already used at line 2");
    /* keys of one section do not collide with the next section's */
    assert_int_equal(parse(HEAD PART "[partition b]\nimage = b\nmemory = 1M\n"), TV_OK);
}

static void control_partition_is_unique(void **state)
{
    (void)state;
    expect_error(HEAD PART "control = yes\n[partition b]\nimage = b\nmemory = 1M\ncontrol = true\n",
                 TV_E_EXISTS, 9, "only one partition may be the control partition: 'ctl' (line 2)");
    assert_int_equal(parse(HEAD PART "control = no\n[partition b]\nimage = b\nmemory = 1M\ncontrol = 1\n"),
                     TV_OK);
    assert_int_equal(cfg.partitions[0].flags, 0);
    assert_int_equal(cfg.partitions[1].flags, TV_PART_CONTROL);
    expect_error(HEAD PART "control = maybe\n", TV_E_INVALID_ARGUMENT, 5,
                 "'control' must be yes or no, not 'maybe'");
    expect_error(HEAD PART "control =\n", TV_E_INVALID_ARGUMENT, 5, "'control' needs a value");
}

static void bad_values_are_refused(void **state)
{
    (void)state;
    expect_error(HEAD "log_level = loud\n", TV_E_INVALID_ARGUMENT, 2,
                 "'log_level' must be error, warn, info, debug or trace, not 'loud'");
    expect_error("monitor =\n", TV_E_INVALID_ARGUMENT, 1, "'monitor' needs a value");
    expect_error("monitor = a\\\\b\n", TV_E_INVALID_ARGUMENT, 1, "not a valid path");
    expect_error("monitor = \\taskvisor\\..\\x\n", TV_E_INVALID_ARGUMENT, 1, "not a valid path");
    expect_error("monitor = dir\\\n", TV_E_INVALID_ARGUMENT, 1, "not a valid path");
    expect_error(HEAD "[partition -a]\n", TV_E_INVALID_ARGUMENT, 2, "invalid partition name '-a'");
    expect_error(HEAD "[partition a b]\n", TV_E_INVALID_ARGUMENT, 2, "invalid partition name 'a b'");
    expect_error(HEAD "[partition 0123456789012345678901234567890123]\n", TV_E_INVALID_ARGUMENT, 2,
                 "invalid partition name");
    expect_error(HEAD "[partition a]\nimage =\n", TV_E_INVALID_ARGUMENT, 3, "'image' needs a value");
    expect_error(HEAD "[partition a]\nimage = .\n", TV_E_INVALID_ARGUMENT, 3, "'image' is not a valid path");
    expect_error(HEAD "[partition a]\nmemory = lots\n", TV_E_INVALID_ARGUMENT, 3,
                 "'memory' must be a number with an optional K, M or G suffix, not 'lots'");
    expect_error(HEAD "[partition a]\nmemory = 16MB\n", TV_E_INVALID_ARGUMENT, 3, "not '16MB'");
    expect_error(HEAD "[partition a]\nmemory = 16 M\n", TV_E_INVALID_ARGUMENT, 3, "not '16 M'");
    expect_error(HEAD "[partition a]\nmemory = 1023K\n", TV_E_INVALID_ARGUMENT, 3, "out of range (1M to 1024G)");
    expect_error(HEAD "[partition a]\nmemory = 1025G\n", TV_E_INVALID_ARGUMENT, 3, "out of range");
    expect_error(HEAD "[partition a]\nmemory = 99999999999999999999G\n", TV_E_INVALID_ARGUMENT, 3,
                 "must be a number");
    expect_error(HEAD "[partition a]\nmemory = 1048577\n", TV_E_INVALID_ARGUMENT, 3, "not a multiple of 4K");
    expect_error(HEAD "[partition a]\nmemory =\n", TV_E_INVALID_ARGUMENT, 3, "'memory' needs a value");
    /* 1024G is the per-partition maximum; the total is bounded too */
    char text[1024];
    size_t n = (size_t)snprintf(text, sizeof text, HEAD);
    for (int i = 0; i < 5; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "[partition p%d]\nimage = p\nmemory = 1024G\n", i);
    expect_error(text, TV_E_LIMIT, 16, "more than 4096G of memory in total");
}

static void value_parsers(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(tv_config_parse_size("0", &v), TV_OK);
    assert_true(v == 0);
    assert_int_equal(tv_config_parse_size("4096", &v), TV_OK);
    assert_true(v == 4096);
    assert_int_equal(tv_config_parse_size("3k", &v), TV_OK);
    assert_true(v == 3072);
    assert_int_equal(tv_config_parse_size("7G", &v), TV_OK);
    assert_true(v == 7ull << 30);
    assert_int_equal(tv_config_parse_size("18446744073709551615", &v), TV_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(tv_config_parse_size("18446744073709551616", &v), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_config_parse_size("17179869184G", &v), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_config_parse_size("", &v), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_config_parse_size("M", &v), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_config_parse_size("-1", &v), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_config_parse_size("1T", &v), TV_E_INVALID_ARGUMENT);

    uint32_t level;
    assert_int_equal(tv_config_parse_log_level("Trace", &level), TV_OK);
    assert_int_equal(level, TV_LOG_TRACE);
    assert_int_equal(tv_config_parse_log_level("error", &level), TV_OK);
    assert_int_equal(level, TV_LOG_ERROR);
    assert_int_equal(tv_config_parse_log_level("errors", &level), TV_E_INVALID_ARGUMENT);
    assert_int_equal(tv_config_parse_log_level("", &level), TV_E_INVALID_ARGUMENT);
    assert_string_equal(tv_config_log_level_name(TV_LOG_WARN), "warn");
    assert_string_equal(tv_config_log_level_name(99), "?");

    int b;
    assert_int_equal(tv_config_parse_bool("ON", &b), TV_OK);
    assert_int_equal(b, 1);
    assert_int_equal(tv_config_parse_bool("False", &b), TV_OK);
    assert_int_equal(b, 0);
    assert_int_equal(tv_config_parse_bool("y", &b), TV_E_INVALID_ARGUMENT);

    assert_true(tv_config_name_is_valid("a"));
    assert_true(tv_config_name_is_valid("9lives_x.y-z"));
    assert_false(tv_config_name_is_valid(""));
    assert_false(tv_config_name_is_valid("_a"));
    assert_false(tv_config_name_is_valid("a/b"));
    assert_true(tv_config_name_is_valid("0123456789012345678901234567890"));
    assert_false(tv_config_name_is_valid("01234567890123456789012345678901"));

    assert_true(tv_config_path_is_valid("a"));
    assert_true(tv_config_path_is_valid("\\taskvisor\\m.elf"));
    assert_true(tv_config_path_is_valid("/x/y z.bin"));
    assert_true(tv_config_path_is_valid("..x"));
    assert_false(tv_config_path_is_valid(""));
    assert_false(tv_config_path_is_valid("\\"));
    assert_false(tv_config_path_is_valid("a//b"));
    assert_false(tv_config_path_is_valid("a\\..\\b"));
    assert_false(tv_config_path_is_valid("./a"));
    assert_false(tv_config_path_is_valid("a\tb"));
}

static void errors_format_with_file_and_line(void **state)
{
    (void)state;
    char buf[256];
    expect_error(HEAD "log_level = loud\n", TV_E_INVALID_ARGUMENT, 2, "loud");
    tv_boot_config_format_error(buf, sizeof buf, "\\taskvisor\\taskvisor.cfg", &err);
    assert_string_equal(buf, "\\taskvisor\\taskvisor.cfg:2: 'log_level' must be error, warn, "
                             "info, debug or trace, not 'loud'");
    expect_error(PART, TV_E_NOT_FOUND, 0, "monitor");
    tv_boot_config_format_error(buf, sizeof buf, "cfg", &err);
    assert_string_equal(buf, "cfg: no 'monitor =' line: the path of the monitor image is required");
}

/* initrd = FILE: optional, a path like image, once per partition. */
static void initrd_is_a_partition_path(void **state)
{
    (void)state;
    assert_int_equal(parse(HEAD PART "initrd = /boot/initramfs.cpio.gz\n"
                           "[partition b]\nimage = b.bin\nmemory = 4M\n"), TV_OK);
    assert_string_equal(cfg.partitions[0].initrd_path, "/boot/initramfs.cpio.gz");
    assert_int_equal(cfg.partitions[0].initrd_line, 5);
    assert_string_equal(cfg.partitions[1].initrd_path, "");
    assert_int_equal(cfg.partitions[1].initrd_line, 0);
    expect_error(HEAD PART "initrd = a\ninitrd = b\n", TV_E_EXISTS, 6, "'initrd' is given twice");
    expect_error(HEAD PART "initrd =\n", TV_E_INVALID_ARGUMENT, 5, "'initrd' needs a value");
    expect_error(HEAD PART "initrd = a/../b\n", TV_E_INVALID_ARGUMENT, 5, "initrd");
    expect_error(HEAD "initrd = a\n" PART, TV_E_CORRUPT, 2, "belongs inside a [partition");
}

/* autostart: default yes (every config written before it keeps starting
 * its partitions), "no" makes a VM definition only; never for the control
 * partition. */
static void autostart_defaults_to_yes(void **state)
{
    (void)state;
    assert_int_equal(parse(HEAD PART "[partition b]\nimage = b.bin\nmemory = 4M\nautostart = no\n"
                           "[partition c]\nimage = c.bin\nmemory = 4M\nautostart = yes\n"), TV_OK);
    assert_int_equal(cfg.partitions[0].flags & TV_PART_NO_AUTOSTART, 0);
    assert_int_equal(cfg.partitions[1].flags & TV_PART_NO_AUTOSTART, TV_PART_NO_AUTOSTART);
    assert_int_equal(cfg.partitions[2].flags & TV_PART_NO_AUTOSTART, 0);
    expect_error(HEAD PART "autostart = maybe\n", TV_E_INVALID_ARGUMENT, 5,
                 "'autostart' must be yes or no");
    expect_error(HEAD PART "autostart = no\nautostart = no\n", TV_E_EXISTS, 6,
                 "'autostart' is given twice");
    expect_error(HEAD PART "control = yes\nautostart = no\n", TV_E_INVALID_ARGUMENT, 6,
                 "always starts at boot");
    expect_error(HEAD "autostart = no\n" PART, TV_E_CORRUPT, 2, "belongs inside a [partition");
}

/* disk: repeatable, VOLUME:/path, at most TV_BOOT_MAX_DISKS, in order. */
static void disks_are_listed_in_order(void **state)
{
    (void)state;
    assert_int_equal(parse(HEAD PART "disk = TVFAT:/vm/a.vhd\ndisk = DATA:/b.vhd\n"
                           "[partition b]\nimage = b.bin\nmemory = 4M\n"), TV_OK);
    assert_int_equal(cfg.partitions[0].disk_count, 2);
    assert_string_equal(cfg.partitions[0].disks[0].path, "TVFAT:/vm/a.vhd");
    assert_string_equal(cfg.partitions[0].disks[1].path, "DATA:/b.vhd");
    assert_int_equal(cfg.partitions[0].disks[0].mode, TV_DISK_MODE_NORMAL);
    assert_int_equal(cfg.partitions[0].disks[1].line, 6);
    assert_int_equal(cfg.partitions[1].disk_count, 0);
    expect_error(HEAD PART "disk = /vm/a.vhd\n", TV_E_INVALID_ARGUMENT, 5, "VOLUME:/path");
    expect_error(HEAD PART "disk = :/a.vhd\n", TV_E_INVALID_ARGUMENT, 5, "VOLUME:/path");
    expect_error(HEAD PART "disk = TVFAT:a.vhd\n", TV_E_INVALID_ARGUMENT, 5, "VOLUME:/path");
    expect_error(HEAD PART "disk = TVFAT:/a/../b.vhd\n", TV_E_INVALID_ARGUMENT, 5, "VOLUME:/path");
    expect_error(HEAD PART "disk = V:/1.vhd\ndisk = V:/2.vhd\ndisk = V:/3.vhd\ndisk = V:/4.vhd\n"
                 "disk = V:/5.vhd\n", TV_E_LIMIT, 9, "more than 4 'disk =' lines");
    expect_error(HEAD "disk = V:/a.vhd\n" PART, TV_E_CORRUPT, 2, "belongs inside a [partition");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(disks_are_listed_in_order),
        cmocka_unit_test(parses_full_config),
        cmocka_unit_test(initrd_is_a_partition_path),
        cmocka_unit_test(autostart_defaults_to_yes),
        cmocka_unit_test(defaults_apply),
        cmocka_unit_test(required_keys_are_reported),
        cmocka_unit_test(syntax_errors_name_the_line),
        cmocka_unit_test(bad_bytes_are_refused),
        cmocka_unit_test(limits_are_enforced),
        cmocka_unit_test(duplicates_are_refused),
        cmocka_unit_test(control_partition_is_unique),
        cmocka_unit_test(bad_values_are_refused),
        cmocka_unit_test(value_parsers),
        cmocka_unit_test(errors_format_with_file_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
