/* MOV emulation against MMIO callbacks. */
#include "x86_mmio.h"

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/* The store's source value, truncated to the access size. */
static uint64_t store_value(const struct x86_insn *in, const uint64_t gpr[16])
{
    uint64_t v;
    if (in->imm_size) {
        v = in->imm;
        if (in->imm_size == 4 && in->access_size == 8)
            v = (uint64_t)(int64_t)(int32_t)(uint32_t)v;
    } else if (in->gpr_high8) {
        v = gpr[in->gpr & 3] >> 8;
    } else {
        v = gpr[in->gpr & 15];
    }
    return v & size_mask(in->access_size);
}

static void load_register(const struct x86_insn *in, uint64_t gpr[16], uint64_t v)
{
    uint64_t *r = &gpr[in->gpr & 15];
    switch (in->access_size) {
    case 1:
        if (in->gpr_high8) {
            r = &gpr[in->gpr & 3];
            *r = (*r & ~0xff00ull) | (v & 0xff) << 8;
        } else {
            *r = (*r & ~0xffull) | (v & 0xff);
        }
        break;
    case 2:
        *r = (*r & ~0xffffull) | (v & 0xffff);
        break;
    case 4:
        *r = v & 0xffffffffu;
        break;
    default:
        *r = v;
        break;
    }
}

tv_status_t x86_emulate_mov(const struct x86_insn *in, uint64_t gpr[16], uint64_t gpa,
                            const struct x86_mmio_ops *ops)
{
    if (!in || !gpr || !ops)
        return TV_E_INVALID_ARGUMENT;
    if (in->kind != X86_INSN_MOV_STORE && in->kind != X86_INSN_MOV_LOAD)
        return TV_E_UNSUPPORTED;
    if (!valid_size(in->access_size))
        return TV_E_INVALID_ARGUMENT;
    if (in->kind == X86_INSN_MOV_STORE) {
        if (!ops->write)
            return TV_E_UNSUPPORTED;
        return ops->write(ops->ctx, gpa, in->access_size, store_value(in, gpr));
    }
    if (in->kind == X86_INSN_MOV_LOAD) {
        if (!ops->read)
            return TV_E_UNSUPPORTED;
        uint64_t v = 0;
        tv_status_t st = ops->read(ops->ctx, gpa, in->access_size, &v);
        if (st != TV_OK)
            return st;
        load_register(in, gpr, v & size_mask(in->access_size));
        return TV_OK;
    }
    return TV_E_UNSUPPORTED;
}
