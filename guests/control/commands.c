/* The command table.  One line per command. */
#include "console.h"

const struct console_command console_commands[] = {
    { "help",       "",  "list the commands",                          cmd_help },
    { "version",    "",  "Taskvisor ABI version, features, CPUID signature", cmd_version },
    { "partitions", "",  "list the partitions (PARTITION_LIST)",       cmd_partitions },
    { "tasks",      "",  "list the tasks (TASK_LIST)",                 cmd_tasks },
    { "task",       "ID", "show one task (TASK_QUERY)",                cmd_task },
    { "wait",       "ID [MS]", "wait for a task (TASK_WAIT)",          cmd_wait },
    { "cancel",     "ID", "cancel a task",                             cmd_cancel },
    { "pause",      "ID", "pause a task",                              cmd_pause },
    { "resume",     "ID", "resume a paused task",                      cmd_resume },
    { "dismiss",    "ID", "forget a finished task",                    cmd_dismiss },
    { "volumes",    "",  "list the mounted volumes (VOLUME_LIST)",      cmd_volumes },
    { "ls",         "VOLUME:/PATH", "list a directory (DIR_LIST)",       cmd_ls },
    { "disk info",  "VOLUME:/PATH.vhd", "a disk image's type, sizes, parents (DISK_INFO)", cmd_disk_info },
    { "mkdir",      "VOLUME:/PATH", "make a folder; its parent must exist (DIR_CREATE)", cmd_mkdir },
    { "disk create", "KIND PATH MB", "create a disk (KIND fixed, dynamic; or diff PATH PARENT)", cmd_disk_create },
    { "disk merge",  "CHILD", "merge a differencing disk into its parent", cmd_disk_merge },
    { "disk merge-to", "CHILD NEW fixed|dynamic", "flatten a chain into a new disk", cmd_disk_merge_to },
    { "disk compact", "PATH", "compact a dynamic or differencing disk", cmd_disk_compact },
    { "disk convert", "SRC NEW fixed|dynamic", "convert fixed <-> dynamic into a new disk", cmd_disk_convert },
    { "disk check", "PATH [--repair]", "check (and repair) a disk", cmd_disk_check },
    { "testtask",   "[UNITS [MS]]", "start a test task (test builds of the monitor)", cmd_testtask },
    { "vms",        "",  "list the virtual machines (VM_LIST)",        cmd_vms },
    { "vm",         "start|off|reset|pause|resume|shutdown|restart|logoff [--force] NAME", "run a VM operation as a task, with a progress bar", cmd_vm },
    { "exit",       "",  "stop the control partition",                 cmd_exit },
    { "shutdown",   "",  "power the machine off (POWER_OFF)",          cmd_shutdown },
};

const size_t console_command_count = sizeof(console_commands) / sizeof(console_commands[0]);
