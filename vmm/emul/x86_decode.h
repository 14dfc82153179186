/* x86 instruction length decoder and classifier (portable, no libc).
 *
 * Why: QEMU TCG's SVM provides neither next-RIP nor decode assists, so the
 * monitor must find the length of the instruction that exited (IN/OUT,
 * CPUID, RDMSR/WRMSR, HLT, VMMCALL, ...) and, later, the memory operand of
 * MOVs that touch MMIO.
 *
 * Covered: legacy prefixes (66 67 F2 F3 F0 2E 36 3E 26 64 65), REX, the
 * one-byte, 0F, 0F38 and 0F3A maps, 3DNow!, VEX (C4/C5), XOP (8F) and EVEX
 * (62), ModRM/SIB/displacement/immediates in 16-, 32- and 64-bit code.
 * Length is exact for every general-purpose, x87, SSE, AVX and AVX-512
 * instruction (checked against binutils in the unit tests).  Encodings the
 * CPU rejects (undefined one-byte/0F opcodes, opcodes invalid in 64-bit
 * mode, invalid group members, VEX after 66/F2/F3/REX/LOCK, > 15 bytes) give
 * TV_E_UNSUPPORTED.  Not rejected (decoded with the map's generic layout, so
 * the length is still that of the encoding): undefined opcodes inside the
 * 0F38/0F3A/VEX/XOP/EVEX maps and 0F-map SSE opcodes with a mandatory-prefix
 * combination that does not exist; the CPU raises #UD on those before any
 * exit could reach the monitor.  MOV to/from test registers (0F 24/26) is
 * decoded in 16/32-bit code as binutils does.  Near branches in 64-bit mode
 * with a 66 prefix take a 16-bit displacement (AMD behaviour).
 *
 * Statuses: TV_OK; TV_E_BUFFER_TOO_SMALL when `avail` bytes end before the
 * instruction does (fetch more, e.g. from the next page); TV_E_UNSUPPORTED
 * as above; TV_E_INVALID_ARGUMENT for a bad mode or NULL pointers. */
#ifndef VMM_EMUL_X86_DECODE_H
#define VMM_EMUL_X86_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

#define X86_MAX_INSN_LEN 15

/* Code size: the default operand/address size in bytes. */
enum x86_cpu_mode {
    X86_MODE_16 = 2,
    X86_MODE_32 = 4,
    X86_MODE_64 = 8,
};

enum x86_insn_kind {
    X86_INSN_OTHER = 0,      /* valid, length known, not classified */
    X86_INSN_IN,             /* E4 E5 EC ED */
    X86_INSN_OUT,            /* E6 E7 EE EF */
    X86_INSN_INS,            /* 6C 6D */
    X86_INSN_OUTS,           /* 6E 6F */
    X86_INSN_CPUID,
    X86_INSN_RDMSR,
    X86_INSN_WRMSR,
    X86_INSN_HLT,
    X86_INSN_VMMCALL,        /* 0F 01 D9 */
    X86_INSN_VMCALL,         /* 0F 01 C1 */
    X86_INSN_VMRUN,          /* 0F 01 D8 */
    X86_INSN_VMLOAD,         /* 0F 01 DA */
    X86_INSN_VMSAVE,         /* 0F 01 DB */
    X86_INSN_STGI,           /* 0F 01 DC */
    X86_INSN_CLGI,           /* 0F 01 DD */
    X86_INSN_SKINIT,         /* 0F 01 DE */
    X86_INSN_INVLPGA,        /* 0F 01 DF */
    X86_INSN_XSETBV,         /* 0F 01 D1 */
    X86_INSN_RDTSC,          /* 0F 31 */
    X86_INSN_RDTSCP,         /* 0F 01 F9 */
    X86_INSN_MOV_STORE,      /* 88 89 C6/0 C7/0 A2 A3 with a memory destination */
    X86_INSN_MOV_LOAD,       /* 8A 8B A0 A1 with a memory source */
    X86_INSN_KIND_COUNT
};

enum x86_seg { X86_SEG_ES = 0, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS,
               X86_SEG_NONE = 0xff };

#define X86_REG_NONE 0xff
#define X86_REG_RIP  16      /* base of a RIP-relative operand */

/* Effective address = base + index*scale + disp, truncated to addr_size. */
struct x86_mem_operand {
    uint8_t base;            /* 0..15 (RAX..R15), X86_REG_RIP or X86_REG_NONE */
    uint8_t index;           /* 0..15 or X86_REG_NONE */
    uint8_t scale;           /* 1, 2, 4, 8 */
    uint8_t seg;             /* enum x86_seg: override or default */
    int64_t disp;            /* sign-extended (moffs: zero-extended) */
};

enum x86_vex_kind { X86_VEX_NONE = 0, X86_VEX2, X86_VEX3, X86_XOP, X86_EVEX };

struct x86_insn {
    uint8_t len;
    uint8_t mode;            /* enum x86_cpu_mode */
    uint8_t op_size;         /* operand-size attribute: 2, 4 or 8 */
    uint8_t addr_size;       /* address-size attribute: 2, 4 or 8 */
    uint8_t rep;             /* 0, 0xF3 or 0xF2 (last one given); both repeat INS/OUTS */
    bool lock;
    bool opsize_prefix;      /* 66 present */
    uint8_t seg_override;    /* enum x86_seg */
    uint8_t rex;             /* REX byte in effect, 0 if none */
    uint8_t vex;             /* enum x86_vex_kind */
    uint8_t map;             /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A; VEX/XOP/EVEX: their map */
    uint8_t opcode;
    bool has_modrm;
    uint8_t modrm, mod, reg, rm;   /* reg and rm include REX.R / REX.B */
    bool has_sib;
    uint8_t sib;
    uint8_t disp_size;
    int64_t disp;
    uint8_t imm_size;        /* total immediate bytes (ENTER: 3, EXTRQ: 2) */
    uint64_t imm;            /* first immediate, zero-extended */
    bool has_mem;            /* ModRM (mod != 3) or moffs memory operand */
    struct x86_mem_operand mem;

    enum x86_insn_kind kind;
    /* IN/OUT/INS/OUTS/MOV: */
    uint8_t access_size;     /* bytes per transfer */
    bool port_in_dx;         /* IN/OUT: port in DX, else `port` */
    uint8_t port;
    uint8_t gpr;             /* MOV register operand: 0..15, or 0..3 with gpr_high8 (AH..BH) */
    bool gpr_high8;
};

tv_status_t x86_decode(const uint8_t *bytes, size_t avail, enum x86_cpu_mode mode,
                       struct x86_insn *out);

/* Code size from the guest state: 64 when EFER.LMA && CS.L, 32 when CS.D,
 * else 16 (also real mode, cr0_pe false, and virtual-8086 mode). */
enum x86_cpu_mode x86_code_mode(bool cr0_pe, bool rflags_vm, bool efer_lma, bool cs_l, bool cs_d);

/* Effective address (offset within the segment) of insn->mem, given the
 * guest's 16 GPRs and the RIP of the instruction.  Caller adds the segment
 * base (only FS/GS in 64-bit mode). */
uint64_t x86_effective_address(const struct x86_insn *insn, const uint64_t gpr[16], uint64_t rip);

const char *x86_insn_kind_name(enum x86_insn_kind kind);

#endif
