/* libFuzzer target: hypercall dispatch with random registers, CPL, privilege
 * and caller-memory layout against a fake guest memory.  Checks the
 * dispatcher's invariants and, per platform call, the rules of
 * docs/hypercalls.md ("Rules every call follows"): the statuses it may
 * answer, the registers it may write for each status (every other register
 * keeps its value), its output values, and that only PARTITION_LIST's OK
 * writes guest memory; not just absence of crashes. */
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
static unsigned power_offs;
static tv_status_t f_power_off(void *c) { (void)c; power_offs++; return TV_E_IO; }

static const struct hcall_services svc = { NULL, f_features, f_count, f_get, f_log, f_power_off };

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

#define BIT(st) (1ull << (st))

/* The per-call rules for a CPL-0 caller (rules 2-8 of docs/hypercalls.md):
 * which statuses a call may answer, which output registers each status
 * writes, what they hold, and whether guest memory may be written. */
static void check_call_rules(const struct hcall_caller *caller, const struct hcall_regs *in,
                             const struct hcall_regs *out, enum hcall_action a)
{
    if (caller->cpl != 0)
        return;                            /* #UD: checked by the caller */
    uint64_t code = caller->wide ? in->rax : (uint32_t)in->rax;
    bool mgmt = code == TV_HC_PARTITION_LIST || code == TV_HC_POWER_OFF || code == 0x1f1;
    bool wait = code == 0x1f1 || (code == 0xf02 && hcall_test_build);
    const bool known = code <= TV_HC_POWER_OFF || wait;
    if (a == HCALL_CONTINUE) {             /* only the WAIT calls continue */
        if (!wait)
            abort();
        return;
    }
    tv_status_t st = (tv_status_t)out->rax;
    uint64_t allowed;                      /* statuses the call may answer */
    unsigned outs = 0;                     /* bit i: o_i written (for st) */
    if (!known)
        allowed = BIT(TV_E_UNKNOWN_CALL);  /* 0xf02 too, in a normal build */
    else if (mgmt && !caller->is_control)
        allowed = BIT(TV_E_ACCESS_DENIED);
    else if (code == TV_HC_NOP || wait)
        allowed = BIT(TV_OK);
    else if (code == TV_HC_GET_VERSION) {
        allowed = BIT(TV_OK);
        outs = 3;
    } else if (code == TV_HC_PARTITION_LIST) {
        allowed = BIT(TV_OK) | BIT(TV_E_BUFFER_TOO_SMALL) | BIT(TV_E_INVALID_ARGUMENT) |
                  BIT(TV_E_FAULT);
        if (st == TV_OK || st == TV_E_BUFFER_TOO_SMALL)
            outs = 1;
    } else {                               /* POWER_OFF: returns only on failure */
        allowed = BIT(TV_E_INVALID_ARGUMENT) | BIT(TV_E_IO);
    }
    if (st >= 64 || !(allowed & BIT(st)))
        abort();
    /* The whole register file but RAX and the call's outputs is untouched. */
    struct hcall_regs want = *in;
    want.rax = out->rax;
    if (outs & 1)
        want.rdx = out->rdx;
    if (outs & 2)
        want.rsi = out->rsi;
    if (memcmp(&want, out, sizeof want) != 0)
        abort();
    uint64_t mask = caller->wide ? UINT64_MAX : UINT32_MAX;
    if (code == TV_HC_GET_VERSION &&
        (out->rdx != ((((uint64_t)TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR) & mask) ||
         out->rsi != (uint64_t)(hcall_test_build ? 0xffffffffu : ~TV_FEAT_TEST_CALLS)))
        abort();                           /* features as given, test bit by the build */
    if (code == TV_HC_PARTITION_LIST && outs && out->rdx != nparts)
        abort();
    /* Only a listing that succeeded wrote guest memory; only a control
     * partition's POWER_OFF with all arguments zero reached the service. */
    if (mem.writes && !(code == TV_HC_PARTITION_LIST && (st == TV_OK || st == TV_E_FAULT)))
        abort();
    if (power_offs && !(code == TV_HC_POWER_OFF && caller->is_control && st == TV_E_IO))
        abort();
    /* Reserved arguments are zero in every call a management call accepted:
     * all five for POWER_OFF, a2..a4 for PARTITION_LIST. */
    uint64_t wargs[5] = { in->rdi, in->rsi, in->rdx, in->r10, in->r8 };
    uint64_t nargs[5] = { in->rbx, in->rcx, in->rdx, in->rsi, in->rdi };
    int first = -1;
    if (code == TV_HC_POWER_OFF && caller->is_control && st == TV_E_IO)
        first = 0;
    if (code == TV_HC_PARTITION_LIST && caller->is_control &&
        (st == TV_OK || st == TV_E_BUFFER_TOO_SMALL))
        first = 2;
    for (int i = first < 0 ? 5 : first; i < 5; i++)
        if ((caller->wide ? wargs[i] : (uint32_t)nargs[i]) != 0)
            abort();
}

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
    power_offs = 0;
    enum hcall_action a = hcall_dispatch(&env, &caller, &r);
    check_call_rules(&caller, &before, &r, a);

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
