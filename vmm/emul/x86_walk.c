/* Guest page-table walker: 32-bit, PAE, 4-level and 5-level paging. */
#include "x86_walk.h"
#include "tv_string.h"

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_PS   (1ull << 7)
#define PTE_NX   (1ull << 63)
#define ADDR_MASK_52 0x000ffffffffff000ull

struct walk {
    const struct x86_paging_state *ps;
    x86_read_gpa_fn read;
    void *ctx;
    unsigned access;
    uint64_t gva;
    uint64_t rsvd_hi;             /* bits [MAXPHYADDR, 51] */
    bool nxe;
    bool rw, us, nx;              /* accumulated rights */
    struct x86_walk_result *res;
    /* Entries read on the way down (for accessed/dirty updates). */
    x86_write_gpa_fn write;
    uint64_t ent_gpa[5], ent_val[5];
    unsigned nent, ent_size;
};

#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)

static tv_status_t fault(struct walk *w, uint32_t bits)
{
    uint32_t e = bits;
    if (w->access & X86_ACC_WRITE)
        e |= X86_PF_W;
    if (w->access & X86_ACC_USER)
        e |= X86_PF_U;
    if ((w->access & X86_ACC_FETCH) && (w->nxe || (w->ps->cr4 & X86_CR4_SMEP)))
        e |= X86_PF_ID;
    w->res->pf_error = e;
    w->res->fault_addr = w->gva;
    return TV_E_FAULT;
}

static tv_status_t read_entry(struct walk *w, uint64_t gpa, unsigned size, uint64_t *e)
{
    uint8_t b[8] = { 0 };
    tv_status_t st = w->read(w->ctx, gpa, b, size);
    if (st != TV_OK)
        return st;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)b[i] << (8 * i);
    *e = v;
    if (w->nent < 5) {
        w->ent_gpa[w->nent] = gpa;
        w->ent_val[w->nent] = v;
        w->nent++;
    }
    w->ent_size = size;
    return TV_OK;
}

static void accumulate(struct walk *w, uint64_t e)
{
    w->rw = w->rw && (e & PTE_RW);
    w->us = w->us && (e & PTE_US);
    w->nx = w->nx || (w->nxe && (e & PTE_NX));
}

/* As the CPU does on a successful walk: Accessed in every entry used, Dirty
 * in the leaf for a write.  Entries are rewritten only when a bit changes. */
static tv_status_t set_accessed_dirty(struct walk *w)
{
    if (!w->write)
        return TV_OK;
    for (unsigned i = 0; i < w->nent; i++) {
        uint64_t v = w->ent_val[i] | PTE_A;
        if (i + 1 == w->nent && (w->access & X86_ACC_WRITE))
            v |= PTE_D;
        if (v == w->ent_val[i])
            continue;
        uint8_t b[8];
        for (unsigned k = 0; k < w->ent_size; k++)
            b[k] = (uint8_t)(v >> (8 * k));
        tv_status_t st = w->write(w->ctx, w->ent_gpa[i], b, w->ent_size);
        if (st != TV_OK)
            return st;
    }
    return TV_OK;
}

/* Rights check once the leaf is found. */
static tv_status_t finish(struct walk *w, uint64_t gpa, uint64_t page_size)
{
    const struct x86_paging_state *ps = w->ps;
    bool user = w->access & X86_ACC_USER;
    struct x86_walk_result *r = w->res;
    r->writable = w->rw;
    r->user = w->us;
    r->nx = w->nx;
    if (user && !w->us)
        return fault(w, X86_PF_P);
    if ((w->access & X86_ACC_WRITE) && !w->rw && (user || (ps->cr0 & X86_CR0_WP)))
        return fault(w, X86_PF_P);
    if (w->access & X86_ACC_FETCH) {
        if (w->nx)
            return fault(w, X86_PF_P);
        if (!user && w->us && (ps->cr4 & X86_CR4_SMEP))
            return fault(w, X86_PF_P);
    }
    r->gpa = gpa;
    r->page_size = page_size;
    return set_accessed_dirty(w);
}

static tv_status_t walk32(struct walk *w)
{
    uint32_t va = (uint32_t)w->gva;
    uint64_t pde, pte;
    tv_status_t st = read_entry(w, (w->ps->cr3 & 0xfffff000u) + (va >> 22) * 4, 4, &pde);
    if (st != TV_OK)
        return st;
    if (!(pde & PTE_P))
        return fault(w, 0);
    accumulate(w, pde);
    if ((pde & PTE_PS) && (w->ps->cr4 & X86_CR4_PSE)) {
        /* PSE-36: bits 20:13 hold physical bits 39:32; bit 21 is reserved. */
        uint64_t phys = (pde & 0xffc00000u) | (((pde >> 13) & 0xffu) << 32);
        if ((pde & (1u << 21)) || (phys & w->rsvd_hi))
            return fault(w, X86_PF_P | X86_PF_RSVD);
        return finish(w, phys | (va & 0x3fffffu), 4u << 20);
    }
    st = read_entry(w, (pde & 0xfffff000u) + ((va >> 12) & 0x3ff) * 4, 4, &pte);
    if (st != TV_OK)
        return st;
    if (!(pte & PTE_P))
        return fault(w, 0);
    accumulate(w, pte);
    return finish(w, (pte & 0xfffff000u) | (va & 0xfffu), 4096);
}

/* 64-bit-entry levels from `level` down to 1 (PT).  long_mode allows 1 GiB
 * pages at level 3 and makes PS reserved at levels 4/5. */
static tv_status_t walk64(struct walk *w, uint64_t table, int level, bool long_mode)
{
    for (; level >= 1; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        uint64_t e;
        tv_status_t st = read_entry(w, table + ((w->gva >> shift) & 511) * 8, 8, &e);
        if (st != TV_OK)
            return st;
        if (!(e & PTE_P))
            return fault(w, 0);
        uint64_t rsvd = w->rsvd_hi | (w->nxe ? 0 : PTE_NX);
        bool large = false;
        if (level >= 4) {
            rsvd |= PTE_PS;
        } else if (level == 3 || level == 2) {
            if (e & PTE_PS) {
                if (level == 3 && !long_mode)
                    rsvd |= PTE_PS;          /* cannot happen: PAE level 3 is the PDPT */
                large = true;
                /* Large page: bits 12 (PAT) .. page size - 1 must be zero above PAT. */
                rsvd |= ((1ull << shift) - 1) & ~0x1fffull;
            }
        }
        if (e & rsvd)
            return fault(w, X86_PF_P | X86_PF_RSVD);
        accumulate(w, e);
        if (large) {
            uint64_t size = 1ull << shift;
            return finish(w, (e & ADDR_MASK_52 & ~(size - 1)) | (w->gva & (size - 1)), size);
        }
        if (level == 1)
            return finish(w, (e & ADDR_MASK_52) | (w->gva & 0xfff), 4096);
        table = e & ADDR_MASK_52;
    }
    return TV_E_INVALID_ARGUMENT;   /* not reached */
}

static tv_status_t walk_pae(struct walk *w)
{
    uint64_t pdpte;
    uint32_t va = (uint32_t)w->gva;
    w->gva = va;
    tv_status_t st = read_entry(w, (w->ps->cr3 & 0xffffffe0u) + ((va >> 30) & 3) * 8, 8, &pdpte);
    if (st != TV_OK)
        return st;
    if (!(pdpte & PTE_P))
        return fault(w, 0);
    /* PAE PDPTEs: bits 2:1, 8:5, 63 and those above MAXPHYADDR are reserved;
     * they carry no R/W or U/S rights. */
    if (pdpte & (w->rsvd_hi | 0x1e6ull | PTE_NX))
        return fault(w, X86_PF_P | X86_PF_RSVD);
    w->nent = 0;                     /* PAE PDPTEs have no accessed bit */
    return walk64(w, pdpte & ADDR_MASK_52, 2, false);
}

tv_status_t x86_translate(const struct x86_paging_state *ps, uint64_t gva, unsigned access,
                          x86_read_gpa_fn read, void *ctx, struct x86_walk_result *res)
{
    return x86_translate_update(ps, gva, access, read, NULL, ctx, res);
}

tv_status_t x86_translate_update(const struct x86_paging_state *ps, uint64_t gva, unsigned access,
                                 x86_read_gpa_fn read, x86_write_gpa_fn write, void *ctx,
                                 struct x86_walk_result *res)
{
    if (!ps || !read || !res)
        return TV_E_INVALID_ARGUMENT;
    tv_memset(res, 0, sizeof *res);
    bool lma = ps->efer & X86_EFER_LMA;
    if (!(ps->cr0 & X86_CR0_PG)) {
        res->gpa = lma ? gva : (gva & 0xffffffffu);
        res->page_size = 4096;
        res->writable = res->user = true;
        return TV_OK;
    }
    unsigned maxphy = ps->maxphyaddr ? ps->maxphyaddr : 52;
    if (maxphy < 32 || maxphy > 52)
        return TV_E_INVALID_ARGUMENT;
    struct walk w = {
        .ps = ps, .read = read, .ctx = ctx, .access = access, .gva = gva,
        .rsvd_hi = ((1ull << 52) - 1) & ~((1ull << maxphy) - 1),
        .nxe = (ps->efer & X86_EFER_NXE) && (ps->cr4 & X86_CR4_PAE),
        .rw = true, .us = true, .nx = false, .res = res, .write = write,
    };
    if (!(ps->cr4 & X86_CR4_PAE)) {
        w.gva = gva & 0xffffffffu;
        return walk32(&w);
    }
    if (!lma)
        return walk_pae(&w);
    unsigned bits = (ps->cr4 & X86_CR4_LA57) ? 57 : 48;
    int64_t sx = (int64_t)(gva << (64 - bits)) >> (64 - bits);
    if ((uint64_t)sx != gva)
        return TV_E_INVALID_ARGUMENT;             /* non-canonical: #GP */
    return walk64(&w, ps->cr3 & ADDR_MASK_52, bits == 57 ? 5 : 4, true);
}
