/* The Taskvisor boot configuration (\taskvisor\taskvisor.cfg on the ESP):
 * a small line-based text format, parsed by portable code that the UEFI
 * loader, the hosted unit tests and the fuzzer share.  docs/boot.md is the
 * user reference.  Everything in the file is untrusted. */
#ifndef TV_BOOT_CONFIG_H
#define TV_BOOT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"
#include "boot_info.h"

#define TV_CONFIG_MAX_BYTES    (64u * 1024u)  /* larger files are refused */
#define TV_CONFIG_MAX_LINE     512u           /* bytes per line, without the newline */
#define TV_CONFIG_MIN_MEMORY   (1ull << 20)   /* 1 MiB per partition at least */
#define TV_CONFIG_MAX_MEMORY   (1ull << 40)   /* 1 TiB per partition at most */
#define TV_CONFIG_MAX_TOTAL    (1ull << 42)   /* 4 TiB over all partitions */

struct tv_config_partition {
    char name[TV_BOOT_NAME_LEN];
    char image_path[TV_BOOT_PATH_LEN];  /* as written */
    char cmdline[TV_BOOT_CMDLINE_LEN];
    uint64_t memory_bytes;
    uint32_t flags;                     /* TV_PART_* */
    uint32_t line;                      /* line of the [partition ...] header */
    uint32_t image_line;                /* line of its "image =" key */
    char initrd_path[TV_BOOT_PATH_LEN]; /* "" when the partition has none */
    uint32_t initrd_line;               /* line of its "initrd =" key, 0 when none */
    uint32_t disk_count;                /* "disk =" lines (repeatable) */
    struct tv_boot_disk disks[TV_BOOT_MAX_DISKS];
};

struct tv_boot_config {
    char monitor_path[TV_BOOT_PATH_LEN];
    uint32_t monitor_line;              /* line of "monitor =" */
    uint32_t log_level;                 /* enum tv_log_level */
    char options[TV_BOOT_CMDLINE_LEN];
    uint32_t partition_count;
    struct tv_config_partition partitions[TV_BOOT_MAX_PARTITIONS];
};

/* Where and why parsing stopped.  line is 1-based; 0 means "the file as a
 * whole" (for example a required key that never appeared). */
struct tv_config_error {
    uint32_t line;
    char message[200];
};

/* Parses len bytes of text (need not be NUL-terminated).  On success fills
 * *out and returns TV_OK; otherwise returns TV_E_CORRUPT (syntax),
 * TV_E_INVALID_ARGUMENT (a bad value), TV_E_EXISTS (a duplicate),
 * TV_E_LIMIT (a limit passed) or TV_E_NOT_FOUND (a required key missing),
 * and describes the first problem in *err. */
tv_status_t tv_boot_config_parse(const char *text, size_t len,
                                 struct tv_boot_config *out,
                                 struct tv_config_error *err);

/* "FILE:LINE: MESSAGE" (or "FILE: MESSAGE" when line is 0) into buf. */
void tv_boot_config_format_error(char *buf, size_t size, const char *file,
                                 const struct tv_config_error *err);

/* Value parsers, exposed for tests and for the loader's own use. */
/* Decimal digits with an optional K, M or G suffix (either case, powers of
 * 1024).  Rejects empty input, other characters and overflow. */
tv_status_t tv_config_parse_size(const char *s, uint64_t *out);
/* error|warn|info|debug|trace (case-insensitive). */
tv_status_t tv_config_parse_log_level(const char *s, uint32_t *out);
/* yes|no|true|false|on|off|1|0 (case-insensitive). */
tv_status_t tv_config_parse_bool(const char *s, int *out);
/* Partition names: 1..31 characters of [A-Za-z0-9_.-], starting with a
 * letter or digit. */
int tv_config_name_is_valid(const char *s);
/* Image paths: 1..127 printable ASCII characters, no control characters,
 * no empty or "." / ".." components, '\\' or '/' as separators. */
int tv_config_path_is_valid(const char *s);
/* The human name of a log level ("info"), "?" when unknown. */
const char *tv_config_log_level_name(uint32_t level);

#endif
