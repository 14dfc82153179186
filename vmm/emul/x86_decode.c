/* x86 instruction decoder: prefixes, opcode maps, ModRM/SIB, displacement,
 * immediates, and classification of the instructions the monitor handles. */
#include "x86_decode.h"
#include "x86_opcode_tables.h"
#include "tv_string.h"

/* Reading cursor over the caller's bytes, never past min(avail, 15). */
struct cursor {
    const uint8_t *p;
    size_t pos, avail;
    bool short_input;   /* ran out of `avail` bytes (not the 15-byte limit) */
};

static bool take(struct cursor *c, uint8_t *b)
{
    if (c->pos >= c->avail) {
        c->short_input = c->avail < X86_MAX_INSN_LEN;
        return false;
    }
    *b = c->p[c->pos++];
    return true;
}

static bool peek(struct cursor *c, uint8_t *b)
{
    if (c->pos >= c->avail) {
        c->short_input = c->avail < X86_MAX_INSN_LEN;
        return false;
    }
    *b = c->p[c->pos];
    return true;
}

/* Little-endian value of n bytes (n <= 8). */
static bool take_n(struct cursor *c, unsigned n, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b;
        if (!take(c, &b))
            return false;
        x |= (uint64_t)b << (8 * i);
    }
    *v = x;
    return true;
}

static int64_t sign_extend(uint64_t v, unsigned bytes)
{
    if (bytes == 0 || bytes >= 8)
        return (int64_t)v;
    unsigned shift = 64 - 8 * bytes;
    return (int64_t)(v << shift) >> shift;
}

static tv_status_t short_or_bad(const struct cursor *c)
{
    /* Running out inside the 15-byte window means "give me more bytes";
     * needing a 16th byte means the encoding is too long. */
    return c->short_input ? TV_E_BUFFER_TOO_SMALL : TV_E_UNSUPPORTED;
}

/* ModRM, SIB and displacement; fills the memory operand. */
static bool decode_modrm(struct cursor *c, struct x86_insn *in)
{
    uint8_t m;
    if (!take(c, &m))
        return false;
    in->has_modrm = true;
    in->modrm = m;
    in->mod = m >> 6;
    /* MOV to/from CR, DR, TR (0F 20-26) always name registers: mod is ignored. */
    if (in->map == 1 && in->opcode >= 0x20 && in->opcode <= 0x26)
        in->mod = 3;
    uint8_t rex_r = (in->rex >> 2) & 1, rex_x = (in->rex >> 1) & 1, rex_b = in->rex & 1;
    in->reg = (uint8_t)(((m >> 3) & 7) | rex_r << 3);
    in->rm = (uint8_t)((m & 7) | rex_b << 3);
    if (in->mod == 3)
        return true;

    struct x86_mem_operand *mo = &in->mem;
    in->has_mem = true;
    mo->base = X86_REG_NONE;
    mo->index = X86_REG_NONE;
    mo->scale = 1;
    uint8_t default_seg = X86_SEG_DS;
    unsigned dsize = 0;

    if (in->addr_size == 2) {
        static const uint8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };      /* BX BX BP BP SI DI BP BX */
        static const uint8_t index16[8] = { 6, 7, 6, 7, X86_REG_NONE, X86_REG_NONE,
                                            X86_REG_NONE, X86_REG_NONE }; /* SI DI SI DI */
        uint8_t r = m & 7;
        if (in->mod == 0 && r == 6) {
            dsize = 2;
        } else {
            mo->base = base16[r];
            mo->index = index16[r];
            dsize = in->mod == 1 ? 1 : in->mod == 2 ? 2 : 0;
            if (mo->base == 5)
                default_seg = X86_SEG_SS;
        }
        in->rm = r;       /* REX does not exist with 16-bit addressing */
    } else {
        uint8_t r = m & 7;
        if (r == 4) {
            uint8_t sib;
            if (!take(c, &sib))
                return false;
            in->has_sib = true;
            in->sib = sib;
            uint8_t idx = (uint8_t)(((sib >> 3) & 7) | rex_x << 3);
            uint8_t base = (uint8_t)((sib & 7) | rex_b << 3);
            mo->scale = (uint8_t)(1u << (sib >> 6));
            if (idx != 4)
                mo->index = idx;              /* 100 without REX.X: no index */
            if ((sib & 7) == 5 && in->mod == 0) {
                dsize = 4;                    /* no base, disp32 */
            } else {
                mo->base = base;
            }
        } else if (r == 5 && in->mod == 0) {
            dsize = 4;
            if (in->mode == X86_MODE_64)
                mo->base = X86_REG_RIP;
        } else {
            mo->base = (uint8_t)(r | rex_b << 3);
        }
        if (in->mod == 1)
            dsize = 1;
        else if (in->mod == 2)
            dsize = 4;
        if (mo->base == 4 || mo->base == 5)
            default_seg = X86_SEG_SS;
    }
    if (dsize) {
        uint64_t d;
        if (!take_n(c, dsize, &d))
            return false;
        in->disp_size = (uint8_t)dsize;
        in->disp = sign_extend(d, dsize);
    }
    mo->disp = in->disp;
    mo->seg = in->seg_override != X86_SEG_NONE ? in->seg_override : default_seg;
    return true;
}

static bool map1_imm8_vex(uint8_t op)
{
    return (op >= 0x70 && op <= 0x73) || op == 0xc2 || (op >= 0xc4 && op <= 0xc6);
}

/* VEX (C4/C5), XOP (8F) and EVEX (62): prefix bytes, map, opcode, ModRM, imm. */
static tv_status_t decode_vex(struct cursor *c, struct x86_insn *in, uint8_t lead)
{
    uint8_t b1, b2 = 0, b3 = 0, op;
    if (in->rex || in->rep || in->lock || in->opsize_prefix)
        return TV_E_UNSUPPORTED;              /* #UD per the VEX/EVEX rules */
    if (!take(c, &b1))
        return short_or_bad(c);
    uint8_t rex = 0;
    if (lead == 0xc5) {
        in->vex = X86_VEX2;
        in->map = 1;
        rex = (uint8_t)((~b1 >> 5) & 4);      /* R */
    } else if (lead == 0xc4 || lead == 0x8f) {
        if (!take(c, &b2))
            return short_or_bad(c);
        in->vex = lead == 0xc4 ? X86_VEX3 : X86_XOP;
        in->map = b1 & 0x1f;
        rex = (uint8_t)(((~b1 >> 5) & 7) | ((b2 >> 4) & 8));
        if (lead == 0xc4 && (in->map < 1 || in->map > 3))
            return TV_E_UNSUPPORTED;
        if (lead == 0x8f && (in->map < 8 || in->map > 10))
            return TV_E_UNSUPPORTED;
    } else {                                  /* 62: EVEX */
        if (!take(c, &b2) || !take(c, &b3))
            return short_or_bad(c);
        in->vex = X86_EVEX;
        in->map = b1 & 7;
        rex = (uint8_t)(((~b1 >> 5) & 7) | ((b2 >> 4) & 8));
        if (!(b2 & 4) || in->map == 0 || in->map == 4 || in->map == 7)
            return TV_E_UNSUPPORTED;
    }
    if (in->mode != X86_MODE_64)
        rex &= 8;                              /* R/X/B do not exist outside 64-bit mode */
    in->rex = (uint8_t)(rex ? 0x40 | rex : 0);
    if (in->rex & 8)
        in->op_size = 8;
    if (!take(c, &op))
        return short_or_bad(c);
    in->opcode = op;
    in->rex &= 0x47;                           /* W affects nothing below; keep R X B */
    if (!(in->vex == X86_VEX2 || in->vex == X86_VEX3) || in->map != 1 || op != 0x77) {
        if (!decode_modrm(c, in))
            return short_or_bad(c);
    }
    unsigned imm = 0;
    if (in->vex == X86_XOP)
        imm = in->map == 8 ? 1 : in->map == 10 ? 4 : 0;
    else if (in->map == 3 || (in->map == 1 && map1_imm8_vex(op)))
        imm = 1;
    if (imm) {
        if (!take_n(c, imm, &in->imm))
            return short_or_bad(c);
        in->imm_size = (uint8_t)imm;
    }
    return TV_OK;
}

/* Register forms of 0F 01 the monitor cares about. */
static enum x86_insn_kind classify_0f01(uint8_t modrm)
{
    switch (modrm) {
    case 0xc1: return X86_INSN_VMCALL;
    case 0xd1: return X86_INSN_XSETBV;
    case 0xd8: return X86_INSN_VMRUN;
    case 0xd9: return X86_INSN_VMMCALL;
    case 0xda: return X86_INSN_VMLOAD;
    case 0xdb: return X86_INSN_VMSAVE;
    case 0xdc: return X86_INSN_STGI;
    case 0xdd: return X86_INSN_CLGI;
    case 0xde: return X86_INSN_SKINIT;
    case 0xdf: return X86_INSN_INVLPGA;
    case 0xf9: return X86_INSN_RDTSCP;
    default: return X86_INSN_OTHER;
    }
}

static void classify(struct x86_insn *in)
{
    uint8_t op = in->opcode;
    uint8_t wide = in->op_size == 2 ? 2 : 4;     /* I/O never moves 8 bytes */
    if (in->vex)
        return;
    if (in->map == 1) {
        switch (op) {
        case 0xa2: in->kind = X86_INSN_CPUID; break;
        case 0x30: in->kind = X86_INSN_WRMSR; break;
        case 0x31: in->kind = X86_INSN_RDTSC; break;
        case 0x32: in->kind = X86_INSN_RDMSR; break;
        case 0x01: if (in->mod == 3) in->kind = classify_0f01(in->modrm); break;
        default: break;
        }
        return;
    }
    if (in->map != 0)
        return;
    switch (op) {
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
        in->kind = op < 0xe6 ? X86_INSN_IN : X86_INSN_OUT;
        in->access_size = (op & 1) ? wide : 1;
        in->port = (uint8_t)in->imm;
        break;
    case 0xec: case 0xed: case 0xee: case 0xef:
        in->kind = op < 0xee ? X86_INSN_IN : X86_INSN_OUT;
        in->access_size = (op & 1) ? wide : 1;
        in->port_in_dx = true;
        break;
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:
        in->kind = op < 0x6e ? X86_INSN_INS : X86_INSN_OUTS;
        in->access_size = (op & 1) ? wide : 1;
        in->port_in_dx = true;
        break;
    case 0xf4:
        in->kind = X86_INSN_HLT;
        break;
    case 0x88: case 0x89: case 0x8a: case 0x8b:
        if (in->mod == 3)
            break;
        in->kind = op < 0x8a ? X86_INSN_MOV_STORE : X86_INSN_MOV_LOAD;
        in->access_size = (op & 1) ? in->op_size : 1;
        in->gpr = in->reg;
        if (!(op & 1) && !in->rex && in->reg >= 4) {
            in->gpr = (uint8_t)(in->reg - 4);  /* AH CH DH BH */
            in->gpr_high8 = true;
        }
        break;
    case 0xc6: case 0xc7:
        if (in->mod == 3 || (in->reg & 7) != 0)
            break;
        in->kind = X86_INSN_MOV_STORE;
        in->access_size = (op & 1) ? in->op_size : 1;
        break;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3:
        in->kind = op < 0xa2 ? X86_INSN_MOV_LOAD : X86_INSN_MOV_STORE;
        in->access_size = (op & 1) ? in->op_size : 1;
        in->gpr = 0;
        break;
    default:
        break;
    }
}

/* Group members that do not exist (the CPU raises #UD). */
static bool invalid_group_member(const struct x86_insn *in)
{
    uint8_t r = (in->modrm >> 3) & 7;
    if (in->map == 0) {
        switch (in->opcode) {
        case 0x8f: return r != 0;
        case 0xc6: return r != 0 && in->modrm != 0xf8;   /* C6 F8: XABORT */
        case 0xc7: return r != 0 && in->modrm != 0xf8;   /* C7 F8: XBEGIN */
        case 0xfe: return r > 1;
        case 0xff: return r == 7;
        case 0x8d: return in->mod == 3;                  /* LEA needs memory */
        case 0xc4: case 0xc5: case 0x62: return in->mod == 3;  /* LES LDS BOUND */
        default: return false;
        }
    }
    if (in->map == 1) {
        switch (in->opcode) {
        case 0x00: return r > 5;
        case 0xb2: case 0xb4: case 0xb5: return in->mod == 3;   /* LSS LFS LGS */
        case 0xba: return r < 4;
        case 0xa6: case 0xa7: return in->mod != 3;          /* VIA PadLock: register forms */
        default: return false;
        }
    }
    return false;
}

tv_status_t x86_decode(const uint8_t *bytes, size_t avail, enum x86_cpu_mode mode,
                       struct x86_insn *in)
{
    if (!bytes || !in || (mode != X86_MODE_16 && mode != X86_MODE_32 && mode != X86_MODE_64))
        return TV_E_INVALID_ARGUMENT;
    tv_memset(in, 0, sizeof *in);
    in->mode = (uint8_t)mode;
    in->seg_override = X86_SEG_NONE;
    struct cursor c = { bytes, 0, avail < X86_MAX_INSN_LEN ? avail : X86_MAX_INSN_LEN, false };
    bool addr_prefix = false;
    uint8_t op;

    /* Legacy prefixes, then (64-bit) REX, which only counts right before the opcode. */
    for (;;) {
        if (!take(&c, &op))
            return short_or_bad(&c);
        switch (op) {
        case 0x26: in->seg_override = X86_SEG_ES; in->rex = 0; continue;
        case 0x2e: in->seg_override = X86_SEG_CS; in->rex = 0; continue;
        case 0x36: in->seg_override = X86_SEG_SS; in->rex = 0; continue;
        case 0x3e: in->seg_override = X86_SEG_DS; in->rex = 0; continue;
        case 0x64: in->seg_override = X86_SEG_FS; in->rex = 0; continue;
        case 0x65: in->seg_override = X86_SEG_GS; in->rex = 0; continue;
        case 0x66: in->opsize_prefix = true; in->rex = 0; continue;
        case 0x67: addr_prefix = true; in->rex = 0; continue;
        case 0xf0: in->lock = true; in->rex = 0; continue;
        case 0xf2: case 0xf3: in->rep = op; in->rex = 0; continue;
        default: break;
        }
        if (mode == X86_MODE_64 && (op & 0xf0) == 0x40) {
            in->rex = op;
            continue;
        }
        break;
    }
    /* Segment overrides other than FS/GS have no effect in 64-bit mode. */
    if (mode == X86_MODE_64 && in->seg_override != X86_SEG_FS && in->seg_override != X86_SEG_GS)
        in->seg_override = X86_SEG_NONE;

    if (mode == X86_MODE_64)
        in->op_size = (in->rex & 8) ? 8 : in->opsize_prefix ? 2 : 4;
    else
        in->op_size = (uint8_t)(in->opsize_prefix ? (mode == X86_MODE_16 ? 4 : 2) : mode);
    if (mode == X86_MODE_64)
        in->addr_size = addr_prefix ? 4 : 8;
    else
        in->addr_size = (uint8_t)(addr_prefix ? (mode == X86_MODE_16 ? 4 : 2) : mode);

    uint16_t flags;
    in->map = 0;
    if (op == 0x0f) {
        if (!take(&c, &op))
            return short_or_bad(&c);
        if (op == 0x38 || op == 0x3a) {
            in->map = op == 0x38 ? 2 : 3;
            if (!take(&c, &op))
                return short_or_bad(&c);
            flags = in->map == 2 ? OP_M : (OP_M | OP_B);
        } else {
            in->map = 1;
            flags = x86_map0f[op];
        }
    } else {
        flags = x86_map1[op];
    }
    in->opcode = op;

    /* C4/C5/62/8F double as VEX/EVEX/XOP lead bytes. */
    if (in->map == 0 && (op == 0xc4 || op == 0xc5 || op == 0x62 || op == 0x8f)) {
        uint8_t next;
        if (!peek(&c, &next))
            return short_or_bad(&c);
        bool escape = op == 0x8f ? (next & 0x1f) >= 8
                                 : (mode == X86_MODE_64 || (next & 0xc0) == 0xc0);
        if (escape) {
            tv_status_t st = decode_vex(&c, in, op);
            if (st != TV_OK)
                return st;
            in->len = (uint8_t)c.pos;
            return TV_OK;
        }
    }

    if (flags & OP_U)
        return TV_E_UNSUPPORTED;
    if ((flags & OP_I64) && mode == X86_MODE_64)
        return TV_E_UNSUPPORTED;

    unsigned imm = 0;
    if (in->map == 1 && (op == 0x78 || op == 0x79)) {
        /* 66/F2 0F 78: EXTRQ/INSERTQ with two imm8 (AMD SSE4a);
         * 66/F2 0F 79: register forms; otherwise VMREAD/VMWRITE. */
        if (op == 0x78 && (in->opsize_prefix || in->rep == 0xf2))
            imm = 2;
    } else if (in->map == 1 && op == 0xb8 && in->rep != 0xf3) {
        return TV_E_UNSUPPORTED;                  /* JMPE: not on x86-64 CPUs */
    }

    if (flags & OP_M) {
        if (!decode_modrm(&c, in))
            return short_or_bad(&c);
        if (invalid_group_member(in))
            return TV_E_UNSUPPORTED;
    }
    if (in->map == 0 && (op == 0xf6 || op == 0xf7) && ((in->modrm >> 3) & 7) < 2)
        imm = op == 0xf6 ? 1 : (in->op_size == 2 ? 2 : 4);     /* TEST */
    if (flags & OP_B)
        imm += 1;
    if (flags & OP_W)
        imm += 2;
    if (flags & OP_Z)
        imm += in->op_size == 2 ? 2 : 4;
    if (flags & OP_V)
        imm += in->op_size;
    if (flags & OP_A)
        imm += in->addr_size;
    if (flags & OP_P)
        imm += (in->op_size == 2 ? 2 : 4) + 2;
    if (imm) {
        /* The first immediate is kept (ENTER: imm16, EXTRQ/INSERTQ: first
         * imm8); any second one only counts for the length.  imm <= 8. */
        unsigned first = imm;
        if ((flags & OP_W) && (flags & OP_B))
            first = 2;
        else if (in->map == 1 && op == 0x78)
            first = 1;
        uint64_t v = 0;
        if (!take_n(&c, first, &v))
            return short_or_bad(&c);
        for (unsigned i = first; i < imm; i++) {
            uint8_t skip;
            if (!take(&c, &skip))
                return short_or_bad(&c);
        }
        in->imm = v;
        in->imm_size = (uint8_t)imm;
    }
    if (flags & OP_A) {
        in->has_mem = true;
        in->mem.base = X86_REG_NONE;
        in->mem.index = X86_REG_NONE;
        in->mem.scale = 1;
        in->mem.disp = (int64_t)in->imm;
        in->mem.seg = in->seg_override != X86_SEG_NONE ? in->seg_override : X86_SEG_DS;
    }
    in->len = (uint8_t)c.pos;
    classify(in);
    return TV_OK;
}

enum x86_cpu_mode x86_code_mode(bool cr0_pe, bool rflags_vm, bool efer_lma, bool cs_l, bool cs_d)
{
    if (!cr0_pe || rflags_vm)
        return X86_MODE_16;
    if (efer_lma && cs_l)
        return X86_MODE_64;
    return cs_d ? X86_MODE_32 : X86_MODE_16;
}

uint64_t x86_effective_address(const struct x86_insn *in, const uint64_t gpr[16], uint64_t rip)
{
    const struct x86_mem_operand *m = &in->mem;
    uint64_t ea = (uint64_t)m->disp;
    if (m->base == X86_REG_RIP)
        ea += rip + in->len;
    else if (m->base < 16)
        ea += gpr[m->base];
    if (m->index < 16)
        ea += gpr[m->index] * m->scale;
    if (in->addr_size == 2)
        ea &= 0xffff;
    else if (in->addr_size == 4)
        ea &= 0xffffffffu;
    return ea;
}

const char *x86_insn_kind_name(enum x86_insn_kind kind)
{
    static const char *const names[X86_INSN_KIND_COUNT] = {
        [X86_INSN_OTHER] = "other", [X86_INSN_IN] = "in", [X86_INSN_OUT] = "out",
        [X86_INSN_INS] = "ins", [X86_INSN_OUTS] = "outs", [X86_INSN_CPUID] = "cpuid",
        [X86_INSN_RDMSR] = "rdmsr", [X86_INSN_WRMSR] = "wrmsr", [X86_INSN_HLT] = "hlt",
        [X86_INSN_VMMCALL] = "vmmcall", [X86_INSN_VMCALL] = "vmcall", [X86_INSN_VMRUN] = "vmrun",
        [X86_INSN_VMLOAD] = "vmload", [X86_INSN_VMSAVE] = "vmsave", [X86_INSN_STGI] = "stgi",
        [X86_INSN_CLGI] = "clgi", [X86_INSN_SKINIT] = "skinit", [X86_INSN_INVLPGA] = "invlpga",
        [X86_INSN_XSETBV] = "xsetbv", [X86_INSN_RDTSC] = "rdtsc", [X86_INSN_RDTSCP] = "rdtscp",
        [X86_INSN_MOV_STORE] = "mov-store", [X86_INSN_MOV_LOAD] = "mov-load",
    };
    if ((unsigned)kind >= X86_INSN_KIND_COUNT)
        return "invalid";
    return names[kind];
}
