/* Per-vCPU FPU/SSE/AVX state.  The monitor itself never touches these
 * registers (-mgeneral-regs-only), so the FPU holds the state of the last
 * vCPU that ran and is switched only when another vCPU enters. */
#ifndef VMM_FPU_H
#define VMM_FPU_H

#include <stdbool.h>
#include <stdint.h>
#include "taskvisor/status.h"

struct vcpu;

void fpu_init_host(void);                 /* CR4.OSFXSR/OSXSAVE, XCR0 */
uint64_t fpu_supported_xcr0(void);        /* what guests may enable */
tv_status_t fpu_vcpu_init(struct vcpu *v);
void fpu_vcpu_free(struct vcpu *v);
/* Makes the FPU hold v's state and XCR0 v's value; call before entry. */
void fpu_switch_to(struct vcpu *v);
/* Save / restore: makes v->fpu, v->dr[] (and DR6 on VMX) and v->pkru
 * hold v's current values and gives the FPU up, so that the next entry
 * loads them from there (a restore writes them first).  Interrupts off. */
void fpu_vcpu_sync(struct vcpu *v);
/* What a saved FPU image depends on: FPU_F_XSAVE (XSAVE format, else
 * FXSAVE), FPU_F_PKU (PKRU switched). */
#define FPU_F_XSAVE (1u << 0)
#define FPU_F_PKU   (1u << 1)
uint32_t fpu_features(void);
/* The CPU's MXCSR_MASK (bits MXCSR may have set). */
uint32_t fpu_mxcsr_mask(void);
/* Validates and applies a guest XSETBV; false means inject #GP. */
bool fpu_guest_xsetbv(struct vcpu *v, uint32_t index, uint64_t value);

#endif
