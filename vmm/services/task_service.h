/* The task subsystem inside the monitor: one task manager whose workers are
 * task-class kernel threads, and the TASK_* hypercalls (control partition
 * only) added to the hypercall table as a section. */
#ifndef SERVICES_TASK_SERVICE_H
#define SERVICES_TASK_SERVICE_H

#include "taskvisor/status.h"

/* Creates the task manager from the boot options and adds the task calls to
 * the hypercall table (before the table is sealed). */
tv_status_t task_service_init(const char *options);

#endif
