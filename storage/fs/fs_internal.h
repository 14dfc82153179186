/* Inside the FAT/exFAT code: the volume, the cache, the shared cluster
 * layer (fs_core.c) and what each format provides (fat32.c for FAT12, FAT16
 * and FAT32; exfat.c). */
#ifndef TV_FS_INTERNAL_H
#define TV_FS_INTERNAL_H

#include "storage/fs/fs.h"

#define FS_CACHE_SLOTS 32
#define FS_EOC 0xFFFFFFFFu        /* end of chain, as the core passes it */
#define FS_DIRENT 32              /* every directory entry is 32 bytes */
#define FS_ATOMIC 512             /* what survives a power cut whole */

/* A file or directory as the core sees it, and where its entry lives. */
typedef struct fs_node {
    uint32_t first;      /* first cluster, 0 = none */
    uint64_t size;       /* data length in bytes (directories: exFAT only) */
    uint64_t valid;      /* exFAT ValidDataLength: bytes past it read as zeros */
    bool contig;         /* exFAT NoFatChain: clusters first.. contiguous */
    bool dir;
    bool root;           /* the root directory: no entry of its own */
    uint8_t attr;
    uint32_t mtime;      /* last write, DOS date << 16 | time; 0 = none */
    int16_t mtime_tz;    /* exFAT: minutes east of UTC; INT16_MIN = not stated */
    uint8_t mtime_10ms;  /* exFAT: 10 ms units (0-199) past the 2-second stamp */
    /* Entry set: parent directory and byte offset of its first slot. */
    uint32_t p_first;
    bool p_contig, p_root;
    uint64_t p_size;
    uint64_t ent_off;
    uint32_t ent_count;
} fs_node_t;

struct cache_slot {
    uint64_t off;        /* byte offset on the device, sector aligned */
    uint32_t use;
    bool valid, dirty;
    uint8_t *data;
};

struct fs_fmt;

struct fs_volume {
    const fs_blockdev_t *dev;
    fs_env_t env;
    const struct fs_fmt *fmt;
    bool writable;
    bool exfat;
    bool dirty;          /* in-use mark written (exFAT VolumeDirty / FSInfo) */
    uint32_t dsec;       /* device sector size */
    uint32_t bps;        /* file-system sector size */
    uint32_t csize;      /* cluster size in bytes */
    uint32_t clusters;   /* clusters in the heap: 2 .. clusters+1 */
    uint64_t fat_off;    /* byte offset of the first FAT */
    uint64_t fat_bytes;  /* bytes per FAT */
    uint32_t nfats;
    uint64_t heap_off;   /* byte offset of cluster 2 */
    uint32_t root;       /* first cluster of the root directory */
    uint32_t free_count;
    uint32_t next_free;  /* allocation hint */
    /* FAT12/16/32 */
    uint32_t fat_bits;   /* 12, 16 or 32 (0: exFAT) */
    uint64_t fsinfo_off; /* FAT32's FSInfo; 0 = none */
    uint64_t root_off;   /* FAT12/16: the fixed root directory region ... */
    uint32_t root_bytes; /* ... and its size (0: the root is a cluster chain) */
    /* exFAT */
    uint32_t bitmap_first;
    uint64_t bitmap_bytes;
    bool bitmap_contig;  /* its clusters are consecutive (no FAT walk) */
    uint32_t upcase_first;
    uint64_t upcase_bytes;
    uint16_t vol_flags;  /* VolumeFlags as found at mount */
    uint16_t *upcase;    /* 65536 entries */
    uint32_t open_files;
    /* A repair's first pass only checks: metadata writes are dropped, so a
     * volume that fails its checks is never written. */
    bool dry;
    /* The last chain position fs_node_io reached (directory scans read
     * entry after entry); forgotten whenever a FAT entry changes. */
    uint32_t walk_first, walk_k, walk_c;
    char label[FS_NAME_MAX * 3 + 1];
    struct cache_slot cache[FS_CACHE_SLOTS];
    uint32_t use_clock;
    uint8_t *bounce;     /* one device sector */
};

struct fs_file {
    fs_volume_t *v;
    fs_node_t node;
    bool writable;
    /* Position cache for chain walks: cluster index -> cluster. */
    uint32_t pos_index, pos_cluster;
};

/* A decoded name: UTF-16 units. */
typedef struct fs_name {
    uint16_t u[FS_NAME_MAX];
    uint32_t len;
} fs_name_t;

/* What a format provides. */
struct fs_fmt {
    /* Finds name in dir; TV_E_NOT_FOUND. */
    tv_status_t (*find)(fs_volume_t *v, const fs_node_t *dir, const fs_name_t *name, fs_node_t *out);
    /* Adds an entry for out (first/size/dir filled in) named name. */
    tv_status_t (*add)(fs_volume_t *v, fs_node_t *dir, const fs_name_t *name, fs_node_t *out);
    /* Writes the node's first cluster, size and flags to its entry. */
    tv_status_t (*update)(fs_volume_t *v, const fs_node_t *n);
    /* Marks the entry set free. */
    tv_status_t (*unlink)(fs_volume_t *v, const fs_node_t *n);
    /* Renames n in place when the new set fits its slots (same directory).
     * TV_E_UNSUPPORTED when it does not fit. */
    tv_status_t (*rename_in_place)(fs_volume_t *v, fs_node_t *n, const fs_name_t *name);
    /* Iterates; fn returns false to stop. */
    tv_status_t (*iterate)(fs_volume_t *v, const fs_node_t *dir,
                           bool (*fn)(void *ctx, const fs_name_t *name, const fs_node_t *n), void *ctx);
    /* Allocation state of a cluster and its change (FAT32: the FAT; exFAT: the bitmap). */
    tv_status_t (*is_free)(fs_volume_t *v, uint32_t c, bool *free_);
    tv_status_t (*mark)(fs_volume_t *v, uint32_t c, bool used);
    /* Initialises a new directory's first cluster (already zeroed). */
    tv_status_t (*init_dir)(fs_volume_t *v, const fs_node_t *parent, const fs_node_t *dir);
    /* Writable mount/unmount marks. */
    tv_status_t (*set_dirty)(fs_volume_t *v, bool dirty);
    uint64_t max_file;
};

/* A format's find: its iterate, compared with fs_name_equal (both formats). */
tv_status_t fs_find_by_name(fs_volume_t *v, const fs_node_t *dir, const fs_name_t *name,
                            fs_node_t *out);

extern const struct fs_fmt fs_fat32_fmt;
extern const struct fs_fmt fs_exfat_fmt;

/* exFAT: checks the boot region (the backup one stands in for a damaged
 * main one on a read-only mount) and loads bitmap, up-case table, label. */
tv_status_t fs_exfat_probe(fs_volume_t *v, const uint8_t *boot, bool writable);
/* exFAT after a session that left VolumeDirty set: free clusters the
 * bitmap holds that nothing reaches, trim FAT chains past their file. */
tv_status_t fs_exfat_recover(fs_volume_t *v);
tv_status_t fs_exfat_bit(fs_volume_t *v, uint32_t c, bool *used);
/* The bitmap as a node (for fs_node_io). */
void fs_exfat_bitmap_node(const fs_volume_t *v, fs_node_t *n);

/* FAT12, FAT16 or FAT32 (the BPB's layout tells FAT32 from the others,
 * the cluster count FAT12 from FAT16). */
tv_status_t fs_fat32_probe(fs_volume_t *v, const uint8_t *boot);
/* FAT12/16/32 after a crash: reclaim lost clusters, trim chains past EOF, copy FAT1 to the others. */
tv_status_t fs_fat32_recover(fs_volume_t *v);

/* fs_core.c: byte I/O through the write-back metadata cache. */
void *fs_alloc(fs_volume_t *v, size_t n);
void fs_free(fs_volume_t *v, void *p);
tv_status_t fs_meta_read(fs_volume_t *v, uint64_t off, void *buf, size_t len);
tv_status_t fs_meta_write(fs_volume_t *v, uint64_t off, const void *buf, size_t len);
tv_status_t fs_data_read(fs_volume_t *v, uint64_t off, void *buf, size_t len);
tv_status_t fs_data_write(fs_volume_t *v, uint64_t off, const void *buf, size_t len);
tv_status_t fs_zero(fs_volume_t *v, uint64_t off, uint64_t len);
/* Ordering point: writes every dirty cached sector, then flushes the device. */
tv_status_t fs_barrier(fs_volume_t *v);
tv_status_t fs_sync_cache(fs_volume_t *v);
static inline uint64_t fs_cluster_off(const fs_volume_t *v, uint32_t c)
{
    return v->heap_off + (uint64_t)(c - 2) * v->csize;
}
static inline bool fs_cluster_ok(const fs_volume_t *v, uint32_t c)
{
    return c >= 2 && c - 2 < v->clusters;
}
/* False for a FAT12 cluster whose 12-bit entry straddles a 512-byte sector
 * boundary (2 in every 1024, at byte 511 of every third FAT sector): a power cut could tear a change of that entry into a
 * pointer nobody wrote, so such clusters are never allocated (and not
 * counted as free space). */
static inline bool fs_cluster_usable(const fs_volume_t *v, uint32_t c)
{
    return v->fat_bits != 12 || (c + c / 2) % FS_ATOMIC != FS_ATOMIC - 1;
}
/* The fixed root directory of FAT12/16 (no clusters, cannot grow). */
static inline bool fs_fixed_root(const fs_volume_t *v, const fs_node_t *n)
{
    return n->root && v->root_bytes != 0;
}

/* FAT entries (FAT12/16/32: every FAT kept in step; values masked to 12,
 * 16 or 28 bits, end-of-chain returned as FS_EOC and the bad-cluster mark
 * as FS_FAT_BAD whatever the width). */
#define FS_FAT_BAD 0x0FFFFFF7u
tv_status_t fs_fat_get(fs_volume_t *v, uint32_t c, uint32_t *next);
tv_status_t fs_fat_set(fs_volume_t *v, uint32_t c, uint32_t next);
/* The k-th cluster of a node (walks the chain); TV_E_CORRUPT when short. */
tv_status_t fs_node_cluster(fs_volume_t *v, const fs_node_t *n, uint32_t k, uint32_t *c,
                            uint32_t *cache_k, uint32_t *cache_c);
/* Number of clusters of a chain (bounded by the volume; loops are CORRUPT). */
tv_status_t fs_chain_length(fs_volume_t *v, const fs_node_t *n, uint32_t *len, uint32_t *last);
/* Grows or shrinks the node's allocation to `clusters` clusters with the
 * crash order of docs/storage.md; updates n->first/contig (not size, not
 * the entry: the caller writes the entry after its data). */
tv_status_t fs_resize_chain(fs_volume_t *v, fs_node_t *n, uint32_t clusters);
/* Frees the clusters from index `keep` on (the entry already no longer covers them). */
tv_status_t fs_free_tail(fs_volume_t *v, fs_node_t *n, uint32_t keep);
/* Directory bytes through the node's clusters. */
tv_status_t fs_node_io(fs_volume_t *v, const fs_node_t *n, uint64_t off, void *buf, size_t len, bool write);
/* Byte length of a directory (exFAT subdirs: size; others: chain length). */
tv_status_t fs_dir_bytes(fs_volume_t *v, const fs_node_t *dir, uint64_t *bytes);
/* Appends one zeroed cluster to a directory (and its size when it has one). */
tv_status_t fs_dir_grow(fs_volume_t *v, fs_node_t *dir);

/* fs_name.c */
tv_status_t fs_name_from_utf8(const char *s, size_t len, fs_name_t *out);
void fs_name_to_utf8(const fs_name_t *n, char *out, size_t cap);
uint16_t fs_upcase(const fs_volume_t *v, uint16_t c);
bool fs_name_equal(const fs_volume_t *v, const fs_name_t *a, const fs_name_t *b);

static inline uint16_t fs_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t fs_le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t fs_le64(const uint8_t *p) { return fs_le32(p) | (uint64_t)fs_le32(p + 4) << 32; }
static inline void fs_put16(uint8_t *p, uint16_t x) { p[0] = (uint8_t)x; p[1] = (uint8_t)(x >> 8); }
static inline void fs_put32(uint8_t *p, uint32_t x) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(x >> (8 * i)); }
static inline void fs_put64(uint8_t *p, uint64_t x) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(x >> (8 * i)); }

#endif
