/* Common exit handling: one dispatch table, per-reason counters. */
#ifndef VMM_EXIT_H
#define VMM_EXIT_H

#include "vm/vcpu.h"

void exit_dispatch(struct vcpu *v, struct vm_exit *e);
const char *exit_reason_name(int reason);

/* Handlers live in files of their own. */
void handle_cpuid(struct vcpu *v, struct vm_exit *e);
void handle_msr_read(struct vcpu *v, struct vm_exit *e);
void handle_msr_write(struct vcpu *v, struct vm_exit *e);
void handle_io(struct vcpu *v, struct vm_exit *e);
void handle_hypercall(struct vcpu *v, struct vm_exit *e);

/* Feature bits (TV_FEAT_*) this build offers, for CPUID and GET_VERSION. */
uint32_t monitor_features(void);

static inline void inject_gp(struct vcpu *v) { virt->inject_exception(v, 13, true, 0); }
static inline void inject_ud(struct vcpu *v) { virt->inject_exception(v, 6, false, 0); }

#endif
