/* The saved-state file: see vm_savefile.h and docs/savestate.md. */
#include "services/vm_savefile.h"
#include "tv_string.h"

#define BAD TV_E_INCOMPATIBLE_SAVED_STATE

_Static_assert(sizeof(struct save_seg) == 24, "save_seg layout");
_Static_assert(sizeof(struct save_vcpu) % 8 == 0, "save_vcpu is 8-aligned");
_Static_assert(sizeof(struct save_devices) % 8 == 0, "save_devices is 8-aligned");

/* ---- CRC-32 (IEEE, reflected), a byte at a time through a table: the
 * body is the whole guest memory, so the bitwise form would cost 8 steps a
 * byte on the save and restore paths. */
static uint32_t crc_table[256];
static bool crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
        crc_table[i] = c;
    }
    crc_ready = true;
}

uint32_t save_crc32(uint32_t crc, const void *buf, size_t len)
{
    if (!crc_ready)
        crc_init();
    const uint8_t *p = buf;
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- Little-endian fields ------------------------------------------------ */
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Header offsets (docs/savestate.md). */
enum {
    H_MAGIC = 0, H_VERSION = 8, H_HSIZE = 12, H_FSIZE = 16, H_BODY_CRC = 24, H_HDR_CRC = 28,
    H_MEMORY = 32, H_VCPUS = 40, H_VENDOR = 44, H_XCR0 = 48, H_FPU = 56, H_ABI = 60,
    H_RECORDS = 64, H_ZERO = 68, H_NAME = 72, H_NAME_LEN = 32, H_RESERVED = 104,
};

void save_header_encode(const struct save_header *h, uint8_t out[SAVE_HEADER_SIZE])
{
    tv_memset(out, 0, SAVE_HEADER_SIZE);
    tv_memcpy(out + H_MAGIC, SAVE_MAGIC, 8);
    put32(out + H_VERSION, h->version);
    put32(out + H_HSIZE, h->header_size);
    put64(out + H_FSIZE, h->file_size);
    put32(out + H_BODY_CRC, h->body_crc);
    put64(out + H_MEMORY, h->compat.memory_bytes);
    put32(out + H_VCPUS, h->compat.vcpu_count);
    put32(out + H_VENDOR, h->compat.vendor);
    put64(out + H_XCR0, h->compat.xcr0_mask);
    put32(out + H_FPU, h->compat.fpu_flags);
    put32(out + H_ABI, h->compat.monitor_abi);
    put32(out + H_RECORDS, h->record_count);
    for (unsigned i = 0; i < H_NAME_LEN - 1 && h->vm_name[i]; i++)
        out[H_NAME + i] = (uint8_t)h->vm_name[i];
    put32(out + H_HDR_CRC, save_crc32(0, out, SAVE_HEADER_SIZE));
}

void save_record_head(uint32_t type, uint64_t length, uint8_t out[SAVE_RECORD_HEAD])
{
    put32(out, type);
    put32(out + 4, 0);
    put64(out + 8, length);
}

uint64_t save_bitmap_bytes(uint64_t memory_bytes)
{
    uint64_t chunks = memory_bytes / SAVE_CHUNK;
    return (chunks + 63) / 64 * 8;
}

static bool compat_equal(const struct save_compat *a, const struct save_compat *b)
{
    return a->memory_bytes == b->memory_bytes && a->vcpu_count == b->vcpu_count &&
           a->vendor == b->vendor && a->xcr0_mask == b->xcr0_mask &&
           a->fpu_flags == b->fpu_flags && a->monitor_abi == b->monitor_abi;
}

tv_status_t save_header_decode(const uint8_t in[SAVE_HEADER_SIZE], uint64_t file_size,
                               const struct save_compat *want, struct save_header *out)
{
    if (tv_memcmp(in + H_MAGIC, SAVE_MAGIC, 8) != 0)
        return BAD;
    uint8_t copy[SAVE_HEADER_SIZE];
    tv_memcpy(copy, in, sizeof copy);
    put32(copy + H_HDR_CRC, 0);
    if (save_crc32(0, copy, sizeof copy) != get32(in + H_HDR_CRC))
        return BAD;
    struct save_header h;
    tv_memset(&h, 0, sizeof h);
    h.version = get32(in + H_VERSION);
    h.header_size = get32(in + H_HSIZE);
    h.file_size = get64(in + H_FSIZE);
    h.body_crc = get32(in + H_BODY_CRC);
    h.record_count = get32(in + H_RECORDS);
    h.compat.memory_bytes = get64(in + H_MEMORY);
    h.compat.vcpu_count = get32(in + H_VCPUS);
    h.compat.vendor = get32(in + H_VENDOR);
    h.compat.xcr0_mask = get64(in + H_XCR0);
    h.compat.fpu_flags = get32(in + H_FPU);
    h.compat.monitor_abi = get32(in + H_ABI);
    if (h.version != SAVE_VERSION || h.header_size != SAVE_HEADER_SIZE ||
        h.file_size != file_size || h.file_size < SAVE_HEADER_SIZE ||
        h.record_count != SAVE_REC_COUNT - 1 || get32(in + H_ZERO) != 0)
        return BAD;
    for (unsigned i = H_RESERVED; i < SAVE_HEADER_SIZE; i++)
        if (in[i])
            return BAD;
    /* The name: printable, NUL-terminated, NUL-padded. */
    bool ended = false;
    for (unsigned i = 0; i < H_NAME_LEN; i++) {
        uint8_t c = in[H_NAME + i];
        if (ended && c)
            return BAD;
        if (!c)
            ended = true;
        else if (c < 0x20 || c > 0x7e)
            return BAD;
        h.vm_name[i] = (char)c;
    }
    if (!ended)
        return BAD;
    const struct save_compat *c = &h.compat;
    if (!c->memory_bytes || c->memory_bytes % SAVE_CHUNK || c->memory_bytes > SAVE_MAX_MEMORY ||
        c->vcpu_count != 1 || (c->vendor != SAVE_VENDOR_SVM && c->vendor != SAVE_VENDOR_VMX) ||
        !(c->xcr0_mask & 1) || (c->fpu_flags & ~(SAVE_FPU_XSAVE | SAVE_FPU_PKU)) ||
        c->monitor_abi != SAVE_MONITOR_ABI)
        return BAD;
    if (want && !compat_equal(c, want))
        return BAD;
    *out = h;
    return TV_OK;
}

/* ---- Field checks ---------------------------------------------------------- */
static bool canonical(uint64_t a)
{
    uint64_t top = a >> 47;
    return top == 0 || top == 0x1ffff;
}

#define RFLAGS_RESERVED (~0x3f7fd7ull)  /* 3, 5, 15 and 22-63 (SDM 3.4.3); bit 1 is set */
#define EFER_ALLOWED    0xd01ull        /* SCE, LME, LMA, NXE (vm/msr.c) */

tv_status_t save_vcpu_check(const struct save_vcpu *v)
{
    if ((v->rflags & RFLAGS_RESERVED) || !(v->rflags & 2) || v->cpl > 3 ||
        v->halted > 1 || v->irq_window > 1 || v->event_insn_len > 15 ||
        (v->interruptibility & ~SAVE_INTR_MASK))
        return BAD;
    if ((v->efer & ~EFER_ALLOWED) || (v->cr0 >> 32) || (v->cr4 >> 32) || (v->dr6 >> 32) ||
        (v->dr7 >> 32) || (v->tsc_aux >> 32) || (v->sysenter_cs >> 16) || (v->debugctl >> 32))
        return BAD;
    if (!canonical(v->lstar) || !canonical(v->cstar) || !canonical(v->kernel_gs_base) ||
        !canonical(v->sysenter_esp) || !canonical(v->sysenter_eip))
        return BAD;
    for (unsigned i = 0; i < SAVE_SEG_COUNT; i++) {
        const struct save_seg *s = &v->seg[i];
        if (s->pad || s->pad2 || !canonical(s->base) || (s->attr >> 17))
            return BAD;
    }
    uint64_t e = v->pending_event;
    if (e) {
        unsigned type = (e >> 8) & 7;
        if (!(e & SAVE_EVT_VALID) || (e & 0x7ffff000ull) || type == 1 || type == 7)
            return BAD;
        if (!(e & SAVE_EVT_ERR_VALID) && (e >> 32))
            return BAD;
    }
    return TV_OK;
}

/* Longest vAPIC timer period: count 2^32 at divide 128 on the 100 MHz clock. */
#define TIMER_MAX_NS (((1ull << 32) * 128ull) * 10ull)

tv_status_t save_devices_check(const struct save_devices *d)
{
    if (d->uart_line_len > sizeof d->uart_line || d->uart_rx_head >= sizeof d->uart_rx ||
        d->uart_rx_tail >= sizeof d->uart_rx || d->uart_thre_pending > 1 ||
        d->uart_irq_line > 1 || d->uart_pad)
        return BAD;
    if (d->cmos_index >= sizeof d->cmos_ram || d->ioapic_ioregsel > 0xff || d->ioapic_pad)
        return BAD;
    for (unsigned i = 0; i < sizeof d->cmos_pad; i++)
        if (d->cmos_pad[i])
            return BAD;
    if (d->apic_tpr > 0xff || d->apic_nmi_pending > 1 || d->apic_timer_left_ns > TIMER_MAX_NS ||
        d->apic_timer_period_ns > TIMER_MAX_NS || d->apic_timer_elapsed_ns > TIMER_MAX_NS)
        return BAD;
    return TV_OK;
}

tv_status_t save_fpu_check(const uint8_t fpu[SAVE_FPU_BYTES], bool xsave, uint64_t xcr0_mask,
                           uint32_t mxcsr_mask)
{
    uint32_t mxcsr = get32(fpu + 24);
    if (!mxcsr_mask)
        mxcsr_mask = 0xffbf;
    if (mxcsr & ~mxcsr_mask)
        return BAD;
    if (!xsave)
        return TV_OK;
    /* The XSAVE header at 512: XSTATE_BV, XCOMP_BV, then 48 reserved bytes. */
    uint64_t xstate_bv = get64(fpu + 512), xcomp_bv = get64(fpu + 520);
    if ((xstate_bv & ~xcr0_mask) || xcomp_bv)
        return BAD;
    for (unsigned i = 528; i < 576; i++)
        if (fpu[i])
            return BAD;
    return TV_OK;
}

/* ---- The writer ------------------------------------------------------------ */
void save_writer_init(struct save_writer *w, save_write_fn write, void *ctx)
{
    w->write = write;
    w->ctx = ctx;
    w->off = SAVE_HEADER_SIZE;
    w->crc = 0;
    w->records = 0;
}

tv_status_t save_writer_put(struct save_writer *w, const void *buf, size_t len)
{
    tv_status_t st = w->write(w->ctx, w->off, buf, len);
    if (st != TV_OK)
        return st;
    w->crc = save_crc32(w->crc, buf, len);
    w->off += len;
    return TV_OK;
}

tv_status_t save_writer_record(struct save_writer *w, uint32_t type, uint64_t length)
{
    uint8_t head[SAVE_RECORD_HEAD];
    save_record_head(type, length, head);
    w->records++;
    return save_writer_put(w, head, sizeof head);
}

tv_status_t save_writer_finish(struct save_writer *w, struct save_header *h, uint64_t *size)
{
    tv_status_t st = save_writer_record(w, SAVE_REC_END, 0);
    if (st != TV_OK)
        return st;
    h->version = SAVE_VERSION;
    h->header_size = SAVE_HEADER_SIZE;
    h->file_size = w->off;
    h->body_crc = w->crc;
    h->record_count = w->records;
    uint8_t head[SAVE_HEADER_SIZE];
    save_header_encode(h, head);
    if ((st = w->write(w->ctx, 0, head, sizeof head)) != TV_OK)
        return st;
    *size = w->off;
    return TV_OK;
}

/* ---- The parser ---------------------------------------------------------------- */
struct reader {
    save_read_fn read;
    void *ctx;
    uint64_t off, end;
    uint32_t crc;
};

static tv_status_t take(struct reader *r, void *buf, size_t len)
{
    if (len > r->end - r->off)
        return BAD;
    tv_status_t st = r->read(r->ctx, r->off, buf, len);
    if (st != TV_OK)
        return st;
    r->crc = save_crc32(r->crc, buf, len);
    r->off += len;
    return TV_OK;
}

static uint64_t popcount64(uint64_t x)
{
    uint64_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static tv_status_t parse_memory(struct reader *r, uint64_t length, const struct save_header *h,
                                const struct save_sink *sink, uint8_t *buf, size_t buf_len)
{
    uint64_t chunks = h->compat.memory_bytes / SAVE_CHUNK;
    uint64_t bm_bytes = save_bitmap_bytes(h->compat.memory_bytes);
    if (length < bm_bytes)
        return BAD;
    /* The bitmap is read whole first into the scratch buffer's first 4 KiB
     * (at most 64 GiB / 2 MiB / 8 = 4 KiB), the data through the rest. */
    _Static_assert(SAVE_MAX_MEMORY / SAVE_CHUNK / 8 <= 4096, "bitmap fits 4 KiB");
    uint8_t *bitmap = buf;
    buf += 4096;
    buf_len -= 4096;
    tv_status_t st = take(r, bitmap, bm_bytes);
    if (st != TV_OK)
        return st;
    uint64_t present = 0;
    for (uint64_t i = 0; i < bm_bytes / 8; i++)
        present += popcount64(get64(bitmap + 8 * i));
    for (uint64_t i = chunks; i < bm_bytes * 8; i++)
        if (bitmap[i / 8] & (1u << (i % 8)))
            return BAD; /* a chunk past the memory */
    if ((length - bm_bytes) / SAVE_CHUNK != present || (length - bm_bytes) % SAVE_CHUNK)
        return BAD;
    uint64_t done = 0;
    for (uint64_t i = 0; i < chunks; i++) {
        if (!(bitmap[i / 8] & (1u << (i % 8))))
            continue;
        for (uint64_t o = 0; o < SAVE_CHUNK; o += buf_len) {
            size_t n = SAVE_CHUNK - o < buf_len ? (size_t)(SAVE_CHUNK - o) : buf_len;
            if ((st = take(r, buf, n)) != TV_OK)
                return st;
            if (sink->memory && (st = sink->memory(sink->ctx, i * SAVE_CHUNK + o, buf, n)) != TV_OK)
                return st;
            done += n;
            if (sink->progress && (st = sink->progress(sink->ctx, done)) != TV_OK)
                return st;
        }
    }
    return TV_OK;
}

tv_status_t save_parse(save_read_fn read, void *rctx, uint64_t file_size,
                       const struct save_compat *want, uint32_t mxcsr_mask,
                       const struct save_sink *sink, void *bufp, size_t buf_len,
                       struct save_header *hdr)
{
    uint8_t *buf = bufp;
    if (buf_len < 2 * 4096 || buf_len % 4096)
        return TV_E_INVALID_ARGUMENT;
    if (file_size < SAVE_HEADER_SIZE)
        return BAD;
    uint8_t head[SAVE_HEADER_SIZE];
    tv_status_t st = read(rctx, 0, head, sizeof head);
    if (st != TV_OK)
        return st;
    struct save_header h;
    if ((st = save_header_decode(head, file_size, want, &h)) != TV_OK)
        return st;
    struct reader r = { read, rctx, SAVE_HEADER_SIZE, file_size, 0 };
    for (uint32_t expect = SAVE_REC_VCPU; expect < SAVE_REC_COUNT; expect++) {
        uint8_t rh[SAVE_RECORD_HEAD];
        if ((st = take(&r, rh, sizeof rh)) != TV_OK)
            return st;
        uint32_t type = get32(rh);
        uint64_t length = get64(rh + 8);
        if (type != expect || get32(rh + 4) != 0 || length > r.end - r.off)
            return BAD;
        switch (type) {
        case SAVE_REC_VCPU: {
            struct save_vcpu v;
            if (length != sizeof v || (st = take(&r, &v, sizeof v)) != TV_OK)
                return st == TV_OK ? BAD : st;
            if ((st = save_vcpu_check(&v)) != TV_OK)
                return st;
            if (!(v.xcr0 & 1) || (v.xcr0 & ~h.compat.xcr0_mask) ||
                ((v.xcr0 & 4) && !(v.xcr0 & 2)))
                return BAD;
            if (sink->vcpu && (st = sink->vcpu(sink->ctx, &v)) != TV_OK)
                return st;
            break;
        }
        case SAVE_REC_FPU:
            if (length != SAVE_FPU_BYTES || (st = take(&r, buf, SAVE_FPU_BYTES)) != TV_OK)
                return st == TV_OK ? BAD : st;
            if ((st = save_fpu_check(buf, (h.compat.fpu_flags & SAVE_FPU_XSAVE) != 0,
                                     h.compat.xcr0_mask, mxcsr_mask)) != TV_OK)
                return st;
            if (sink->fpu && (st = sink->fpu(sink->ctx, buf)) != TV_OK)
                return st;
            break;
        case SAVE_REC_DEVICES: {
            struct save_devices d;
            if (length != sizeof d || (st = take(&r, &d, sizeof d)) != TV_OK)
                return st == TV_OK ? BAD : st;
            if ((st = save_devices_check(&d)) != TV_OK)
                return st;
            if (sink->devices && (st = sink->devices(sink->ctx, &d)) != TV_OK)
                return st;
            break;
        }
        case SAVE_REC_MEMORY:
            if ((st = parse_memory(&r, length, &h, sink, buf, buf_len)) != TV_OK)
                return st;
            break;
        case SAVE_REC_END:
            if (length != 0)
                return BAD;
            break;
        }
    }
    if (r.off != r.end || r.crc != h.body_crc)
        return BAD;
    if (hdr)
        *hdr = h;
    return TV_OK;
}
