/* A memory block device with power-cut fault injection (the storage.h
 * model): every write and flush is an event; with a crash point k set, event
 * k completes and later ones fail with TV_E_IO.  power_cycle keeps what was
 * flushed plus none, all or a seeded random subset of the 512-byte pieces
 * written since (torn writes within the model). */
#ifndef MEM_BLOCKDEV_H
#define MEM_BLOCKDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/fs/blockdev.h"

typedef struct mem_bdev mem_bdev_t;

enum { MB_KEEP_NONE = 0, MB_KEEP_ALL = 1, MB_KEEP_RANDOM = 2 };

mem_bdev_t *mem_bdev_new(uint64_t bytes, uint32_t sector_size);
mem_bdev_t *mem_bdev_from_file(const char *path, uint32_t sector_size);
void mem_bdev_free(mem_bdev_t *m);
fs_blockdev_t *mem_bdev_dev(mem_bdev_t *m);
uint8_t *mem_bdev_data(mem_bdev_t *m); /* current contents */
uint64_t mem_bdev_size(const mem_bdev_t *m);
void mem_bdev_set_crash(mem_bdev_t *m, uint64_t after_event); /* 0 = never */
uint64_t mem_bdev_events(const mem_bdev_t *m);
uint64_t mem_bdev_writes(const mem_bdev_t *m);
bool mem_bdev_crashed(const mem_bdev_t *m);
void mem_bdev_power_cycle(mem_bdev_t *m, int keep, uint64_t seed);
/* A durable copy of src's current contents. */
mem_bdev_t *mem_bdev_clone(const mem_bdev_t *src);
bool mem_bdev_save(const mem_bdev_t *m, const char *path);

#endif
