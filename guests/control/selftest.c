/* Non-interactive self-test (command line "selftest"): runs the console's
 * commands through the same dispatcher a user would, checks their results
 * and the hypercalls behind them, and prints a TAP summary. */
#include "console.h"
#include "guest.h"
#include "partition_list.h"
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
