/* Shared between the VMX backend's files. */
#ifndef VMM_VMX_INTERNAL_H
#define VMM_VMX_INTERNAL_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "taskvisor/status.h"

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
#ifdef TV_TEST_BUILD
void vmx_test_fault(struct vcpu *v);
#else
static inline void vmx_test_fault(struct vcpu *v) { (void)v; }
#endif

struct vcpu_regs;
struct vm_exit;
struct guest_mode;

/* The backend's per-vCPU state (vcpu->arch). */
struct vmx_vcpu {
    uint64_t vmcs_pa;
    uint64_t msr_area_pa;          /* switched MSRs, guest values */
    uint64_t eptp;
    uint64_t cr2;
    bool launched;
    bool flush_ept;
    bool failed;                   /* a VMfail was reported: never enter again */
};

/* vmx_caps.c: the probe, VMXON and the bitmaps every VMCS shares. */
tv_status_t vmx_probe(char *why, size_t len);
tv_status_t vmx_cpu_enable(void);
extern uint64_t io_bitmap_pa;      /* two pages: every port exits */
extern uint64_t msr_bitmap_pa;     /* one page: the allow-list passes */

/* vmx_vmcs.c: VMCS life cycle and the CR0/CR4 ownership masks. */
tv_status_t vmx_vcpu_create(struct vcpu *v, uint64_t npt_root_pa, uint32_t asid);
void vmx_vcpu_destroy(struct vcpu *v);
void vmx_reset_pm32(struct vcpu *v);
/* VMWRITE; on failure logs the instruction error and marks the vCPU failed. */
bool vmw(struct vcpu *v, uint32_t field, uint64_t value);
/* Makes v's VMCS the current one (SDM 24.1). */
void load_vmcs(struct vcpu *v);
uint64_t cr0_mask(void);
uint64_t cr4_mask(void);
/* The value the CPU runs with for a guest-visible CR0/CR4 value. */
uint64_t real_cr0(uint64_t guest);
uint64_t real_cr4(uint64_t guest);

struct save_vcpu;
/* Save / restore of the guest-state area (vmx_vmcs.c). */
void vmx_save_state(struct vcpu *v, struct save_vcpu *out);
void vmx_load_state(struct vcpu *v, const struct save_vcpu *in);

/* vmx_exit.c: entry, exit decoding and the CR exits. */
void vmx_vcpu_run(struct vcpu *v, struct vm_exit *exit);
/* The guest's view of CR0/CR4 (the current VMCS). */
uint64_t guest_cr0(void);
uint64_t guest_cr4(void);
void sync_long_mode(struct vcpu *v, uint64_t guest_cr0);
tv_status_t vmx_set_cr(struct vcpu *v, unsigned cr, uint64_t value);

/* vmx_ops.c */
void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);

#endif
