/* tvdisk: create, inspect, check, merge, compact and convert VHD images.
 * Every long operation runs as a task of the task subsystem: the progress
 * bar reads the task record, Ctrl-C cancels through task_cancel(), and the
 * data outcome is printed at the end.  See docs/tvdisk.md. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/storage_file.h"
#include "tvdisk.h"
#include "task_mgr.h"
#include "tv_status.h"
#include "vhd.h"
#include "vhd_internal.h"
#include "vhd_op.h"
#include "vhd_task.h"

struct tvdisk_opt opt;

volatile sig_atomic_t interrupted;
/* Filled by a running check; printed in its JSON report. */
static struct tv_vhd_check_result *check_result;
tv_storage_t st;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

int exit_for(tv_status_t s)
{
    switch (s) {
    case TV_OK: return EXIT_OK;
    case TV_E_CORRUPT: return EXIT_CORRUPT;
    case TV_E_CANCELLED: return EXIT_CANCELLED;
    case TV_E_NOT_FOUND: case TV_E_PARENT_MISSING: return EXIT_NOT_FOUND;
    case TV_E_WRONG_TYPE: return EXIT_WRONG_TYPE;
    case TV_E_NO_SPACE: return EXIT_NO_SPACE;
    case TV_E_EXISTS: return EXIT_EXISTS;
    case TV_E_PARENT_MODIFIED: return EXIT_PARENT_MODIFIED;
    case TV_E_INVALID_ARGUMENT: return EXIT_USAGE;
    default: return EXIT_FAILED;
    }
}

/* A one-line explanation of a failure status, for users. */
static const char *explain(tv_status_t s)
{
    switch (s) {
    case TV_E_CORRUPT: return "corrupt or not a VHD image (try: tvdisk check --repair)";
    case TV_E_NOT_FOUND: return "no such file";
    case TV_E_PARENT_MISSING: return "parent disk not found";
    case TV_E_PARENT_MODIFIED: return "parent disk has changed since the child was created (use --fix-parent to accept it)";
    case TV_E_WRONG_TYPE: return "wrong disk type for this operation (or not a regular file or block device)";
    case TV_E_NO_SPACE: return "no space left on the device";
    case TV_E_EXISTS: return "target already exists";
    case TV_E_READ_ONLY: return "image or parent is read-only";
    case TV_E_BUSY: return "disk is in use (another process has it open for writing, or reads a disk this would change)";
    case TV_E_INVALID_STATE: return "a merge into this disk is pending (tvdisk check --repair finishes or clears it)";
    case TV_E_UNSUPPORTED: return "not supported (size or layout beyond what tvdisk handles)";
    case TV_E_INVALID_ARGUMENT: return "invalid argument (sizes, offsets and lengths are bytes in multiples of 512; sizes up to 2040 GiB)";
    default: return tv_status_text(s);
    }
}

void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

int fail(const char *what, tv_status_t s)
{
    if (opt.json) {
        printf("{\"command\":");
        json_str(stdout, opt.cmd);
        printf(",\"status\":\"%s\",\"error\":", tv_status_name(s));
        json_str(stdout, explain(s));
        printf(",\"target\":");
        json_str(stdout, what ? what : "");
        printf("}\n");
    }
    fprintf(stderr, "tvdisk: %s: %s%s%s\n", opt.cmd, what ? what : "", what ? ": " : "", explain(s));
    return exit_for(s);
}

int usage(void)
{
    fprintf(stderr,
            "usage: tvdisk [--json] [--quiet] [--no-flush] COMMAND ...\n"
            "  create [--fixed|--dynamic|--raw] [--block-size N] [--exact] FILE SIZE\n"
            "  create --diff FILE PARENT\n"
            "  info [--fix-parent] FILE\n"
            "  check [--repair] FILE\n"
            "  merge CHILD                      merge a differencing disk into its parent\n"
            "  merge-to [--fixed|--dynamic|--raw] SRC DST   flatten a chain into a new disk\n"
            "  compact FILE\n"
            "  convert [--fixed|--dynamic|--raw] [--src-raw] [--block-size N] SRC DST\n"
            "  write FILE OFFSET DATAFILE        write DATAFILE's bytes at byte OFFSET (a multiple of 512)\n"
            "  read FILE OFFSET LENGTH           copy virtual disk bytes to stdout\n"
            "sizes take K, M, G, T suffixes (powers of 1024)\n");
    return EXIT_USAGE;
}

bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return false;
    uint64_t mul = 1;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    case 't': case 'T': mul = 1ull << 40; end++; break;
    default: return false;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end || v > UINT64_MAX / mul)
        return false;
    *out = v * mul;
    return true;
}

/* ---- running an operation as a task ------------------------------------- */

static void draw_bar(const struct tv_task_info *info, bool final)
{
    if (opt.quiet || opt.json || !isatty(2))
        return;
    unsigned pct = final && info->state == TV_TASK_COMPLETED ? 100 : info->percent;
    char bar[41];
    unsigned fill = pct * 40 / 100;
    for (unsigned i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\r%s [%s] %3u%% %" PRIu64 "/%" PRIu64 " MiB%s", opt.cmd, bar, pct, info->done >> 20,
            info->total >> 20, final ? "\n" : "");
}

static const char *task_outcome_name(uint32_t o)
{
    switch (o) {
    case TV_TASK_OUTCOME_COMMITTED: return "committed";
    case TV_TASK_OUTCOME_UNTOUCHED: return "untouched";
    case TV_TASK_OUTCOME_ROLLED_BACK: return "rolled back";
    case TV_TASK_OUTCOME_CONSISTENT_PARTIAL: return "consistent partial";
    case TV_TASK_OUTCOME_NEEDS_RECOVERY: return "needs recovery";
    default: return "pending";
    }
}

static int run_task(tv_vhd_op_t *op, uint32_t type, const char *target)
{
    struct task_mgr_config cfg = { .workers = 1 };
    struct task_mgr *mgr;
    struct tv_vhd_task_report report;
    uint64_t id;
    tv_status_t s = task_mgr_create(&cfg, &mgr);
    if (s != TV_OK) {
        tv_vhd_op_destroy(op);
        return fail(NULL, s);
    }
    char desc[128];
    snprintf(desc, sizeof desc, "%s %s", opt.cmd, target);
    s = tv_vhd_task_start(mgr, op, type, desc, &report, &id);
    if (s != TV_OK) {
        tv_vhd_op_destroy(op);
        task_mgr_destroy(mgr);
        return fail(target, s);
    }
    bool cancel_sent = false;
    struct tv_task_info info;
    for (;;) {
        s = task_wait(mgr, id, 100);
        task_query(mgr, id, &info);
        if (s == TV_OK)
            break;
        draw_bar(&info, false);
        if (interrupted && !cancel_sent) {
            cancel_sent = true;
            tv_status_t cs = task_cancel(mgr, id);
            if (!opt.json)
                fprintf(stderr, "\ntvdisk: %s: %s\n", opt.cmd,
                        cs == TV_OK ? "cancelling"
                                    : "cannot cancel now: past the point of no return, finishing");
        }
    }
    draw_bar(&info, true);
    task_mgr_destroy(mgr);
    tv_status_t final = info.state == TV_TASK_CANCELLED ? TV_E_CANCELLED : report.status;
    if (info.state == TV_TASK_COMPLETED)
        final = TV_OK;
    if (opt.json) {
        printf("{\"command\":");
        json_str(stdout, opt.cmd);
        printf(",\"target\":");
        json_str(stdout, target);
        printf(",\"status\":\"%s\",\"outcome\":\"%s\",\"task_outcome\":\"%s\",\"done\":%" PRIu64
               ",\"total\":%" PRIu64 ",\"detail\":",
               tv_status_name(final), tv_vhd_outcome_name(report.outcome), task_outcome_name(info.outcome),
               info.done, info.total);
        json_str(stdout, report.detail);
        if (final != TV_OK) {
            printf(",\"error\":");
            json_str(stdout, explain(final));
        }
        if (check_result)
            printf(",\"errors\":%u,\"repaired\":%u,\"warnings\":%u,\"lost_bytes\":%" PRIu64,
                   check_result->errors, check_result->repaired, check_result->warnings,
                   check_result->lost_bytes);
        printf("}\n");
    } else {
        /* One line: what happened, and what the data looks like now. */
        if (final == TV_OK) {
            if (!opt.quiet)
                printf("%s: data %s: %s\n", opt.cmd, task_outcome_name(info.outcome), report.detail);
        } else {
            fprintf(stderr, "tvdisk: %s: %s: %s; data %s%s%s\n", opt.cmd, target,
                    final == TV_E_CANCELLED ? "cancelled" : explain(final), task_outcome_name(info.outcome),
                    report.detail[0] ? ": " : "", report.detail);
        }
    }
    return exit_for(final);
}

/* ---- commands ------------------------------------------------------------ */

static int cmd_create(int argc, char **argv)
{
    struct tv_vhd_create_params p = { .kind = opt.kind ? opt.kind : TV_VHD_DYNAMIC,
                                      .block_size = opt.block_size, .exact_size = opt.exact };
    if (argc != 2)
        return usage();
    if (p.kind == TV_VHD_DIFF) {
        p.parent = argv[1];
    } else if (!parse_size(argv[1], &p.size) || p.size == 0) {
        fprintf(stderr, "tvdisk: create: bad size '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    tv_vhd_op_t *op;
    tv_status_t s = tv_vhd_op_create(&st, argv[0], &p, &op);
    if (s != TV_OK)
        return fail(argv[0], s);
    uint32_t type = p.kind == TV_VHD_FIXED ? TV_TASK_TYPE_DISK_CREATE_FIXED
                    : p.kind == TV_VHD_DIFF ? TV_TASK_TYPE_DISK_CREATE_DIFF
                                            : TV_TASK_TYPE_DISK_CREATE_DYNAMIC;
    return run_task(op, type, argv[0]);
}

static void hex_uid(const uint8_t *u, char *out)
{
    static const int dash[] = { 4, 6, 8, 10 };
    int k = 0;
    for (int i = 0; i < 16; i++) {
        for (int d = 0; d < 4; d++)
            if (dash[d] == i)
                out[k++] = '-';
        k += sprintf(out + k, "%02x", u[i]);
    }
    out[k] = 0;
}

/* Warnings of a source opened read-only by an operation (convert,
 * merge-to): opened here once more to report them before the task runs. */
static void preflight_warnings(const char *name)
{
    tv_vhd_t *v;
    if (tv_vhd_open(&st, name, opt.src_raw ? TV_VHD_OPEN_RAW : 0, &v) == TV_OK) {
        print_warnings(name, tv_vhd_warnings(v));
        tv_vhd_close(v);
    }
}

static int cmd_info(int argc, char **argv)
{
    int rc;
    if (argc != 1)
        return usage();
    if (!image_arg_ok(argv[0], &rc))
        return rc;
    tv_vhd_t *v;
    unsigned flags = opt.fix_parent ? TV_VHD_OPEN_WRITE | TV_VHD_OPEN_FIX_PARENT : 0;
    tv_status_t s = tv_vhd_open(&st, argv[0], flags | (opt.src_raw ? TV_VHD_OPEN_RAW : 0), &v);
    if (s != TV_OK)
        return fail(argv[0], s);
    char uid[40];
    hex_uid(tv_vhd_uid(v), uid);
    unsigned warnings = tv_vhd_warnings(v);
    print_warnings(argv[0], warnings);
    if (opt.json) {
        printf("{\"command\":\"info\",\"status\":\"OK\",\"file\":");
        json_str(stdout, argv[0]);
        printf(",\"type\":\"%s\",\"size\":%" PRIu64 ",\"file_size\":%" PRIu64 ",\"block_size\":%u,"
               "\"blocks\":%u,\"allocated_blocks\":%u,\"uid\":\"%s\"",
               tv_vhd_kind_name(tv_vhd_kind(v)), tv_vhd_size(v), tv_vhd_file_size(v), tv_vhd_block_size(v),
               tv_vhd_block_count(v), tv_vhd_allocated_blocks(v), uid);
        if (v->kind != TV_VHD_RAW)
            printf(",\"creator\":\"%.4s\",\"geometry\":[%u,%u,%u]", (const char *)v->footer.creator_app,
                   v->footer.cylinders, v->footer.heads, v->footer.sectors);
        printf(",\"warnings\":[");
        for (unsigned bit = 1, first = 1; bit && bit <= warnings; bit <<= 1)
            if (warnings & bit) {
                printf("%s", first ? "" : ",");
                json_str(stdout, tv_vhd_warning_text(bit));
                first = 0;
            }
        printf("],\"chain\":[");
        for (tv_vhd_t *p = tv_vhd_parent(v); p; p = tv_vhd_parent(p)) {
            json_str(stdout, tv_vhd_name(p));
            if (tv_vhd_parent(p))
                printf(",");
        }
        printf("]}\n");
    } else {
        printf("file:        %s\ntype:        %s\nsize:        %" PRIu64 " bytes\nfile size:   %" PRIu64
               " bytes\n",
               argv[0], tv_vhd_kind_name(tv_vhd_kind(v)), tv_vhd_size(v), tv_vhd_file_size(v));
        if (v->kind != TV_VHD_RAW)
            printf("unique id:   %s\ncreator:     %.4s\ngeometry:    %u/%u/%u\n", uid,
                   (const char *)v->footer.creator_app, v->footer.cylinders, v->footer.heads, v->footer.sectors);
        if (tv_vhd_block_size(v))
            printf("block size:  %u\nblocks:      %u allocated of %u\n", tv_vhd_block_size(v),
                   tv_vhd_allocated_blocks(v), tv_vhd_block_count(v));
        for (tv_vhd_t *p = tv_vhd_parent(v); p; p = tv_vhd_parent(p))
            printf("parent:      %s (%s)\n", tv_vhd_name(p), tv_vhd_kind_name(tv_vhd_kind(p)));
    }
    s = tv_vhd_close(v);
    return s == TV_OK ? EXIT_OK : fail(argv[0], s);
}

static void print_finding(void *ctx, bool error, const char *line)
{
    (void)ctx;
    (void)error;
    if (opt.json)
        return;
    fprintf(stdout, "  %s\n", line);
}

static int cmd_check(int argc, char **argv)
{
    if (argc != 1)
        return usage();
    int rc;
    if (!image_arg_ok(argv[0], &rc))
        return rc;
    struct tv_vhd_check_result r;
    tv_vhd_op_t *op;
    tv_status_t s = tv_vhd_op_check(&st, argv[0], opt.repair, print_finding, NULL, &r, &op);
    if (s != TV_OK)
        return fail(argv[0], s);
    if (!opt.json)
        printf("check %s:\n", argv[0]);
    check_result = &r;
    /* The check runs as a task too. */
    return run_task(op, TV_TASK_TYPE_DISK_CHECK, argv[0]);
}

static int cmd_merge(int argc, char **argv)
{
    if (argc != 1)
        return usage();
    int rc;
    if (!image_arg_ok(argv[0], &rc))
        return rc;
    tv_vhd_op_t *op;
    tv_status_t s = tv_vhd_op_merge(&st, argv[0], &op);
    return s != TV_OK ? fail(argv[0], s) : run_task(op, TV_TASK_TYPE_DISK_MERGE, argv[0]);
}

static int cmd_merge_to(int argc, char **argv)
{
    if (argc != 2)
        return usage();
    int rc;
    if (!image_arg_ok(argv[0], &rc))
        return rc;
    preflight_warnings(argv[0]);
    tv_vhd_op_t *op;
    tv_status_t s = tv_vhd_op_merge_to(&st, argv[0], argv[1], opt.kind ? opt.kind : TV_VHD_DYNAMIC, &op);
    return s != TV_OK ? fail(argv[1], s) : run_task(op, TV_TASK_TYPE_DISK_MERGE_TO, argv[1]);
}

static int cmd_compact(int argc, char **argv)
{
    if (argc != 1)
        return usage();
    int rc;
    if (!image_arg_ok(argv[0], &rc))
        return rc;
    tv_vhd_op_t *op;
    tv_status_t s = tv_vhd_op_compact(&st, argv[0], &op);
    return s != TV_OK ? fail(argv[0], s) : run_task(op, TV_TASK_TYPE_DISK_COMPACT, argv[0]);
}

static int cmd_convert(int argc, char **argv)
{
    if (argc != 2)
        return usage();
    int rc;
    if (!image_arg_ok(argv[0], &rc))
        return rc;
    preflight_warnings(argv[0]);
    tv_vhd_op_t *op;
    tv_status_t s = tv_vhd_op_convert(&st, argv[0], opt.src_raw, argv[1], opt.kind ? opt.kind : TV_VHD_DYNAMIC,
                                      opt.block_size, &op);
    return s != TV_OK ? fail(argv[1], s) : run_task(op, TV_TASK_TYPE_DISK_CONVERT, argv[1]);
}

int main(int argc, char **argv)
{
    int i = 1;
    char *args[8];
    int nargs = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) opt.json = true;
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) opt.quiet = true;
        else if (!strcmp(a, "--no-flush")) opt.no_flush = true;
        else if (!strcmp(a, "--fix-parent")) opt.fix_parent = true;
        else if (!strcmp(a, "--repair")) opt.repair = true;
        else if (!strcmp(a, "--src-raw")) opt.src_raw = true;
        else if (!strcmp(a, "--exact")) opt.exact = true;
        else if (!strcmp(a, "--fixed")) opt.kind = TV_VHD_FIXED;
        else if (!strcmp(a, "--dynamic")) opt.kind = TV_VHD_DYNAMIC;
        else if (!strcmp(a, "--diff")) opt.kind = TV_VHD_DIFF;
        else if (!strcmp(a, "--raw")) opt.kind = TV_VHD_RAW;
        else if (!strcmp(a, "--block-size") && i + 1 < argc) {
            uint64_t b;
            if (!parse_size(argv[++i], &b) || b > UINT32_MAX) {
                fprintf(stderr, "tvdisk: bad block size '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
            opt.block_size = (uint32_t)b;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return EXIT_OK;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "tvdisk: unknown option '%s'\n", a);
            return EXIT_USAGE;
        } else if (!opt.cmd) {
            opt.cmd = a;
        } else if (nargs < 8) {
            args[nargs++] = argv[i];
        } else {
            return usage();
        }
    }
    if (!opt.cmd)
        return usage();
    tv_storage_file_init(&st, !opt.no_flush);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        { "create", cmd_create }, { "info", cmd_info }, { "check", cmd_check }, { "merge", cmd_merge },
        { "merge-to", cmd_merge_to }, { "compact", cmd_compact }, { "convert", cmd_convert },
        { "write", cmd_write }, { "read", cmd_read },
    };
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
        if (!strcmp(cmds[k].name, opt.cmd))
            return cmds[k].fn(nargs, args);
    fprintf(stderr, "tvdisk: unknown command '%s'\n", opt.cmd);
    return usage();
}
