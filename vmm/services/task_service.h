/* The task subsystem inside the monitor: one task manager whose workers are
 * task-class kernel threads, and the TASK_* hypercalls (control partition
 * only) added to the hypercall table as a section. */
#ifndef SERVICES_TASK_SERVICE_H
#define SERVICES_TASK_SERVICE_H

#include "taskvisor/status.h"
#include "task/task_mgr.h"
#include "task/task_types.h"

/* Creates the task manager from the boot options and adds the task calls to
 * the hypercall table (before the table is sealed). */
tv_status_t task_service_init(const char *options);

/* The monitor's one task manager and its one registry of task types.  A
 * service with long operations (disks, VMs) adds its types with
 * task_types_add() during its own init, after task_service_init, and starts
 * every task with task_types_start(task_service_types(), task_service_mgr(),
 * ...).  NULL before task_service_init succeeded. */
struct task_mgr *task_service_mgr(void);
struct task_types *task_service_types(void);

#endif
