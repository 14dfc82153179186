/* Helpers for the file-system tests: a malloc environment, host commands,
 * images made by the host's mkfs tools. */
#ifndef FS_TEST_UTIL_H
#define FS_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "storage/fs/fs.h"

extern const fs_env_t fs_test_env;
/* Runs a shell command; returns its exit status, output (stdout+stderr) in out. */
int fs_test_sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A scratch directory for this process (created once). */
const char *fs_test_dir(void);
/* Reads a host file (malloc'd). */
uint8_t *fs_test_slurp(const char *path, size_t *len);
void fs_test_fill(uint8_t *buf, size_t len, uint32_t seed);

#endif
