/* The long disk commands of the control console: disk create, merge,
 * merge-to, compact, convert, check.  Each starts its task through
 * libtaskvisor (client/tv_disk.h), then follows it with a progress bar
 * until it finishes; Ctrl-C cancels it through the task API (a task past
 * its point of no return says so and runs on), and the end prints the
 * result and the data outcome. */
#include "console.h"
#include "guest.h"
#include "guest_transport.h"
#include "tv_disk.h"
#include "tv_fmt.h"
#include "tv_status.h"
#include "tv_string.h"

#define CH_CTRL_C 0x03
#define BAR_WIDTH 30
#define POLL_MS   100 /* one TASK_WAIT step between redraws */

static struct tv_client client;
static struct tv_task_info last_task; /* the last task followed to its end */
static bool have_last_task;

static bool ready(void)
{
    return console_client(&client, "task client");
}

static const char *const result_names[] = {
    "success", "cancelled", "unexpected error", "out of memory", "disk error",
    "incompatible saved state", "timeout", "illegal value", "thread crash", "shutdown abort",
};

static const char *const outcome_names[] = {
    "pending", "committed: the result is in place", "untouched: nothing was changed",
    "rolled back: changes were undone", "partly done, data consistent",
    "needs recovery: finished when the volume is next mounted",
};

static const char *name_of(const char *const *names, size_t n, uint32_t v)
{
    return v < n ? names[v] : "?";
}

/* "  [#########.....................]  31%  2.0 of 6.0 MiB" */
static void draw(const struct tv_task_info *info)
{
    char bar[BAR_WIDTH + 1];
    uint32_t filled = info->percent * BAR_WIDTH / 100;
    for (uint32_t i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    guest_printf("\r  [%s] %3u%%", bar, info->percent);
    if (info->total)
        guest_printf("  %llu of %llu MiB", (unsigned long long)(info->done >> 20),
                     (unsigned long long)(info->total >> 20));
    if (info->state == TV_TASK_PAUSED)
        guest_puts("  (paused)");
    guest_puts("   ");
}

/* Follows the task to its end; Ctrl-C asks once for a cancel. */
static int follow(struct tv_task t)
{
    struct tv_task_info info;
    bool cancel_asked = false;
    for (;;) {
        tv_status_t st = tv_task_query(t, &info);
        if (st != TV_OK) {
            guest_printf("\nerror: task %llu: %s\n", (unsigned long long)t.id, tv_status_name(st));
            return 1;
        }
        draw(&info);
        if (info.flags & TV_TASK_FLAG_COMPLETE)
            break;
        int c;
        while ((c = serial_getc_nonblock()) >= 0) {
            if (c != CH_CTRL_C || cancel_asked)
                continue;
            cancel_asked = true;
            st = tv_task_cancel(t);
            if (st == TV_OK)
                guest_puts("\n^C cancelling...\n");
            else if (st == TV_E_NOT_CANCELABLE)
                guest_puts("\n^C the task is past its point of no return and cannot be cancelled; "
                           "it runs to its end\n");
            else
                guest_printf("\n^C cancel: %s\n", tv_status_text(st));
        }
        st = tv_task_wait_for_completion(t, POLL_MS);
        if (st != TV_OK && st != TV_E_TIMEOUT) {
            guest_printf("\nerror: wait: %s\n", tv_status_name(st));
            return 1;
        }
    }
    /* Running time on the monitor's clock: the wait for a worker and the
     * console's polling are not in it. */
    uint64_t ms = info.finished_ns > info.started_ns && info.started_ns
                      ? (info.finished_ns - info.started_ns) / 1000000 : 0;
    guest_printf("\ntask %llu %s: %s in %llu.%03llu s\n", (unsigned long long)info.id,
                 info.state == TV_TASK_COMPLETED ? "completed"
                 : info.state == TV_TASK_CANCELLED ? "cancelled" : "failed",
                 name_of(result_names, sizeof result_names / sizeof result_names[0], info.result),
                 (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
    last_task = info;
    have_last_task = true;
    guest_printf("  data: %s\n",
                 name_of(outcome_names, sizeof outcome_names / sizeof outcome_names[0], info.outcome));
    if (info.error && info.state == TV_TASK_FAILED)
        guest_printf("  error %s: %.*s\n", tv_status_name(info.error), (int)info.error_description_len,
                     info.error_description);
    return info.state == TV_TASK_COMPLETED ? 0 : 1;
}

bool console_last_disk_task(struct tv_task_info *out)
{
    if (have_last_task)
        *out = last_task;
    return have_last_task;
}

/* The start's answer: a refusal (nothing was created) or the task to follow. */
static int started(const char *what, tv_status_t st, struct tv_task t)
{
    if (st != TV_OK) {
        guest_printf("%s: refused: %s (%s)\n", what, tv_status_name(st), tv_status_text(st));
        return 1;
    }
    char desc[TV_TASK_DESC_MAX] = "";
    size_t len = 0;
    tv_task_description(t, desc, sizeof desc, &len);
    guest_printf("task %llu: %s (Ctrl-C cancels)\n", (unsigned long long)t.id, desc);
    return follow(t);
}

static bool parse_kind(const char *s, enum tv_disk_kind *kind)
{
    if (tv_strcmp(s, "fixed") == 0)
        *kind = TV_DISK_KIND_FIXED;
    else if (tv_strcmp(s, "dynamic") == 0)
        *kind = TV_DISK_KIND_DYNAMIC;
    else
        return false;
    return true;
}

/* argv[0] is the sub-command ("create", ...): console.c passes the words
 * after "disk". */
int cmd_disk_create(int argc, char **argv)
{
    struct tv_task t = { 0 };
    uint64_t mb;
    if (argc == 4 && (tv_strcmp(argv[1], "fixed") == 0 || tv_strcmp(argv[1], "dynamic") == 0) &&
        guest_parse_u64(argv[3], &mb)) {
        if (!ready())
            return 1;
        bool fixed = argv[1][0] == 'f';
        tv_status_t st = fixed ? tv_disk_create_fixed(&client, argv[2], mb, &t)
                               : tv_disk_create_dynamic(&client, argv[2], mb, 0, &t);
        return started("disk create", st, t);
    }
    if (argc == 4 && tv_strcmp(argv[1], "diff") == 0) {
        if (!ready())
            return 1;
        return started("disk create", tv_disk_create_differencing(&client, argv[2], argv[3], &t), t);
    }
    guest_puts("usage: disk create fixed|dynamic VOLUME:/PATH.vhd SIZE_MB\n"
               "       disk create diff VOLUME:/PATH.vhd VOLUME:/PARENT.vhd\n");
    return 1;
}

int cmd_disk_merge(int argc, char **argv)
{
    struct tv_task t = { 0 };
    if (argc != 2) {
        guest_puts("usage: disk merge VOLUME:/CHILD.vhd   (into its parent; the child is deleted)\n");
        return 1;
    }
    return ready() ? started("disk merge", tv_disk_merge(&client, argv[1], &t), t) : 1;
}

static int copy_cmd(int argc, char **argv, bool merge_to)
{
    struct tv_task t = { 0 };
    enum tv_disk_kind kind;
    if (argc != 4 || !parse_kind(argv[3], &kind)) {
        guest_printf("usage: disk %s VOLUME:/%s.vhd VOLUME:/NEW.vhd fixed|dynamic\n",
                     merge_to ? "merge-to" : "convert", merge_to ? "CHILD" : "SOURCE");
        return 1;
    }
    if (!ready())
        return 1;
    tv_status_t st = merge_to ? tv_disk_merge_to(&client, argv[1], argv[2], kind, &t)
                              : tv_disk_convert(&client, argv[1], argv[2], kind, &t);
    return started(merge_to ? "disk merge-to" : "disk convert", st, t);
}

int cmd_disk_merge_to(int argc, char **argv)
{
    return copy_cmd(argc, argv, true);
}

int cmd_disk_convert(int argc, char **argv)
{
    return copy_cmd(argc, argv, false);
}

int cmd_disk_compact(int argc, char **argv)
{
    struct tv_task t = { 0 };
    if (argc != 2) {
        guest_puts("usage: disk compact VOLUME:/PATH.vhd   (dynamic or differencing)\n");
        return 1;
    }
    return ready() ? started("disk compact", tv_disk_compact(&client, argv[1], &t), t) : 1;
}

int cmd_disk_check(int argc, char **argv)
{
    struct tv_task t = { 0 };
    bool repair = argc == 3 && tv_strcmp(argv[2], "--repair") == 0;
    if (argc != 2 && !repair) {
        guest_puts("usage: disk check VOLUME:/PATH.vhd [--repair]\n");
        return 1;
    }
    return ready() ? started("disk check", tv_disk_check(&client, argv[1], repair, &t), t) : 1;
}
