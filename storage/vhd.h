/* The VHD engine: open, read, write and create fixed, dynamic and
 * differencing VHD images (and raw images), through a storage seam.
 *
 * Reads and writes are at 512-byte granularity and go through the whole
 * differencing chain.  All sizes and offsets are bytes. */
#ifndef TV_VHD_H
#define TV_VHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"
#include "taskvisor/status.h"

#define TV_VHD_NAME_MAX  1024
#define TV_VHD_MAX_DEPTH 32

/* Image kinds: the VHD disk type codes, plus raw. */
enum tv_vhd_kind {
    TV_VHD_RAW = 1,
    TV_VHD_FIXED = 2,
    TV_VHD_DYNAMIC = 3,
    TV_VHD_DIFF = 4,
};

/* Open flags. */
enum {
    TV_VHD_OPEN_WRITE      = 1u << 0, /* writable (the top image only; parents stay read-only) */
    TV_VHD_OPEN_FIX_PARENT = 1u << 1, /* accept a changed parent and record its new id (Startup2) */
    TV_VHD_OPEN_NO_PARENT  = 1u << 2, /* do not open the parent (inspection only; reads fail) */
    TV_VHD_OPEN_RAW        = 1u << 3, /* the file is a raw image, not a VHD */
    TV_VHD_OPEN_NO_RECOVER = 1u << 4, /* do not finish interrupted operations or repair footers */
    TV_VHD_OPEN_DEFERRED   = 1u << 5, /* batch metadata until flush (fresh or journaled output) */
};

typedef struct tv_vhd tv_vhd_t;

struct tv_vhd_create_params {
    enum tv_vhd_kind kind;
    uint64_t size;            /* bytes; ignored for differencing (taken from the parent) */
    uint32_t block_size;      /* 0 = 2 MiB */
    const char *parent;       /* differencing only; relative = against the child's directory */
    bool parent_resolved;     /* parent is a seam name already (not taken against the child's directory) */
    bool exact_size;          /* keep size as given instead of rounding up to a CHS product */
    const uint8_t *uid;       /* NULL = new random unique id */
};

tv_status_t tv_vhd_open(tv_storage_t *st, const char *name, unsigned flags, tv_vhd_t **out);
/* Writes any pending metadata, flushes, closes the chain.  Returns the
 * first error met while finishing (the image is closed in any case). */
tv_status_t tv_vhd_close(tv_vhd_t *v);

tv_status_t tv_vhd_read(tv_vhd_t *v, uint64_t off, void *buf, size_t len);
tv_status_t tv_vhd_write(tv_vhd_t *v, uint64_t off, const void *buf, size_t len);
tv_status_t tv_vhd_flush(tv_vhd_t *v);

/* Creates the image skeleton (a fixed disk gets its data area by extending
 * the file; the create operation zero-fills explicitly with progress).
 * Fails with TV_E_EXISTS when name exists.  Returns the image opened for
 * writing when out is non-NULL, otherwise closes it. */
tv_status_t tv_vhd_create(tv_storage_t *st, const char *name, const struct tv_vhd_create_params *p,
                          unsigned open_flags, tv_vhd_t **out);

/* Introspection. */
enum tv_vhd_kind tv_vhd_kind(const tv_vhd_t *v);
uint64_t tv_vhd_size(const tv_vhd_t *v);
uint32_t tv_vhd_block_size(const tv_vhd_t *v);     /* 0 for fixed/raw */
uint32_t tv_vhd_block_count(const tv_vhd_t *v);    /* BAT entries covering the disk */
uint32_t tv_vhd_allocated_blocks(const tv_vhd_t *v);
tv_vhd_t *tv_vhd_parent(const tv_vhd_t *v);
const char *tv_vhd_name(const tv_vhd_t *v);
const uint8_t *tv_vhd_uid(const tv_vhd_t *v);      /* 16 bytes; zeros for raw */
uint64_t tv_vhd_file_size(const tv_vhd_t *v);
/* True when part of the range [off, off+len) may hold data anywhere in the
 * chain (false means it surely reads as zeros). */
bool tv_vhd_range_has_data(tv_vhd_t *v, uint64_t off, uint64_t len);

/* Problems found in an image opened read-only, reported rather than refused
 * (a writable open refuses BAT_ALIASED with TV_E_CORRUPT).  Or'ed over the
 * chain. */
enum {
    TV_VHD_WARN_BAT_ALIASED = 1u << 0, /* two BAT entries share file space */
    TV_VHD_WARN_PARENT_SIZE = 1u << 1, /* parent's unique id matches, its size does not */
};
unsigned tv_vhd_warnings(const tv_vhd_t *v);
const char *tv_vhd_warning_text(unsigned bit);

/* Names of a kind ("fixed", "dynamic", "differencing", "raw"). */
const char *tv_vhd_kind_name(enum tv_vhd_kind k);

#endif
