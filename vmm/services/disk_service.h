/* The disk operations inside the monitor: the disk task types in the one
 * registry and the DISK_START call, wired to whoever provides volumes.
 *
 * The portable part (disk_ops.c, disk_calls.c, disk_recover.c) knows no
 * image store: it turns "VOLUME:/path" into a seam through the resolver
 * set here, so the image store (or anything else that mounts volumes)
 * connects with two calls:
 *   disk_service_set_resolver(fn, ctx)   once, when volumes exist;
 *   disk_service_recover_volume(...)     after mounting each volume, before
 *                                        publishing it. */
#ifndef SERVICES_DISK_SERVICE_H
#define SERVICES_DISK_SERVICE_H

#include "services/disk_ops.h"

/* Registers the disk types and the DISK_START section (after
 * task_service_init, before hypercall_table_seal).  Until a resolver is
 * set every path is TV_E_NOT_FOUND. */
tv_status_t disk_service_init(void);

void disk_service_set_resolver(disk_resolve_fn fn, void *ctx);
/* The resolver's answer for other users of volumes (VM saved states):
 * TV_E_NOT_FOUND until one is set or for an unknown volume. */
tv_status_t disk_service_resolve(const char *path, tv_storage_t **seam, const char **inner,
                                 struct disk_volume_facts *facts);

/* Recovery of one freshly mounted volume (disk_recover_volume with wait):
 * returns when every interrupted operation on it was finished or rolled
 * back; logs one line per volume with something to recover.  From a thread
 * that may block, after disk_service_init. */
tv_status_t disk_service_recover_volume(const char *volume, tv_storage_t *seam, disk_list_fn list,
                                        void *list_ctx, struct disk_recover_result *out);

#endif
