/* Non-interactive check that the ESP is a volume (command line "esptest"):
 * the image scripts/mkesp.sh builds (whole-disk FAT16, label TASKVISOR) is
 * the disk Taskvisor booted from; the console lists it among the volumes,
 * lists its directories, writes a VHD on it and reads it back, through the
 * same dispatcher a user types into, and reports TAP.  What the commands
 * print is judged by the scenario's expect-log lines (esp_volume.cfg). */
#include "console.h"
#include "guest.h"
#include "tv_string.h"

static int run_line(const char *text)
{
    char line[CONSOLE_LINE_MAX];
    tv_strlcpy(line, text, sizeof(line));
    guest_printf("%s%s\n", CONSOLE_PROMPT, text);
    return console_execute(line);
}

static void expect(const char *text, int want)
{
    reportf(run_line(text) == want, "console: '%s' %s", text, want == CONSOLE_OK ? "succeeds" : "is refused");
}

void control_esptest(void)
{
    expect("volumes", CONSOLE_OK);
    expect("ls TASKVISOR:/", CONSOLE_OK);
    expect("ls taskvisor:/EFI/BOOT", CONSOLE_OK);
    expect("ls TASKVISOR:/taskvisor", CONSOLE_OK);
    /* The configuration the loader read: opened and its footer read, not a VHD. */
    expect("disk info TASKVISOR:/taskvisor/taskvisor.cfg", CONSOLE_FAILED);
    /* A write on the FAT16 ESP and the file read back. */
    expect("disk create dynamic TASKVISOR:/esp-made.vhd 8", CONSOLE_OK);
    expect("disk info TASKVISOR:/esp-made.vhd", CONSOLE_OK);
    expect("ls TASKVISOR:/", CONSOLE_OK);
    expect("ls TASKVISOR:/nowhere", CONSOLE_FAILED);
    guest_exit_summary();
}
