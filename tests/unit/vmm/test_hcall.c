/* Unit tests for vmm/hcall: permission order, register conventions,
 * continuation, guest-memory checks and the platform calls. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "hcall/hcall.h"
#include "fake_guest_mem.h"

/* ---- fake monitor services ---- */
static struct tv_partition_record parts[3];
static uint32_t nparts;
static char last_log[256];
static unsigned log_count;
static unsigned handler_calls;

static uint32_t svc_features(void *ctx) { (void)ctx; return TV_FEAT_TASKS | TV_FEAT_TEST_CALLS; }
static uint32_t svc_count(void *ctx) { (void)ctx; return nparts; }
static tv_status_t svc_get(void *ctx, uint32_t i, struct tv_partition_record *r)
{
    (void)ctx;
    if (i >= nparts)
        return TV_E_NOT_FOUND;
    *r = parts[i];
    return TV_OK;
}
static void svc_log(void *ctx, const char *line)
{
    (void)ctx;
    snprintf(last_log, sizeof last_log, "%s", line);
    log_count++;
}

static int power_offs;
static tv_status_t svc_power_off(void *ctx)
{
    (void)ctx;
    power_offs++;
    return TV_E_IO;     /* a machine that did not turn off */
}

static const struct hcall_services svc = {
    .features = svc_features, .partition_count = svc_count,
    .partition_get = svc_get, .log = svc_log, .power_off = svc_power_off,
};

/* ---- extra sections as the monitor would add them ---- */
static tv_status_t hc_echo(struct hcall_ctx *c)
{
    handler_calls++;
    for (unsigned i = 0; i < 3; i++)
        c->out[i] = c->arg[i] + c->arg[3] + c->arg[4];
    c->out_mask = 7;
    return TV_OK;
}

/* A wait: counts a0 down by at most 10 per call, continuing until zero. */
static tv_status_t hc_wait(struct hcall_ctx *c)
{
    handler_calls++;
    if (c->arg[0] > 10) {
        c->arg[0] -= 10;
        c->arg_update_mask = 1;
        return TV_E_CONTINUE;
    }
    c->out[0] = 0x77;
    c->out_mask = 1;
    return TV_E_TIMEOUT;
}

static const struct hcall_desc extra_calls[] = {
    { 0x1f0, "ECHO", 0, hc_echo },
    { 0x1f1, "WAIT", HCALL_F_MGMT, hc_wait },
    { 0xf01, "TEST_ECHO", HCALL_F_TEST_ONLY, hc_echo },
};
static const struct hcall_section sections[2] = {
    { NULL, 0, 0, 0 },   /* filled with hcall_platform_section in setup */
    { extra_calls, 3, 0, 0 },
};
static struct hcall_section sec_copy[2];
static struct hcall_table table;
static struct hcall_env env;
static struct fake_guest_mem mem;

static int setup(void **state)
{
    (void)state;
    sec_copy[0] = hcall_platform_section;
    sec_copy[1] = sections[1];
    table.sections = sec_copy;
    table.nsections = 2;
    env.table = &table;
    env.svc = &svc;
    fake_guest_mem_init(&mem);
    memset(parts, 0, sizeof parts);
    parts[0] = (struct tv_partition_record){ .id = 1, .state = TV_PARTITION_RUNNING,
        .flags = TV_PARTITION_F_CONTROL, .vcpu_count = 1, .memory_bytes = 64u << 20 };
    strcpy(parts[0].name, "control");
    parts[1] = (struct tv_partition_record){ .id = 2, .state = TV_PARTITION_EXITED,
        .vcpu_count = 1, .memory_bytes = 16u << 20, .exit_code = 3, .reserved0 = 0xdead };
    memset(parts[1].name, 'x', sizeof parts[1].name);   /* unterminated */
    nparts = 2;
    log_count = 0;
    handler_calls = 0;
    last_log[0] = 0;
    return 0;
}

static struct hcall_caller caller(bool control, unsigned cpl, bool wide)
{
    return (struct hcall_caller){ .partition_id = control ? 1 : 2, .is_control = control,
                                  .cpl = (uint8_t)cpl, .wide = wide, .mem = &mem.view };
}

static void table_is_consistent(void **state)
{
    (void)state;
    const struct hcall_desc *bad;
    assert_int_equal(hcall_table_check(&table, &bad), TV_OK);
    assert_null(bad);
    static const struct hcall_desc dup[] = { { TV_HC_NOP, "DUP", 0, hc_echo } };
    struct hcall_section s2[2] = { hcall_platform_section, { dup, 1, 0, 0 } };
    struct hcall_table t2 = { s2, 2 };
    assert_int_equal(hcall_table_check(&t2, &bad), TV_E_EXISTS);
    assert_ptr_equal(bad, &dup[0]);
    static const struct hcall_desc noname[] = { { 0x5, NULL, 0, hc_echo } };
    struct hcall_section s3 = { noname, 1, 0, 0 };
    struct hcall_table t3 = { &s3, 1 };
    assert_int_equal(hcall_table_check(&t3, &bad), TV_E_INVALID_ARGUMENT);
    static const struct hcall_desc badflag[] = { { 0x5, "X", 0x80, hc_echo } };
    struct hcall_section s4 = { badflag, 1, 0, 0 };
    struct hcall_table t4 = { &s4, 1 };
    assert_int_equal(hcall_table_check(&t4, &bad), TV_E_INVALID_ARGUMENT);
}

static void lookup_respects_test_only(void **state)
{
    (void)state;
    assert_non_null(hcall_lookup(&table, 0xf01, true, NULL));
    assert_null(hcall_lookup(&table, 0xf01, false, NULL));
    assert_non_null(hcall_lookup(&table, TV_HC_NOP, false, NULL));
    assert_null(hcall_lookup(&table, 0x100000000ull | TV_HC_NOP, false, NULL));
    assert_null(hcall_lookup(&table, 0x0ff, true, NULL));
}

static void cpl3_gets_ud_before_anything(void **state)
{
    (void)state;
    struct hcall_caller c = caller(true, 3, true);
    struct hcall_regs r = { .rax = 0x1f0, .rdi = 1 };
    struct hcall_regs before = r;
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_INJECT_UD);
    assert_memory_equal(&r, &before, sizeof r);
    c.cpl = 1;
    r.rax = 0x12345;  /* unknown code: #UD still wins */
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_INJECT_UD);
    assert_int_equal(r.rax, 0x12345);
    assert_int_equal(handler_calls, 0);
}

static void unknown_and_test_only_calls(void **state)
{
    (void)state;
    struct hcall_caller c = caller(true, 0, true);
    struct hcall_regs r = { .rax = 0x0ff, .rdx = 0x55 };
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_ADVANCE);
    assert_int_equal(r.rax, TV_E_UNKNOWN_CALL);
    assert_int_equal(r.rdx, 0x55);
    r.rax = 0xf01;
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_ADVANCE);
    assert_int_equal(r.rax, hcall_test_build ? TV_OK : TV_E_UNKNOWN_CALL);
    /* Upper half of RAX matters for 64-bit callers... */
    r.rax = 0x100000000ull;
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_E_UNKNOWN_CALL);
    /* ...and is ignored for 32-bit callers. */
    c.wide = false;
    r.rax = 0xffffffff00000000ull;
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_OK);
}

static void mgmt_denied_for_guests_and_logged(void **state)
{
    (void)state;
    struct hcall_caller c = caller(false, 0, true);
    struct hcall_regs r = { .rax = TV_HC_PARTITION_LIST, .rdi = FAKE_LOW_GPA, .rsi = 4 };
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_ADVANCE);
    assert_int_equal(r.rax, TV_E_ACCESS_DENIED);
    assert_int_equal(log_count, 1);
    assert_non_null(strstr(last_log, "PARTITION_LIST"));
    assert_non_null(strstr(last_log, "partition 2"));
    assert_int_equal(mem.writes, 0);
    /* The same call from the control partition works. */
    c = caller(true, 0, true);
    r = (struct hcall_regs){ .rax = TV_HC_PARTITION_LIST, .rdi = FAKE_LOW_GPA, .rsi = 4 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_OK);
    assert_int_equal(log_count, 1);
}

static void denial_logging_is_rate_limited(void **state)
{
    (void)state;
    uint32_t denials = 0;
    struct hcall_caller c = caller(false, 0, true);
    c.denials = &denials;
    for (unsigned i = 0; i < 100; i++) {
        struct hcall_regs r = { .rax = TV_HC_PARTITION_LIST };
        hcall_dispatch(&env, &c, &r);
        assert_int_equal(r.rax, TV_E_ACCESS_DENIED);
    }
    assert_int_equal(denials, 100);
    assert_int_equal(log_count, 8 + 3);          /* 1..8, 16, 32, 64 */
    assert_non_null(strstr(last_log, "denial 64"));
    denials = UINT32_MAX;                         /* saturates, never wraps */
    struct hcall_regs r = { .rax = TV_HC_PARTITION_LIST };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(denials, UINT32_MAX);
}

static void argument_registers_64_and_32(void **state)
{
    (void)state;
    struct hcall_caller c = caller(false, 0, true);
    struct hcall_regs r = { .rax = 0x1f0, .rdi = 1, .rsi = 2, .rdx = 3, .r10 = 40,
                            .r8 = 0x100000000ull, .rbx = 0xbb, .rcx = 0xcc };
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_ADVANCE);
    assert_int_equal(r.rax, TV_OK);
    assert_int_equal(r.rdx, 1 + 40 + 0x100000000ull);
    assert_int_equal(r.rsi, 2 + 40 + 0x100000000ull);
    assert_int_equal(r.rdi, 3 + 40 + 0x100000000ull);
    assert_int_equal(r.rbx, 0xbb);
    assert_int_equal(r.rcx, 0xcc);

    /* 32-bit: EBX ECX EDX ESI EDI, zero-extended; outputs truncated. */
    c.wide = false;
    r = (struct hcall_regs){ .rax = 0x1f0, .rbx = 0xffffffff00000001ull, .rcx = 2, .rdx = 3,
                             .rsi = 0xfffffff0, .rdi = 0x20, .r8 = 99, .r10 = 99 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_OK);
    assert_int_equal(r.rdx, (uint32_t)(1 + 0xfffffff0ull + 0x20));
    assert_int_equal(r.rsi, (uint32_t)(2 + 0xfffffff0ull + 0x20));
    assert_int_equal(r.rdi, (uint32_t)(3 + 0xfffffff0ull + 0x20));
    assert_int_equal(r.r8, 99);
}

static void continuation_keeps_rip_and_code(void **state)
{
    (void)state;
    struct hcall_caller c = caller(true, 0, true);
    struct hcall_regs r = { .rax = 0x1f1, .rdi = 25, .rdx = 0x99 };
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_CONTINUE);
    assert_int_equal(r.rax, 0x1f1);
    assert_int_equal(r.rdi, 15);
    assert_int_equal(r.rdx, 0x99);
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_CONTINUE);
    assert_int_equal(r.rdi, 5);
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_ADVANCE);
    assert_int_equal(r.rax, TV_E_TIMEOUT);
    assert_int_equal(r.rdx, 0x77);
    /* 32-bit caller: the remaining time lives in EBX. */
    c.wide = false;
    r = (struct hcall_regs){ .rax = 0x1f1, .rbx = 0xdead000000000020ull };
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_CONTINUE);
    assert_int_equal(r.rbx, 0x16);
}

static void nop_and_version(void **state)
{
    (void)state;
    struct hcall_caller c = caller(false, 0, true);
    struct hcall_regs r = { .rax = TV_HC_NOP, .rdx = 5, .rsi = 6 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_OK);
    assert_int_equal(r.rdx, 5);
    r.rax = TV_HC_GET_VERSION;
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_OK);
    assert_int_equal(r.rdx, (TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR);
    uint32_t want = TV_FEAT_TASKS | (hcall_test_build ? TV_FEAT_TEST_CALLS : 0);
    assert_int_equal(r.rsi, want);
}

static void partition_list_writes_records(void **state)
{
    (void)state;
    struct hcall_caller c = caller(true, 0, true);
    uint64_t buf = FAKE_LOW_GPA + 0x100;
    memset(mem.low, 0xee, sizeof mem.low);
    struct hcall_regs r = { .rax = TV_HC_PARTITION_LIST, .rdi = buf, .rsi = 2 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_OK);
    assert_int_equal(r.rdx, 2);
    struct tv_partition_record out[2];
    memcpy(out, mem.low + 0x100, sizeof out);
    assert_int_equal(out[0].id, 1);
    assert_string_equal(out[0].name, "control");
    assert_int_equal(out[0].flags, TV_PARTITION_F_CONTROL | TV_PARTITION_F_SELF);
    assert_int_equal(out[0].memory_bytes, 64u << 20);
    assert_true(out[0].name[31] == 0 && out[0].name[8] == 0);
    assert_int_equal(out[1].id, 2);
    assert_int_equal(out[1].state, TV_PARTITION_EXITED);
    assert_int_equal(out[1].exit_code, 3);
    assert_int_equal(out[1].reserved0, 0);
    assert_int_equal(out[1].flags, 0);
    assert_int_equal(strlen(out[1].name), 31);
    /* The byte after the last record is untouched. */
    assert_int_equal(mem.low[0x100 + 2 * 64], 0xee);
}

static void partition_list_too_small_reports_count(void **state)
{
    (void)state;
    struct hcall_caller c = caller(true, 0, true);
    struct hcall_regs r = { .rax = TV_HC_PARTITION_LIST, .rdi = FAKE_LOW_GPA, .rsi = 1 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_E_BUFFER_TOO_SMALL);
    assert_int_equal(r.rdx, 2);
    assert_int_equal(mem.writes, 0);
    /* Capacity 0 with a null pointer is the way to ask for the count. */
    r = (struct hcall_regs){ .rax = TV_HC_PARTITION_LIST, .rdi = 0, .rsi = 0 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_E_BUFFER_TOO_SMALL);
    assert_int_equal(r.rdx, 2);
    nparts = 0;
    r = (struct hcall_regs){ .rax = TV_HC_PARTITION_LIST, .rdi = 0, .rsi = 0 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_OK);
    assert_int_equal(r.rdx, 0);
}

static void partition_list_rejects_bad_buffers(void **state)
{
    (void)state;
    struct hcall_caller c = caller(true, 0, true);
    const struct { uint64_t gpa, cap; } bad[] = {
        { 0, 1 },                                     /* not caller RAM */
        { FAKE_LOW_GPA + 4, 1 },                      /* unaligned */
        { FAKE_LOW_GPA + FAKE_LOW_SIZE - 64, 2 },     /* runs off the end */
        { FAKE_LOW_GPA + FAKE_LOW_SIZE - 64, 3 },     /* straddles into the gap */
        { FAKE_LOW_GPA, 1ull << 58 },                 /* capacity*64 overflows */
        { FAKE_LOW_GPA, (1ull << 58) + 1 },
        { 0xffffffffffffffc0ull, 1 },                 /* wraps */
        { FAKE_HIGH_GPA, FAKE_HIGH_SIZE / 64 + 1 },
        { FAKE_LOW_GPA, GUEST_MEM_MAX_COPY / 64 + 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct hcall_regs r = { .rax = TV_HC_PARTITION_LIST, .rdi = bad[i].gpa, .rsi = bad[i].cap };
        hcall_dispatch(&env, &c, &r);
        assert_int_equal(r.rax, TV_E_INVALID_ARGUMENT);
    }
    assert_int_equal(mem.writes, 0);
    /* Exactly filling the high range is fine. */
    struct hcall_regs r = { .rax = TV_HC_PARTITION_LIST, .rdi = FAKE_HIGH_GPA + FAKE_HIGH_SIZE - 128,
                            .rsi = 2 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_OK);
}

/* Reserved arguments (a2..a4) must be zero: INVALID_ARGUMENT, nothing
 * written, RDX (o0, which is also a2) left as it was; 32-bit callers too. */
static void partition_list_reserved_arguments(void **state)
{
    (void)state;
    for (int wide = 1; wide >= 0; wide--) {
        struct hcall_caller c = caller(true, 0, wide);
        for (unsigned i = 2; i < 5; i++) {
            struct hcall_regs r = { .rax = TV_HC_PARTITION_LIST };
            uint64_t *wregs[5] = { &r.rdi, &r.rsi, &r.rdx, &r.r10, &r.r8 };
            uint64_t *nregs[5] = { &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi };
            *(wide ? wregs : nregs)[0] = FAKE_LOW_GPA;
            *(wide ? wregs : nregs)[1] = 2;
            *(wide ? wregs : nregs)[i] = 7;
            struct hcall_regs before = r;
            hcall_dispatch(&env, &c, &r);
            assert_int_equal(r.rax, TV_E_INVALID_ARGUMENT);
            before.rax = r.rax;
            assert_memory_equal(&r, &before, sizeof r);
        }
    }
    assert_int_equal(mem.writes, 0);
}

static void partition_list_without_provider(void **state)
{
    (void)state;
    struct hcall_services none = { 0 };
    struct hcall_env e2 = { &table, &none, NULL };
    struct hcall_caller c = caller(true, 0, true);
    struct hcall_regs r = { .rax = TV_HC_PARTITION_LIST, .rdi = FAKE_LOW_GPA, .rsi = 2 };
    hcall_dispatch(&e2, &c, &r);
    assert_int_equal(r.rax, TV_E_UNSUPPORTED);
}

/* POWER_OFF: management only, no arguments, returns the failure it met. */
static void power_off_call(void **state)
{
    (void)state;
    power_offs = 0;
    struct hcall_caller c = caller(false, 0, true);
    struct hcall_regs r = { .rax = TV_HC_POWER_OFF, .rdx = 9 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_E_ACCESS_DENIED);
    c = caller(true, 0, true);
    r = (struct hcall_regs){ .rax = TV_HC_POWER_OFF, .rdi = 1 };
    hcall_dispatch(&env, &c, &r);
    assert_int_equal(r.rax, TV_E_INVALID_ARGUMENT);
    assert_int_equal(power_offs, 0);
    r = (struct hcall_regs){ .rax = TV_HC_POWER_OFF, .rbx = 9 };
    assert_int_equal(hcall_dispatch(&env, &c, &r), HCALL_ADVANCE);
    assert_int_equal(r.rax, TV_E_IO);
    assert_int_equal(r.rbx, 9);
    assert_int_equal(power_offs, 1);
    struct hcall_services none = { 0 };
    struct hcall_env e2 = { &table, &none, NULL };
    r = (struct hcall_regs){ .rax = TV_HC_POWER_OFF };
    hcall_dispatch(&e2, &c, &r);
    assert_int_equal(r.rax, TV_E_UNSUPPORTED);
}

static void guest_mem_bounds(void **state)
{
    (void)state;
    const struct guest_mem_view *v = &mem.view;
    uint8_t b[16];
    assert_int_equal(guest_mem_check(v, FAKE_LOW_GPA, FAKE_LOW_SIZE), TV_OK);
    assert_int_equal(guest_mem_check(v, FAKE_LOW_GPA, FAKE_LOW_SIZE + 1), TV_E_INVALID_ARGUMENT);
    assert_int_equal(guest_mem_check(v, FAKE_LOW_GPA - 1, 1), TV_E_INVALID_ARGUMENT);
    assert_int_equal(guest_mem_check(v, UINT64_MAX, 2), TV_E_INVALID_ARGUMENT);
    assert_int_equal(guest_mem_check(v, 12345, 0), TV_OK);
    assert_int_equal(guest_mem_check(NULL, FAKE_LOW_GPA, 1), TV_E_INVALID_ARGUMENT);
    mem.low[5] = 0x5a;
    assert_int_equal(guest_mem_read(v, FAKE_LOW_GPA + 5, b, 1), TV_OK);
    assert_int_equal(b[0], 0x5a);
    assert_int_equal(mem.reads, 1);
    assert_int_equal(guest_mem_read(v, FAKE_HIGH_GPA + FAKE_HIGH_SIZE - 8, b, 16),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(mem.reads, 1);
    assert_int_equal(guest_mem_write(v, FAKE_HIGH_GPA + 8, b, 8), TV_OK);
    /* Malformed and empty ranges never match. */
    struct guest_mem_range odd[2] = { { UINT64_MAX - 10, 100 }, { 0x5000, 0 } };
    struct guest_mem_view ov = mem.view;
    ov.ranges = odd;
    ov.nranges = 2;
    assert_int_equal(guest_mem_check(&ov, UINT64_MAX - 5, 2), TV_E_INVALID_ARGUMENT);
    assert_int_equal(guest_mem_check(&ov, 0x5000, 1), TV_E_INVALID_ARGUMENT);
    uint64_t n;
    assert_false(guest_mem_array_bytes(UINT64_MAX / 2, 3, &n));
    assert_true(guest_mem_array_bytes(3, 64, &n));
    assert_int_equal(n, 192);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(table_is_consistent, setup),
        cmocka_unit_test_setup(lookup_respects_test_only, setup),
        cmocka_unit_test_setup(cpl3_gets_ud_before_anything, setup),
        cmocka_unit_test_setup(unknown_and_test_only_calls, setup),
        cmocka_unit_test_setup(power_off_call, setup),
        cmocka_unit_test_setup(mgmt_denied_for_guests_and_logged, setup),
        cmocka_unit_test_setup(denial_logging_is_rate_limited, setup),
        cmocka_unit_test_setup(argument_registers_64_and_32, setup),
        cmocka_unit_test_setup(continuation_keeps_rip_and_code, setup),
        cmocka_unit_test_setup(nop_and_version, setup),
        cmocka_unit_test_setup(partition_list_writes_records, setup),
        cmocka_unit_test_setup(partition_list_too_small_reports_count, setup),
        cmocka_unit_test_setup(partition_list_rejects_bad_buffers, setup),
        cmocka_unit_test_setup(partition_list_reserved_arguments, setup),
        cmocka_unit_test_setup(partition_list_without_provider, setup),
        cmocka_unit_test_setup(guest_mem_bounds, setup),
    };
    return cmocka_run_group_tests_name("vmm_hcall", tests, NULL, NULL);
}
