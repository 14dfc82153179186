/* Non-interactive self-test (command line "selftest"): runs the console's
 * commands through the same dispatcher a user would, checks their results
 * and the hypercalls behind them, and prints a TAP summary. */
#include "console.h"
#include "guest.h"
#include "guest_transport.h"
#include "partition_list.h"
#include "tv_disk.h"
#include "taskvisor/disk.h"
#include "taskvisor/task.h"
#include "tv_string.h"

static int run_line(const char *text)
{
    char line[CONSOLE_LINE_MAX];
    tv_strlcpy(line, text, sizeof(line));
    guest_printf("%s%s\n", CONSOLE_PROMPT, text);
    return console_execute(line);
}

static struct tv_partition_record recs[GUEST_MAX_PARTITIONS];
static struct tv_disk_create_args disk_rec __attribute__((aligned(8)));

/* DISK_START straight through the monitor: its decoding and the prepare's
 * refusals, which come before any volume is looked at (this monitor may
 * have no volumes at all). */
static tv_status_t disk_start(uint64_t type, const char *path, uint64_t mb, uint64_t size)
{
    tv_memset(&disk_rec, 0, sizeof disk_rec);
    tv_strlcpy(disk_rec.path, path, sizeof disk_rec.path);
    disk_rec.size_mb = mb;
    return tv_hypercall(TV_HC_DISK_START, type, (uint64_t)(uintptr_t)&disk_rec, size, 0, 0, NULL);
}

/* With "memvol" on the command line (monitor option disk_memvol=1, test
 * builds): the disk operations run inside the monitor on its TESTMEM
 * volume, through the console's commands and libtaskvisor. */
static struct tv_client disk_client;

static bool wait_done(struct tv_task t, struct tv_task_info *info)
{
    return tv_task_wait_for_completion(t, 60000) == TV_OK && tv_task_query(t, info) == TV_OK;
}

static void memvol_selftest(void)
{
    tv_status_t st = tv_client_init(&disk_client, &guest_transport);
    report("disk client", st == TV_OK);
    /* The mount's recovery removed the stale output: a finished task. */
    bool seen = false;
    struct tv_task_info info;
    for (int tries = 0; tries < 200 && !seen; tries++) {
        struct tv_task_event ev[16];
        size_t n = 0;
        if (tv_task_list(&disk_client, 0, 0, ev, 16, &n) == TV_OK)
            for (size_t i = 0; i < n && !seen; i++)
                seen = tv_task_query(tv_task_handle(&disk_client, ev[i].id), &info) == TV_OK &&
                       info.type == TV_TASK_TYPE_DISK_RECOVER && info.state == TV_TASK_COMPLETED;
        if (!seen)
            tv_task_wait_for_completion(tv_task_handle(&disk_client, 1), 50);
    }
    reportf(seen && tv_strcmp(info.description, "recover TESTMEM:/stale.vhd.tvtmp: roll back interrupted output") == 0,
            "the mount's recovery is a finished DISK_RECOVER task (%s)", seen ? info.description : "none");
    /* The resolver is set right after the recovery. */
    struct tv_task t;
    for (int tries = 0; tries < 200; tries++) {
        st = tv_disk_check(&disk_client, "TESTMEM:/stale.vhd.tvtmp", false, &t);
        if (st != TV_E_NOT_FOUND || tries == 199)
            break;
        tv_task_wait_for_completion(tv_task_handle(&disk_client, 1), 50);
    }
    reportf(st == TV_E_NOT_FOUND, "the stale output is gone (%d)", st);
    report("console: 'disk create dynamic' runs its task",
           run_line("disk create dynamic TESTMEM:/base.vhd 16") == CONSOLE_OK);
    report("console: 'disk create diff' runs its task",
           run_line("disk create diff TESTMEM:/child.vhd TESTMEM:/base.vhd") == CONSOLE_OK);
    report("console: 'disk merge' of a dynamic disk is refused",
           run_line("disk merge TESTMEM:/base.vhd") == CONSOLE_FAILED);
    report("console: 'disk create' over an existing disk is refused",
           run_line("disk create fixed TESTMEM:/base.vhd 3") == CONSOLE_FAILED);
    report("console: 'disk merge-to' runs its task",
           run_line("disk merge-to TESTMEM:/child.vhd TESTMEM:/flat.vhd dynamic") == CONSOLE_OK);
    report("console: 'disk merge' runs its task", run_line("disk merge TESTMEM:/child.vhd") == CONSOLE_OK);
    report("console: 'disk convert' to fixed runs its task (16 MiB written)",
           run_line("disk convert TESTMEM:/base.vhd TESTMEM:/fixed.vhd fixed") == CONSOLE_OK);
    report("console: 'disk compact' runs its task", run_line("disk compact TESTMEM:/flat.vhd") == CONSOLE_OK);
    report("console: 'disk check --repair' runs its task",
           run_line("disk check TESTMEM:/fixed.vhd --repair") == CONSOLE_OK);
    report("console: 'disk create fixed' runs its task (zero-filled)",
           run_line("disk create fixed TESTMEM:/zero.vhd 8") == CONSOLE_OK);
    /* A chain of three (the prepare and the job open every level). */
    report("console: a differencing disk over a differencing disk",
           run_line("disk create diff TESTMEM:/c1.vhd TESTMEM:/base.vhd") == CONSOLE_OK &&
               run_line("disk create diff TESTMEM:/c2.vhd TESTMEM:/c1.vhd") == CONSOLE_OK);
    report("console: 'disk merge-to' flattens a chain of three",
           run_line("disk merge-to TESTMEM:/c2.vhd TESTMEM:/flat3.vhd fixed") == CONSOLE_OK);
    report("console: 'disk check' of the chain's top", run_line("disk check TESTMEM:/c2.vhd") == CONSOLE_OK);
    /* Deeper: six levels (the engine opens a chain recursively, on the
     * 16 KiB stacks of the calling vCPU thread and of the task worker). */
    bool deep = true;
    static const char *const levels[] = {
        "disk create diff TESTMEM:/c3.vhd TESTMEM:/c2.vhd", "disk create diff TESTMEM:/c4.vhd TESTMEM:/c3.vhd",
        "disk create diff TESTMEM:/c5.vhd TESTMEM:/c4.vhd", "disk create diff TESTMEM:/c6.vhd TESTMEM:/c5.vhd",
    };
    for (unsigned i = 0; i < sizeof levels / sizeof levels[0]; i++)
        deep &= run_line(levels[i]) == CONSOLE_OK;
    report("console: a chain of seven levels flattens", deep &&
           run_line("disk merge-to TESTMEM:/c6.vhd TESTMEM:/flat7.vhd dynamic") == CONSOLE_OK);
    /* Through libtaskvisor: pause, resume and cancel on a disk task. */
    st = tv_disk_convert(&disk_client, "TESTMEM:/fixed.vhd", "TESTMEM:/p.vhd", TV_DISK_KIND_DYNAMIC, &t);
    tv_status_t ps = st == TV_OK ? tv_task_pause(t) : st;
    tv_status_t ws = tv_task_wait_for_completion(t, 200);
    bool paused = tv_task_query(t, &info) == TV_OK && info.state == TV_TASK_PAUSED;
    tv_status_t rs = tv_task_resume(t);
    bool done = wait_done(t, &info) && info.state == TV_TASK_COMPLETED && info.outcome == TV_TASK_OUTCOME_COMMITTED;
    reportf(st == TV_OK && ps == TV_OK && ws == TV_E_TIMEOUT && paused && rs == TV_OK && done,
            "a disk task pauses, holds and resumes to completion (%d %d %d %d %d %d)", st, ps, ws, paused, rs, done);
    st = tv_disk_convert(&disk_client, "TESTMEM:/fixed.vhd", "TESTMEM:/c.vhd", TV_DISK_KIND_DYNAMIC, &t);
    tv_status_t cs = st == TV_OK ? tv_task_cancel(t) : st;
    done = wait_done(t, &info);
    reportf(st == TV_OK && cs == TV_OK && done && info.state == TV_TASK_CANCELLED &&
                info.result == TV_TASK_RESULT_CANCELLED &&
                (info.outcome == TV_TASK_OUTCOME_UNTOUCHED || info.outcome == TV_TASK_OUTCOME_ROLLED_BACK),
            "a cancelled convert leaves nothing (state %u, outcome %u)", info.state, info.outcome);
    st = tv_disk_check(&disk_client, "TESTMEM:/c.vhd", false, &t);
    reportf(st == TV_E_NOT_FOUND, "no output of the cancelled convert (%d)", st);
}

static void disk_selftest(void)
{
    report("console: 'disk' alone lists its commands", run_line("disk") == CONSOLE_UNKNOWN);
    report("console: 'disk merge' without a path prints its usage", run_line("disk merge") == CONSOLE_FAILED);
    report("console: 'disk merge' of a path on no volume is refused",
           run_line("disk merge NOVOLUME:/a.vhd") == CONSOLE_FAILED);
    report("console: 'disk create' of a bad size is refused",
           run_line("disk create fixed NOVOLUME:/a.vhd 2") == CONSOLE_FAILED);
    uint64_t dyn = TV_TASK_TYPE_DISK_CREATE_DYNAMIC, size = sizeof disk_rec;
    tv_status_t st = disk_start(TV_TASK_TYPE_TEST, "NOVOLUME:/a.vhd", 3, size);
    reportf(st == TV_E_INVALID_ARGUMENT, "DISK_START refuses a type that is no disk operation (%d)", st);
    st = disk_start(dyn, "NOVOLUME:/a.vhd", 3, size - 8);
    reportf(st == TV_E_INVALID_ARGUMENT, "DISK_START refuses a record of the wrong size (%d)", st);
    st = disk_start(dyn, "NOVOLUME:/a.vhd", 2, size);
    reportf(st == TV_E_SIZE_TOO_SMALL, "DISK_START: 2 MB is SIZE_TOO_SMALL (%d)", st);
    st = disk_start(dyn, "NOVOLUME:/a.vhd", TV_DISK_SIZE_MAX_MB + 1, size);
    reportf(st == TV_E_SIZE_TOO_LARGE, "DISK_START: 2,088,961 MB is SIZE_TOO_LARGE (%d)", st);
    st = disk_start(dyn, "NOVOLUME:a.vhd", 3, size);
    reportf(st == TV_E_BAD_PATH, "DISK_START: a relative path is BAD_PATH (%d)", st);
    st = disk_start(dyn, "NOVOLUME:/a.vhd", 3, size);
    reportf(st == TV_E_NOT_FOUND, "DISK_START: a path on no volume is NOT_FOUND (%d)", st);
}

void control_selftest(void)
{
    report("console: 'version' succeeds", run_line("version") == CONSOLE_OK);
    report("console: 'partitions' succeeds", run_line("partitions") == CONSOLE_OK);
    report("console: 'help' succeeds", run_line("help") == CONSOLE_OK);
    report("console: unknown command is refused", run_line("frobnicate now") == CONSOLE_UNKNOWN);
    report("console: blank line does nothing", run_line("   ") == CONSOLE_EMPTY);
    report("console: extra arguments are refused", run_line("version extra") == CONSOLE_FAILED);

    disk_selftest();
    if (guest_cmdline_has("memvol"))
        memvol_selftest();

    uint32_t version = 0;
    tv_status_t st = tv_get_version(&version, NULL);
    reportf(st == TV_OK && version == ((TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR),
            "GET_VERSION answers ABI %u.%u (status %d, got 0x%x)", TV_ABI_VERSION_MAJOR,
            TV_ABI_VERSION_MINOR, st, version);

    uint32_t count = 0;
    st = guest_partition_list(recs, GUEST_MAX_PARTITIONS, &count);
    reportf(st == TV_OK && count >= 1, "PARTITION_LIST (status %d, %u partitions)", st, count);
    unsigned selves = 0;
    bool self_is_control = false;
    for (uint32_t i = 0; st == TV_OK && i < count && i < GUEST_MAX_PARTITIONS; i++) {
        if (recs[i].flags & TV_PARTITION_F_SELF) {
            selves++;
            self_is_control = (recs[i].flags & TV_PARTITION_F_CONTROL) != 0;
        }
    }
    report("exactly one record is this partition and it is the control partition",
           selves == 1 && self_is_control);
    guest_exit_summary();
}
