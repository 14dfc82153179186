/* The VM service: the VM task types (Startup, TurnOff, Reset, Pause, Resume,
 * Shutdown, Restart, Logoff) in the one registry, the VM_* hypercalls (control
 * partition only) and the guest agent calls (any partition, for itself)
 * as sections of the hypercall table.  See docs/hypercalls.md, docs/agent.md. */
#ifndef SERVICES_VM_SERVICE_H
#define SERVICES_VM_SERVICE_H

#include "taskvisor/status.h"

/* After task_service_init, before the hypercall table is sealed. */
tv_status_t vm_service_init(const char *options); /* agent_timeout_ms */

#endif
