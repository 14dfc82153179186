/* Block device -> fs_blockdev_t: see blk_fsdev.h.  The checks are repeated
 * here although the driver layer makes them too: the file systems' every
 * sector number comes from an untrusted volume, and a refused range must
 * never reach a driver as a wrapped-around one. */
#include "services/blk_fsdev.h"

static tv_status_t check(struct blkfs *a, uint64_t lba, uint32_t count)
{
    if (a->b.may_block && !a->b.may_block(a->b.dev)) {
        a->refused++;
        return TV_E_INVALID_STATE;
    }
    if (lba > a->b.sectors || count > a->b.sectors - lba)
        return TV_E_INVALID_ARGUMENT;
    return TV_OK;
}

static tv_status_t fsdev_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
    struct blkfs *a = ctx;
    tv_status_t st = check(a, lba, count);
    if (st != TV_OK || count == 0)
        return st;
    a->reads++;
    return a->b.read(a->b.dev, lba, count, buf);
}

static tv_status_t fsdev_write(void *ctx, uint64_t lba, uint32_t count, const void *buf)
{
    struct blkfs *a = ctx;
    if (a->b.read_only)
        return TV_E_READ_ONLY;
    tv_status_t st = check(a, lba, count);
    if (st != TV_OK || count == 0)
        return st;
    a->writes++;
    return a->b.write(a->b.dev, lba, count, buf);
}

static tv_status_t fsdev_flush(void *ctx)
{
    struct blkfs *a = ctx;
    if (a->b.may_block && !a->b.may_block(a->b.dev)) {
        a->refused++;
        return TV_E_INVALID_STATE;
    }
    a->flushes++;
    return a->b.flush ? a->b.flush(a->b.dev) : TV_OK;
}

tv_status_t blkfs_init(struct blkfs *a, const struct blkfs_backend *b)
{
    if (!b->read || (!b->read_only && !b->write) || b->sectors == 0)
        return TV_E_INVALID_ARGUMENT;
    uint32_t ss = b->sector_size;
    if (ss < 512 || ss > 4096 || (ss & (ss - 1)))
        return TV_E_UNSUPPORTED;
    *a = (struct blkfs){ .b = *b };
    a->fs = (fs_blockdev_t){
        .ctx = a, .sector_size = ss, .sectors = b->sectors, .read_only = b->read_only,
        .read = fsdev_read, .write = fsdev_write, .flush = fsdev_flush,
    };
    return TV_OK;
}
