/* The block device and walk shared by the file-system fuzz targets: the
 * input padded with zeros to a volume size, every write refused with an
 * abort once a mount has failed (a volume that fails its checks must never
 * be written). */
#ifndef FUZZ_FS_DEV_H
#define FUZZ_FS_DEV_H

#include <stddef.h>
#include <stdint.h>

#include "storage/fs/blockdev.h"
#include "storage/fs/fs.h"

typedef struct fuzz_dev {
    fs_blockdev_t dev;
    uint8_t *data;
    size_t size;
    int writes_forbidden;
} fuzz_dev_t;

void fuzz_dev_init(fuzz_dev_t *d, const uint8_t *in, size_t len, size_t pad_to);
void fuzz_dev_free(fuzz_dev_t *d);
extern const fs_env_t fuzz_env;
/* Mounts read-only, then writable: lists, reads, and (when writable)
 * creates, writes, truncates, renames and removes a little. */
void fuzz_exercise_volume(const fs_blockdev_t *dev, fuzz_dev_t *owner);

#endif
