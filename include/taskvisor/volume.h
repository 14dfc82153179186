/* Taskvisor image store ABI: the records the disk hypercalls
 * (TV_HC_VOLUME_LIST, TV_HC_DIR_LIST, TV_HC_DISK_INFO) write into the
 * caller's memory (TV_HC_DIR_CREATE, which makes a folder, writes none).  Fixed sizes, 8-byte aligned, NUL-terminated UTF-8
 * strings.  See docs/hypercalls.md. */
#ifndef TASKVISOR_VOLUME_H
#define TASKVISOR_VOLUME_H

#include <stdint.h>

#define TV_VOLUME_NAME_MAX  64   /* bytes, with the NUL */
#define TV_VOLUME_LABEL_MAX 48
#define TV_VOLUME_DEVICE_MAX 16

enum tv_fs_type { TV_FS_FAT32 = 1, TV_FS_EXFAT = 2, TV_FS_FAT16 = 3, TV_FS_FAT12 = 4 };

#define TV_VOLUME_F_READ_ONLY  (1u << 0) /* mounted read-only (device read-only or volume damaged) */
#define TV_VOLUME_F_ESP        (1u << 1) /* the EFI system partition */
#define TV_VOLUME_F_WHOLE_DISK (1u << 2) /* a file system on the whole disk, no partition table */
#define TV_VOLUME_F_GPT        (1u << 3) /* found in a GPT (else MBR or whole disk) */

struct tv_volume_info {
    char name[TV_VOLUME_NAME_MAX];     /* the name paths use: "NAME:/dir/file" */
    char label[TV_VOLUME_LABEL_MAX];   /* the file system's label, "" if none */
    char device[TV_VOLUME_DEVICE_MAX]; /* the block device ("vblk0", "ahci0p0", ...) */
    uint32_t fs_type;                  /* enum tv_fs_type */
    uint32_t flags;                    /* TV_VOLUME_F_* */
    uint32_t partition;                /* MBR 1-4 primary, 5.. logical; GPT entry + 1; 0 whole disk */
    uint32_t cluster_size;             /* bytes */
    uint64_t first_sector;             /* on the device */
    uint64_t size_bytes;               /* the file system's data area */
    uint64_t free_bytes;
};

#define TV_DIR_NAME_MAX 768              /* 255 UTF-16 units as UTF-8, with the NUL */
#define TV_DIR_F_DIR        (1u << 0)
#define TV_DIR_F_TIME_VALID (1u << 1)    /* mtime holds a time stamp */

struct tv_dir_entry {
    uint64_t size;                     /* bytes; 0 for directories */
    int64_t mtime;                     /* last modification, Unix seconds (UTC; FAT32 stores
                                          local time without a zone: taken as UTC) */
    uint32_t flags;                    /* TV_DIR_F_* */
    uint32_t reserved;
    char name[TV_DIR_NAME_MAX];
};

#define TV_DISK_INFO_NAME_MAX 256 /* bytes of a parent name in tv_disk_info */
#define TV_DISK_MAX_PARENTS 8            /* parents named in the record (depth counts them all) */

enum tv_disk_type { TV_DISK_RAW = 1, TV_DISK_FIXED = 2, TV_DISK_DYNAMIC = 3, TV_DISK_DIFFERENCING = 4 };

#define TV_DISK_F_PARENT_MISSING (1u << 0) /* the chain ends at a parent that was not found */
#define TV_DISK_F_BAT_ALIASED    (1u << 1) /* two BAT entries share file space (warning) */
#define TV_DISK_F_PARENT_SIZE    (1u << 2) /* a parent's id matches, its size does not */

struct tv_disk_info {
    uint32_t type;                     /* enum tv_disk_type (the VHD disk type codes) */
    uint32_t flags;                    /* TV_DISK_F_* */
    uint64_t virtual_size;             /* bytes the guest sees */
    uint64_t file_size;                /* bytes of the image file */
    uint32_t block_size;               /* dynamic/differencing: bytes per block; 0 fixed */
    uint32_t block_count;              /* BAT entries */
    uint32_t allocated_blocks;
    uint32_t depth;                    /* parents below this image (0: none) */
    uint8_t unique_id[16];
    char parents[TV_DISK_MAX_PARENTS][TV_DISK_INFO_NAME_MAX]; /* "VOLUME:/path", nearest first */
};

/* The record sizes are ABI. */
_Static_assert(sizeof(struct tv_volume_info) == 168, "tv_volume_info is 168 bytes");
_Static_assert(sizeof(struct tv_dir_entry) == 792, "tv_dir_entry is 792 bytes");
_Static_assert(sizeof(struct tv_disk_info) == 2104, "tv_disk_info is 2104 bytes");

#endif
