/* Taskvisor ABI: the long disk operations (create, merge, merge-to, compact,
 * convert, check) started as tasks with DISK_START (0x210).
 *
 * DISK_START a0 = the task type (enum tv_task_type, one of the DISK_* types
 * below), a1 = guest-physical address of the type's argument record
 * (8-aligned), a2 = the record's size (exactly sizeof the record) ->
 * o0 = the new task id.  Everything Virtual PC checked before it returned
 * an IVMTask is checked before the task exists (docs/hypercalls.md).
 *
 * Paths are "VOLUME:/dir/name.vhd": a volume name as the image store lists
 * it, a colon, an absolute path on that volume ('/'-separated).  UTF-8,
 * NUL-terminated inside the field, at most TV_DISK_PATH_CHARS - 1
 * characters (Virtual PC's MAX_PATH); bytes after the NUL must be zero.
 * Every reserved field must be zero.  Fixed-size records with explicit
 * widths, no pointers, the same layout for 32- and 64-bit guests. */
#ifndef TASKVISOR_DISK_H
#define TASKVISOR_DISK_H

#include <stdint.h>

#define TV_DISK_PATH_MAX   512  /* bytes of a path field, NUL included */
#define TV_DISK_PATH_CHARS 260  /* Virtual PC's MAX_PATH: a path has fewer characters */

/* Sizes in MB (1 MB = 1,048,576 bytes), as Virtual PC's CreateFixed/Dynamic. */
#define TV_DISK_SIZE_MIN_MB 3u
#define TV_DISK_SIZE_MAX_MB 2088960u

/* Disk kinds: the VHD footer's disk type codes. */
enum tv_disk_kind {
    TV_DISK_KIND_FIXED        = 2,
    TV_DISK_KIND_DYNAMIC      = 3,
    TV_DISK_KIND_DIFFERENCING = 4,
};

/* TV_TASK_TYPE_DISK_CREATE_FIXED, TV_TASK_TYPE_DISK_CREATE_DYNAMIC. */
struct tv_disk_create_args {
    char     path[TV_DISK_PATH_MAX];
    uint64_t size_mb;        /* TV_DISK_SIZE_MIN_MB..TV_DISK_SIZE_MAX_MB */
    uint32_t block_size;     /* dynamic: 0 (2 MiB) or a power of two 512 B..256 MiB; fixed: 0 */
    uint32_t reserved0;
    uint64_t reserved[2];
};

/* TV_TASK_TYPE_DISK_CREATE_DIFF: a new differencing disk over parent (an
 * existing image on the same volume). */
struct tv_disk_create_diff_args {
    char     path[TV_DISK_PATH_MAX];
    char     parent[TV_DISK_PATH_MAX];
    uint64_t reserved[4];
};

/* TV_TASK_TYPE_DISK_MERGE (differencing disk into its parent),
 * TV_TASK_TYPE_DISK_COMPACT (dynamic or differencing), TV_TASK_TYPE_DISK_CHECK
 * (flags: TV_DISK_CHECK_REPAIR). */
struct tv_disk_image_args {
    char     path[TV_DISK_PATH_MAX];
    uint32_t flags;
    uint32_t reserved0;
    uint64_t reserved[3];
};
#define TV_DISK_CHECK_REPAIR (1u << 0) /* check only: write the safe repairs */

/* TV_TASK_TYPE_DISK_MERGE_TO (differencing chain -> new fixed or dynamic
 * disk), TV_TASK_TYPE_DISK_CONVERT (fixed -> dynamic or dynamic -> fixed;
 * the source is not changed).  target_kind: TV_DISK_KIND_FIXED or
 * TV_DISK_KIND_DYNAMIC. */
struct tv_disk_copy_args {
    char     path[TV_DISK_PATH_MAX];
    char     target[TV_DISK_PATH_MAX];
    uint32_t target_kind;
    uint32_t reserved0;
    uint64_t reserved[3];
};

_Static_assert(sizeof(struct tv_disk_create_args) == 544, "tv_disk_create_args layout");
_Static_assert(sizeof(struct tv_disk_create_diff_args) == 1056, "tv_disk_create_diff_args layout");
_Static_assert(sizeof(struct tv_disk_image_args) == 544, "tv_disk_image_args layout");
_Static_assert(sizeof(struct tv_disk_copy_args) == 1056, "tv_disk_copy_args layout");

#endif
