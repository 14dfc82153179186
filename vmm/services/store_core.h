/* The image store's portable core: every FAT32/exFAT volume found on the
 * disks it is given, mounted and named, each with a storage seam
 * (fs_store_new) that the VHD engine runs on.  The monitor feeds it its
 * block devices (vmm/services/image_store.c); the unit tests memory disks.
 *
 * Names: the volume's name from storage/volume (label, else the GPT
 * partition's unique GUID, else "diskD-pN", "diskD" for a whole disk, D the
 * device's index in the order given), with every character that cannot
 * appear in "NAME:/path" on the console (':', '/', '\\', space, control
 * characters) replaced by '_', cut to TV_VOLUME_NAME_MAX - 4 bytes, and,
 * when an earlier volume already has that name (ASCII case ignored), "~2",
 * "~3", ... appended.  Lookups ignore ASCII case.
 *
 * Concurrency: a volume is used by one thread at a time (storage/fs), so
 * every seam operation and every listing holds the volume's sleeping lock;
 * the seam handed out (store_seam) is the locked one.  Callers must be
 * threads that may wait for a device (never a vCPU's). */
#ifndef SERVICES_STORE_CORE_H
#define SERVICES_STORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/fs/fs.h"
#include "storage/storage.h"
#include "taskvisor/status.h"
#include "taskvisor/volume.h"

#define STORE_MAX_VOLUMES 32
#define STORE_PATH_MAX 1024   /* bytes of "NAME:/path" with the NUL */

struct store;

/* platform: alloc, free, now, entropy and flushes for the seams and the
 * file systems (its ctx goes to them). */
tv_status_t store_create(const tv_storage_t *platform, struct store **out);
/* Unmounts every volume (clean: exFAT VolumeDirty and FAT32's free count
 * written) and frees the store.  Returns the first error. */
tv_status_t store_destroy(struct store *s);

/* Scans one disk (device name for the records, its index for names) and
 * mounts what it finds: writable unless the disk is read-only, read-only
 * when a writable mount is refused as damaged.  *mounted (if not NULL)
 * gets how many volumes this disk added.  Volumes without FAT32/exFAT are
 * skipped (logged by the caller through *skipped). */
tv_status_t store_add_disk(struct store *s, const fs_blockdev_t *disk, const char *device,
                           uint32_t disk_index, unsigned *mounted, unsigned *skipped);

unsigned store_count(const struct store *s);
/* Fills the record (free space read under the volume's lock). */
tv_status_t store_info(struct store *s, unsigned index, struct tv_volume_info *out);
/* "NAME:/path" -> volume index and the path inside it ("/" for the root).
 * TV_E_INVALID_ARGUMENT: no ':', an empty name, a path not starting with
 * '/', a "." or ".." component, control characters, too long;
 * TV_E_NOT_FOUND: no such volume. */
tv_status_t store_resolve(const struct store *s, const char *path, unsigned *index,
                          const char **inner);
/* The volume's (locked) seam. */
const tv_storage_t *store_seam(const struct store *s, unsigned index);

/* Entries of a directory from position cursor on (0 = the first), at most
 * cap; *next is the cursor of the entry after the last one written, 0 when
 * the directory ends there. */
tv_status_t store_list_dir(struct store *s, unsigned index, const char *inner, uint64_t cursor,
                           struct tv_dir_entry *out, uint32_t cap, uint32_t *got,
                           uint64_t *next);
/* Makes the folder "NAME:/path" (its parent must exist): TV_E_NOT_FOUND
 * for no such volume or a missing parent, TV_E_EXISTS when the name is
 * taken (file or folder), TV_E_READ_ONLY for a read-only volume,
 * TV_E_BAD_PATH for the volume root or a name the file system refuses. */
tv_status_t store_mkdir(struct store *s, const char *path);
/* An image's type, sizes and parent chain (opened read-only, parents
 * included; a missing parent is reported, not an error). */
tv_status_t store_disk_info(struct store *s, const char *path, struct tv_disk_info *out);

/* A DOS date << 16 | time (plus exFAT's 10 ms units, whole seconds kept; a zone in minutes east of UTC, INT16_MIN =
 * none: taken as UTC) to Unix seconds; false for an empty or impossible
 * stamp. */
bool store_dos_to_unix(uint32_t dos, int16_t tz_min, uint8_t ten_ms, int64_t *out);

#endif
