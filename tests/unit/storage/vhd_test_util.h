/* Helpers shared by the VHD unit and crash tests. */
#ifndef VHD_TEST_UTIL_H
#define VHD_TEST_UTIL_H

#include <stdint.h>
#include <stddef.h>

#include "mem_storage.h"
#include "vhd.h"
#include "vhd_op.h"

uint64_t tu_rand(uint64_t *state);
/* Fills buf with a pattern derived from seed (never all zeros). */
void tu_pattern(uint8_t *buf, size_t len, uint64_t seed);
/* Reads the whole virtual disk (malloc'd); NULL on error. */
uint8_t *tu_read_all(tv_storage_t *st, const char *name, unsigned flags, uint64_t *size);
tv_status_t tu_create(tv_storage_t *st, const char *name, enum tv_vhd_kind kind, uint64_t size,
                      uint32_t block, const char *parent);
/* Writes len bytes of pattern at off (and mirrors them into model). */
tv_status_t tu_write(tv_storage_t *st, const char *name, uint64_t off, size_t len, uint64_t seed,
                     uint8_t *model);
tv_status_t tu_run(tv_storage_t *st, tv_vhd_op_t *op);
/* Runs check without repair: number of errors (or -1 when it failed to run). */
int tu_check_errors(tv_storage_t *st, const char *name);

#endif
