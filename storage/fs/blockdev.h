/* The block device the volume and file-system code runs on.
 *
 * Portable: the monitor adapts its block drivers to this, the tests use a
 * memory device.  Sector numbers and counts are in device sectors
 * (sector_size bytes, a power of two from 512 to 4096).  Durability is the
 * power-cut model of storage.h: a write is durable once a later flush
 * returns OK; until then any subset of its 512-byte pieces may survive. */
#ifndef TV_FS_BLOCKDEV_H
#define TV_FS_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

typedef struct fs_blockdev {
    void *ctx;
    uint32_t sector_size;
    uint64_t sectors;
    bool read_only;
    tv_status_t (*read)(void *ctx, uint64_t lba, uint32_t count, void *buf);
    tv_status_t (*write)(void *ctx, uint64_t lba, uint32_t count, const void *buf);
    tv_status_t (*flush)(void *ctx);
} fs_blockdev_t;

/* A window [first, first + count) of another device (a partition). */
typedef struct fs_slice {
    fs_blockdev_t dev; /* the view; dev.ctx points back at this struct */
    const fs_blockdev_t *parent;
    uint64_t first;
} fs_slice_t;

/* Fills s so that s->dev is the window; false when it lies outside parent. */
bool fs_slice_init(fs_slice_t *s, const fs_blockdev_t *parent, uint64_t first, uint64_t count);

#endif
