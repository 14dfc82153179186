/* Hypercall dispatch: argument decoding, the one place for permission checks,
 * and result write-back. */
#include "hcall.h"
#include "tv_fmt.h"
#include "tv_string.h"

#ifdef TV_TEST_BUILD
const bool hcall_test_build = true;
#else
const bool hcall_test_build = false;
#endif

#define HCALL_KNOWN_FLAGS (HCALL_F_MGMT | HCALL_F_TEST_ONLY)

tv_status_t hcall_table_check(const struct hcall_table *table,
                              const struct hcall_desc **bad)
{
    if (bad)
        *bad = NULL;
    if (!table || (table->nsections && !table->sections))
        return TV_E_INVALID_ARGUMENT;
    for (size_t s = 0; s < table->nsections; s++) {
        const struct hcall_section *sec = &table->sections[s];
        if (sec->count && !sec->calls)
            return TV_E_INVALID_ARGUMENT;
        for (size_t i = 0; i < sec->count; i++) {
            const struct hcall_desc *d = &sec->calls[i];
            if (!d->name || !d->handler || (d->flags & ~HCALL_KNOWN_FLAGS)) {
                if (bad)
                    *bad = d;
                return TV_E_INVALID_ARGUMENT;
            }
            /* Compare with every later entry (tables are small). */
            for (size_t t = s; t < table->nsections; t++) {
                const struct hcall_section *o = &table->sections[t];
                for (size_t j = (t == s ? i + 1 : 0); j < o->count; j++) {
                    if (o->calls[j].code == d->code) {
                        if (bad)
                            *bad = &o->calls[j];
                        return TV_E_EXISTS;
                    }
                }
            }
        }
    }
    return TV_OK;
}

const struct hcall_desc *hcall_lookup(const struct hcall_table *table,
                                      uint64_t code, bool allow_test_only,
                                      const struct hcall_section **section)
{
    if (!table || code > UINT32_MAX)
        return NULL;
    for (size_t s = 0; s < table->nsections; s++) {
        const struct hcall_section *sec = &table->sections[s];
        for (size_t i = 0; i < sec->count; i++) {
            const struct hcall_desc *d = &sec->calls[i];
            if (d->code != code)
                continue;
            if ((d->flags & HCALL_F_TEST_ONLY) && !allow_test_only)
                return NULL;
            if (section)
                *section = sec;
            return d;
        }
    }
    return NULL;
}

/* Argument and output registers, in ABI order. */
static uint64_t *arg_reg(struct hcall_regs *r, bool wide, unsigned i)
{
    uint64_t *wide_regs[HCALL_NARGS] = { &r->rdi, &r->rsi, &r->rdx, &r->r10, &r->r8 };
    uint64_t *narrow_regs[HCALL_NARGS] = { &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi };
    return wide ? wide_regs[i] : narrow_regs[i];
}

static uint64_t *out_reg(struct hcall_regs *r, unsigned i)
{
    uint64_t *regs[HCALL_NOUTS] = { &r->rdx, &r->rsi, &r->rdi };
    return regs[i];
}

static void log_denied(const struct hcall_env *env, const struct hcall_caller *caller,
                       const struct hcall_desc *d)
{
    uint32_t n = 1;
    if (caller->denials) {
        if (*caller->denials != UINT32_MAX)
            (*caller->denials)++;
        n = *caller->denials;
        if (n > 8 && (n & (n - 1)))
            return;                       /* rate limit: 1..8, 16, 32, ... */
    }
    if (!env->svc || !env->svc->log)
        return;
    char line[160];
    tv_snprintf(line, sizeof line,
                "hypercall %s (0x%x) denied: partition %u is not the control partition"
                " (denial %u)", d->name, (unsigned)d->code, (unsigned)caller->partition_id,
                (unsigned)n);
    env->svc->log(env->svc->ctx, line);
}

static void set_status(struct hcall_regs *regs, tv_status_t st)
{
    /* Status codes are small non-negative values; store them zero-extended
     * so 32-bit and 64-bit callers read the same number. */
    regs->rax = (uint64_t)(uint32_t)st;
}

enum hcall_action hcall_dispatch(const struct hcall_env *env,
                                 const struct hcall_caller *caller,
                                 struct hcall_regs *regs)
{
    if (caller->cpl != 0)
        return HCALL_INJECT_UD;

    const bool wide = caller->wide;
    uint64_t code = wide ? regs->rax : (uint32_t)regs->rax;
    const struct hcall_section *sec = NULL;
    const struct hcall_desc *d = hcall_lookup(env->table, code, hcall_test_build, &sec);
    if (!d) {
        set_status(regs, TV_E_UNKNOWN_CALL);
        return HCALL_ADVANCE;
    }
    if ((d->flags & HCALL_F_MGMT) && !caller->is_control) {
        log_denied(env, caller, d);
        set_status(regs, TV_E_ACCESS_DENIED);
        return HCALL_ADVANCE;
    }

    struct hcall_ctx ctx;
    tv_memset(&ctx, 0, sizeof ctx);
    ctx.caller = caller;
    ctx.svc = env->svc;
    ctx.host = env->host;
    if (sec->caller_state) {
        ctx.host = sec->caller_state(sec->owner, caller);
        if (!ctx.host) {
            set_status(regs, TV_E_UNSUPPORTED);
            return HCALL_ADVANCE;
        }
    }
    for (unsigned i = 0; i < HCALL_NARGS; i++) {
        uint64_t v = *arg_reg(regs, wide, i);
        ctx.arg[i] = wide ? v : (uint32_t)v;
    }

    tv_status_t st = d->handler(&ctx);

    if (st == TV_E_CONTINUE) {
        /* RAX keeps the call code so the re-executed instruction repeats the
         * call; only the arguments the handler rewrote change. */
        for (unsigned i = 0; i < HCALL_NARGS; i++) {
            if (ctx.arg_update_mask & (1u << i))
                *arg_reg(regs, wide, i) = wide ? ctx.arg[i] : (uint32_t)ctx.arg[i];
        }
        return HCALL_CONTINUE;
    }
    for (unsigned i = 0; i < HCALL_NOUTS; i++) {
        if (ctx.out_mask & (1u << i))
            *out_reg(regs, i) = wide ? ctx.out[i] : (uint32_t)ctx.out[i];
    }
    set_status(regs, st);
    return HCALL_ADVANCE;
}
