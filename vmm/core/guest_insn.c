/* placeholder until vmm/emul lands: compile-only */
#include "core/guest_insn.h"
tv_status_t guest_insn_length(struct vcpu *v, unsigned *len) { (void)v; (void)len; return TV_E_UNSUPPORTED; }
tv_status_t guest_linear_to_phys(struct vcpu *v, uint64_t linear, bool write, uint64_t *gpa, uint32_t *pf_error)
{ (void)v; (void)linear; (void)write; (void)gpa; (void)pf_error; return TV_E_UNSUPPORTED; }
