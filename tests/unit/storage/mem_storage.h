/* In-memory storage seam for tests, with power-cut fault injection.
 *
 * Every mutating call (create, write, flush, truncate, rename, remove) is an
 * event.  With a crash point k set, event k completes and every later
 * mutating call fails with TV_E_IO (power is cut).  power_cycle() then
 * decides what survived: each file keeps what was flushed, plus, of the
 * writes since its last flush, any subset of 512-byte sectors (none, all, or
 * a seeded random choice; a torn write keeps some of its sectors).  Create,
 * rename, remove and truncate are durable when they return.  Locks (shared
 * and exclusive, per open) follow the storage.h rules. */
#ifndef MEM_STORAGE_H
#define MEM_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

typedef struct mem_fs mem_fs_t;

enum { MEM_KEEP_NONE = 0, MEM_KEEP_ALL = 1, MEM_KEEP_RANDOM = 2 };

mem_fs_t *mem_fs_new(void);
void mem_fs_free(mem_fs_t *fs);
void mem_fs_storage(mem_fs_t *fs, tv_storage_t *st);
void mem_fs_set_crash(mem_fs_t *fs, uint64_t after_event); /* 0 = never */
uint64_t mem_fs_events(const mem_fs_t *fs);
bool mem_fs_crashed(const mem_fs_t *fs);
void mem_fs_power_cycle(mem_fs_t *fs, int keep, uint64_t seed);
/* Limits the total bytes of all files (TV_E_NO_SPACE beyond); 0 = none. */
void mem_fs_set_space(mem_fs_t *fs, uint64_t bytes);
/* Sparse mode: extending a file (truncate) takes no space, writes do, so
 * the space limit is met by a write inside the file (a full disk under a
 * file system with holes). */
void mem_fs_set_sparse(mem_fs_t *fs, bool sparse);
/* Open handles of a file (0 when absent). */
int mem_fs_opens(const mem_fs_t *fs, const char *name);
/* Direct access (not events): store/load a whole file. */
void mem_fs_put(mem_fs_t *fs, const char *name, const void *data, size_t len);
bool mem_fs_get(mem_fs_t *fs, const char *name, uint8_t **data, size_t *len); /* malloc'd copy */
bool mem_fs_exists(mem_fs_t *fs, const char *name);
/* Copies every file of src into dst (a snapshot). */
void mem_fs_copy(mem_fs_t *dst, const mem_fs_t *src);
/* mkdir: folders exist where it made them (open gives TV_E_WRONG_TYPE);
 * a folder's parent must exist; files may still be created anywhere. */
/* Names of all files, one per call: returns NULL past the end. */
const char *mem_fs_name(const mem_fs_t *fs, size_t index);

#endif
