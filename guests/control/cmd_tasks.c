/* Task commands of the control console, through libtaskvisor: list, show,
 * wait, cancel, pause, resume, dismiss (and, when the monitor is a test
 * build, start a synthetic test task). */
#include "console.h"
#include "guest.h"
#include "guest_transport.h"
#include "tv_fmt.h"
#include "tv_status.h"
#include "tv_string.h"

static struct tv_client client;

static const char *const state_names[] = {
    "queued", "running", "paused", "cancelling", "committing", "completed", "failed", "cancelled",
};

static const char *state_name(uint32_t s)
{
    return s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

static bool ready(void)
{
    return console_client(&client, "task client");
}

static bool parse_id(int argc, char **argv, uint64_t *id)
{
    if (argc < 2 || !guest_parse_u64(argv[1], id) || *id == 0) {
        guest_printf("usage: %s ID\n", argv[0]);
        return false;
    }
    return true;
}

static int report_status(const char *what, tv_status_t st)
{
    if (st == TV_OK) {
        guest_printf("%s: ok\n", what);
        return 0;
    }
    guest_printf("%s: %s (%s)\n", what, tv_status_name(st), tv_status_text(st));
    return 1;
}

int cmd_tasks(int argc, char **argv)
{
    (void)argv;
    if (argc != 1 || !ready())
        return 1;
    struct tv_task_event list[32];
    size_t n = 0;
    tv_status_t st = tv_task_list(&client, 0, 0, list, 32, &n);
    if (st != TV_OK && st != TV_E_BUFFER_TOO_SMALL)
        return report_status("tasks", st);
    guest_printf("%6s  %-11s %4s  %s\n", "ID", "STATE", "PCT", "DESCRIPTION");
    for (size_t i = 0; i < n; i++) {
        char desc[64] = "";
        size_t len = 0;
        tv_task_description(tv_task_handle(&client, list[i].id), desc, sizeof desc, &len);
        guest_printf("%6llu  %-11s %3u%%  %s\n", (unsigned long long)list[i].id,
                     state_name(list[i].state), list[i].percent, desc);
    }
    guest_printf("%zu task(s)\n", n);
    return 0;
}

int cmd_task(int argc, char **argv)
{
    uint64_t id;
    if (!parse_id(argc, argv, &id) || !ready())
        return 1;
    struct tv_task_info info;
    tv_status_t st = tv_task_query(tv_task_handle(&client, id), &info);
    if (st != TV_OK)
        return report_status("task", st);
    guest_printf("task %llu: %.*s\n", (unsigned long long)info.id,
                 (int)info.description_len, info.description);
    guest_printf("  state %s, %u%% (%llu of %llu), result %u, outcome %u, cancelable %s\n",
                 state_name(info.state), info.percent, (unsigned long long)info.done,
                 (unsigned long long)info.total, info.result, info.outcome,
                 (info.flags & TV_TASK_FLAG_CANCELABLE) ? "yes" : "no");
    if (info.error)
        guest_printf("  error %d: %.*s\n", info.error, (int)info.error_description_len,
                     info.error_description);
    return 0;
}

#define VERB(fn, call, label)                                   \
    int fn(int argc, char **argv)                               \
    {                                                           \
        uint64_t id;                                            \
        if (!parse_id(argc, argv, &id) || !ready())             \
            return 1;                                           \
        return report_status(label, call(tv_task_handle(&client, id))); \
    }
VERB(cmd_cancel, tv_task_cancel, "cancel")
VERB(cmd_pause, tv_task_pause, "pause")
VERB(cmd_resume, tv_task_resume, "resume")
VERB(cmd_dismiss, tv_task_dismiss, "dismiss")

int cmd_wait(int argc, char **argv)
{
    uint64_t id, ms = 0;
    bool forever = argc < 3;
    if (!parse_id(argc, argv, &id) || !ready())
        return 1;
    if (!forever && !guest_parse_u64(argv[2], &ms)) {
        guest_puts("usage: wait ID [MILLISECONDS]\n");
        return 1;
    }
    tv_status_t st = tv_task_wait_for_completion(tv_task_handle(&client, id),
                                                 forever ? -1 : (int32_t)ms);
    if (st == TV_E_TIMEOUT) {
        guest_puts("wait: still running\n");
        return 0;
    }
    return report_status("wait", st);
}

int cmd_testtask(int argc, char **argv)
{
    uint64_t units = 100, ms = 50;
    if ((argc > 1 && !guest_parse_u64(argv[1], &units)) ||
        (argc > 2 && !guest_parse_u64(argv[2], &ms))) {
        guest_puts("usage: testtask [UNITS [MS_PER_UNIT]]\n");
        return 1;
    }
    if (!ready())
        return 1;
    struct tv_task_test_spec spec;
    tv_memset(&spec, 0, sizeof spec);
    spec.total_units = units;
    spec.unit_ns = ms * 1000000ull;
    tv_snprintf(spec.description, sizeof spec.description, "test task: %llu units of %llu ms",
                (unsigned long long)units, (unsigned long long)ms);
    struct tv_task t;
    tv_status_t st = tv_test_task_start(&client, &spec, &t);
    if (st == TV_E_UNKNOWN_CALL) {
        guest_puts("testtask: this monitor is not a test build\n");
        return 1;
    }
    if (st != TV_OK)
        return report_status("testtask", st);
    guest_printf("started task %llu\n", (unsigned long long)t.id);
    return 0;
}
