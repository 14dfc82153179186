/* Volumes on a disk: MBR (primary and logical partitions) and GPT
 * partition tables, or a file system on the whole disk; the EFI system
 * partition is one of them.  Portable (no libc); every byte of the disk is
 * untrusted.
 *
 * Names: the file system's label, else (GPT) the partition's unique GUID,
 * else "diskD-pN" (disk D, partition N; "diskD" for a whole-disk volume). */
#ifndef TV_VOLUME_H
#define TV_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/fs/blockdev.h"
#include "storage/fs/fs.h"
#include "taskvisor/status.h"

#define VOL_MAX_PARTS 32
#define VOL_NAME_MAX (FS_NAME_MAX * 3 + 1)

enum vol_scheme { VOL_WHOLE = 1, VOL_MBR = 2, VOL_GPT = 3 };

typedef struct vol_part {
    uint64_t first, count;   /* disk sectors */
    uint32_t index;          /* MBR: 1-4 primary, 5.. logical; GPT: entry number + 1; whole disk: 0 */
    uint8_t mbr_type;        /* MBR system id (0 for GPT) */
    uint8_t type_guid[16];   /* GPT, as stored on disk */
    uint8_t part_guid[16];
    bool esp;                /* EFI system partition (GPT type or MBR 0xEF) */
} vol_part_t;

typedef struct vol_table {
    int scheme;
    bool gpt_backup_used;    /* the primary GPT header or array was damaged */
    uint32_t count;
    vol_part_t part[VOL_MAX_PARTS];
} vol_table_t;

/* Reads the partition table of disk (TV_E_CORRUPT: a table that fails its
 * checks, e.g. a protective MBR whose GPT headers are both bad; TV_E_LIMIT:
 * more than VOL_MAX_PARTS partitions).  env gives memory for the GPT array. */
tv_status_t vol_scan(const fs_blockdev_t *disk, const fs_env_t *env, vol_table_t *out);

/* The volume's name (see above) into out. */
void vol_name(const vol_table_t *t, const vol_part_t *p, const char *label, uint32_t disk, char *out, size_t cap);

/* A GUID as text (XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX, upper case; the
 * first three fields are stored little-endian). */
void vol_guid_text(const uint8_t *g, char *out, size_t cap);

uint32_t vol_crc32(uint32_t crc, const void *buf, size_t len);

#endif
