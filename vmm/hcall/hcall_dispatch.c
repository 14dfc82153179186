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
        /* Sections list their calls by consecutive codes (0x000.., 0x100..):
         * try the direct index first, then the whole section. */
        size_t i = sec->count ? (size_t)(code - sec->calls[0].code) : 0;
        if (code >= (sec->count ? sec->calls[0].code : 0) && i < sec->count &&
            sec->calls[i].code == code) {
            const struct hcall_desc *d = &sec->calls[i];
            if ((d->flags & HCALL_F_TEST_ONLY) && !allow_test_only)
                return NULL;
            if (section)
                *section = sec;
            return d;
        }
        for (i = 0; i < sec->count; i++) {
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

/* Argument and output registers, in ABI order, as offsets into struct
 * hcall_regs (built once, not per call). */
#define REG_OFF(r) (uint8_t)(offsetof(struct hcall_regs, r) / sizeof(uint64_t))
static const uint8_t wide_args[HCALL_NARGS] = { REG_OFF(rdi), REG_OFF(rsi), REG_OFF(rdx),
                                                REG_OFF(r10), REG_OFF(r8) };
static const uint8_t narrow_args[HCALL_NARGS] = { REG_OFF(rbx), REG_OFF(rcx), REG_OFF(rdx),
                                                  REG_OFF(rsi), REG_OFF(rdi) };
static const uint8_t outs[HCALL_NOUTS] = { REG_OFF(rdx), REG_OFF(rsi), REG_OFF(rdi) };

static uint64_t *reg_slot(struct hcall_regs *r, uint8_t off)
{
    return (uint64_t *)r + off;
}

static uint64_t *arg_reg(struct hcall_regs *r, bool wide, unsigned i)
{
    return reg_slot(r, wide ? wide_args[i] : narrow_args[i]);
}

static uint64_t *out_reg(struct hcall_regs *r, unsigned i)
{
    return reg_slot(r, outs[i]);
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

    /* Only what a handler may read is set: out[] is written before it is
     * read (under out_mask), so it is not cleared per call. */
    struct hcall_ctx ctx;
    ctx.caller = caller;
    ctx.svc = env->svc;
    ctx.host = env->host;
    ctx.out_mask = 0;
    ctx.arg_update_mask = 0;
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
