/* The task subsystem inside the monitor: one task manager whose workers are
 * task-class kernel threads, and the TASK_* hypercalls (control partition
 * only) in the hypercall table. */
#ifndef VMM_TASK_SERVICE_H
#define VMM_TASK_SERVICE_H

#include "hcall/hcall.h"
#include "taskvisor/status.h"

struct partition;

tv_status_t task_service_init(const char *options);
extern const struct hcall_section task_hcall_section;
/* Per-partition state (event ring registration) is dropped when it stops. */
void task_service_partition_stopped(struct partition *p);

#endif
