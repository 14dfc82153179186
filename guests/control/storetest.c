/* Non-interactive image store check (command line "storetest"): runs the
 * console's `volumes`, `ls`, `disk info`, `mkdir`, and a convert, creates
 * and a merge as tasks, on the disk of
 * tests/integration/mkstore.sh through the same dispatcher a user types
 * into, and reports TAP.  The values they print are judged on the host
 * (mkstore.sh check IMG LOG) against what built the disk. */
#include "console.h"
#include "guest.h"
#include "tv_string.h"
#include "taskvisor/vm.h"

static int run_line(const char *text)
{
    char line[CONSOLE_LINE_MAX];
    tv_strlcpy(line, text, sizeof(line));
    guest_printf("%s%s\n", CONSOLE_PROMPT, text);
    return console_execute(line);
}

static void expect_ok(const char *text)
{
    reportf(run_line(text) == CONSOLE_OK, "console: '%s' succeeds", text);
}

static void expect_unknown(const char *text)
{
    reportf(run_line(text) == CONSOLE_UNKNOWN, "console: '%s' is not a command", text);
}

static void expect_fail(const char *text)
{
    reportf(run_line(text) == CONSOLE_FAILED, "console: '%s' is refused", text);
}

void control_storetest(void)
{
    expect_ok("volumes");
    expect_ok("ls TVFAT:/");
    expect_ok("ls tvfat:/images");
    expect_ok("ls TVEXFAT:/Long name directory");
    expect_ok("ls TVEXFAT:/many");
    expect_ok("ls 0FC63DAF-8483-4772-8E79-3D69D8470001:/");
    expect_ok("disk info TVFAT:/images/fixed.vhd");
    expect_ok("disk info TVFAT:/images/base.vhd");
    expect_ok("disk info TVFAT:/images/child.vhd");
    expect_ok("disk info TVEXFAT:/dyn.vhd");
    expect_fail("ls NOPE:/");
    expect_fail("ls TVFAT:/images/../README.TXT");
    expect_fail("ls TVFAT:/README.TXT");
    expect_fail("disk info TVFAT:/README.TXT");
    expect_fail("disk info TVEXFAT:/missing.vhd");
    expect_unknown("disk frobnicate");
    /* The long operations as tasks on the real volumes (DISK_START): the
     * host compares the converted image with its source (qemu-img compare)
     * and checks every volume with fsck after the run. */
    expect_ok("disk convert TVFAT:/images/fixed.vhd TVFAT:/images/conv.vhd dynamic");
    expect_ok("disk create dynamic TVEXFAT:/made.vhd 64");
    expect_ok("disk info TVEXFAT:/made.vhd");
    expect_fail("disk create fixed TVFAT:/images/fixed.vhd 4");
    /* Merge into the parent (mkstore.sh's pair on exFAT): the host compares
     * the parent with the chain's contents it built before the run. */
    expect_ok("disk info TVEXFAT:/merge/child.vhd");
    expect_ok("disk merge TVEXFAT:/merge/child.vhd");
    expect_fail("disk info TVEXFAT:/merge/child.vhd");
    expect_ok("disk info TVEXFAT:/merge/base.vhd");
    /* A new image's folder must exist (refused before any task); mkdir
     * (DIR_CREATE) makes it.  The host finds the image in it. */
    expect_fail("disk create dynamic TVFAT:/vms/a.vhd 16");
    expect_ok("mkdir TVFAT:/vms");
    expect_fail("mkdir TVFAT:/vms");
    expect_ok("disk create dynamic TVFAT:/vms/a.vhd 16");
    expect_ok("mkdir TVFAT:/vms/old disks"); /* a name with a space: the rest of the line */
    guest_exit_summary();
}

/* "vmdisktest" (scenario vm_disk_inuse): starts the VM vblk, whose
 * definition names TVFAT:/vm/disk.vhd, and while it runs a disk operation
 * on that image is refused as in use (the log line is judged: BUSY); once
 * the VM has turned off by itself the same operation runs. */
static bool vm_off(const char *name)
{
    return console_vm_state(name) == TV_VM_TURNED_OFF;
}

void control_vmdisktest(void)
{
    expect_ok("vm start vblk");
    expect_fail("disk compact TVFAT:/vm/disk.vhd");
    uint64_t khz = cpuid(TV_CPUID_LEAF_TIMING, 0).eax, end = rdtsc() + khz * 120000;
    bool off = false;
    while (!(off = vm_off("vblk")) && rdtsc() < end)
        for (int i = 0; i < 100000; i++)
            cpu_pause();
    report("the VM vblk turned off by itself", off);
    expect_ok("disk compact TVFAT:/vm/disk.vhd");
    guest_exit_summary();
}
