/* Instruction fetch at CS:RIP through the guest's paging, across a page
 * boundary, and fetch + decode. */
#include "x86_walk.h"
#include "tv_string.h"

static uint64_t linear_of(enum x86_cpu_mode mode, uint64_t cs_base, uint64_t ip)
{
    if (mode == X86_MODE_64)
        return ip;                                  /* CS base is ignored */
    uint64_t off = mode == X86_MODE_16 ? (ip & 0xffff) : (ip & 0xffffffffu);
    return (cs_base + off) & 0xffffffffu;
}

tv_status_t x86_fetch_insn(const struct x86_paging_state *ps, enum x86_cpu_mode mode,
                           uint64_t cs_base, uint64_t rip, unsigned cpl, x86_read_gpa_fn read,
                           void *ctx, struct x86_fetch *out, struct x86_walk_result *fault)
{
    if (!ps || !read || !out || !fault)
        return TV_E_INVALID_ARGUMENT;
    tv_memset(out, 0, sizeof *out);
    unsigned access = X86_ACC_FETCH | (cpl == 3 ? X86_ACC_USER : 0);
    uint64_t lin = linear_of(mode, cs_base, rip);
    struct x86_walk_result w;
    tv_status_t st = x86_translate(ps, lin, access, read, ctx, &w);
    if (st != TV_OK) {
        *fault = w;
        return st;
    }
    size_t first = 4096 - (lin & 0xfff);
    if (first > X86_MAX_INSN_LEN)
        first = X86_MAX_INSN_LEN;
    st = read(ctx, w.gpa, out->bytes, first);
    if (st != TV_OK)
        return st;
    out->count = (uint8_t)first;
    if (first == X86_MAX_INSN_LEN)
        return TV_OK;

    /* The rest lives on the next page; with 16-bit code the offset wraps
     * inside the segment, which linear_of() models. */
    uint64_t lin2 = linear_of(mode, cs_base, rip + first);
    st = x86_translate(ps, lin2, access, read, ctx, &out->tail);
    if (st == TV_OK)
        st = read(ctx, out->tail.gpa, out->bytes + first, X86_MAX_INSN_LEN - first);
    if (st == TV_OK)
        out->count = X86_MAX_INSN_LEN;
    out->tail_status = st;
    return TV_OK;
}

tv_status_t x86_fetch_decode(const struct x86_paging_state *ps, enum x86_cpu_mode mode,
                             uint64_t cs_base, uint64_t rip, unsigned cpl, x86_read_gpa_fn read,
                             void *ctx, struct x86_insn *insn, struct x86_walk_result *fault)
{
    struct x86_fetch f;
    tv_status_t st = x86_fetch_insn(ps, mode, cs_base, rip, cpl, read, ctx, &f, fault);
    if (st != TV_OK)
        return st;
    st = x86_decode(f.bytes, f.count, mode, insn);
    if (st == TV_E_BUFFER_TOO_SMALL && f.tail_status != TV_OK) {
        if (f.tail_status == TV_E_FAULT)
            *fault = f.tail;
        return f.tail_status;
    }
    return st;
}
