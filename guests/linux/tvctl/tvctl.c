/* tvctl: Taskvisor tasks from a Linux control partition's shell, over
 * libtaskvisor and /dev/taskvisor (docs/tvctl.md: verbs, output, exit codes).
 * Built static for the initramfs.  -DTV_TEST_BUILD adds `test-start`, which
 * starts the synthetic task of test builds of the monitor. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libtaskvisor.h"
#include "linux_transport.h"
#include "tv_disk.h"
#include "tv_status.h"

/* Exit codes (docs/tvctl.md). */
enum {
    EX_OK = 0,
    EX_ERROR = 1,        /* any other failure; the status is printed */
    EX_USAGE = 2,
    EX_NODEV = 3,        /* no /dev/taskvisor (driver not loaded) */
    EX_DENIED = 4,       /* not root / refused by the monitor */
    EX_NOT_FOUND = 5,
    EX_INVALID = 6,      /* an argument the driver or the monitor refused */
    EX_STATE = 7,        /* the task's state forbids the verb (or not cancelable) */
    EX_TIMEOUT = 8,
    EX_TASK_FAILED = 9,  /* wait: the task finished, not successfully */
    EX_CONTROL = 10,     /* vm: not allowed on the control partition */
    EX_AGENT = 11,       /* vm: no guest agent, or the agent refused (locked, no session) */
    EX_INTERRUPTED = 130 /* wait: Ctrl-C; the task was asked to cancel */
};

static bool json;
static const char *prog = "tvctl";

static const char *const state_names[TV_TASK_STATE_COUNT] = {
    "queued", "running", "paused", "cancelling", "committing", "completed", "failed", "cancelled",
};
static const char *const result_names[TV_TASK_RESULT_COUNT] = {
    "success", "cancelled", "unexpected", "out-of-memory", "disk", "incompatible-saved-state",
    "timeout", "illegal-value", "thread-crash", "shutdown-abort",
};
static const char *const outcome_names[TV_TASK_OUTCOME_COUNT] = {
    "pending", "committed", "untouched", "rolled-back", "consistent-partial", "needs-recovery",
};
static const char *const vm_state_names[TV_VM_STATE_COUNT] = {
    "invalid", "turned-off", "saved", "turning-on", "restoring", "running", "paused", "saving",
    "turning-off", "merging-drives",
};
static const char *const vm_stop_names[] = {
    "none", "exited", "triple-fault", "bad-access", "entry-failed", "unhandled", "turned-off",
    "internal",
};

static const char *state_name(uint32_t s)
{
    return s < TV_TASK_STATE_COUNT ? state_names[s] : "unknown";
}
static const char *result_name(uint32_t r)
{
    return r < TV_TASK_RESULT_COUNT ? result_names[r] : r == TV_TASK_RESULT_PENDING ? "pending" : "unknown";
}
static const char *outcome_name(uint32_t o)
{
    return o < TV_TASK_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}
/* A status as tvctl prints it: the library's name in lower case with
 * spaces ("vm not running"), so every status the ABI has gets one. */
static const char *status_name(tv_status_t st)
{
    static char buf[48];
    if (st == TV_E_IO)
        return "i/o error";
    const char *n = tv_status_name(st);
    size_t i = 0;
    for (; n[i] && i + 1 < sizeof buf; i++)
        buf[i] = n[i] == '_' ? ' ' : (n[i] >= 'A' && n[i] <= 'Z') ? (char)(n[i] - 'A' + 'a') : n[i];
    buf[i] = '\0';
    return buf;
}

static const char *vm_state_name(uint32_t s)
{
    return s < TV_VM_STATE_COUNT ? vm_state_names[s] : "unknown";
}
static const char *vm_stop_name(uint32_t s)
{
    return s < sizeof vm_stop_names / sizeof vm_stop_names[0] ? vm_stop_names[s] : "unknown";
}

static int exit_for(tv_status_t st)
{
    switch (st) {
    case TV_OK: return EX_OK;
    case TV_E_ACCESS_DENIED: return EX_DENIED;
    case TV_E_NOT_FOUND: return EX_NOT_FOUND;
    case TV_E_INVALID_ARGUMENT:
    case TV_E_BAD_PATH:
    case TV_E_SIZE_TOO_SMALL:
    case TV_E_SIZE_TOO_LARGE:
    case TV_E_CROSS_VOLUME: return EX_INVALID;
    case TV_E_INVALID_STATE:
    case TV_E_NOT_CANCELABLE:
    case TV_E_BUSY:
    case TV_E_VM_RUNNING:
    case TV_E_VM_NOT_RUNNING: return EX_STATE;
    case TV_E_CONTROL_PARTITION: return EX_CONTROL;
    case TV_E_AGENT_NOT_PRESENT:
    case TV_E_GUEST_LOCKED:
    case TV_E_SHUTDOWN_IN_PROGRESS:
    case TV_E_NO_SESSION: return EX_AGENT;
    case TV_E_TIMEOUT: return EX_TIMEOUT;
    case TV_E_UNSUPPORTED:
    case TV_E_UNKNOWN_CALL: return EX_NODEV;
    default: return EX_ERROR;
    }
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A refusal: one line on stderr, or a JSON object on stdout. */
static int fail(const char *verb, uint64_t id, tv_status_t st, const char *detail)
{
    if (json) {
        printf("{\"verb\":");
        json_str(stdout, verb);
        if (id)
            printf(",\"id\":%" PRIu64, id);
        printf(",\"status\":%d,\"error\":", (int)st);
        json_str(stdout, detail ? detail : status_name(st));
        printf("}\n");
    } else if (id) {
        fprintf(stderr, "%s: %s %" PRIu64 ": %s\n", prog, verb, id, detail ? detail : status_name(st));
    } else {
        fprintf(stderr, "%s: %s: %s\n", prog, verb, detail ? detail : status_name(st));
    }
    return exit_for(st);
}

/* A refusal about a named object (a disk path, a VM name). */
static int fail_on(const char *verb, const char *key, const char *what, tv_status_t st,
                   const char *detail)
{
    if (json) {
        printf("{\"verb\":");
        json_str(stdout, verb);
        printf(",\"%s\":", key);
        json_str(stdout, what);
        printf(",\"status\":%d,\"error\":", (int)st);
        json_str(stdout, detail ? detail : status_name(st));
        printf("}\n");
    } else {
        fprintf(stderr, "%s: %s %s: %s\n", prog, verb, what, detail ? detail : status_name(st));
    }
    return exit_for(st);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: %s [--json] VERB [ARGS]\n"
            "  list [--unfinished]          tasks and their state\n"
            "  show ID                      every property of a task\n"
            "  wait ID [--timeout MS] [--progress|--no-progress]\n"
            "                               wait for the end (Ctrl-C cancels the task)\n"
            "  cancel|pause|resume|dismiss ID\n"
            "  events [--vms] [--count N] [--timeout MS]   follow task (and VM) changes\n"
            "  version                      driver and monitor versions\n"
            "  poweroff                     power the machine off (POWER_OFF)\n"
            "  time-query ID [N]            mean round trip of N task queries\n"
            "  disk create-fixed PATH MB | create-dynamic PATH MB [--block-size B]\n"
            "       | create-diff PATH PARENT | merge PATH | merge-to PATH TARGET fixed|dynamic\n"
            "       | compact PATH | convert PATH TARGET fixed|dynamic | check PATH [--repair]\n"
            "                               a disk operation (PATH: VOLUME:/dir/name.vhd)\n"
            "  mkdir VOLUME:/PATH           make a folder on a volume (its parent must exist)\n"
            "  vms                          virtual machines and their state\n"
            "  vm show NAME | vm start|off|reset|pause|resume|logoff|save NAME\n"
            "  vm shutdown|restart [--force] NAME | vm can-shutdown NAME\n"
            "                               one VM; an operation on it\n"
            "  (disk and vm operations follow their task as wait does; [--no-wait]\n"
            "   [--timeout MS] [--progress|--no-progress])\n"
#ifdef TV_TEST_BUILD
            "  test-start [--units N] [--unit-ms MS] [--fail-at N] [--no-return N]\n"
            "             [--not-cancelable] [--not-pausable] [--priority P] [--desc TEXT]\n"
#endif
            "exit codes: 0 ok, 1 error, 2 usage, 3 no device, 4 denied, 5 not found,\n"
            "            6 invalid argument, 7 state, 8 timeout, 9 task failed,\n"
            "            10 control partition, 130 interrupted\n",
            prog);
    return EX_USAGE;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static struct tv_linux lx;
static struct tv_client client;

static int open_client(const char *verb)
{
    tv_status_t st = tv_linux_open(&lx, NULL);
    if (st == TV_OK)
        st = tv_client_init(&client, tv_linux_transport(&lx));
    if (st == TV_OK)
        return EX_OK;
    if (st == TV_E_ACCESS_DENIED)
        return fail(verb, 0, st, "permission denied: " TV_LINUX_DEVICE " is root's");
    if (st == TV_E_UNSUPPORTED)
        return fail(verb, 0, st, "no " TV_LINUX_DEVICE " (is taskvisor.ko loaded?)");
    return fail(verb, 0, st, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- show ------------------------------------------------------------------ */
static void print_info(const struct tv_task_info *i)
{
    double ns = 1e9;
    if (json) {
        printf("{\"id\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"type\":%u,\"state\":\"%s\",\"result\":\"%s\","
               "\"outcome\":\"%s\",\"percent\":%u,\"cancelable\":%s,\"pausable\":%s,\"complete\":%s,"
               "\"error\":%d,\"priority\":%u,\"done\":%" PRIu64 ",\"total\":%" PRIu64 ","
               "\"age_s\":%.3f,\"eta_s\":",
               i->id, i->seq, i->type, state_name(i->state), result_name(i->result),
               outcome_name(i->outcome), i->percent,
               i->flags & TV_TASK_FLAG_CANCELABLE ? "true" : "false",
               i->flags & TV_TASK_FLAG_PAUSABLE ? "true" : "false",
               i->flags & TV_TASK_FLAG_COMPLETE ? "true" : "false", i->error, i->priority, i->done,
               i->total, (double)(i->snapshot_ns - i->created_ns) / ns);
        if (i->eta_ns == TV_TASK_ETA_UNKNOWN)
            printf("null");
        else
            printf("%.3f", (double)i->eta_ns / ns);
        printf(",\"description\":");
        json_str(stdout, i->description);
        printf(",\"error_description\":");
        json_str(stdout, i->error_description);
        printf("}\n");
        return;
    }
    printf("id:          %" PRIu64 "\n", i->id);
    printf("description: %s\n", i->description);
    printf("state:       %s\n", state_name(i->state));
    printf("percent:     %u\n", i->percent);
    printf("result:      %s\n", result_name(i->result));
    printf("outcome:     %s\n", outcome_name(i->outcome));
    printf("flags:      %s%s%s%s%s\n", i->flags & TV_TASK_FLAG_CANCELABLE ? " cancelable" : "",
           i->flags & TV_TASK_FLAG_PAUSABLE ? " pausable" : "",
           i->flags & TV_TASK_FLAG_COMPLETE ? " complete" : "",
           i->flags & TV_TASK_FLAG_STARTED ? " started" : "",
           i->flags & TV_TASK_FLAG_HELD ? " held" : "");
    printf("progress:    %" PRIu64 " of %" PRIu64 "\n", i->done, i->total);
    printf("priority:    %u\n", i->priority);
    printf("age:         %.3f s\n", (double)(i->snapshot_ns - i->created_ns) / ns);
    if (i->eta_ns != TV_TASK_ETA_UNKNOWN)
        printf("eta:         %.3f s\n", (double)i->eta_ns / ns);
    if (i->error || i->error_description[0])
        printf("error:       %d (%s) %s\n", i->error, status_name(i->error), i->error_description);
}

static int cmd_show(int argc, char **argv)
{
    uint64_t id;
    if (argc != 2 || !parse_u64(argv[1], &id))
        return usage();
    int rc = open_client("show");
    if (rc)
        return rc;
    struct tv_task_info info;
    tv_status_t st = tv_task_query(tv_task_handle(&client, id), &info);
    if (st != TV_OK)
        return fail("show", id, st, NULL);
    print_info(&info);
    return EX_OK;
}

/* ---- list ------------------------------------------------------------------ */
static int cmd_list(int argc, char **argv)
{
    uint32_t flags = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--unfinished"))
            flags |= TV_TASK_LIST_UNFINISHED;
        else
            return usage();
    }
    int rc = open_client("list");
    if (rc)
        return rc;
    struct tv_task_event ev[64];
    uint64_t cursor = 0;
    bool first = true;
    if (json)
        printf("{\"tasks\":[");
    else
        printf("%-8s %-11s %4s  %s\n", "ID", "STATE", "PCT", "DESCRIPTION");
    for (;;) {
        size_t n = 0;
        tv_status_t st = tv_task_list(&client, cursor, flags, ev, 64, &n);
        if (st != TV_OK) {
            if (json)
                printf("]}\n");
            return fail("list", 0, st, NULL);
        }
        for (size_t i = 0; i < n; i++) {
            struct tv_task_info info;
            const char *desc = "";
            if (tv_task_query(tv_task_handle(&client, ev[i].id), &info) == TV_OK)
                desc = info.description;
            if (json) {
                printf("%s{\"id\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"state\":\"%s\",\"percent\":%u,"
                       "\"description\":",
                       first ? "" : ",", ev[i].id, ev[i].seq, state_name(ev[i].state), ev[i].percent);
                json_str(stdout, desc);
                printf("}");
            } else {
                printf("%-8" PRIu64 " %-11s %4u  %s\n", ev[i].id, state_name(ev[i].state),
                       ev[i].percent, desc);
            }
            first = false;
        }
        if (n < 64)
            break;
        cursor = ev[n - 1].id;
    }
    if (json)
        printf("]}\n");
    return EX_OK;
}

/* ---- verbs ----------------------------------------------------------------- */
static int cmd_verb(int argc, char **argv)
{
    uint64_t id;
    const char *verb = argv[0];
    if (argc != 2 || !parse_u64(argv[1], &id))
        return usage();
    int rc = open_client(verb);
    if (rc)
        return rc;
    struct tv_task t = tv_task_handle(&client, id);
    tv_status_t st = !strcmp(verb, "cancel")  ? tv_task_cancel(t)
                     : !strcmp(verb, "pause") ? tv_task_pause(t)
                     : !strcmp(verb, "resume") ? tv_task_resume(t)
                                               : tv_task_dismiss(t);
    if (st != TV_OK)
        return fail(verb, id, st, NULL);
    if (json)
        printf("{\"verb\":\"%s\",\"id\":%" PRIu64 ",\"status\":0}\n", verb, id);
    else
        printf("task %" PRIu64 ": %s accepted\n", id, verb);
    return EX_OK;
}

/* ---- wait ------------------------------------------------------------------ */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct progress {
    uint64_t id;
    bool tty;
    volatile bool stop;
};

static void draw(const struct progress *p, const struct tv_task_info *i)
{
    char bar[41];
    unsigned pct = i->percent > 100 ? 100 : i->percent;
    unsigned fill = pct * 40 / 100;
    for (unsigned k = 0; k < 40; k++)
        bar[k] = k < fill ? '#' : '.';
    bar[40] = '\0';
    fprintf(stderr, "%stask %" PRIu64 " [%s] %3u%% %-10s%s", p->tty ? "\r" : "", p->id, bar, pct,
            state_name(i->state), p->tty ? "" : "\n");
    fflush(stderr);
}

/* The progress bar runs on its own thread with its own client (a client is
 * one thread's), so the main thread's wait is one driver wait with the
 * caller's timeout; SIGINT is blocked here so that it ends that wait. */
static void *progress_main(void *arg)
{
    struct progress *p = arg;
    struct tv_linux plx;
    struct tv_client pc;
    if (tv_linux_open(&plx, NULL) != TV_OK)
        return NULL;
    if (tv_client_init(&pc, tv_linux_transport(&plx)) != TV_OK) {
        tv_linux_close(&plx);
        return NULL;
    }
    uint64_t last_seq = 0;
    while (!p->stop) {
        struct tv_task_info info;
        if (tv_task_query(tv_task_handle(&pc, p->id), &info) == TV_OK && info.seq != last_seq) {
            last_seq = info.seq;
            draw(p, &info);
        }
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    /* The bar ends on the task's last state, also for a task that finished
     * before the first look. */
    struct tv_task_info info;
    if (tv_task_query(tv_task_handle(&pc, p->id), &info) == TV_OK && info.seq != last_seq)
        draw(p, &info);
    tv_client_fini(&pc);
    tv_linux_close(&plx);
    return NULL;
}

/* The end of a followed task.  extra_json (",\"key\":value...") and
 * extra_text (a line) add what the verb knows beyond the task. */
static void print_end(const char *verb, const struct tv_task_info *i, bool was_interrupted,
                      tv_status_t cancel_st, const char *extra_json, const char *extra_text)
{
    if (json) {
        printf("{\"verb\":\"%s\",\"id\":%" PRIu64 ",\"state\":\"%s\",\"result\":\"%s\","
               "\"outcome\":\"%s\",\"percent\":%u",
               verb, i->id, state_name(i->state), result_name(i->result), outcome_name(i->outcome),
               i->percent);
        if (i->error)
            printf(",\"error\":%d", i->error);
        if (was_interrupted)
            printf(",\"interrupted\":true,\"cancel\":\"%s\"", status_name(cancel_st));
        printf("%s}\n", extra_json ? extra_json : "");
        return;
    }
    if (was_interrupted)
        printf("task %" PRIu64 ": interrupted, cancel %s\n", i->id,
               cancel_st == TV_OK ? "accepted" : status_name(cancel_st));
    printf("task %" PRIu64 ": %s, result %s, data outcome %s (%u%%)\n", i->id, state_name(i->state),
           result_name(i->result), outcome_name(i->outcome), i->percent);
    if (i->error && i->state != TV_TASK_CANCELLED)
        printf("task %" PRIu64 ": error %d (%s)%s%s\n", i->id, i->error, status_name(i->error),
               i->error_description[0] ? ": " : "", i->error_description);
    if (extra_text)
        printf("%s\n", extra_text);
}

/* How a verb follows its task: the options every following verb takes. */
struct follow_opts {
    int64_t timeout;  /* ms, TV_TASK_WAIT_FOREVER */
    int progress;     /* -1: when stderr is a terminal */
    bool no_wait;     /* start and print the id only (disk, vm) */
};

/* Takes one follow option at argv[*i]; false when it is not one (or its
 * value is malformed: *bad). */
static bool follow_opt(int argc, char **argv, int *i, struct follow_opts *o, bool *bad)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--timeout") && *i + 1 < argc) {
        if (!parse_i64(argv[++*i], &o->timeout))
            *bad = true;
    } else if (!strcmp(a, "--progress")) {
        o->progress = 1;
    } else if (!strcmp(a, "--no-progress")) {
        o->progress = 0;
    } else if (!strcmp(a, "--no-wait")) {
        o->no_wait = true;
    } else {
        return false;
    }
    return true;
}

struct followed {
    tv_status_t st;         /* TV_OK: info holds the end */
    struct tv_task_info info;
    bool interrupted;
    tv_status_t cancel_st;
};

/* Waits for task id with the progress bar; Ctrl-C (SIGINT, SIGTERM) cancels
 * the task and waits up to 60 s for it to unwind.  The caller prints. */
static void follow(uint64_t id, const struct follow_opts *o, struct followed *f)
{
    memset(f, 0, sizeof *f);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint; /* no SA_RESTART: the wait must end */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct progress p = { id, isatty(2) != 0, false };
    pthread_t th;
    bool have_thread = false;
    if (o->progress == 1 || (o->progress == -1 && p.tty && !json)) {
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        have_thread = pthread_create(&th, NULL, progress_main, &p) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    struct tv_task t = tv_task_handle(&client, id);
    tv_status_t st = tv_task_wait_for_completion(t, (int32_t)o->timeout);
    if (have_thread) {
        p.stop = true;
        pthread_join(th, NULL);
        if (p.tty)
            fputc('\n', stderr);
    }
    if (st == TV_E_CANCELLED && interrupted) {
        /* Ctrl-C: cancel the task and report what it left in its data. */
        f->interrupted = true;
        if (!json)
            fprintf(stderr, "%s: interrupted: cancelling task %" PRIu64 "\n", prog, id);
        f->cancel_st = tv_task_cancel(t);
        signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends tvctl */
        st = tv_task_wait_for_completion(t, f->cancel_st == TV_OK ? 60000 : 0);
        if (st == TV_E_TIMEOUT)
            st = TV_OK; /* report the state it has */
    }
    if (st == TV_OK)
        st = tv_task_query(t, &f->info);
    f->st = st;
}

static int follow_exit(const struct followed *f)
{
    if (f->interrupted)
        return EX_INTERRUPTED;
    return f->info.state == TV_TASK_COMPLETED ? EX_OK : EX_TASK_FAILED;
}

static int cmd_wait(int argc, char **argv)
{
    uint64_t id = 0;
    struct follow_opts o = { TV_TASK_WAIT_FOREVER, -1, false };
    bool have_id = false, bad = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-wait"))
            return usage();
        if (follow_opt(argc, argv, &i, &o, &bad)) {
            if (bad)
                return usage();
        } else if (!have_id && parse_u64(argv[i], &id)) {
            have_id = true;
        } else {
            return usage();
        }
    }
    if (!have_id)
        return usage();
    if (o.timeout < INT32_MIN || o.timeout > INT32_MAX)
        return fail("wait", id, TV_E_INVALID_ARGUMENT, "timeout out of range");
    int rc = open_client("wait");
    if (rc)
        return rc;
    struct followed f;
    follow(id, &o, &f);
    if (f.st != TV_OK)
        return fail("wait", id, f.st, f.st == TV_E_TIMEOUT ? "timed out" : NULL);
    print_end("wait", &f.info, f.interrupted, f.cancel_st, NULL, NULL);
    return follow_exit(&f);
}

/* A task a disk or vm verb started: its id (--no-wait), or its end. */
static int started(const char *verb, const char *key, const char *what, struct tv_task t,
                   const struct follow_opts *o, const char *extra_json, const char *extra_text,
                   struct followed *f)
{
    uint64_t id = tv_task_id(t);
    if (o->no_wait) {
        if (json) {
            printf("{\"verb\":\"%s\",\"%s\":", verb, key);
            json_str(stdout, what);
            printf(",\"id\":%" PRIu64 "}\n", id);
        } else {
            printf("%" PRIu64 "\n", id);
        }
        return EX_OK;
    }
    if (!json) {
        printf("task %" PRIu64 ": %s %s started\n", id, verb, what);
        fflush(stdout);
    }
    follow(id, o, f);
    if (f->st != TV_OK)
        return fail(verb, id, f->st, f->st == TV_E_TIMEOUT ? "timed out" : NULL);
    print_end(verb, &f->info, f->interrupted, f->cancel_st, extra_json, extra_text);
    return follow_exit(f);
}

/* ---- disk -------------------------------------------------------------------- */
static bool parse_kind(const char *s, enum tv_disk_kind *k)
{
    if (!strcmp(s, "fixed"))
        *k = TV_DISK_KIND_FIXED;
    else if (!strcmp(s, "dynamic"))
        *k = TV_DISK_KIND_DYNAMIC;
    else
        return false;
    return true;
}

static int cmd_disk(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *op = argv[1];
    struct follow_opts o = { TV_TASK_WAIT_FOREVER, -1, false };
    const char *pos[3] = { NULL, NULL, NULL };
    int npos = 0;
    uint64_t block = 0;
    bool repair = false, bad = false;
    for (int i = 2; i < argc; i++) {
        if (follow_opt(argc, argv, &i, &o, &bad)) {
            if (bad)
                return usage();
        } else if (!strcmp(argv[i], "--block-size") && i + 1 < argc && !strcmp(op, "create-dynamic")) {
            if (!parse_u64(argv[++i], &block) || block > UINT32_MAX)
                return usage();
        } else if (!strcmp(argv[i], "--repair") && !strcmp(op, "check")) {
            repair = true;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return usage();
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            return usage();
        }
    }
    if (o.timeout < INT32_MIN || o.timeout > INT32_MAX)
        return fail("disk", 0, TV_E_INVALID_ARGUMENT, "timeout out of range");
    int want = !strcmp(op, "create-fixed") || !strcmp(op, "create-dynamic") ||
                       !strcmp(op, "create-diff")
                   ? 2
               : !strcmp(op, "merge-to") || !strcmp(op, "convert") ? 3
               : !strcmp(op, "merge") || !strcmp(op, "compact") || !strcmp(op, "check") ? 1
                                                                                        : 0;
    if (want == 0 || npos != want)
        return usage();
    uint64_t mb = 0;
    enum tv_disk_kind kind = TV_DISK_KIND_DYNAMIC;
    if (!strncmp(op, "create-f", 8) || !strncmp(op, "create-dy", 9)) {
        if (!parse_u64(pos[1], &mb))
            return usage();
    }
    if (want == 3 && !parse_kind(pos[2], &kind))
        return usage();
    char verb[32];
    snprintf(verb, sizeof verb, "disk %s", op);
    int rc = open_client(verb);
    if (rc)
        return rc;
    struct tv_task t;
    tv_status_t st;
    if (!strcmp(op, "create-fixed"))
        st = tv_disk_create_fixed(&client, pos[0], mb, &t);
    else if (!strcmp(op, "create-dynamic"))
        st = tv_disk_create_dynamic(&client, pos[0], mb, (uint32_t)block, &t);
    else if (!strcmp(op, "create-diff"))
        st = tv_disk_create_differencing(&client, pos[0], pos[1], &t);
    else if (!strcmp(op, "merge"))
        st = tv_disk_merge(&client, pos[0], &t);
    else if (!strcmp(op, "merge-to"))
        st = tv_disk_merge_to(&client, pos[0], pos[1], kind, &t);
    else if (!strcmp(op, "compact"))
        st = tv_disk_compact(&client, pos[0], &t);
    else if (!strcmp(op, "convert"))
        st = tv_disk_convert(&client, pos[0], pos[1], kind, &t);
    else
        st = tv_disk_check(&client, pos[0], repair, &t);
    if (st != TV_OK)
        return fail_on(verb, "path", pos[0], st, NULL);
    struct followed f;
    return started(verb, "path", pos[0], t, &o, NULL, NULL, &f);
}

/* ---- mkdir -------------------------------------------------------------------- */
static int cmd_mkdir(int argc, char **argv)
{
    if (argc != 2)
        return usage();
    int rc = open_client("mkdir");
    if (rc)
        return rc;
    tv_status_t st = tv_dir_create(&client, argv[1]);
    if (st != TV_OK)
        return fail_on("mkdir", "path", argv[1], st, NULL);
    if (json) {
        printf("{\"verb\":\"mkdir\",\"path\":");
        json_str(stdout, argv[1]);
        printf(",\"status\":0}\n");
    } else {
        printf("made folder %s\n", argv[1]);
    }
    return 0;
}

/* ---- vms, vm ------------------------------------------------------------------ */
static void vm_flags(uint32_t fl, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s", fl & TV_VM_F_CONTROL ? "control," : "",
             fl & TV_VM_F_SELF ? "self," : "", fl & TV_VM_F_AUTOSTART ? "autostart," : "",
             fl & TV_VM_F_BUSY ? "busy," : "");
    size_t n = strlen(buf);
    if (n)
        buf[n - 1] = '\0';
    else
        snprintf(buf, size, "-");
}

static void print_vm_json(const struct tv_vm_info *v)
{
    char fl[64];
    vm_flags(v->flags, fl, sizeof fl);
    printf("{\"id\":%u,\"name\":", v->id);
    json_str(stdout, v->name);
    printf(",\"state\":\"%s\",\"flags\":\"%s\",\"vcpus\":%u,\"memory_bytes\":%" PRIu64
           ",\"image\":",
           vm_state_name(v->state), fl, v->vcpu_count, v->memory_bytes);
    json_str(stdout, v->image);
    printf(",\"image_bytes\":%" PRIu64 ",\"initrd_bytes\":%" PRIu64 ",\"cmdline\":", v->image_bytes,
           v->initrd_bytes);
    json_str(stdout, v->cmdline);
    printf(",\"seq\":%" PRIu64 ",\"starts\":%" PRIu64 ",\"exits\":%" PRIu64
           ",\"stop_reason\":\"%s\",\"stop_code\":%u}",
           v->seq, v->start_count, v->exit_count, vm_stop_name(v->stop_reason), v->stop_code);
}

static int cmd_vms(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage();
    int rc = open_client("vms");
    if (rc)
        return rc;
    static struct tv_vm_info vms[TVDEV_VM_LIST_MAX];
    uint32_t n = 0, total = 0;
    tv_status_t st = tv_linux_vm_list(&lx, vms, TVDEV_VM_LIST_MAX, &n, &total);
    if (st != TV_OK)
        return fail("vms", 0, st, NULL);
    if (json) {
        printf("{\"vms\":[");
        for (uint32_t i = 0; i < n; i++) {
            printf("%s", i ? "," : "");
            print_vm_json(&vms[i]);
        }
        printf("],\"total\":%u}\n", total);
        return EX_OK;
    }
    printf("%-4s %-16s %-12s %8s %8s %12s  %s\n", "ID", "NAME", "STATE", "MEMORY", "STARTS", "EXITS",
           "FLAGS");
    for (uint32_t i = 0; i < n; i++) {
        char fl[64];
        vm_flags(vms[i].flags, fl, sizeof fl);
        printf("%-4u %-16s %-12s %7" PRIu64 "M %8" PRIu64 " %12" PRIu64 "  %s\n", vms[i].id,
               vms[i].name, vm_state_name(vms[i].state), vms[i].memory_bytes >> 20,
               vms[i].start_count, vms[i].exit_count, fl);
    }
    if (total > n)
        printf("(%u more not listed)\n", total - n);
    return EX_OK;
}

/* NAME, or a number when no VM has that name.  (libtaskvisor's tv_vm_find
 * sees the first 8 VMs, what one scratch page holds; the device lists 64.) */
static tv_status_t vm_resolve(const char *name, uint32_t *id)
{
    static struct tv_vm_info vms[TVDEV_VM_LIST_MAX];
    uint32_t n = 0, total = 0;
    tv_status_t st = tv_linux_vm_list(&lx, vms, TVDEV_VM_LIST_MAX, &n, &total);
    if (st != TV_OK)
        return st;
    st = TV_E_NOT_FOUND;
    for (uint32_t i = 0; i < n && st != TV_OK; i++) {
        if (!strcmp(vms[i].name, name)) {
            *id = vms[i].id;
            st = TV_OK;
        }
    }
    uint64_t v;
    if (st == TV_E_NOT_FOUND && parse_u64(name, &v) && v <= UINT32_MAX) {
        *id = (uint32_t)v;
        return TV_OK;
    }
    return st;
}

static int cmd_vm(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *op = argv[1];
    struct follow_opts o = { TV_TASK_WAIT_FOREVER, -1, false };
    const char *name = NULL;
    bool bad = false, force = false;
    bool query = !strcmp(op, "show") || !strcmp(op, "can-shutdown");
    bool forceable = !strcmp(op, "shutdown") || !strcmp(op, "restart");
    for (int i = 2; i < argc; i++) {
        if (forceable && !strcmp(argv[i], "--force")) {
            force = true;
        } else if (!query && follow_opt(argc, argv, &i, &o, &bad)) {
            if (bad)
                return usage();
        } else if (!name && argv[i][0] != '-') {
            name = argv[i];
        } else {
            return usage();
        }
    }
    static const struct {
        const char *op;
        tv_status_t (*fn)(struct tv_client *, uint32_t, struct tv_task *);
        tv_status_t (*forced_fn)(struct tv_client *, uint32_t, bool, struct tv_task *);
    } ops[] = {
        { "start", tv_vm_startup, NULL },  { "off", tv_vm_turn_off, NULL },
        { "reset", tv_vm_reset, NULL },    { "pause", tv_vm_pause, NULL },
        { "resume", tv_vm_resume, NULL },  { "logoff", tv_vm_logoff, NULL },
        { "save", tv_vm_save, NULL },
        { "shutdown", NULL, tv_vm_shutdown }, { "restart", NULL, tv_vm_restart },
    };
    int which = -1;
    for (int k = 0; k < (int)(sizeof ops / sizeof ops[0]); k++)
        if (!strcmp(op, ops[k].op))
            which = k;
    if (!name || (which < 0 && !query))
        return usage();
    if (o.timeout < INT32_MIN || o.timeout > INT32_MAX)
        return fail("vm", 0, TV_E_INVALID_ARGUMENT, "timeout out of range");
    char verb[32];
    snprintf(verb, sizeof verb, "vm %s", op);
    int rc = open_client(verb);
    if (rc)
        return rc;
    uint32_t id = 0;
    tv_status_t st = vm_resolve(name, &id);
    struct tv_vm_info v;
    if (st == TV_OK && which < 0)
        st = tv_vm_query(&client, id, &v);
    if (st != TV_OK)
        return fail_on(verb, "vm", name, st, st == TV_E_NOT_FOUND ? "no such VM" : NULL);
    if (!strcmp(op, "can-shutdown")) {
        /* CanShutdown: whether the guest agent would take a shutdown now */
        bool can = false;
        st = tv_vm_can_shutdown(&client, id, &can);
        if (st != TV_OK)
            return fail_on(verb, "vm", v.name, st, NULL);
        if (json)
            printf("{\"vm\":\"%s\",\"can_shutdown\":%s}\n", v.name, can ? "true" : "false");
        else
            printf("vm %s: %s\n", v.name, can ? "can shut down" : "cannot shut down");
        return can ? EX_OK : EX_STATE;
    }
    if (which < 0) {
        if (json) {
            print_vm_json(&v);
            printf("\n");
            return EX_OK;
        }
        char fl[64];
        vm_flags(v.flags, fl, sizeof fl);
        printf("id:          %u\nname:        %s\nstate:       %s\nflags:       %s\n", v.id, v.name,
               vm_state_name(v.state), fl);
        printf("vcpus:       %u\nmemory:      %" PRIu64 " MiB\nimage:       %s (%" PRIu64 " bytes)\n",
               v.vcpu_count, v.memory_bytes >> 20, v.image, v.image_bytes);
        if (v.initrd_bytes)
            printf("initrd:      %" PRIu64 " bytes\n", v.initrd_bytes);
        printf("cmdline:     %s\nseq:         %" PRIu64 "\nstarts:      %" PRIu64
               "\nexits:       %" PRIu64 "\nlast stop:   %s (code %u)\n",
               v.cmdline, v.seq, v.start_count, v.exit_count, vm_stop_name(v.stop_reason),
               v.stop_code);
        return EX_OK;
    }
    struct tv_task t;
    st = ops[which].fn ? ops[which].fn(&client, id, &t)
                       : ops[which].forced_fn(&client, id, force, &t);
    if (st != TV_OK)
        return fail_on(verb, "vm", name, st, NULL);
    if (o.no_wait)
        return started(verb, "vm", name, t, &o, NULL, NULL, NULL);
    /* Follow, then say where the VM is now. */
    struct followed f;
    follow(tv_task_id(t), &o, &f);
    if (f.st != TV_OK)
        return fail(verb, tv_task_id(t), f.st, f.st == TV_E_TIMEOUT ? "timed out" : NULL);
    char ej[160], et[160];
    if (tv_vm_query(&client, id, &v) == TV_OK) {
        snprintf(ej, sizeof ej, ",\"vm\":\"%s\",\"vm_state\":\"%s\"", v.name, vm_state_name(v.state));
        snprintf(et, sizeof et, "vm %s: %s", v.name, vm_state_name(v.state));
    } else {
        ej[0] = et[0] = '\0';
    }
    print_end(verb, &f.info, f.interrupted, f.cancel_st, ej[0] ? ej : NULL, et[0] ? et : NULL);
    return follow_exit(&f);
}

/* ---- events ---------------------------------------------------------------- */
static void print_event(const struct tv_task_event *e)
{
    if (TV_EVENT_KIND(e->state) == TV_EVENT_KIND_VM) {
        const char *vs = vm_state_name(TV_EVENT_STATE(e->state));
        if (json)
            printf("{\"event\":\"vm\",\"id\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"state\":\"%s\"}\n",
                   e->id, e->seq, vs);
        else
            printf("vm %" PRIu64 " seq %" PRIu64 " %s\n", e->id, e->seq, vs);
        fflush(stdout);
        return;
    }
    if (json)
        printf("{\"event\":\"task\",\"id\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"state\":\"%s\",\"percent\":%u}\n",
               e->id, e->seq, state_name(e->state), e->percent);
    else
        printf("task %" PRIu64 " seq %" PRIu64 " %s %u%%\n", e->id, e->seq, state_name(e->state),
               e->percent);
    fflush(stdout);
}

static int cmd_events(int argc, char **argv)
{
    uint64_t count = 0; /* 0 = until interrupted */
    int64_t timeout = -1;
    uint32_t flags = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--vms")) {
            flags |= TV_TASK_EVENTS_F_VM;
        } else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
            if (!parse_u64(argv[++i], &count))
                return usage();
        } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            if (!parse_i64(argv[++i], &timeout) || timeout < -1 || timeout > INT32_MAX)
                return usage();
        } else {
            return usage();
        }
    }
    int rc = open_client("events");
    if (rc)
        return rc;
    tv_status_t st = tv_events_register_flags(&client, 0, flags);
    if (st != TV_OK)
        return fail("events", 0, st, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!json) {
        printf("following task%s events (Ctrl-C ends)\n", flags ? " and VM" : "");
        fflush(stdout);
    }
    double end = timeout >= 0 ? now_s() + (double)timeout / 1000.0 : 0;
    uint64_t seen = 0;
    while (!interrupted && (count == 0 || seen < count)) {
        int wait_ms = -1;
        if (timeout >= 0) {
            double left = end - now_s();
            if (left <= 0)
                break;
            wait_ms = (int)(left * 1000.0) + 1;
        }
        struct pollfd pfd = { tv_linux_fd(&lx), POLLIN, 0 };
        int pr = poll(&pfd, 1, wait_ms);
        if (pr < 0 && errno != EINTR)
            return fail("events", 0, tv_linux_status_of_errno(errno), NULL);
        struct tv_task_event ev[32];
        size_t n = 0;
        bool lost = false;
        st = tv_events_read(&client, ev, 32, &n, &lost);
        if (st != TV_OK)
            return fail("events", 0, st, NULL);
        if (lost) {
            if (json)
                printf("{\"event\":\"lost\"}\n");
            else
                printf("events lost: re-list the tasks (tvctl list)\n");
            fflush(stdout);
        }
        for (size_t i = 0; i < n && (count == 0 || seen < count); i++, seen++)
            print_event(&ev[i]);
    }
    tv_events_unregister(&client);
    if (count && seen < count && !interrupted)
        return fail("events", 0, TV_E_TIMEOUT, "timed out");
    return EX_OK;
}

/* ---- version, time-query, test-start --------------------------------------- */
static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage();
    int rc = open_client("version");
    if (rc)
        return rc;
    struct tvdev_version v;
    tv_status_t st = tv_linux_version(&lx, &v);
    if (st == TV_OK)
        st = (tv_status_t)v.status;
    if (st != TV_OK)
        return fail("version", 0, st, NULL);
    const char *mode = v.event_mode == TVDEV_EVENTS_IRQ     ? "irq"
                       : v.event_mode == TVDEV_EVENTS_TIMER ? "timer"
                                                            : "none";
    if (json)
        printf("{\"abi\":\"%u.%u\",\"features\":%u,\"driver_abi\":%u,\"events\":\"%s\","
               "\"event_irq\":%u,\"event_vector\":%u}\n",
               v.abi >> 16, v.abi & 0xffff, v.features, v.driver_abi, mode, v.event_irq,
               v.event_vector);
    else
        printf("monitor ABI %u.%u, features 0x%x; driver ABI %u; events: %s (IRQ %u, vector 0x%x)\n",
               v.abi >> 16, v.abi & 0xffff, v.features, v.driver_abi, mode, v.event_irq,
               v.event_vector);
    return EX_OK;
}

/* POWER_OFF comes back only when the monitor could not power off. */
static int cmd_poweroff(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage();
    int rc = open_client("poweroff");
    if (rc)
        return rc;
    fflush(stdout);
    sync();
    tv_status_t st = tv_linux_power_off(&lx);
    return fail("poweroff", 0, st, NULL);
}

static int cmd_time_query(int argc, char **argv)
{
    uint64_t id, n = 1000;
    if (argc < 2 || argc > 3 || !parse_u64(argv[1], &id) || (argc == 3 && !parse_u64(argv[2], &n)) ||
        n == 0)
        return usage();
    int rc = open_client("time-query");
    if (rc)
        return rc;
    struct tv_task t = tv_task_handle(&client, id);
    struct tv_task_info info;
    double best = 1e9;
    double start = now_s();
    for (uint64_t k = 0; k < n; k++) {
        double t0 = now_s();
        tv_status_t st = tv_task_query(t, &info);
        double dt = now_s() - t0;
        if (st != TV_OK)
            return fail("time-query", id, st, NULL);
        if (dt < best)
            best = dt;
    }
    double mean = (now_s() - start) / (double)n;
    if (json)
        printf("{\"id\":%" PRIu64 ",\"queries\":%" PRIu64 ",\"mean_us\":%.1f,\"min_us\":%.1f}\n", id, n,
               mean * 1e6, best * 1e6);
    else
        printf("%" PRIu64 " queries of task %" PRIu64 ": mean %.1f us, min %.1f us per round trip\n", n,
               id, mean * 1e6, best * 1e6);
    return EX_OK;
}

#ifdef TV_TEST_BUILD
static int cmd_test_start(int argc, char **argv)
{
    struct tv_task_test_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.total_units = 10;
    spec.unit_ns = 100 * 1000 * 1000ull;
    snprintf(spec.description, sizeof spec.description, "tvctl test task");
    for (int i = 1; i < argc; i++) {
        uint64_t v = 0;
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "--not-cancelable")) {
            spec.flags |= TV_TASK_TEST_NOT_CANCELABLE;
        } else if (!strcmp(a, "--not-pausable")) {
            spec.flags |= TV_TASK_TEST_NOT_PAUSABLE;
        } else if (!strcmp(a, "--desc") && has_val) {
            snprintf(spec.description, sizeof spec.description, "%s", argv[++i]);
        } else if (has_val && parse_u64(argv[i + 1], &v)) {
            i++;
            if (!strcmp(a, "--units"))
                spec.total_units = v;
            else if (!strcmp(a, "--unit-ms"))
                spec.unit_ns = v * 1000000ull;
            else if (!strcmp(a, "--fail-at"))
                spec.fail_at_unit = v;
            else if (!strcmp(a, "--no-return"))
                spec.no_return_unit = v;
            else if (!strcmp(a, "--priority") && v <= UINT32_MAX)
                spec.priority = (uint32_t)v;
            else
                return usage();
        } else {
            return usage();
        }
    }
    int rc = open_client("test-start");
    if (rc)
        return rc;
    struct tv_task t;
    tv_status_t st = tv_test_task_start(&client, &spec, &t);
    if (st != TV_OK)
        return fail("test-start", 0, st, st == TV_E_UNKNOWN_CALL ? "not a test build of the monitor" : NULL);
    if (json)
        printf("{\"id\":%" PRIu64 "}\n", tv_task_id(t));
    else
        printf("%" PRIu64 "\n", tv_task_id(t));
    return EX_OK;
}
#endif

int main(int argc, char **argv)
{
    lx.fd = -1;
    /* --json may come anywhere; the verb is the first other word. */
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else
            argv[n++] = argv[i];
    }
    argc = n;
    if (argc < 1)
        return usage();
    const char *v = argv[0];
    int rc;
    if (!strcmp(v, "list"))
        rc = cmd_list(argc, argv);
    else if (!strcmp(v, "show"))
        rc = cmd_show(argc, argv);
    else if (!strcmp(v, "wait"))
        rc = cmd_wait(argc, argv);
    else if (!strcmp(v, "cancel") || !strcmp(v, "pause") || !strcmp(v, "resume") ||
             !strcmp(v, "dismiss"))
        rc = cmd_verb(argc, argv);
    else if (!strcmp(v, "events"))
        rc = cmd_events(argc, argv);
    else if (!strcmp(v, "version"))
        rc = cmd_version(argc, argv);
    else if (!strcmp(v, "poweroff"))
        rc = cmd_poweroff(argc, argv);
    else if (!strcmp(v, "time-query"))
        rc = cmd_time_query(argc, argv);
    else if (!strcmp(v, "disk"))
        rc = cmd_disk(argc, argv);
    else if (!strcmp(v, "mkdir"))
        rc = cmd_mkdir(argc, argv);
    else if (!strcmp(v, "vms"))
        rc = cmd_vms(argc, argv);
    else if (!strcmp(v, "vm"))
        rc = cmd_vm(argc, argv);
#ifdef TV_TEST_BUILD
    else if (!strcmp(v, "test-start"))
        rc = cmd_test_start(argc, argv);
#endif
    else if (!strcmp(v, "help") || !strcmp(v, "--help") || !strcmp(v, "-h"))
        return usage();
    else
        return usage();
    if (client.transport)
        tv_client_fini(&client);
    tv_linux_close(&lx);
    return rc;
}
