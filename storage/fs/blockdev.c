/* A partition as a block device: offsets and bounds over its disk. */
#include "storage/fs/blockdev.h"

static tv_status_t slice_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
    fs_slice_t *s = ctx;
    if (lba > s->dev.sectors || count > s->dev.sectors - lba)
        return TV_E_INVALID_ARGUMENT;
    return s->parent->read(s->parent->ctx, s->first + lba, count, buf);
}

static tv_status_t slice_write(void *ctx, uint64_t lba, uint32_t count, const void *buf)
{
    fs_slice_t *s = ctx;
    if (s->dev.read_only)
        return TV_E_READ_ONLY;
    if (lba > s->dev.sectors || count > s->dev.sectors - lba)
        return TV_E_INVALID_ARGUMENT;
    return s->parent->write(s->parent->ctx, s->first + lba, count, buf);
}

static tv_status_t slice_flush(void *ctx)
{
    fs_slice_t *s = ctx;
    return s->parent->flush(s->parent->ctx);
}

bool fs_slice_init(fs_slice_t *s, const fs_blockdev_t *parent, uint64_t first, uint64_t count)
{
    if (first > parent->sectors || count > parent->sectors - first || count == 0)
        return false;
    s->parent = parent;
    s->first = first;
    s->dev.ctx = s;
    s->dev.sector_size = parent->sector_size;
    s->dev.sectors = count;
    s->dev.read_only = parent->read_only;
    s->dev.read = slice_read;
    s->dev.write = slice_write;
    s->dev.flush = slice_flush;
    return true;
}
