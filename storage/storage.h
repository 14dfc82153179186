/* The storage seam: everything the VHD engine needs from the world.
 *
 * The engine is portable C; it never touches files directly.  A seam
 * implementation names files by strings ("names"), and provides memory,
 * time and entropy.  The hosted implementation (storage/host/) maps names to
 * POSIX paths; the monitor will map them to its image store on block devices;
 * the tests use an in-memory, fault-injecting one.
 *
 * Durability contract (the power-cut model the engine is written against):
 *  - a write is durable only after a later flush of the same file returns OK;
 *    until then any subset of its 512-byte sectors may survive a power cut,
 *    each sector atomically (old or new contents, never a mix);
 *  - create, mkdir, truncate, rename and remove are atomic and durable when
 *    they return OK (the hosted seam syncs the directory for
 *    create/mkdir/rename/remove);
 *  - truncate that extends a file fills the new range with zeros;
 *  - rename replaces an existing target atomically.
 *
 * Locking: an open may ask for a shared or an exclusive lock on the file
 * (TV_ST_SHARED / TV_ST_EXCLUSIVE); it never waits: a lock that conflicts
 * with one held through another open (in this or another process) fails at
 * once with TV_E_BUSY ("in use").  A lock lasts until close and follows the
 * file, not the name (a rename keeps it).  The engine takes shared locks for
 * images it only reads and exclusive ones for images it writes, replaces or
 * deletes, so a second writer of an image in use is refused. */
#ifndef TV_STORAGE_H
#define TV_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

typedef struct tv_sfile tv_sfile_t; /* an open file, owned by the seam */

/* Open modes (bits). */
enum {
    TV_ST_WRITE     = 1u << 0, /* read-write (else read-only) */
    TV_ST_SHARED    = 1u << 1, /* hold a shared lock */
    TV_ST_EXCLUSIVE = 1u << 2, /* hold an exclusive lock */
};

typedef struct tv_storage {
    void *ctx;
    /* Opens an existing file with mode TV_ST_* bits; TV_E_NOT_FOUND when
     * absent, TV_E_WRONG_TYPE when it is neither a regular file nor a block
     * device (a FIFO, a directory, ...: refused without blocking),
     * TV_E_BUSY when the lock asked for is held elsewhere. */
    tv_status_t (*open)(void *ctx, const char *name, unsigned mode, tv_sfile_t **out);
    /* Creates a new empty file opened read-write and locked exclusively;
     * TV_E_EXISTS when present. */
    tv_status_t (*create)(void *ctx, const char *name, tv_sfile_t **out);
    tv_status_t (*read)(tv_sfile_t *f, uint64_t off, void *buf, size_t len);
    tv_status_t (*write)(tv_sfile_t *f, uint64_t off, const void *buf, size_t len);
    tv_status_t (*flush)(tv_sfile_t *f);
    tv_status_t (*size)(tv_sfile_t *f, uint64_t *out);
    tv_status_t (*truncate)(tv_sfile_t *f, uint64_t size);
    void (*close)(tv_sfile_t *f);
    tv_status_t (*rename)(void *ctx, const char *from, const char *to);
    tv_status_t (*remove)(void *ctx, const char *name);
    /* Optional (may be NULL): sets *maybe to false when [off, off+len) of
     * the file surely reads as zeros (a hole), true otherwise.  Lets copies
     * skip the holes of sparse raw and fixed sources. */
    tv_status_t (*has_data)(tv_sfile_t *f, uint64_t off, uint64_t len, bool *maybe);
    /* Optional (NULL: the seam has no folders of its own): creates the
     * folder `name`.  TV_E_EXISTS when a file or folder has the name,
     * TV_E_NOT_FOUND when its parent folder is missing (never created on
     * the way), TV_E_READ_ONLY on a read-only volume.  The engine never
     * calls it; the disk service does (DIR_CREATE).  A folder opened with
     * open() gives TV_E_WRONG_TYPE, which is how a seam's folders are
     * told apart from missing names. */
    tv_status_t (*mkdir)(void *ctx, const char *name);
    /* Memory for engine structures (BAT, buffers).  NULL on failure. */
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr);
    /* Seconds since 2000-01-01 00:00 UTC (the VHD epoch). */
    uint32_t (*now)(void *ctx);
    /* Fills buf with unpredictable bytes (unique ids). */
    void (*entropy)(void *ctx, void *buf, size_t len);
    /* When false the engine skips its flushes (bench's "flushing off").
     * Crash safety then depends on the OS; only for throwaway output. */
    bool flushes;
} tv_storage_t;

/* Small conveniences over the seam. */
static inline void *tv_st_alloc(tv_storage_t *st, size_t n) { return st->alloc(st->ctx, n); }
static inline void tv_st_free(tv_storage_t *st, void *p) { if (p) st->free(st->ctx, p); }
static inline tv_status_t tv_st_flush(tv_storage_t *st, tv_sfile_t *f)
{
    return st->flushes ? st->flush(f) : TV_OK;
}

#endif
