/* Disk bench (command line "diskbench mib=N"): runs the console's long
 * disk commands on the images bench/disk/run-disk-bench.sh put on volume
 * BENCH, each through the same dispatcher a user types into, and prints
 * each task's running time on the monitor's clock as a BENCH line for the
 * host, which divides sizes by it and compares with the raw throughput of
 * the same disk and with tvdisk on the host. */
#include "console.h"
#include "guest.h"
#include "taskvisor/task.h"
#include "tv_fmt.h"
#include "tv_string.h"

static void run_op(const char *op, const char *line)
{
    char buf[CONSOLE_LINE_MAX];
    tv_strlcpy(buf, line, sizeof(buf));
    guest_printf("%s%s\n", CONSOLE_PROMPT, line);
    int rc = console_execute(buf);
    struct tv_task_info info;
    bool ok = rc == CONSOLE_OK && console_last_disk_task(&info) &&
              info.state == TV_TASK_COMPLETED && info.started_ns && info.finished_ns > info.started_ns;
    if (ok)
        guest_printf("BENCH disk op=%s ns=%llu\n", op,
                     (unsigned long long)(info.finished_ns - info.started_ns));
    reportf(ok, "diskbench: %s", line);
}

void control_diskbench(void)
{
    char mib[16] = "64", line[CONSOLE_LINE_MAX];
    guest_cmdline_value("mib", mib, sizeof mib);
    /* VOLUME_LIST waits for the mount (the disk calls do not). */
    tv_strlcpy(line, "volumes", sizeof line);
    guest_printf("%s%s\n", CONSOLE_PROMPT, line);
    reportf(console_execute(line) == CONSOLE_OK, "diskbench: volumes");
    tv_snprintf(line, sizeof line, "disk create fixed BENCH:/created.vhd %s", mib);
    run_op("create_fixed", line);
    run_op("convert_f2d", "disk convert BENCH:/fixed.vhd BENCH:/f2d.vhd dynamic");
    run_op("convert_d2f", "disk convert BENCH:/dyn.vhd BENCH:/d2f.vhd fixed");
    /* Before the merge: it gives parent.vhd a new id, which child2 would
     * then refuse as a changed parent. */
    run_op("merge_to", "disk merge-to BENCH:/child2.vhd BENCH:/mergeto.vhd fixed");
    run_op("merge", "disk merge BENCH:/child.vhd");
    run_op("compact", "disk compact BENCH:/sparse.vhd");
    guest_exit_summary();
}
