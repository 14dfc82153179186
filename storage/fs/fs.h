/* FAT12, FAT16, FAT32 and exFAT volumes: mount, files, directories.
 *
 * Portable (no libc).  Paths are UTF-8 with '/' (a leading '/' optional);
 * names compare case-insensitively (exFAT: the volume's up-case table;
 * FAT: ASCII folding).  A volume and its files are used by one thread at
 * a time.  Durability follows storage.h: file data is durable after
 * fs_flush; create, mkdir, truncate, rename and remove are durable when they
 * return.  Crash ordering and limits: docs/storage.md. */
#ifndef TV_FS_H
#define TV_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/fs/blockdev.h"
#include "taskvisor/status.h"

typedef struct fs_volume fs_volume_t;
typedef struct fs_file fs_file_t;

typedef struct fs_env {
    void *ctx;
    void *(*alloc)(void *ctx, size_t size); /* NULL on failure */
    void (*free)(void *ctx, void *ptr);
    uint32_t (*now)(void *ctx);              /* seconds since 2000-01-01 UTC */
} fs_env_t;

enum fs_kind { FS_KIND_FAT32 = 1, FS_KIND_EXFAT = 2, FS_KIND_FAT16 = 3, FS_KIND_FAT12 = 4 };

#define FS_NAME_MAX 255           /* UTF-16 units per name */
#define FS_FAT32_FILE_MAX 0xFFFFFFFFull

/* Recognises FAT12/16/32 or exFAT on dev (TV_E_WRONG_TYPE: none of them;
 * TV_E_CORRUPT: malformed).  A writable mount marks the volume in use and
 * repairs what an earlier crash may have left (docs/storage.md). */
tv_status_t fs_mount(const fs_blockdev_t *dev, const fs_env_t *env, bool writable, fs_volume_t **out);
/* Flushes, marks the volume clean, frees it.  Open files must be closed. */
tv_status_t fs_unmount(fs_volume_t *v);
int fs_kind(const fs_volume_t *v);
const char *fs_label(const fs_volume_t *v);       /* UTF-8, "" when none */
tv_status_t fs_space(fs_volume_t *v, uint64_t *total, uint64_t *free_bytes);
uint32_t fs_cluster_size(const fs_volume_t *v);

tv_status_t fs_open(fs_volume_t *v, const char *path, bool writable, fs_file_t **out);
tv_status_t fs_create(fs_volume_t *v, const char *path, fs_file_t **out);
tv_status_t fs_mkdir(fs_volume_t *v, const char *path);
/* Reads exactly len bytes; TV_E_INVALID_ARGUMENT past the end. */
tv_status_t fs_read(fs_file_t *f, uint64_t off, void *buf, size_t len);
/* Writes, growing the file (gaps read zero); TV_E_FILE_TOO_LARGE past the
 * FAT32 limit, TV_E_NO_SPACE when the volume is full. */
tv_status_t fs_write(fs_file_t *f, uint64_t off, const void *buf, size_t len);
tv_status_t fs_truncate(fs_file_t *f, uint64_t size);
uint64_t fs_size(const fs_file_t *f);
tv_status_t fs_flush(fs_file_t *f);
void fs_close(fs_file_t *f);
/* Replaces an existing target file. */
tv_status_t fs_rename(fs_volume_t *v, const char *from, const char *to);
/* A file, or an empty directory. */
tv_status_t fs_remove(fs_volume_t *v, const char *path);

typedef struct fs_dirent {
    char name[FS_NAME_MAX * 3 + 1]; /* UTF-8 */
    uint64_t size;
    bool dir;
    uint32_t mtime;     /* last write: DOS date << 16 | time (local time), 0 = none */
    int16_t mtime_tz;   /* minutes east of UTC (exFAT's UtcOffset), INT16_MIN = not stated */
    uint8_t mtime_10ms; /* exFAT: 10 ms units (0-199) past the 2-second stamp */
} fs_dirent_t;
/* Calls fn for every entry of a directory; fn returns false to stop. */
tv_status_t fs_list(fs_volume_t *v, const char *path, bool (*fn)(void *ctx, const fs_dirent_t *e), void *ctx);

#endif
