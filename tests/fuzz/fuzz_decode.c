/* libFuzzer target: the x86 decoder, and the page walker + instruction fetch
 * over a fuzzer-made guest memory.
 * Decoder invariants: length <= 15 and <= the bytes given; decoding exactly
 * `len` bytes gives the same instruction; one byte fewer asks for more.
 * Walker invariants: no read outside the fake memory is ever attempted with a
 * length the callback did not check, results stay consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emul/x86_mmio.h"
#include "emul/x86_walk.h"

#define FMEM 0x10000u           /* 64 KiB of guest-physical memory */
static uint8_t fmem[FMEM];

static tv_status_t rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    if (len == 0 || len > 15)
        abort();                /* walker/fetch never ask for more than 15 bytes */
    if (gpa >= FMEM || len > FMEM - gpa)
        return TV_E_NOT_FOUND;
    memcpy(buf, fmem + gpa, len);
    return TV_OK;
}

static tv_status_t mmio_rd(void *c, uint64_t gpa, unsigned size, uint64_t *v)
{
    (void)c; (void)gpa;
    if (size != 1 && size != 2 && size != 4 && size != 8)
        abort();
    *v = 0x0123456789abcdefull;
    return TV_OK;
}

static tv_status_t mmio_wr(void *c, uint64_t gpa, unsigned size, uint64_t v)
{
    (void)c; (void)gpa;
    if (size < 8 && (v >> (8 * size)))
        abort();                /* value wider than the access */
    return TV_OK;
}

static void check_decoder(const uint8_t *d, size_t n, enum x86_cpu_mode mode)
{
    struct x86_insn a, b;
    tv_status_t st = x86_decode(d, n, mode, &a);
    if (st != TV_OK) {
        if (st != TV_E_BUFFER_TOO_SMALL && st != TV_E_UNSUPPORTED)
            abort();
        if (st == TV_E_BUFFER_TOO_SMALL && n >= X86_MAX_INSN_LEN)
            abort();
        return;
    }
    if (a.len == 0 || a.len > X86_MAX_INSN_LEN || a.len > n)
        abort();
    if (x86_decode(d, a.len, mode, &b) != TV_OK || b.len != a.len || b.kind != a.kind ||
        b.imm != a.imm || b.disp != a.disp)
        abort();
    if (x86_decode(d, a.len - 1u, mode, &b) != TV_E_BUFFER_TOO_SMALL)
        abort();
    if (a.kind == X86_INSN_MOV_LOAD || a.kind == X86_INSN_MOV_STORE) {
        if (!a.has_mem || (a.access_size != 1 && a.access_size != 2 && a.access_size != 4 &&
                           a.access_size != 8))
            abort();
        uint64_t gpr[16];
        memset(gpr, 0xa5, sizeof gpr);
        (void)x86_effective_address(&a, gpr, 0);
        const struct x86_mmio_ops ops = { NULL, mmio_rd, mmio_wr };
        if (x86_emulate_mov(&a, gpr, 0x1000, &ops) != TV_OK)
            abort();
    }
    (void)x86_insn_kind_name(a.kind);
}

static tv_status_t wr(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    (void)ctx;
    if (len != 4 && len != 8)
        abort();                /* only page-table entries are written */
    if (gpa >= FMEM || len > FMEM - gpa)
        abort();                /* never an entry that was not read first */
    memcpy(fmem + gpa, buf, len);
    return TV_OK;
}

static void check_walker(const uint8_t *d, size_t n)
{
    /* Header: 4 control bytes + 8 bytes of address; the rest is memory. */
    if (n < 12)
        return;
    static const uint64_t cr4s[] = { 0, X86_CR4_PSE, X86_CR4_PAE, X86_CR4_PAE | X86_CR4_LA57 };
    struct x86_paging_state ps = {
        .cr0 = X86_CR0_PE | X86_CR0_PG | ((d[0] & 1) ? X86_CR0_WP : 0),
        .cr3 = (uint64_t)(d[1] & 0xf) << 12,
        .cr4 = cr4s[(d[0] >> 1) & 3] | ((d[0] & 8) ? X86_CR4_SMEP : 0),
        .efer = ((d[0] & 0x10) ? X86_EFER_LMA | X86_EFER_LME : 0) | ((d[0] & 0x20) ? X86_EFER_NXE : 0),
        .maxphyaddr = (uint8_t)(32 + (d[2] % 21)),
    };
    uint64_t va;
    memcpy(&va, d + 4, 8);
    memset(fmem, 0, sizeof fmem);
    memcpy(fmem, d + 12, n - 12 < FMEM ? n - 12 : FMEM);
    struct x86_walk_result r;
    tv_status_t st = x86_translate(&ps, va, d[3] & 7, rd, NULL, &r);
    if (st == TV_OK && (r.gpa & (r.page_size - 1)) != (va & (r.page_size - 1)))
        abort();
    if (st == TV_E_FAULT && (r.pf_error & ~0x1fu))
        abort();
    struct x86_walk_result r2;
    tv_status_t st2 = x86_translate_update(&ps, va, d[3] & 7, rd, wr, NULL, &r2);
    if (st2 != st || (st == TV_OK && r2.gpa != r.gpa))
        abort();                /* updating A/D bits never changes the answer */
    struct x86_insn insn;
    enum x86_cpu_mode mode = (ps.efer & X86_EFER_LMA) ? X86_MODE_64 : X86_MODE_32;
    (void)x86_fetch_decode(&ps, mode, 0, va, d[3] >> 6, rd, NULL, &insn, &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    if (sel & 0x80) {
        check_walker(data, size);
        return 0;
    }
    static const enum x86_cpu_mode modes[] = { X86_MODE_16, X86_MODE_32, X86_MODE_64, X86_MODE_64 };
    /* Exactly `size` bytes on the heap so ASan sees any over-read. */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    check_decoder(copy, size, modes[sel & 3]);
    free(copy);
    return 0;
}
