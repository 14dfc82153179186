/* Glue between a vCPU and the portable walker/decoder in vmm/emul. */
#include "vm/guest_insn.h"
#include "vm/partition.h"
#include "emul/x86_walk.h"

static tv_status_t read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    return guest_read(ctx, gpa, buf, len) == TV_OK ? TV_OK : TV_E_FAULT;
}

static void paging_state(struct vcpu *v, struct guest_mode *m, struct x86_paging_state *ps)
{
    virt->get_mode(v, m);
    ps->cr0 = m->cr0;
    ps->cr3 = m->cr3;
    ps->cr4 = m->cr4;
    ps->efer = m->efer;
    ps->maxphyaddr = 0;
}

tv_status_t guest_insn_decode(struct vcpu *v, struct x86_insn *insn)
{
    struct guest_mode m;
    struct x86_paging_state ps;
    paging_state(v, &m, &ps);
    enum x86_cpu_mode mode = x86_code_mode(m.cr0 & 1, (v->regs.rflags >> 17) & 1,
                                           (m.efer >> 10) & 1, m.cs_long, m.cs_db);
    struct x86_walk_result fault;
    return x86_fetch_decode(&ps, mode, m.cs_base, v->regs.rip, m.cpl, read_gpa, v->part, insn,
                            &fault);
}

tv_status_t guest_insn_length(struct vcpu *v, unsigned *len)
{
    struct x86_insn insn;
    tv_status_t st = guest_insn_decode(v, &insn);
    if (st != TV_OK)
        return st;
    *len = insn.len;
    return TV_OK;
}

tv_status_t guest_linear_to_phys(struct vcpu *v, uint64_t linear, bool write,
                                 uint64_t *gpa, uint32_t *pf_error)
{
    struct guest_mode m;
    struct x86_paging_state ps;
    paging_state(v, &m, &ps);
    struct x86_walk_result res;
    unsigned access = (write ? X86_ACC_WRITE : 0) | (m.cpl == 3 ? X86_ACC_USER : 0);
    tv_status_t st = x86_translate(&ps, linear, access, read_gpa, v->part, &res);
    if (st == TV_E_FAULT)
        *pf_error = res.pf_error;
    else if (st == TV_OK)
        *gpa = res.gpa;
    return st;
}
