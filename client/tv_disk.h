/* libtaskvisor: the long disk operations (DISK_START, include/taskvisor/disk.h).
 *
 * Each function starts one operation as a task of the monitor and returns
 * its handle; cancel, pause, resume, wait, query and events are the task
 * functions of libtaskvisor.h, as for every task.  Paths are
 * "VOLUME:/dir/name.vhd".  Refusals come back before any task exists, each
 * with its own status (docs/hypercalls.md, DISK_START); a path that does
 * not fit the record's field is TV_E_BAD_PATH here.  Freestanding. */
#ifndef TV_DISK_CLIENT_H
#define TV_DISK_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "libtaskvisor.h"
#include "taskvisor/disk.h"

tv_status_t tv_disk_create_fixed(struct tv_client *c, const char *path, uint64_t size_mb,
                                 struct tv_task *task_out);
/* block_size: 0 = 2 MiB. */
tv_status_t tv_disk_create_dynamic(struct tv_client *c, const char *path, uint64_t size_mb,
                                   uint32_t block_size, struct tv_task *task_out);
tv_status_t tv_disk_create_differencing(struct tv_client *c, const char *path, const char *parent,
                                        struct tv_task *task_out);
/* A differencing disk into its parent (the child is deleted when done). */
tv_status_t tv_disk_merge(struct tv_client *c, const char *path, struct tv_task *task_out);
/* A differencing disk and its chain into a new disk (kind fixed or dynamic). */
tv_status_t tv_disk_merge_to(struct tv_client *c, const char *path, const char *target,
                             enum tv_disk_kind kind, struct tv_task *task_out);
tv_status_t tv_disk_compact(struct tv_client *c, const char *path, struct tv_task *task_out);
/* Fixed to dynamic or dynamic to fixed, into a new file; the source stays. */
tv_status_t tv_disk_convert(struct tv_client *c, const char *path, const char *target,
                            enum tv_disk_kind kind, struct tv_task *task_out);
tv_status_t tv_disk_check(struct tv_client *c, const char *path, bool repair,
                          struct tv_task *task_out);

#endif
