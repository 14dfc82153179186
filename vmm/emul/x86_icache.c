/* Decoded-instruction cache, verified on every hit (see x86_icache.h). */
#include "x86_icache.h"
#include "tv_string.h"

/* Page-table entries are naturally aligned; read them as the CPU would. */
typedef uint64_t __attribute__((may_alias)) u64_alias;
typedef uint32_t __attribute__((may_alias)) u32_alias;

/* What one fill saw: the walk's page-table reads, then the one code read. */
struct recorder {
    x86_read_gpa_fn read;
    x86_map_gpa_fn map;
    void *ctx;
    struct x86_icache_entry *e;
    bool cacheable;
    bool have_code;
};

static tv_status_t record_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct recorder *r = ctx;
    tv_status_t st = r->read(r->ctx, gpa, buf, len);
    if (st != TV_OK || !r->cacheable)
        return st;
    const volatile uint8_t *host = r->map ? r->map(r->ctx, gpa, len) : 0;
    struct x86_icache_entry *e = r->e;
    if (!host || r->have_code) {
        r->cacheable = false;               /* unmappable, or a tail read */
    } else if (len == X86_MAX_INSN_LEN) {
        r->have_code = true;                /* the fetch's one code read */
        e->code = host;
        tv_memcpy(e->bytes, buf, len);
    } else if ((len == 4 || len == 8) && e->npt < X86_ICACHE_PT_READS) {
        uint64_t v = 0;
        const uint8_t *b = buf;
        for (size_t i = 0; i < len; i++)
            v |= (uint64_t)b[i] << (8 * i);
        e->pt[e->npt++] = (struct x86_icache_pt_read){ host, v, (uint8_t)len };
    } else {
        r->cacheable = false;               /* a code read cut short by a page end */
    }
    return st;
}

static uint32_t mode_key(const struct x86_paging_state *ps, enum x86_cpu_mode mode)
{
    return (uint32_t)mode | ((uint32_t)ps->maxphyaddr << 8);
}

/* Compared field by field against the call's own arguments: no key is
 * built on a hit. */
static bool key_matches(const struct x86_icache_key *k, const struct x86_paging_state *ps,
                        enum x86_cpu_mode mode, uint64_t cs_base, uint64_t rip, unsigned cpl)
{
    return k->rip == rip && k->cr3 == ps->cr3 && k->cs_base == cs_base && k->cr0 == ps->cr0 &&
           k->cr4 == ps->cr4 && k->efer == ps->efer && k->mode == mode_key(ps, mode) &&
           k->cpl == cpl;
}

/* Guest memory still holds what the fill read. */
static bool still_valid(const struct x86_icache_entry *e)
{
    for (unsigned i = 0; i < e->npt; i++) {
        const volatile uint8_t *p = e->pt[i].host;
        uint64_t v;
        if (e->pt[i].len == 8)
            v = *(const volatile u64_alias *)p;
        else
            v = *(const volatile u32_alias *)p;
        if (v != e->pt[i].value)
            return false;
    }
    for (unsigned i = 0; i < e->insn.len; i++)
        if (e->code[i] != e->bytes[i])
            return false;
    return true;
}

tv_status_t x86_icache_decode(struct x86_icache *c, const struct x86_paging_state *ps,
                              enum x86_cpu_mode mode, uint64_t cs_base, uint64_t rip,
                              unsigned cpl, x86_read_gpa_fn read, x86_map_gpa_fn map, void *ctx,
                              const struct x86_insn **insn, struct x86_walk_result *fault)
{
    if (!c || !ps || !read || !insn || !fault)
        return TV_E_INVALID_ARGUMENT;
    struct x86_icache_entry *e = &c->slot[(rip ^ (rip >> 5)) % X86_ICACHE_SLOTS];
    if (e->valid && key_matches(&e->key, ps, mode, cs_base, rip, cpl) && still_valid(e)) {
        c->hits++;
        *insn = &e->insn;
        return TV_OK;
    }
    c->misses++;
    e->valid = false;
    e->key = (struct x86_icache_key){
        .rip = rip, .cs_base = cs_base, .cr0 = ps->cr0, .cr3 = ps->cr3, .cr4 = ps->cr4,
        .efer = ps->efer, .mode = mode_key(ps, mode), .cpl = cpl,
    };
    e->npt = 0;
    struct recorder r = { read, map, ctx, e, true, false };
    tv_status_t st = x86_fetch_decode(ps, mode, cs_base, rip, cpl, record_read, &r, &e->insn,
                                      fault);
    if (st != TV_OK)
        return st;
    e->valid = r.cacheable && r.have_code;
    *insn = &e->insn;
    return TV_OK;
}

void x86_icache_flush(struct x86_icache *c)
{
    for (unsigned i = 0; i < X86_ICACHE_SLOTS; i++)
        c->slot[i].valid = false;
}
