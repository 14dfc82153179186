/* The monitor's image store: every FAT32 and exFAT volume on the disks the
 * monitor drives, mounted at boot on a kernel thread and named (rules in
 * vmm/services/store_core.h and docs/storage.md), each with the storage
 * seam the VHD engine runs on; and the image store hypercalls
 * (VOLUME_LIST, DIR_LIST, DISK_INFO, management only). */
#ifndef SERVICES_IMAGE_STORE_H
#define SERVICES_IMAGE_STORE_H

#include "storage/storage.h"
#include "taskvisor/status.h"
#include "taskvisor/volume.h"

/* Adds the calls to the hypercall table and starts the store's thread,
 * which mounts the volumes (after blk_probe_all, before the table is
 * sealed).  Calls made before the mount has finished wait for it. */
tv_status_t image_store_init(const char *options);

/* The volumes are mounted (the store's thread has finished at boot). */
bool image_store_ready(void);
/* 0 until the volumes are mounted. */
unsigned image_store_count(void);
tv_status_t image_store_info(unsigned index, struct tv_volume_info *out);
/* "VOLUME:/path/in/volume" -> the volume's seam and the path inside it;
 * TV_E_NOT_FOUND for an unknown volume (or before the mount finished),
 * TV_E_INVALID_ARGUMENT for a malformed path.  Seam calls may wait for the
 * device: only from task or kernel threads. */
tv_status_t image_store_resolve(const char *path, const tv_storage_t **seam, const char **inner_path);

#endif
