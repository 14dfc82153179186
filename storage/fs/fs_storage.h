/* The storage seam (storage/storage.h) over a mounted FAT32 or exFAT
 * volume: the image store the VHD engine runs on inside the monitor.
 *
 * Names are paths on the volume ('/'-separated, a leading '/' optional).
 * Every open of the same file shares one file-system handle, so all see
 * one size and one allocation.  Locks (TV_ST_SHARED / TV_ST_EXCLUSIVE) are
 * kept here, per file, and never wait (TV_E_BUSY); they follow the file
 * across a rename made through this store.  A file removed or replaced
 * while open keeps its handles, which then fail with TV_E_IO (the engine
 * only closes them); a read past the end is TV_E_CORRUPT, as elsewhere.  Durability: file data after flush; create,
 * truncate, rename and remove when they return.  Rename replacing a target
 * is not one atomic step on FAT32 or exFAT (docs/storage.md). */
#ifndef TV_FS_STORAGE_H
#define TV_FS_STORAGE_H

#include "storage/fs/fs.h"
#include "storage/storage.h"

typedef struct fs_store fs_store_t;

/* platform supplies alloc, free, now, entropy and flushes; *seam gets the
 * whole seam (its ctx is the store). */
tv_status_t fs_store_new(fs_volume_t *v, const tv_storage_t *platform, fs_store_t **out, tv_storage_t *seam);
/* TV_E_BUSY while files are open through it. */
tv_status_t fs_store_free(fs_store_t *s);

#endif
