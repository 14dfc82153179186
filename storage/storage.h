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
 *  - create, truncate, rename and remove are atomic and durable when they
 *    return OK (the hosted seam syncs the directory for create/rename/remove);
 *  - truncate that extends a file fills the new range with zeros;
 *  - rename replaces an existing target atomically. */
#ifndef TV_STORAGE_H
#define TV_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

typedef struct tv_sfile tv_sfile_t; /* an open file, owned by the seam */

typedef struct tv_storage {
    void *ctx;
    /* Opens an existing file; TV_E_NOT_FOUND when absent. */
    tv_status_t (*open)(void *ctx, const char *name, bool writable, tv_sfile_t **out);
    /* Creates a new empty file opened read-write; TV_E_EXISTS when present. */
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
