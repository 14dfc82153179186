/* Emulation of the MOV forms the decoder classifies (X86_INSN_MOV_LOAD and
 * X86_INSN_MOV_STORE) against an MMIO handler: the monitor computes the
 * guest-physical address (from the nested page fault), this file moves the
 * value and updates the destination register with the CPU's rules. */
#ifndef VMM_EMUL_X86_MMIO_H
#define VMM_EMUL_X86_MMIO_H

#include <stdint.h>

#include "taskvisor/status.h"
#include "x86_decode.h"

struct x86_mmio_ops {
    void *ctx;
    /* size is 1, 2, 4 or 8; *value receives the zero-extended result. */
    tv_status_t (*read)(void *ctx, uint64_t gpa, unsigned size, uint64_t *value);
    tv_status_t (*write)(void *ctx, uint64_t gpa, unsigned size, uint64_t value);
};

/* Performs insn (a MOV load or store) at gpa.  Loads update gpr[] as the CPU
 * does: 8-bit writes keep the other bytes (AH..BH are bits 15:8), 16-bit
 * writes keep bits 63:16, 32-bit writes zero bits 63:32, 64-bit writes all.
 * Stores of C7 with a 64-bit operand sign-extend their imm32.
 * TV_E_UNSUPPORTED for any other instruction kind. */
tv_status_t x86_emulate_mov(const struct x86_insn *insn, uint64_t gpr[16], uint64_t gpa,
                            const struct x86_mmio_ops *ops);

#endif
