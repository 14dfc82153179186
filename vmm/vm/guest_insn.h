/* Monitor glue over the portable decoder and guest page walker (vmm/emul):
 * reads guest memory through the partition's RAM, in the vCPU's mode. */
#ifndef VMM_GUEST_INSN_H
#define VMM_GUEST_INSN_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/vcpu.h"
#include "emul/x86_decode.h"

/* Decodes the instruction at the guest's CS:RIP (prefixes, sizes). */
tv_status_t guest_insn_decode(struct vcpu *v, struct x86_insn *insn);
/* Length of the instruction at the guest's CS:RIP. */
tv_status_t guest_insn_length(struct vcpu *v, unsigned *len);
/* Translates a guest linear address; TV_E_FAULT when the guest's own page
 * tables do not map it (the caller injects #PF with *pf_error). */
tv_status_t guest_linear_to_phys(struct vcpu *v, uint64_t linear, bool write,
                                 uint64_t *gpa, uint32_t *pf_error);

#endif
