/* Builds a well-formed saved-state file in memory (shared by the unit test
 * and the fuzz target's seed): chunks 0 and 2 of a 3-chunk (6 MiB) VM
 * present, each filled with a pattern of its offset. */
#ifndef TESTS_SAVEFILE_BUILD_H
#define TESTS_SAVEFILE_BUILD_H

#include <stdlib.h>
#include <string.h>

#include "services/vm_savefile.h"

struct membuf {
    uint8_t *data;
    size_t size, cap;
};

static tv_status_t membuf_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct membuf *m = ctx;
    if (off + len > m->cap) {
        size_t cap = (off + len) * 2;
        uint8_t *d = realloc(m->data, cap);
        if (!d)
            return TV_E_NO_MEMORY;
        memset(d + m->cap, 0, cap - m->cap);
        m->data = d;
        m->cap = cap;
    }
    memcpy(m->data + off, buf, len);
    if (off + len > m->size)
        m->size = off + len;
    return TV_OK;
}

static tv_status_t membuf_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    const struct membuf *m = ctx;
    if (off > m->size || len > m->size - off)
        return TV_E_IO;
    memcpy(buf, m->data + off, len);
    return TV_OK;
}

#define SB_MEMORY (3 * SAVE_CHUNK)

static const struct save_compat sb_compat = {
    .memory_bytes = SB_MEMORY, .vcpu_count = 1, .vendor = SAVE_VENDOR_SVM,
    .xcr0_mask = 7, .fpu_flags = SAVE_FPU_XSAVE, .monitor_abi = SAVE_MONITOR_ABI,
};

static void sb_vcpu(struct save_vcpu *v)
{
    memset(v, 0, sizeof *v);
    for (int i = 0; i < 16; i++)
        v->gpr[i] = 0x1111111111111111ull * (uint64_t)(i + 1);
    v->rip = 0x100000;
    v->rflags = 0x202;
    v->cr0 = 0x80000011;
    v->efer = 0x500;
    v->xcr0 = 7;
    v->seg[SAVE_CS] = (struct save_seg){ .sel = 8, .attr = 0xa9b, .limit = 0xffffffff };
    v->pending_event = SAVE_EVT_VALID | (3ull << 8) | SAVE_EVT_ERR_VALID | 13 | (0x18ull << 32);
}

static void sb_devices(struct save_devices *d)
{
    memset(d, 0, sizeof *d);
    d->uart_line_len = 5;
    memcpy(d->uart_line, "hello", 5);
    d->cmos_index = 0x0b;
    d->apic_svr = 0x1ff;
    d->apic_timer_left_ns = 1000000;
}

/* The whole file into m (zeroed by the caller). */
static tv_status_t sb_build(struct membuf *m)
{
    struct save_writer w;
    save_writer_init(&w, membuf_write, m);
    struct save_vcpu v;
    struct save_devices d;
    static uint8_t fpu[SAVE_FPU_BYTES];
    sb_vcpu(&v);
    sb_devices(&d);
    memset(fpu, 0, sizeof fpu);
    fpu[24] = 0x80; fpu[25] = 0x1f;  /* MXCSR 0x1f80 */
    fpu[512] = 3;                    /* XSTATE_BV x87|SSE */
    tv_status_t st;
    if ((st = save_writer_record(&w, SAVE_REC_VCPU, sizeof v)) || (st = save_writer_put(&w, &v, sizeof v)) ||
        (st = save_writer_record(&w, SAVE_REC_FPU, sizeof fpu)) || (st = save_writer_put(&w, fpu, sizeof fpu)) ||
        (st = save_writer_record(&w, SAVE_REC_DEVICES, sizeof d)) || (st = save_writer_put(&w, &d, sizeof d)))
        return st;
    uint64_t bm = save_bitmap_bytes(SB_MEMORY);
    uint8_t bitmap[8] = { 0x5 };  /* chunks 0 and 2 */
    if ((st = save_writer_record(&w, SAVE_REC_MEMORY, bm + 2 * SAVE_CHUNK)) ||
        (st = save_writer_put(&w, bitmap, bm)))
        return st;
    static uint64_t chunk[SAVE_CHUNK / 8];
    for (uint64_t c = 0; c < 3; c += 2) {
        for (uint64_t i = 0; i < SAVE_CHUNK / 8; i++)
            chunk[i] = c * SAVE_CHUNK + i * 8;
        if ((st = save_writer_put(&w, chunk, sizeof chunk)))
            return st;
    }
    struct save_header h;
    memset(&h, 0, sizeof h);
    h.compat = sb_compat;
    strcpy(h.vm_name, "savevm");
    uint64_t size;
    return save_writer_finish(&w, &h, &size);
}

#endif
