/* The saved-state file format (vmm/services/vm_savefile.c): a file the
 * writer makes parses back exactly; every kind of damage or mismatch is
 * TV_E_INCOMPATIBLE_SAVED_STATE, read errors stay what they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "savefile_build.h"

struct got {
    int vcpu, fpu, devices;
    struct save_vcpu v;
    struct save_devices d;
    uint64_t mem_bytes, mem_bad, last_progress;
    uint64_t chunk_mask;
};

static tv_status_t g_vcpu(void *ctx, const struct save_vcpu *v) { struct got *g = ctx; g->vcpu++; g->v = *v; return TV_OK; }
static tv_status_t g_fpu(void *ctx, const uint8_t *f) { struct got *g = ctx; (void)f; g->fpu++; return TV_OK; }
static tv_status_t g_dev(void *ctx, const struct save_devices *d) { struct got *g = ctx; g->devices++; g->d = *d; return TV_OK; }
static tv_status_t g_mem(void *ctx, uint64_t gpa, const void *data, size_t len)
{
    struct got *g = ctx;
    const uint64_t *w = data;
    for (size_t i = 0; i < len / 8; i++)
        if (w[i] != gpa + i * 8)
            g->mem_bad++;
    g->mem_bytes += len;
    g->chunk_mask |= 1ull << (gpa / SAVE_CHUNK);
    return TV_OK;
}
static tv_status_t g_prog(void *ctx, uint64_t done) { struct got *g = ctx; g->last_progress = done; return TV_OK; }

static uint8_t scratch[64 * 1024];

static tv_status_t parse(struct membuf *m, const struct save_compat *want, struct got *g)
{
    memset(g, 0, sizeof *g);
    struct save_sink sink = { g, g_vcpu, g_fpu, g_dev, g_mem, g_prog };
    struct save_header h;
    return save_parse(membuf_read, m, m->size, want, 0, &sink, scratch, sizeof scratch, &h);
}

static struct membuf good;

static int setup(void **state)
{
    (void)state;
    memset(&good, 0, sizeof good);
    return sb_build(&good) == TV_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(good.data);
    return 0;
}

static struct membuf copy_of(const struct membuf *m)
{
    struct membuf c = { malloc(m->size), m->size, m->size };
    memcpy(c.data, m->data, m->size);
    return c;
}

static void round_trip(void **state)
{
    (void)state;
    struct got g;
    assert_int_equal(parse(&good, &sb_compat, &g), TV_OK);
    assert_int_equal(g.vcpu, 1);
    assert_int_equal(g.fpu, 1);
    assert_int_equal(g.devices, 1);
    struct save_vcpu v;
    sb_vcpu(&v);
    assert_memory_equal(&g.v, &v, sizeof v);
    assert_int_equal(g.d.uart_line_len, 5);
    assert_int_equal(g.mem_bytes, 2 * SAVE_CHUNK);
    assert_int_equal(g.mem_bad, 0);
    assert_int_equal(g.chunk_mask, 0x5);
    assert_int_equal(g.last_progress, 2 * SAVE_CHUNK);
    assert_int_equal(good.size, SAVE_HEADER_SIZE + 5 * SAVE_RECORD_HEAD + sizeof(struct save_vcpu) +
                                    SAVE_FPU_BYTES + sizeof(struct save_devices) + 8 + 2 * SAVE_CHUNK);
}

/* Every single header byte changed: refused (magic, fields or the CRC). */
static void header_byte_flips(void **state)
{
    (void)state;
    struct membuf c = copy_of(&good);
    struct got g;
    for (unsigned i = 0; i < SAVE_HEADER_SIZE; i++) {
        c.data[i] ^= 0x40;
        assert_int_equal(parse(&c, &sb_compat, &g), TV_E_INCOMPATIBLE_SAVED_STATE);
        c.data[i] ^= 0x40;
    }
    assert_int_equal(parse(&c, &sb_compat, &g), TV_OK);
    free(c.data);
}

/* A body byte changed anywhere (record heads, fixed records, memory) is
 * refused: by a field check or, at the latest, by the body CRC. */
static void body_byte_flips(void **state)
{
    (void)state;
    struct membuf c = copy_of(&good);
    struct got g;
    uint64_t step = 524287; /* a prime: lands at varied offsets of the memory */
    for (uint64_t i = SAVE_HEADER_SIZE; i < c.size; i += (i < 16384 ? 61 : step)) {
        c.data[i] ^= 0x01;
        assert_int_equal(parse(&c, &sb_compat, &g), TV_E_INCOMPATIBLE_SAVED_STATE);
        c.data[i] ^= 0x01;
    }
    free(c.data);
}

static void truncated_and_extended(void **state)
{
    (void)state;
    struct membuf c = copy_of(&good);
    struct got g;
    uint64_t sizes[] = { 0, 1, SAVE_HEADER_SIZE - 1, SAVE_HEADER_SIZE, SAVE_HEADER_SIZE + 8,
                         good.size / 2, good.size - 16, good.size - 1 };
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        c.size = sizes[i];
        assert_int_equal(parse(&c, &sb_compat, &g), TV_E_INCOMPATIBLE_SAVED_STATE);
    }
    /* A byte after END (the header's file size no longer matches). */
    c.size = good.size;
    membuf_write(&c, c.size, "x", 1);
    assert_int_equal(parse(&c, &sb_compat, &g), TV_E_INCOMPATIBLE_SAVED_STATE);
    free(c.data);
}

/* What must match: each field of the compatibility set, one at a time. */
static void compat_mismatch(void **state)
{
    (void)state;
    struct got g;
    for (int f = 0; f < 6; f++) {
        struct save_compat want = sb_compat;
        switch (f) {
        case 0: want.memory_bytes += SAVE_CHUNK; break;
        case 1: want.vcpu_count = 2; break;
        case 2: want.vendor = SAVE_VENDOR_VMX; break;
        case 3: want.xcr0_mask = 3; break;
        case 4: want.fpu_flags |= SAVE_FPU_PKU; break;
        case 5: want.monitor_abi++; break;
        }
        assert_int_equal(parse(&good, &want, &g), TV_E_INCOMPATIBLE_SAVED_STATE);
        assert_int_equal(g.vcpu, 0); /* refused before any record went anywhere */
    }
    assert_int_equal(parse(&good, NULL, &g), TV_OK);
}

/* A read error is an I/O error, not an incompatible state. */
static tv_status_t failing_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    if (off >= SAVE_HEADER_SIZE + 100)
        return TV_E_IO;
    return membuf_read(ctx, off, buf, len);
}

static void read_errors_pass_through(void **state)
{
    (void)state;
    struct got g;
    memset(&g, 0, sizeof g);
    struct save_sink sink = { &g, g_vcpu, g_fpu, g_dev, g_mem, g_prog };
    assert_int_equal(save_parse(failing_read, &good, good.size, &sb_compat, 0, &sink, scratch,
                                sizeof scratch, NULL),
                     TV_E_IO);
    /* and a sink's error (a cancel) stops the parse with it */
    sink.progress = NULL;
    sink.memory = NULL;
    sink.devices = NULL;
}

static tv_status_t cancel_mem(void *ctx, uint64_t done) { (void)ctx; return done > SAVE_CHUNK ? TV_E_CANCELLED : TV_OK; }

static void sink_error_stops(void **state)
{
    (void)state;
    struct got g;
    memset(&g, 0, sizeof g);
    struct save_sink sink = { &g, g_vcpu, g_fpu, g_dev, g_mem, cancel_mem };
    assert_int_equal(save_parse(membuf_read, &good, good.size, &sb_compat, 0, &sink, scratch,
                                sizeof scratch, NULL),
                     TV_E_CANCELLED);
}

static void vcpu_field_checks(void **state)
{
    (void)state;
    struct save_vcpu v;
    sb_vcpu(&v);
    assert_int_equal(save_vcpu_check(&v), TV_OK);
#define BREAK(stmt) do { sb_vcpu(&v); stmt; assert_int_equal(save_vcpu_check(&v), TV_E_INCOMPATIBLE_SAVED_STATE); } while (0)
    BREAK(v.rflags = 0);                    /* bit 1 clear */
    BREAK(v.rflags |= 1ull << 40);
    BREAK(v.cpl = 4);
    BREAK(v.halted = 2);
    BREAK(v.efer |= 1ull << 12);            /* SVME: never guest-visible */
    BREAK(v.dr7 = 1ull << 32);
    BREAK(v.tsc_aux = 1ull << 32);
    BREAK(v.lstar = 0x0000800000000000ull); /* not canonical */
    BREAK(v.seg[SAVE_FS].base = 0x1234000000000000ull);
    BREAK(v.seg[SAVE_TR].attr = 1u << 20);
    BREAK(v.pending_event = 13);            /* not valid but not zero */
    BREAK(v.pending_event = SAVE_EVT_VALID | (1ull << 8)); /* type 1 is reserved */
    BREAK(v.pending_event = SAVE_EVT_VALID | (5ull << 32)); /* error code without its bit */
    BREAK(v.interruptibility = 0x10);
    BREAK(v.event_insn_len = 16);
#undef BREAK
}

static void device_and_fpu_checks(void **state)
{
    (void)state;
    struct save_devices d;
    sb_devices(&d);
    assert_int_equal(save_devices_check(&d), TV_OK);
    d.uart_line_len = 201;
    assert_int_equal(save_devices_check(&d), TV_E_INCOMPATIBLE_SAVED_STATE);
    sb_devices(&d);
    d.uart_rx_head = 256;
    assert_int_equal(save_devices_check(&d), TV_E_INCOMPATIBLE_SAVED_STATE);
    sb_devices(&d);
    d.cmos_index = 128;
    assert_int_equal(save_devices_check(&d), TV_E_INCOMPATIBLE_SAVED_STATE);
    sb_devices(&d);
    d.apic_timer_left_ns = ~0ull;
    assert_int_equal(save_devices_check(&d), TV_E_INCOMPATIBLE_SAVED_STATE);

    static uint8_t fpu[SAVE_FPU_BYTES];
    memset(fpu, 0, sizeof fpu);
    fpu[24] = 0x80; fpu[25] = 0x1f;
    fpu[512] = 3;
    assert_int_equal(save_fpu_check(fpu, true, 7, 0), TV_OK);
    assert_int_equal(save_fpu_check(fpu, true, 1, 0), TV_E_INCOMPATIBLE_SAVED_STATE); /* SSE not allowed */
    fpu[520] = 1; /* compacted form */
    assert_int_equal(save_fpu_check(fpu, true, 7, 0), TV_E_INCOMPATIBLE_SAVED_STATE);
    fpu[520] = 0;
    fpu[540] = 1; /* reserved header byte */
    assert_int_equal(save_fpu_check(fpu, true, 7, 0), TV_E_INCOMPATIBLE_SAVED_STATE);
    assert_int_equal(save_fpu_check(fpu, false, 7, 0), TV_OK); /* FXSAVE: no XSAVE header */
    fpu[27] = 0x80; /* MXCSR bit 31: reserved */
    assert_int_equal(save_fpu_check(fpu, false, 7, 0), TV_E_INCOMPATIBLE_SAVED_STATE);
}

static void crc_known_value(void **state)
{
    (void)state;
    assert_int_equal(save_crc32(0, "123456789", 9), 0xCBF43926u); /* the standard check value */
    assert_int_equal(save_crc32(save_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc_known_value),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(header_byte_flips),
        cmocka_unit_test(body_byte_flips),
        cmocka_unit_test(truncated_and_extended),
        cmocka_unit_test(compat_mismatch),
        cmocka_unit_test(read_errors_pass_through),
        cmocka_unit_test(sink_error_stops),
        cmocka_unit_test(vcpu_field_checks),
        cmocka_unit_test(device_and_fpu_checks),
    };
    return cmocka_run_group_tests_name("vm_savefile", tests, setup, teardown);
}
