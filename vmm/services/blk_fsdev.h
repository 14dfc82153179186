/* A block device of the monitor's driver layer as the file systems'
 * fs_blockdev_t (storage/fs/blockdev.h).  Portable: the driver side comes
 * in through struct blkfs_backend (vmm/services/image_store.c binds it to
 * drivers/block; the unit tests to a memory disk), so the range, read-only
 * and calling-context checks here are tested hosted. */
#ifndef SERVICES_BLK_FSDEV_H
#define SERVICES_BLK_FSDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/fs/blockdev.h"
#include "taskvisor/status.h"

struct blkfs_backend {
    void *dev;
    uint32_t sector_size;
    uint64_t sectors;
    bool read_only;
    /* Blocking transfers (the driver layer splits large ones). */
    tv_status_t (*read)(void *dev, uint64_t lba, uint32_t count, void *buf);
    tv_status_t (*write)(void *dev, uint64_t lba, uint32_t count, const void *buf);
    tv_status_t (*flush)(void *dev);
    /* Optional: false when the calling thread must not wait for a device
     * (a vCPU's thread, a hypercall with interrupts off).  Such a call is
     * refused with TV_E_INVALID_STATE instead of stalling a guest. */
    bool (*may_block)(void *dev);
};

struct blkfs {
    fs_blockdev_t fs;            /* what the file systems get; fs.ctx = this */
    struct blkfs_backend b;
    uint64_t reads, writes, flushes, refused;
};

/* Fills a->fs from b.  TV_E_UNSUPPORTED for a sector size the file systems
 * do not take (a power of two from 512 to 4096), TV_E_INVALID_ARGUMENT for
 * an empty device or missing ops. */
tv_status_t blkfs_init(struct blkfs *a, const struct blkfs_backend *b);

#endif
