/* Control-register, cache-flush and task-switch exits (vm/cr.c). */
#ifndef VMM_CR_H
#define VMM_CR_H

#include "vm/vcpu.h"

void handle_cr_access(struct vcpu *v, struct vm_exit *e);
void handle_cache_flush(struct vcpu *v, struct vm_exit *e);
void handle_task_switch(struct vcpu *v, struct vm_exit *e);
/* False when a WRMSR to EFER must #GP: LME changing while paging is on. */
bool cr_efer_write_allowed(struct vcpu *v, uint64_t new_efer);

#endif
