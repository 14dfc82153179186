/* Engine internals shared by the storage/ sources (not a public API). */
#ifndef TV_VHD_INTERNAL_H
#define TV_VHD_INTERNAL_H

#include "vhd.h"
#include "vhd_format.h"

#define VHD_NO_BLOCK 0xFFFFFFFFu
/* Internal open flag: skip the interrupted-merge journal (recovery itself). */
#define VHD_OPEN_NO_JOURNAL (1u << 16)
/* Internal open flag (check): accept BAT entries outside the file. */
#define VHD_OPEN_TOLERANT (1u << 17)
/* Internal open flag: lock exclusively though read-only (the image will be
 * replaced, as by compact, or deleted, as the child of a merge). */
#define VHD_OPEN_LOCK_EXCL (1u << 18)

struct tv_vhd {
    tv_storage_t *st;
    tv_sfile_t *f;
    char name[TV_VHD_NAME_MAX];
    unsigned flags;
    enum tv_vhd_kind kind;
    uint64_t size;              /* virtual size */
    uint64_t file_size;
    struct vhd_footer footer;
    uint8_t footer_raw[VHD_FOOTER_SIZE];
    bool end_footer_bad;        /* end footer missing, corrupt or stale: rewrite it */
    bool copy_footer_bad;       /* footer copy at offset 0 corrupt: rewrite it */
    struct vhd_header header;
    uint8_t header_raw[VHD_HEADER_SIZE];
    uint32_t block_size;
    uint32_t bm_bytes;          /* bitmap bytes, sector padded */
    uint32_t entries;           /* BAT entries on disk (max table entries) */
    uint32_t used_entries;      /* entries covering the disk size */
    uint32_t *bat;              /* host order sector numbers */
    uint64_t next_free;         /* where the next block (and the end footer) goes */
    uint32_t bat_dirty_lo, bat_dirty_hi; /* deferred BAT range, lo > hi when clean */
    bool footer_moved;          /* end footer must be rewritten at next_free */
    uint8_t *bm;                /* cached bitmap of block bm_block */
    uint32_t bm_block;
    bool bm_dirty;
    uint8_t *zeros;             /* zero buffer of zeros_len bytes */
    size_t zeros_len;
    tv_vhd_t *parent;
    unsigned warn;              /* TV_VHD_WARN_* found while opening this image */
};

/* While a merge is pending, the parent seen beneath the merging child keeps
 * the unique id the child knows even after the merge gave it its new one. */
struct vhd_uid_alias {
    bool set;
    uint8_t from[16], to[16];
};

/* Byte offset of block b's bitmap, or 0 when unallocated. */
static inline uint64_t vhd_block_offset(const tv_vhd_t *v, uint32_t b)
{
    return v->bat[b] == VHD_BAT_UNUSED ? 0 : (uint64_t)v->bat[b] * VHD_SECTOR;
}

/* Raw file access of one image; a write extends the known file size. */
static inline tv_status_t vhd_rd(tv_vhd_t *v, uint64_t off, void *buf, size_t len)
{
    return v->st->read(v->f, off, buf, len);
}

static inline tv_status_t vhd_wr(tv_vhd_t *v, uint64_t off, const void *buf, size_t len)
{
    tv_status_t s = v->st->write(v->f, off, buf, len);
    if (s == TV_OK && off + len > v->file_size)
        v->file_size = off + len;
    return s;
}

/* Dynamic and differencing disks have a header, a BAT and blocks. */
static inline bool vhd_is_sparse(const tv_vhd_t *v)
{
    return v->kind == TV_VHD_DYNAMIC || v->kind == TV_VHD_DIFF;
}

/* Blocks and metadata (vhd_block.c). */
/* Loads block b's bitmap into v->bm (block must be allocated). */
tv_status_t vhd_load_bitmap(tv_vhd_t *v, uint32_t b);
/* Writes the cached bitmap if it changed (deferred mode). */
tv_status_t vhd_write_cached_bitmap(tv_vhd_t *v);
/* Allocates block b at the end of the file: bitmap bm, data zeros except
 * [in, in+len) taken from data; crash-ordered unless deferred. */
tv_status_t vhd_allocate_block(tv_vhd_t *v, uint32_t b, const uint8_t *bm, const uint8_t *data,
                               uint32_t in, uint32_t len);
/* Writes bitmap and block data as a whole new block b (must be unallocated):
 * bitmap bm, data (block_size bytes, NULL = zeros). */
tv_status_t vhd_put_block(tv_vhd_t *v, uint32_t b, const uint8_t *bm, const uint8_t *data);
/* Raw write into a region of the file known to read zeros (fresh fixed or
 * raw output): all-zero pieces are skipped. */
tv_status_t vhd_write_fresh(tv_vhd_t *v, uint64_t off, const void *buf, size_t len);
/* Writes the cached bitmap and any deferred BAT entries and footer. */
tv_status_t vhd_sync_metadata(tv_vhd_t *v);
/* Writes the footer at offset 0 (dynamic) and at the end. */
tv_status_t vhd_write_footers(tv_vhd_t *v);
/* Writes the header (both sectors) with a fresh checksum. */
tv_status_t vhd_write_header(tv_vhd_t *v);

/* Parent locators (vhd_locator.c). */
tv_status_t vhd_open_parent(tv_vhd_t *child, unsigned flags, unsigned depth);
/* Fills header parent fields and locator entries for parent_name (already
 * resolved), reserving locator data from *next_off on; writes the data. */
tv_status_t vhd_write_locators(tv_vhd_t *child, const char *parent_name, uint64_t *next_off,
                               bool write_now);

/* Path helpers (vhd_path.c).  All return TV_E_LIMIT when out is too small. */
tv_status_t vhd_path_dir(const char *name, char *out, size_t size);        /* "a/b/c" -> "a/b/" */
tv_status_t vhd_path_join(const char *dir, const char *rel, char *out, size_t size);
tv_status_t vhd_path_relative(const char *from_dir, const char *to, char *out, size_t size);
/* Path of to relative to directory from_dir when both are absolute or both
 * relative (to one working directory); otherwise to itself. */
tv_status_t vhd_path_relative_names(const char *from_dir, const char *to, char *out, size_t size);
tv_status_t vhd_path_suffix(const char *name, const char *suffix, char *out, size_t size);
bool vhd_path_is_absolute(const char *p);
/* UTF-8 <-> UTF-16 (little or big endian). Returns bytes produced. */
tv_status_t vhd_utf8_to_utf16(const char *in, uint8_t *out, size_t size, bool big_endian, size_t *len);
tv_status_t vhd_utf16_to_utf8(const uint8_t *in, size_t len, bool big_endian, char *out, size_t size);

/* Open internals used by check and recovery (vhd_open.c). */
tv_status_t vhd_open_ex(tv_storage_t *st, const char *name, unsigned flags, unsigned depth,
                        const uint8_t *via_child_uid, tv_vhd_t **out);

/* Interrupted-operation recovery (vhd_merge.c). */
tv_status_t vhd_journal_name(const char *image, char *out, size_t size);
tv_status_t vhd_recover(tv_storage_t *st, const char *name, const uint8_t *via_child_uid,
                        bool writable, struct vhd_uid_alias *alias);
/* What a pending merge journal says (check reports it). */
enum vhd_journal_state { VHD_JOURNAL_NONE, VHD_JOURNAL_TORN, VHD_JOURNAL_READY, VHD_JOURNAL_CHILD_MISSING,
                         VHD_JOURNAL_CHILD_WRONG };
tv_status_t vhd_journal_inspect(tv_storage_t *st, const char *name, enum vhd_journal_state *state,
                                char *child, size_t size);
/* Check --repair of a journal whose child is gone or is another disk: the
 * parent gets the merge's new unique id (its other children then refuse it
 * as changed) and the journal is removed. */
tv_status_t vhd_journal_abandon(tv_storage_t *st, const char *name);

#endif
