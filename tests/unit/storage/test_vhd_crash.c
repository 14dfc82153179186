/* Crash safety: a fault-injecting storage seam cuts power after every
 * mutating call (write, flush, create, truncate, rename, remove) of an
 * operation; then the unflushed writes survive as none, all, or a random
 * subset of 512-byte sectors (torn writes).  After the power cycle every
 * image the operation touches is opened for writing (which finishes or rolls
 * back an interrupted operation), must check clean, and must read exactly as
 * before the operation or as after it; outputs must be absent or complete. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_storage.h"
#include "vhd_internal.h"
#include "vhd_test_util.h"

#define KiB 1024u
#define MiB (1024u * 1024u)
#define MAX_IMAGES 4

struct scenario {
    const char *name;
    void (*setup)(tv_storage_t *st);
    tv_status_t (*make)(tv_storage_t *st, tv_vhd_op_t **op);
    const char *images[MAX_IMAGES]; /* verified, in this order */
    unsigned max_points;            /* sample when the op has more events */
};

struct contents {
    uint8_t *data[MAX_IMAGES];
    uint64_t size[MAX_IMAGES];
};

static void load(tv_storage_t *st, const struct scenario *sc, struct contents *c, bool recover)
{
    for (int i = 0; i < MAX_IMAGES && sc->images[i]; i++) {
        c->data[i] = NULL;
        if (recover) {
            tv_vhd_t *v;
            tv_status_t s = tv_vhd_open(st, sc->images[i], TV_VHD_OPEN_WRITE, &v);
            if (s == TV_E_NOT_FOUND)
                continue;
            if (s != TV_OK)
                fail_msg("%s: reopening %s after the crash: %d", sc->name, sc->images[i], s);
            assert_int_equal(tv_vhd_close(v), TV_OK);
        }
        c->data[i] = tu_read_all(st, sc->images[i], 0, &c->size[i]);
    }
}

static void release(const struct scenario *sc, struct contents *c)
{
    for (int i = 0; i < MAX_IMAGES && sc->images[i]; i++)
        free(c->data[i]);
}

static bool equal(const uint8_t *a, uint64_t as, const uint8_t *b, uint64_t bs)
{
    if (!a || !b)
        return a == b;
    return as == bs && memcmp(a, b, as) == 0;
}

static void run_scenario(const struct scenario *sc)
{
    mem_fs_t *base = mem_fs_new();
    tv_storage_t st;
    mem_fs_storage(base, &st);
    sc->setup(&st);

    struct contents before, after;
    load(&st, sc, &before, false);

    /* A full run: the reference result and the number of events. */
    mem_fs_t *fs = mem_fs_new();
    mem_fs_copy(fs, base);
    mem_fs_storage(fs, &st);
    mem_fs_set_crash(fs, 0);
    tv_vhd_op_t *op;
    assert_int_equal(sc->make(&st, &op), TV_OK);
    assert_int_equal(tu_run(&st, op), TV_OK);
    uint64_t events = mem_fs_events(fs);
    load(&st, sc, &after, false);
    mem_fs_free(fs);

    unsigned step = 1;
    if (sc->max_points && events > sc->max_points)
        step = (unsigned)(events / sc->max_points) | 1;
    unsigned runs = 0, as_before = 0, as_after = 0;
    for (uint64_t k = 1; k <= events; k += step) {
        for (int keep = 0; keep < 3; keep++) {
            fs = mem_fs_new();
            mem_fs_copy(fs, base);
            mem_fs_storage(fs, &st);
            mem_fs_set_crash(fs, k);
            if (sc->make(&st, &op) == TV_OK)
                tu_run(&st, op);
            mem_fs_power_cycle(fs, keep, k * 31 + (uint64_t)keep);

            struct contents now;
            load(&st, sc, &now, true);
            bool all_before = true, all_after = true;
            for (int i = 0; i < MAX_IMAGES && sc->images[i]; i++) {
                bool b = equal(now.data[i], now.size[i], before.data[i], before.size[i]);
                bool a = equal(now.data[i], now.size[i], after.data[i], after.size[i]);
                /* A merged child may linger (deleted last); it still reads the same. */
                if (!b && !a)
                    fail_msg("%s: crash after event %llu (keep %d): %s reads neither as before nor as after",
                             sc->name, (unsigned long long)k, keep, sc->images[i]);
                all_before &= b;
                all_after &= a;
                if (now.data[i]) {
                    int errors = tu_check_errors(&st, sc->images[i]);
                    if (errors != 0)
                        fail_msg("%s: crash after event %llu (keep %d): %s does not check clean (%d)",
                                 sc->name, (unsigned long long)k, keep, sc->images[i], errors);
                }
            }
            as_before += all_before;
            as_after += all_after;
            release(sc, &now);
            mem_fs_free(fs);
            runs++;
        }
    }
    printf("# %s: %llu events, %u crash runs (%u read as before, %u as after)\n", sc->name,
           (unsigned long long)events, runs, as_before, as_after);
    release(sc, &before);
    release(sc, &after);
    mem_fs_free(base);
}

/* ---- scenarios --------------------------------------------------------- */

static void fill(tv_storage_t *st, const char *name, uint64_t seed, int n, uint64_t span)
{
    uint64_t rs = seed;
    for (int i = 0; i < n; i++) {
        uint64_t off = (tu_rand(&rs) % (span / 512 - 64)) * 512;
        assert_int_equal(tu_write(st, name, off, (size_t)(1 + tu_rand(&rs) % 40) * 512, tu_rand(&rs), NULL), TV_OK);
    }
}

static void setup_dynamic(tv_storage_t *st)
{
    assert_int_equal(tu_create(st, "d.vhd", TV_VHD_DYNAMIC, 2 * MiB, 128 * KiB, NULL), TV_OK);
    fill(st, "d.vhd", 1, 10, 2 * MiB);
    /* a block that holds only zeros (compact drops it) */
    uint8_t z[4096] = { 0 };
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(st, "d.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    uint8_t one[512];
    tu_pattern(one, 512, 9);
    assert_int_equal(tv_vhd_write(v, MiB + 512 * KiB, one, 512), TV_OK);
    assert_int_equal(tv_vhd_write(v, MiB + 512 * KiB, z, 512), TV_OK);
    assert_int_equal(tv_vhd_close(v), TV_OK);
}

static void setup_chain(tv_storage_t *st)
{
    setup_dynamic(st);
    assert_int_equal(tu_create(st, "c.vhd", TV_VHD_DIFF, 0, 64 * KiB, "d.vhd"), TV_OK);
    fill(st, "c.vhd", 2, 8, 2 * MiB);
    /* a zero block over parent data (compact must keep it) */
    uint8_t z[4096] = { 0 };
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(st, "c.vhd", TV_VHD_OPEN_WRITE, &v), TV_OK);
    assert_int_equal(tv_vhd_write(v, 0, z, sizeof z), TV_OK);
    assert_int_equal(tv_vhd_close(v), TV_OK);
}

static void setup_chain_same_blocks(tv_storage_t *st)
{
    assert_int_equal(tu_create(st, "d.vhd", TV_VHD_DYNAMIC, 2 * MiB, 128 * KiB, NULL), TV_OK);
    fill(st, "d.vhd", 3, 8, 2 * MiB);
    assert_int_equal(tu_create(st, "c.vhd", TV_VHD_DIFF, 0, 128 * KiB, "d.vhd"), TV_OK);
    fill(st, "c.vhd", 4, 8, 2 * MiB);
}

static void setup_fixed(tv_storage_t *st)
{
    assert_int_equal(tu_create(st, "f.vhd", TV_VHD_FIXED, MiB, 0, NULL), TV_OK);
    fill(st, "f.vhd", 5, 6, MiB);
}

/* A larger image: power cuts at a sample of its events. */
static void setup_large(tv_storage_t *st)
{
    assert_int_equal(tu_create(st, "d.vhd", TV_VHD_DYNAMIC, 8 * MiB, 32 * KiB, NULL), TV_OK);
    fill(st, "d.vhd", 6, 60, 8 * MiB);
}

static tv_status_t mk_compact_large(tv_storage_t *st, tv_vhd_op_t **op)
{
    return tv_vhd_op_compact(st, "d.vhd", op);
}

static tv_status_t mk_convert_dyn_fixed(tv_storage_t *st, tv_vhd_op_t **op)
{
    return tv_vhd_op_convert(st, "d.vhd", false, "out.vhd", TV_VHD_FIXED, 0, op);
}
static tv_status_t mk_convert_fixed_dyn(tv_storage_t *st, tv_vhd_op_t **op)
{
    return tv_vhd_op_convert(st, "f.vhd", false, "out.vhd", TV_VHD_DYNAMIC, 64 * KiB, op);
}
static tv_status_t mk_compact_dyn(tv_storage_t *st, tv_vhd_op_t **op)
{
    return tv_vhd_op_compact(st, "d.vhd", op);
}
static tv_status_t mk_compact_diff(tv_storage_t *st, tv_vhd_op_t **op)
{
    return tv_vhd_op_compact(st, "c.vhd", op);
}
static tv_status_t mk_merge(tv_storage_t *st, tv_vhd_op_t **op)
{
    return tv_vhd_op_merge(st, "c.vhd", op);
}
static tv_status_t mk_merge_to(tv_storage_t *st, tv_vhd_op_t **op)
{
    return tv_vhd_op_merge_to(st, "c.vhd", "flat.vhd", TV_VHD_DYNAMIC, op);
}
static tv_status_t mk_create_fixed(tv_storage_t *st, tv_vhd_op_t **op)
{
    struct tv_vhd_create_params p = { .kind = TV_VHD_FIXED, .size = MiB, .exact_size = true };
    return tv_vhd_op_create(st, "new.vhd", &p, op);
}
static tv_status_t mk_create_diff(tv_storage_t *st, tv_vhd_op_t **op)
{
    struct tv_vhd_create_params p = { .kind = TV_VHD_DIFF, .parent = "d.vhd" };
    return tv_vhd_op_create(st, "new.vhd", &p, op);
}

#define SCENARIO(fn, ...)                                                                                 \
    static void fn(void **state)                                                                          \
    {                                                                                                     \
        (void)state;                                                                                      \
        static const struct scenario sc = __VA_ARGS__;                                                    \
        run_scenario(&sc);                                                                                \
    }

SCENARIO(crash_convert_dynamic_to_fixed, { "convert dynamic->fixed", setup_dynamic, mk_convert_dyn_fixed, { "d.vhd", "out.vhd" }, 0 })
SCENARIO(crash_convert_fixed_to_dynamic, { "convert fixed->dynamic", setup_fixed, mk_convert_fixed_dyn, { "f.vhd", "out.vhd" }, 0 })
SCENARIO(crash_compact_dynamic, { "compact dynamic", setup_dynamic, mk_compact_dyn, { "d.vhd" }, 0 })
SCENARIO(crash_compact_differencing, { "compact differencing", setup_chain, mk_compact_diff, { "d.vhd", "c.vhd" }, 0 })
SCENARIO(crash_merge_new_blocks, { "merge (parent gains blocks)", setup_chain, mk_merge, { "d.vhd", "c.vhd" }, 0 })
SCENARIO(crash_merge_same_blocks, { "merge (same block size)", setup_chain_same_blocks, mk_merge, { "d.vhd", "c.vhd" }, 0 })
SCENARIO(crash_merge_to, { "merge-to dynamic", setup_chain, mk_merge_to, { "d.vhd", "c.vhd", "flat.vhd" }, 0 })
SCENARIO(crash_compact_large_sampled, { "compact 8 MiB, 32 KiB blocks (sampled)", setup_large, mk_compact_large, { "d.vhd" }, 16 })
SCENARIO(crash_create_fixed, { "create fixed", setup_fixed, mk_create_fixed, { "f.vhd", "new.vhd" }, 0 })
SCENARIO(crash_create_differencing, { "create differencing", setup_dynamic, mk_create_diff, { "d.vhd", "new.vhd" }, 0 })

/* Plain writes (a guest's I/O, ordered mode): after a power cut every sector
 * reads its old contents or one written to it, never anything else, and the
 * image checks clean once reopened. */
#define PLAIN_WRITES 14
static struct {
    uint64_t off;
    size_t len;
    uint8_t data[40 * 512];
} plain_log[PLAIN_WRITES];

static void plain_writes(tv_storage_t *st, const char *name, uint8_t *model, bool apply)
{
    tv_vhd_t *v;
    if (tv_vhd_open(st, name, TV_VHD_OPEN_WRITE, &v) != TV_OK)
        return;
    uint64_t rs = 77;
    uint8_t buf[40 * 512];
    for (int i = 0; i < PLAIN_WRITES; i++) {
        uint64_t off = (tu_rand(&rs) % (2 * MiB / 512 - 40)) * 512;
        size_t len = (size_t)(1 + tu_rand(&rs) % 40) * 512;
        tu_pattern(buf, len, tu_rand(&rs));
        if (apply) {
            memcpy(model + off, buf, len);
            plain_log[i].off = off;
            plain_log[i].len = len;
            memcpy(plain_log[i].data, buf, len);
        }
        if (tv_vhd_write(v, off, buf, len) != TV_OK)
            break;
    }
    tv_vhd_flush(v);
    tv_vhd_close(v);
}

static void run_plain(const char *name, void (*setup)(tv_storage_t *st))
{
    mem_fs_t *base = mem_fs_new();
    tv_storage_t st;
    mem_fs_storage(base, &st);
    setup(&st);
    uint64_t size;
    uint8_t *before = tu_read_all(&st, name, 0, &size);
    uint8_t *after = malloc(size);
    memcpy(after, before, size);

    mem_fs_t *fs = mem_fs_new();
    mem_fs_copy(fs, base);
    mem_fs_storage(fs, &st);
    mem_fs_set_crash(fs, 0);
    plain_writes(&st, name, after, true);
    uint64_t events = mem_fs_events(fs);
    mem_fs_free(fs);
    unsigned runs = 0, torn = 0;
    for (uint64_t k = 1; k <= events; k++) {
        for (int keep = 0; keep < 3; keep++) {
            fs = mem_fs_new();
            mem_fs_copy(fs, base);
            mem_fs_storage(fs, &st);
            mem_fs_set_crash(fs, k);
            plain_writes(&st, name, NULL, false);
            mem_fs_power_cycle(fs, keep, k * 17 + (uint64_t)keep);
            tv_vhd_t *v;
            assert_int_equal(tv_vhd_open(&st, name, TV_VHD_OPEN_WRITE, &v), TV_OK);
            assert_int_equal(tv_vhd_close(v), TV_OK);
            if (tu_check_errors(&st, name) != 0)
                fail_msg("%s: crash after event %llu (keep %d) does not check clean", name,
                         (unsigned long long)k, keep);
            uint64_t got;
            uint8_t *now = tu_read_all(&st, name, 0, &got);
            assert_non_null(now);
            bool mixed = false;
            for (uint64_t o = 0; o < size; o += 512) {
                bool old = memcmp(now + o, before + o, 512) == 0;
                bool neu = memcmp(now + o, after + o, 512) == 0;
                for (int w = 0; w < PLAIN_WRITES && !old && !neu; w++)
                    if (o >= plain_log[w].off && o < plain_log[w].off + plain_log[w].len)
                        neu = memcmp(now + o, plain_log[w].data + (o - plain_log[w].off), 512) == 0;
                if (!old && !neu)
                    fail_msg("%s: crash after event %llu (keep %d): sector %llu is neither old nor new",
                             name, (unsigned long long)k, keep, (unsigned long long)(o / 512));
                mixed |= memcmp(now + o, after + o, 512) != 0;
            }
            torn += mixed;
            free(now);
            mem_fs_free(fs);
            runs++;
        }
    }
    printf("# plain writes to %s: %llu events, %u crash runs (%u with some sectors still old)\n", name,
           (unsigned long long)events, runs, torn);
    free(before);
    free(after);
    mem_fs_free(base);
}

static void setup_dynamic_with_stale_tail(tv_storage_t *st)
{
    setup_dynamic(st);
}

static void crash_plain_writes_dynamic(void **state)
{
    (void)state;
    run_plain("d.vhd", setup_dynamic_with_stale_tail);
}

static void crash_plain_writes_differencing(void **state)
{
    (void)state;
    run_plain("c.vhd", setup_chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crash_convert_dynamic_to_fixed),
        cmocka_unit_test(crash_convert_fixed_to_dynamic),
        cmocka_unit_test(crash_compact_dynamic),
        cmocka_unit_test(crash_compact_differencing),
        cmocka_unit_test(crash_merge_new_blocks),
        cmocka_unit_test(crash_merge_same_blocks),
        cmocka_unit_test(crash_merge_to),
        cmocka_unit_test(crash_compact_large_sampled),
        cmocka_unit_test(crash_create_fixed),
        cmocka_unit_test(crash_create_differencing),
        cmocka_unit_test(crash_plain_writes_dynamic),
        cmocka_unit_test(crash_plain_writes_differencing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
