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
    { "testtask",   "[UNITS [MS]]", "start a test task (test builds of the monitor)", cmd_testtask },
    { "exit",       "",  "stop the control partition",                 cmd_exit },
    { "shutdown",   "",  "power the machine off (POWER_OFF)",          cmd_shutdown },
};

const size_t console_command_count = sizeof(console_commands) / sizeof(console_commands[0]);
