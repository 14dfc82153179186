/* The control partition's console: a line editor on the serial port and a
 * command table.  Adding a command = one entry in commands.c's table plus its
 * handler (int handler(int argc, char **argv), 0 on success).  A name may
 * be two words ("disk merge"): its handler gets the words from the second
 * on (argv[0] = "merge"). */
#ifndef TV_CONTROL_CONSOLE_H
#define TV_CONTROL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_LINE_MAX 160
#define CONSOLE_ARGS_MAX 16
#define CONSOLE_PROMPT "tv> "

struct console_command {
    const char *name;
    const char *args;       /* argument synopsis for help, "" when none */
    const char *help;       /* one line */
    int (*run)(int argc, char **argv);
};

extern const struct console_command console_commands[];
extern const size_t console_command_count;

/* Result codes of console_execute(). */
#define CONSOLE_OK            0
#define CONSOLE_EMPTY         1   /* blank line */
#define CONSOLE_UNKNOWN       2   /* no such command */
#define CONSOLE_TOO_MANY_ARGS 3
#define CONSOLE_FAILED        4   /* the command reported an error */

/* Splits line (modified in place) into words and runs the command. */
int console_execute(char *line);
/* Reads one line with echo and editing (backspace/DEL, Ctrl-U, Ctrl-C;
 * escape sequences such as arrow keys are ignored).
 * Returns the length; the line is NUL-terminated. */
size_t console_read_line(char *buf, size_t size);
/* The interactive loop: prompt, read, execute, forever (until exit). */
__attribute__((noreturn)) void console_run(void);

/* Readies *client (a zeroed static, shared by one file's commands) for a
 * command: false, with an "error: WHAT: ..." line, when not running under
 * Taskvisor or when the client cannot be set up. */
struct tv_client;
bool console_client(struct tv_client *client, const char *what);

/* Commands (cmd_*.c). */
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_partitions(int argc, char **argv);
int cmd_exit(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_tasks(int argc, char **argv);
int cmd_task(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_dismiss(int argc, char **argv);
int cmd_testtask(int argc, char **argv);
/* cmd_disk.c: argv[0] is the second word ("create", ...). */
int cmd_disk_create(int argc, char **argv);
int cmd_disk_merge(int argc, char **argv);
int cmd_disk_merge_to(int argc, char **argv);
int cmd_disk_compact(int argc, char **argv);
int cmd_disk_convert(int argc, char **argv);
int cmd_disk_check(int argc, char **argv);
int cmd_vms(int argc, char **argv);
int cmd_vm(int argc, char **argv);
/* The state (TV_VM_*) of the VM called name, 0 when it cannot be read. */
uint32_t console_vm_state(const char *name);
/* cmd_volumes.c: the image store's read-only commands. */
int cmd_volumes(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_disk_info(int argc, char **argv);
int cmd_mkdir(int argc, char **argv);

/* Self-test mode (command line "selftest"): TAP checks of the commands. */
__attribute__((noreturn)) void control_selftest(void);
/* Image store check (command line "storetest"). */
__attribute__((noreturn)) void control_storetest(void);
/* The ESP as a volume (command line "esptest"). */
__attribute__((noreturn)) void control_esptest(void);
/* "vmdisktest": a VM's disk is in use while it runs (vm_disk_inuse). */
__attribute__((noreturn)) void control_vmdisktest(void);
/* Disk bench (command line "diskbench"): bench/disk/run-disk-bench.sh. */
__attribute__((noreturn)) void control_diskbench(void);

struct tv_task_info;
/* cmd_disk.c: the record of the last disk task a command followed to its
 * end (false when none has). */
bool console_last_disk_task(struct tv_task_info *out);

#endif
