/* libFuzzer target: hypercall dispatch with random registers, CPL, privilege
 * and caller-memory layout against a fake guest memory.  Checks the
 * dispatcher's invariants, not just absence of crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hcall/hcall.h"
#include "fake_guest_mem.h"

static struct fake_guest_mem mem;
static uint32_t nparts;

static uint32_t f_features(void *c) { (void)c; return 0xffffffffu; }
static uint32_t f_count(void *c) { (void)c; return nparts; }
static tv_status_t f_get(void *c, uint32_t i, struct tv_partition_record *r)
{
    (void)c;
    if (i >= nparts)
        abort();                       /* handler asked past the count */
    r->id = i + 1;
    memset(r->name, 'p', sizeof r->name);
    return TV_OK;
}
static void f_log(void *c, const char *l) { (void)c; (void)l; }

static const struct hcall_services svc = { NULL, f_features, f_count, f_get, f_log };

static tv_status_t hc_wait(struct hcall_ctx *c)
{
    if (c->arg[0] > 1) {
        c->arg[0] /= 2;
        c->arg_update_mask = 1;
        return TV_E_CONTINUE;
    }
    return TV_OK;
}
static const struct hcall_desc extra[] = {
    { 0x1f1, "WAIT", HCALL_F_MGMT, hc_wait },
    { 0xf02, "TEST_WAIT", HCALL_F_TEST_ONLY, hc_wait },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hcall_regs r;
    uint8_t ctl[4] = { 0 };
    if (size < sizeof r)
        return 0;
    memcpy(&r, data, sizeof r);
    memcpy(ctl, data + sizeof r, size - sizeof r < 4 ? size - sizeof r : 4);

    fake_guest_mem_init(&mem);
    /* Small call codes are the interesting ones: fold most inputs there. */
    if (ctl[0] & 1)
        r.rax &= 0xfff;
    /* Pointers near the caller's ranges reach the checks' edges. */
    if (ctl[0] & 2)
        r.rdi = FAKE_LOW_GPA + (r.rdi & 0x1ffff) - 0x100;
    if (ctl[0] & 4)
        r.rsi &= 0x7ff;
    struct hcall_caller caller = {
        .partition_id = ctl[1], .is_control = ctl[0] & 8, .cpl = (ctl[0] >> 4) & 3,
        .wide = ctl[0] & 0x40, .mem = &mem.view,
    };
    nparts = ctl[2] % 40;
    if (ctl[3] & 1)
        mem.view.nranges = ctl[3] >> 6;   /* 0..3 ranges (3: one garbage entry) */
    struct guest_mem_range ranges[3] = { mem.ranges[0], mem.ranges[1], { UINT64_MAX - 10, 100 } };
    mem.view.ranges = ranges;

    struct hcall_section secs[2] = { hcall_platform_section, { extra, 2, 0, 0 } };
    struct hcall_table table = { secs, 2 };
    struct hcall_env env = { &table, &svc, NULL };

    struct hcall_regs before = r;
    enum hcall_action a = hcall_dispatch(&env, &caller, &r);

    if ((a == HCALL_INJECT_UD) != (caller.cpl != 0))
        abort();
    if (a == HCALL_INJECT_UD && memcmp(&r, &before, sizeof r))
        abort();
    if (r.rbx != before.rbx || r.rcx != before.rcx || r.r10 != before.r10 || r.r8 != before.r8) {
        /* Only a 32-bit continuation may rewrite EBX (its first argument). */
        if (!(a == HCALL_CONTINUE && !caller.wide && r.rcx == before.rcx &&
              r.r10 == before.r10 && r.r8 == before.r8))
            abort();
    }
    if (a == HCALL_CONTINUE && r.rax != before.rax)
        abort();
    if (a == HCALL_ADVANCE && r.rax >= TV_STATUS_COUNT)
        abort();
    if (!caller.is_control && mem.writes)
        abort();                        /* management data leaked to a guest */
    if (!caller.wide && a == HCALL_ADVANCE &&
        ((r.rdx >> 32 && r.rdx != before.rdx) || (r.rsi >> 32 && r.rsi != before.rsi)))
        abort();                        /* 32-bit results are zero-extended */
    return 0;
}
