/* Non-interactive self-test (command line "selftest"): runs the console's
 * commands through the same dispatcher a user would, checks their results
 * and the hypercalls behind them, and prints a TAP summary. */
#include "console.h"
#include "guest.h"
#include "partition_list.h"
#include "tv_string.h"

static int run_line(const char *text)
{
    char line[CONSOLE_LINE_MAX];
    tv_strlcpy(line, text, sizeof(line));
    guest_printf("%s%s\n", CONSOLE_PROMPT, text);
    return console_execute(line);
}

static struct tv_partition_record recs[GUEST_MAX_PARTITIONS];

void control_selftest(void)
{
    report("console: 'version' succeeds", run_line("version") == CONSOLE_OK);
    report("console: 'partitions' succeeds", run_line("partitions") == CONSOLE_OK);
    report("console: 'help' succeeds", run_line("help") == CONSOLE_OK);
    report("console: unknown command is refused", run_line("frobnicate now") == CONSOLE_UNKNOWN);
    report("console: blank line does nothing", run_line("   ") == CONSOLE_EMPTY);
    report("console: extra arguments are refused", run_line("version extra") == CONSOLE_FAILED);

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
