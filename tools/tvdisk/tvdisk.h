/* Shared state of the tvdisk commands (tvdisk.c: options, errors, tasks;
 * tvdisk_rw.c: read and write). */
#ifndef TVDISK_H
#define TVDISK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "storage.h"
#include "vhd.h"

enum exit_code {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_FAILED = 2,
    EXIT_CORRUPT = 3,
    EXIT_CANCELLED = 4,
    EXIT_NOT_FOUND = 5,
    EXIT_WRONG_TYPE = 6,
    EXIT_NO_SPACE = 7,
    EXIT_EXISTS = 8,
    EXIT_PARENT_MODIFIED = 9,
};

struct tvdisk_opt {
    bool json;
    bool quiet;
    bool no_flush;
    bool fix_parent;
    bool repair;
    bool src_raw;
    bool exact;
    enum tv_vhd_kind kind;
    uint32_t block_size;
    const char *cmd;
};

extern struct tvdisk_opt opt;
extern volatile sig_atomic_t interrupted; /* SIGINT or SIGTERM seen */
extern tv_storage_t st;

int usage(void);
/* Prints the one-line error (and the JSON object) for what; returns the exit code. */
int fail(const char *what, tv_status_t s);
int exit_for(tv_status_t s);
void json_str(FILE *f, const char *s);
bool parse_size(const char *s, uint64_t *out);
/* Refuses an image argument that is not a regular file or a block device
 * (a FIFO would block; a directory is no image) with a clear error. */
bool image_arg_ok(const char *name, int *rc);
/* Prints the warnings of an image opened read-only on stderr. */
void print_warnings(const char *name, unsigned warnings);

int cmd_write(int argc, char **argv);
int cmd_read(int argc, char **argv);

#endif
