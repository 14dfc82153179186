/* Glue between a vCPU and the portable walker/decoder in vmm/emul. */
#include "vm/guest_insn.h"
#include "vm/partition.h"
#include "emul/x86_walk.h"
#include "mm/mm.h"

static tv_status_t read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    return guest_read(ctx, gpa, buf, len) == TV_OK ? TV_OK : TV_E_FAULT;
}

/* For the decoded-instruction cache: the host address of guest RAM in a
 * chunk that is ready.  A ready chunk keeps its backing and stays ready for
 * the partition's life (vm/partition.h), so the pointer stays valid for
 * the vCPU's cache; whoever ever changes a chunk's backing must flush it
 * (x86_icache_flush). */
static const volatile uint8_t *map_gpa(void *ctx, uint64_t gpa, size_t len)
{
    struct partition *p = ctx;
    if (len == 0 || !guest_range_ok(p, gpa, len))
        return 0;
    uint64_t idx = gpa / GUEST_CHUNK, off = gpa % GUEST_CHUNK;
    if (len > GUEST_CHUNK - off || p->chunk_state[idx] != CHUNK_READY)
        return 0;
    return (const volatile uint8_t *)phys_to_virt(p->chunks[idx] + off);
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

/* Through the vCPU's decoded-instruction cache (emul/x86_icache.h: every
 * hit is verified against guest memory, so code or page-table rewrites are
 * seen); *insn points into the cache until the next call. */
static tv_status_t decode_cached(struct vcpu *v, const struct x86_insn **insn)
{
    struct guest_mode m;
    struct x86_paging_state ps;
    paging_state(v, &m, &ps);
    enum x86_cpu_mode mode = x86_code_mode(m.cr0 & 1, (v->regs.rflags >> 17) & 1,
                                           (m.efer >> 10) & 1, m.cs_long, m.cs_db);
    struct x86_walk_result fault;
    return x86_icache_decode(&v->icache, &ps, mode, m.cs_base, v->regs.rip, m.cpl, read_gpa,
                             map_gpa, v->part, insn, &fault);
}

tv_status_t guest_insn_decode(struct vcpu *v, struct x86_insn *insn)
{
    const struct x86_insn *in;
    tv_status_t st = decode_cached(v, &in);
    if (st == TV_OK)
        *insn = *in;
    return st;
}

tv_status_t guest_insn_length(struct vcpu *v, unsigned *len)
{
    const struct x86_insn *in;
    tv_status_t st = decode_cached(v, &in);
    if (st == TV_OK)
        *len = in->len;
    return st;
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
