/* The command table.  One line per command. */
#include "console.h"

const struct console_command console_commands[] = {
    { "help",       "",  "list the commands",                          cmd_help },
    { "version",    "",  "Taskvisor ABI version, features, CPUID signature", cmd_version },
    { "partitions", "",  "list the partitions (PARTITION_LIST)",       cmd_partitions },
    { "exit",       "",  "stop the control partition",                 cmd_exit },
    { "shutdown",   "",  "stop the control partition (same as exit)",  cmd_exit },
};

const size_t console_command_count = sizeof(console_commands) / sizeof(console_commands[0]);
