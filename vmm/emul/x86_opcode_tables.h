/* Operand-layout tables for the one-byte and 0F opcode maps (x86_decode.c).
 * One entry per opcode; the flags say what follows the opcode byte. */
#ifndef VMM_EMUL_X86_OPCODE_TABLES_H
#define VMM_EMUL_X86_OPCODE_TABLES_H

#include <stdint.h>

#define OP_M    0x001u  /* ModRM (+ SIB + displacement) */
#define OP_B    0x002u  /* imm8 / rel8 */
#define OP_W    0x004u  /* imm16 */
#define OP_Z    0x008u  /* imm16/32 by operand size (rel16/32) */
#define OP_V    0x010u  /* imm16/32/64 by operand size (B8-BF) */
#define OP_A    0x020u  /* moffs: address-size immediate */
#define OP_P    0x040u  /* far pointer: imm z + selector */
#define OP_I64  0x080u  /* invalid in 64-bit mode */
#define OP_U    0x100u  /* undefined in every mode */
#define OP_S    0x200u  /* special handling in the decoder */

#define M   OP_M
#define B   OP_B
#define W   OP_W
#define Z   OP_Z
#define V   OP_V
#define A   OP_A
#define P   OP_P
#define X   OP_I64
#define U   OP_U
#define S   OP_S

/* One-byte map.  Prefixes (26 2E 36 3E 64-67 F0 F2 F3) and REX (64-bit 40-4F)
 * are consumed before the table is read. */
static const uint16_t x86_map1[256] = {
/*        0      1      2      3      4      5      6      7      8      9      A      B      C      D      E      F */
/*0*/     M,     M,     M,     M,     B,     Z,     X,     X,     M,     M,     M,     M,     B,     Z,     X,     S,
/*1*/     M,     M,     M,     M,     B,     Z,     X,     X,     M,     M,     M,     M,     B,     Z,     X,     X,
/*2*/     M,     M,     M,     M,     B,     Z,     U,     X,     M,     M,     M,     M,     B,     Z,     U,     X,
/*3*/     M,     M,     M,     M,     B,     Z,     U,     X,     M,     M,     M,     M,     B,     Z,     U,     X,
/*4*/     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,
/*5*/     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,
/*6*/     X,     X,   M|S,     M,     U,     U,     U,     U,     Z,   M|Z,     B,   M|B,     0,     0,     0,     0,
/*7*/     B,     B,     B,     B,     B,     B,     B,     B,     B,     B,     B,     B,     B,     B,     B,     B,
/*8*/   M|B,   M|Z, M|B|X,   M|B,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,   M|S,
/*9*/     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,   P|X,     0,     0,     0,     0,     0,
/*A*/     A,     A,     A,     A,     0,     0,     0,     0,     B,     Z,     0,     0,     0,     0,     0,     0,
/*B*/     B,     B,     B,     B,     B,     B,     B,     B,     V,     V,     V,     V,     V,     V,     V,     V,
/*C*/   M|B,   M|B,     W,     0,   M|S,   M|S,   M|B,   M|Z,   W|B,     0,     W,     0,     0,     B,     X,     0,
/*D*/     M,     M,     M,     M,   B|X,   B|X,     U,     0,     M,     M,     M,     M,     M,     M,     M,     M,
/*E*/     B,     B,     B,     B,     B,     B,     B,     B,     Z,     Z,   P|X,     B,     0,     0,     0,     0,
/*F*/     U,     0,     U,     U,     0,     0,   M|S,   M|S,     0,     0,     0,     0,     0,     0,     M,     M,
};

/* 0F map.  38 and 3A escape to the three-byte maps. */
static const uint16_t x86_map0f[256] = {
/*        0      1      2      3      4      5      6      7      8      9      A      B      C      D      E      F */
/*0*/     M,     M,     M,     M,     U,     0,     0,     0,     0,     0,     U,     0,     U,     M,     0,   M|B,
/*1*/     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/*2*/   M|S,   M|S,   M|S,   M|S, M|S|X,     U, M|S|X,     U,     M,     M,     M,     M,     M,     M,     M,     M,
/*3*/     0,     0,     0,     0,     0,     0,     U,     0,     S,     U,     S,     U,     U,     U,     U,     U,
/*4*/     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/*5*/     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/*6*/     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/*7*/   M|B,   M|B,   M|B,   M|B,     M,     M,     M,     0,   M|S,   M|S,     U,     U,     M,     M,     M,     M,
/*8*/     Z,     Z,     Z,     Z,     Z,     Z,     Z,     Z,     Z,     Z,     Z,     Z,     Z,     Z,     Z,     Z,
/*9*/     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/*A*/     0,     0,     0,     M,   M|B,     M,   M|S,   M|S,     0,     0,     0,     M,   M|B,     M,     M,     M,
/*B*/     M,     M,     M,     M,     M,     M,     M,     M,   M|S,     M,   M|B,     M,     M,     M,     M,     M,
/*C*/     M,     M,   M|B,     M,   M|B,   M|B,   M|B,     M,     0,     0,     0,     0,     0,     0,     0,     0,
/*D*/     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/*E*/     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/*F*/     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
};

#undef M
#undef B
#undef W
#undef Z
#undef V
#undef A
#undef P
#undef X
#undef U
#undef S

#endif
