/* The guest agent's channel: see vm_agent.h and docs/agent.md. */
#include "services/vm_agent.h"
#include "task/task_platform.h"
#include "taskvisor/hypercall.h"

tv_status_t vm_agent_init(struct vm_agent *a, vm_agent_notify_fn notify, void *ctx)
{
    *a = (struct vm_agent){ 0 };
    a->notify = notify;
    a->notify_ctx = ctx;
    return tp_lock_create(&a->lock);
}

void vm_agent_destroy(struct vm_agent *a)
{
    if (a->lock)
        tp_lock_destroy(a->lock);
    a->lock = 0;
}

static void clear_request(struct vm_agent *a)
{
    a->req_seq = 0;
    a->req_kind = TV_AGENT_REQ_NONE;
    a->req_flags = 0;
    a->answer = 0;
}

void vm_agent_forget(struct vm_agent *a)
{
    tp_lock_acquire(a->lock);
    a->caps = 0;
    a->vector = 0;
    clear_request(a);
    tp_lock_release(a->lock);
}

uint32_t vm_agent_caps(struct vm_agent *a)
{
    tp_lock_acquire(a->lock);
    uint32_t caps = a->caps;
    tp_lock_release(a->lock);
    return caps;
}

static bool kind_valid(uint32_t kind)
{
    return kind >= TV_AGENT_REQ_SHUTDOWN && kind <= TV_AGENT_REQ_LOGOFF;
}

tv_status_t vm_agent_request(struct vm_agent *a, uint32_t kind, uint32_t flags, uint32_t *seq_out)
{
    if (!kind_valid(kind) || (flags & ~TV_AGENT_REQ_F_FORCED) ||
        (kind == TV_AGENT_REQ_LOGOFF && flags))
        return TV_E_INVALID_ARGUMENT;
    tp_lock_acquire(a->lock);
    tv_status_t st = TV_OK;
    uint8_t vector = 0;
    if (!(a->caps & TV_AGENT_CAP_OF(kind))) {
        st = TV_E_AGENT_NOT_PRESENT;
    } else if (a->req_seq) {
        st = TV_E_BUSY;
    } else {
        if (++a->next_seq == 0)
            a->next_seq = 1;
        a->req_seq = a->next_seq;
        a->req_kind = kind;
        a->req_flags = flags;
        a->answer = 0;
        *seq_out = a->req_seq;
        vector = a->vector;
    }
    tp_lock_release(a->lock);
    if (st == TV_OK && vector && a->notify)
        a->notify(a->notify_ctx, vector);
    return st;
}

tv_status_t vm_agent_take_answer(struct vm_agent *a, uint32_t seq, uint32_t *answer)
{
    tp_lock_acquire(a->lock);
    tv_status_t st;
    if (seq == 0 || a->req_seq != seq) {
        st = a->caps ? TV_E_NOT_FOUND : TV_E_AGENT_NOT_PRESENT;
    } else if (!a->answer && !a->caps) {
        clear_request(a); /* it departed without answering */
        st = TV_E_AGENT_NOT_PRESENT;
    } else if (!a->answer) {
        st = TV_E_CONTINUE;
    } else {
        *answer = a->answer;
        clear_request(a);
        st = TV_OK;
    }
    tp_lock_release(a->lock);
    return st;
}

void vm_agent_withdraw(struct vm_agent *a, uint32_t seq)
{
    tp_lock_acquire(a->lock);
    if (seq && a->req_seq == seq)
        clear_request(a);
    tp_lock_release(a->lock);
}

bool vm_agent_answer_valid(uint32_t kind, uint32_t flags, uint32_t answer)
{
    switch (answer) {
    case TV_AGENT_ANS_DONE:
    case TV_AGENT_ANS_SHUTTING_DOWN:
        return kind_valid(kind);
    case TV_AGENT_ANS_LOCKED:
        /* a forced request is not stopped by a lock; a logoff has no lock */
        return (kind == TV_AGENT_REQ_SHUTDOWN || kind == TV_AGENT_REQ_RESTART) &&
               !(flags & TV_AGENT_REQ_F_FORCED);
    case TV_AGENT_ANS_NO_SESSION:
        return kind == TV_AGENT_REQ_LOGOFF;
    default:
        return false;
    }
}

/* ---- The calls ------------------------------------------------------------ */

/* AGENT_ANNOUNCE a0 version, a1 caps, a2 vector. */
static tv_status_t hc_announce(struct hcall_ctx *ctx)
{
    struct vm_agent *a = ctx->host;
    const uint64_t *g = ctx->arg;
    if (!rest_zero(g, 3))
        return TV_E_INVALID_ARGUMENT;
    if (!a)
        return TV_E_INVALID_STATE;
    if (g[0] != TV_AGENT_VERSION)
        return g[0] == 0 ? TV_E_INVALID_ARGUMENT : TV_E_UNSUPPORTED;
    /* vectors 0-31 are exceptions: an agent cannot ask for one */
    if (g[1] == 0 || (g[1] & ~(uint64_t)TV_AGENT_CAPS_ALL) || (g[2] && (g[2] < 32 || g[2] > 255)))
        return TV_E_INVALID_ARGUMENT;
    tp_lock_acquire(a->lock);
    a->caps = (uint32_t)g[1];
    a->vector = (uint8_t)g[2];
    bool pending = a->req_seq && !a->answer && (a->caps & TV_AGENT_CAP_OF(a->req_kind));
    uint8_t vector = a->vector;
    tp_lock_release(a->lock);
    /* an agent restarted inside the guest learns of what is pending */
    if (pending && vector && a->notify)
        a->notify(a->notify_ctx, vector);
    ctx->out[0] = TV_AGENT_VERSION;
    ctx->out[1] = TV_AGENT_CAPS_ALL;
    ctx->out_mask |= 3u;
    return TV_OK;
}

/* AGENT_POLL -> o0 seq (0: none), o1 kind, o2 flags. */
static tv_status_t hc_poll(struct hcall_ctx *ctx)
{
    struct vm_agent *a = ctx->host;
    if (!rest_zero(ctx->arg, 0))
        return TV_E_INVALID_ARGUMENT;
    if (!a)
        return TV_E_INVALID_STATE;
    tp_lock_acquire(a->lock);
    tv_status_t st = TV_OK;
    uint64_t seq = 0, kind = 0, flags = 0;
    if (!a->caps)
        st = TV_E_INVALID_STATE;
    else if (a->req_seq && !a->answer && (a->caps & TV_AGENT_CAP_OF(a->req_kind))) {
        seq = a->req_seq;
        kind = a->req_kind;
        flags = a->req_flags;
    }
    tp_lock_release(a->lock);
    if (st != TV_OK)
        return st;
    ctx->out[0] = seq;
    ctx->out[1] = kind;
    ctx->out[2] = flags;
    ctx->out_mask |= 7u;
    return TV_OK;
}

/* AGENT_ANSWER a0 seq, a1 answer. */
static tv_status_t hc_answer(struct hcall_ctx *ctx)
{
    struct vm_agent *a = ctx->host;
    const uint64_t *g = ctx->arg;
    if (!rest_zero(g, 2) || g[0] == 0 || g[0] > UINT32_MAX || g[1] == 0 ||
        g[1] >= TV_AGENT_ANS_COUNT)
        return TV_E_INVALID_ARGUMENT;
    if (!a)
        return TV_E_INVALID_STATE;
    tp_lock_acquire(a->lock);
    tv_status_t st = TV_OK;
    if (!a->caps)
        st = TV_E_INVALID_STATE;
    else if (a->req_seq != (uint32_t)g[0] || a->answer)
        st = TV_E_NOT_FOUND; /* withdrawn, already answered, or never asked */
    else if (!vm_agent_answer_valid(a->req_kind, a->req_flags, (uint32_t)g[1]))
        st = TV_E_INVALID_ARGUMENT; /* the request stays pending */
    else
        a->answer = (uint32_t)g[1];
    tp_lock_release(a->lock);
    return st;
}

/* AGENT_DEPART: no agent any more (a pending request stays, unanswered). */
static tv_status_t hc_depart(struct hcall_ctx *ctx)
{
    struct vm_agent *a = ctx->host;
    if (!rest_zero(ctx->arg, 0))
        return TV_E_INVALID_ARGUMENT;
    if (!a)
        return TV_E_INVALID_STATE;
    tp_lock_acquire(a->lock);
    tv_status_t st = a->caps ? TV_OK : TV_E_INVALID_STATE;
    a->caps = 0;
    a->vector = 0;
    tp_lock_release(a->lock);
    return st;
}

const struct hcall_desc vm_agent_calls[VM_AGENT_CALL_COUNT] = {
    { TV_HC_AGENT_ANNOUNCE, "AGENT_ANNOUNCE", 0, hc_announce },
    { TV_HC_AGENT_POLL, "AGENT_POLL", 0, hc_poll },
    { TV_HC_AGENT_ANSWER, "AGENT_ANSWER", 0, hc_answer },
    { TV_HC_AGENT_DEPART, "AGENT_DEPART", 0, hc_depart },
};
