/* Shared between the VMX backend's files. */
#ifndef VMM_VMX_INTERNAL_H
#define VMM_VMX_INTERNAL_H

#include <stdint.h>
#include <stdbool.h>

struct vcpu;

/* What the capability MSRs allow, computed once by the probe. */
struct vmx_caps {
    uint64_t basic;
    uint32_t revision, vmcs_size;
    uint32_t pin, proc, proc2, exit, entry;   /* the controls we run with */
    uint64_t ept_vpid;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    bool inout_info;                          /* INS/OUTS instruction information */
};
extern struct vmx_caps vmx_caps;

/* The VM-instruction error number in words (SDM vol. 3 31.4). */
const char *vmx_insn_error_text(uint32_t error);
/* Logs a VM-entry failure exit (exit reason bit 31) in plain words. */
void vmx_report_entry_failure(struct vcpu *v, uint32_t reason, uint64_t qualification);
/* Test builds: spoils one VMCS field before an entry when a scenario asks
 * (vmx_errors.c); nothing in a normal build. */
void vmx_test_fault(struct vcpu *v);

#endif
