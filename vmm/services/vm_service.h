/* The VM service: the VM task types (Startup, TurnOff, Reset, Pause,
 * Resume) in the one registry, and the VM_* hypercalls (control partition
 * only) as a section of the hypercall table.  See docs/hypercalls.md. */
#ifndef SERVICES_VM_SERVICE_H
#define SERVICES_VM_SERVICE_H

#include "taskvisor/status.h"

/* After task_service_init, before the hypercall table is sealed. */
tv_status_t vm_service_init(void);

#endif
