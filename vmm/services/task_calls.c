/* The task hypercalls: argument decoding and validation, then the task core.
 * Guest memory goes through the caller's guest_mem_view only (checked, size
 * capped); argument blocks are copied once into monitor memory (no double
 * fetch).  Outputs: a call sets only the output registers it defines
 * (docs/hypercalls.md), through ctx->out_mask. */
#include "services/task_calls.h"
#include "task/task_platform.h"
#include "task/task_test_job.h"
#include "taskvisor/hypercall.h"
#include "tv_string.h"

#define LIST_CHUNK 16 /* entries copied per write: bounded monitor stack */

static struct task_call_state *state_of(struct hcall_ctx *ctx)
{
    return ctx->host;
}

/* TASK_QUERY a0 id, a1 buffer gpa (8-aligned), a2 buffer size.
 * o0 = record size, on OK and on BUFFER_TOO_SMALL.  The buffer is checked
 * against the caller's RAM before its size is judged. */
static tv_status_t hc_query(struct hcall_ctx *ctx)
{
    struct task_call_state *st = state_of(ctx);
    const uint64_t *a = ctx->arg;
    if (!rest_zero(a, 3) || a[0] == 0 || (a[1] & 7u) || a[1] == 0)
        return TV_E_INVALID_ARGUMENT;
    uint64_t span = a[2] < sizeof(struct tv_task_info) ? a[2] : sizeof(struct tv_task_info);
    if (guest_mem_check(ctx->caller->mem, a[1], span ? span : 1) != TV_OK)
        return TV_E_INVALID_ARGUMENT;
    set_out0(ctx, sizeof(struct tv_task_info));
    if (a[2] < sizeof(struct tv_task_info))
        return TV_E_BUFFER_TOO_SMALL;
    /* The record goes straight into the caller's buffer when the buffer is
     * one piece of host memory (map), as it nearly always is: no copy of
     * 392 bytes through the stack.  Either way the buffer is written only
     * when the task was found. */
    void *host = st->map ? st->map(st->ctx, a[1], sizeof(struct tv_task_info)) : NULL;
    tv_status_t s;
    if (host) {
        s = task_query(st->mgr, a[0], host);
        if (st->unmap)
            st->unmap(st->ctx, host, sizeof(struct tv_task_info));
    } else {
        struct tv_task_info info;
        s = task_query(st->mgr, a[0], &info);
        if (s == TV_OK)
            s = guest_mem_write(ctx->caller->mem, a[1], &info, sizeof info);
    }
    if (s != TV_OK)
        ctx->out_mask = 0;
    return s;
}

/* TASK_LIST a0 cursor, a1 buffer gpa, a2 capacity (entries), a3 flags,
 * a4 entries written by earlier entries of this call (0 on the first).
 * o0 = entries written in all (OK only).  The whole claimed buffer must be
 * caller RAM, whether or not there is anything to list; with a capacity of
 * 0 the address is ignored (as PARTITION_LIST's).
 *
 * One entry (one exit, interrupts off in the monitor) examines at most
 * LIST_EXIT_SCAN records, in steps of one lock hold each.  If the list goes
 * on, the call continues: a0 = the last id examined, a1 = the buffer
 * after the entries written, a2 = the capacity left, a4 = entries written so
 * far; the guest re-executes it and it resumes there. */
#define LIST_EXIT_SCAN 256u
static tv_status_t hc_list(struct hcall_ctx *ctx)
{
    struct task_call_state *st = state_of(ctx);
    const uint64_t *a = ctx->arg;
    uint64_t cursor = a[0], gpa = a[1], cap = a[2], before = a[4];
    if ((cap && ((gpa & 7u) || gpa == 0)) || cap > TASK_CALL_LIST_MAX ||
        before > TASK_CALL_LIST_MAX - cap || (a[3] & ~(uint64_t)TV_TASK_LIST_UNFINISHED))
        return TV_E_INVALID_ARGUMENT;
    if (guest_mem_check(ctx->caller->mem, gpa, cap * sizeof(struct tv_task_event)) != TV_OK)
        return TV_E_INVALID_ARGUMENT;
    uint64_t written = 0;
    uint32_t scanned = 0;
    bool end = cap == 0;
    while (!end && written < cap) {
        if (scanned >= LIST_EXIT_SCAN) {
            /* Budget spent: continue from here on the next entry. */
            ctx->arg[0] = cursor;
            ctx->arg[1] = gpa + written * sizeof(struct tv_task_event);
            ctx->arg[2] = cap - written;
            ctx->arg[4] = before + written;
            ctx->arg_update_mask = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 4);
            return TV_E_CONTINUE;
        }
        struct tv_task_event chunk[LIST_CHUNK];
        size_t want = cap - written < LIST_CHUNK ? (size_t)(cap - written) : LIST_CHUNK;
        size_t got = 0;
        uint32_t budget = LIST_EXIT_SCAN - scanned;
        if (budget > TASK_LIST_SCAN_MAX)
            budget = TASK_LIST_SCAN_MAX;
        uint64_t next = cursor;
        tv_status_t s = task_list_step(st->mgr, cursor, (uint32_t)a[3], chunk, want, budget,
                                       &got, &next, &end);
        if (s != TV_OK)
            return s;
        /* What a step examined: at least what it wrote, at most its budget. */
        scanned += budget;
        if (got) {
            s = guest_mem_write(ctx->caller->mem, gpa + written * sizeof chunk[0], chunk,
                                got * sizeof chunk[0]);
            if (s != TV_OK)
                return s;
        }
        written += got;
        cursor = next;
    }
    set_out0(ctx, before + written);
    return TV_OK;
}

/* CANCEL, PAUSE, RESUME, DISMISS: a0 id; no outputs. */
static tv_status_t verb_args(struct hcall_ctx *ctx)
{
    return (!rest_zero(ctx->arg, 1) || ctx->arg[0] == 0) ? TV_E_INVALID_ARGUMENT : TV_OK;
}

static tv_status_t hc_cancel(struct hcall_ctx *ctx)
{
    tv_status_t s = verb_args(ctx);
    return s != TV_OK ? s : task_cancel(state_of(ctx)->mgr, ctx->arg[0]);
}

static tv_status_t hc_pause(struct hcall_ctx *ctx)
{
    tv_status_t s = verb_args(ctx);
    return s != TV_OK ? s : task_pause(state_of(ctx)->mgr, ctx->arg[0]);
}

static tv_status_t hc_resume(struct hcall_ctx *ctx)
{
    tv_status_t s = verb_args(ctx);
    return s != TV_OK ? s : task_resume(state_of(ctx)->mgr, ctx->arg[0]);
}

static tv_status_t hc_dismiss(struct hcall_ctx *ctx)
{
    tv_status_t s = verb_args(ctx);
    return s != TV_OK ? s : task_dismiss(state_of(ctx)->mgr, ctx->arg[0]);
}

/* TASK_WAIT a0 id, a1 timeout ms (-1 forever, 0..4,000,000; a 32-bit caller
 * writes -1 as 0xffffffff, a 64-bit one as all ones), a2 deadline token
 * (0 on the first entry; 64-bit callers only).  Continuation: the remaining
 * time (and for a 64-bit caller the token) are written back into a1 (a2)
 * and RIP is not advanced.  No outputs. */
static tv_status_t hc_wait(struct hcall_ctx *ctx)
{
    struct task_call_state *st = state_of(ctx);
    const uint64_t *a = ctx->arg;
    if (!rest_zero(a, 3) || a[0] == 0)
        return TV_E_INVALID_ARGUMENT;
    int64_t timeout = (int64_t)a[1];
    if (!ctx->caller->wide && a[1] == 0xffffffffu)
        timeout = TV_TASK_WAIT_FOREVER;
    uint64_t now = tp_now_ns();
    uint64_t deadline;
    tv_status_t s = task_wait_deadline(timeout, now, &deadline);
    if (s != TV_OK)
        return s;
    /* A token from an earlier entry can only shorten the wait. */
    if (a[2] != 0 && a[2] < deadline)
        deadline = a[2];
    uint64_t slice_end = st->wait_slice_ns > UINT64_MAX - now ? UINT64_MAX
                                                              : now + st->wait_slice_ns;
    if (st->wait_slice_ns == 0 || (st->interrupt_pending && st->interrupt_pending(st->ctx)))
        slice_end = 0;
    s = task_wait_poll(st->mgr, a[0], deadline, slice_end);
    if (s == TV_E_CONTINUE && deadline != UINT64_MAX) {
        uint64_t left = tp_now_ns();
        left = deadline > left ? deadline - left : 0;
        ctx->arg[1] = (left + 999999u) / 1000000u; /* ceil: never early */
        ctx->arg_update_mask = 1u << 1;
        /* The token is a 64-bit time: a 32-bit caller's registers cannot
         * hold it, so its wait goes on from the remaining milliseconds. */
        if (ctx->caller->wide) {
            ctx->arg[2] = deadline;
            ctx->arg_update_mask |= 1u << 2;
        }
    }
    return s;
}

/* TASK_EVENTS_REGISTER a0 ring gpa (ring-size aligned; 0 unregisters),
 * a1 vector (0 none, else 32..255), a2 flags (TV_TASK_EVENTS_F_VM: VM
 * state events too).  A refused registration leaves the old ring registered
 * and mapped: the monitor may still be writing to it. */
static tv_status_t hc_events_register(struct hcall_ctx *ctx)
{
    struct task_call_state *st = state_of(ctx);
    uint64_t gpa = ctx->arg[0], vector = ctx->arg[1], flags = ctx->arg[2];
    if (!rest_zero(ctx->arg, 3) || (flags & ~(uint64_t)TV_TASK_EVENTS_F_VM) ||
        (gpa & (TV_TASK_RING_SIZE - 1)) ||
        (vector != 0 && (vector < 32 || vector > 255)))
        return TV_E_INVALID_ARGUMENT;
    if (!st->map)
        return TV_E_UNSUPPORTED;
    void *ring = NULL;
    if (gpa) {
        if (guest_mem_check(ctx->caller->mem, gpa, TV_TASK_RING_SIZE) != TV_OK)
            return TV_E_INVALID_ARGUMENT;
        ring = st->map(st->ctx, gpa, TV_TASK_RING_SIZE);
        if (!ring)
            return TV_E_INVALID_ARGUMENT;
    }
    tv_status_t s = task_events_register(st->mgr, ring, (uint32_t)vector, st->notify, st->ctx);
    if (s != TV_OK) {
        if (ring && st->unmap)
            st->unmap(st->ctx, ring, TV_TASK_RING_SIZE);
        return s;
    }
    /* Within this one hypercall (interrupts off in the monitor): no VM
     * event can fall between the two. */
    if (flags & TV_TASK_EVENTS_F_VM)
        task_events_set_kinds(st->mgr, 1u << TV_EVENT_KIND_VM);
    if (st->ring_host && st->unmap)
        st->unmap(st->ctx, st->ring_host, TV_TASK_RING_SIZE);
    st->ring_host = ring;
    return TV_OK;
}

/* TEST_TASK_START (test builds) a0 spec gpa, a1 spec size; o0 = task id. */
static tv_status_t hc_test_start(struct hcall_ctx *ctx)
{
    const uint64_t *a = ctx->arg;
    if (!rest_zero(a, 2) || a[0] == 0 || (a[0] & 7u) || a[1] != sizeof(struct tv_task_test_spec))
        return TV_E_INVALID_ARGUMENT;
    struct tv_task_test_spec spec;
    tv_status_t s = guest_mem_read(ctx->caller->mem, a[0], &spec, sizeof spec);
    if (s != TV_OK)
        return s;
    uint64_t id = 0;
    struct task_call_state *st = state_of(ctx);
    s = st->types ? task_types_start(st->types, st->mgr, TV_TASK_TYPE_TEST, &spec, sizeof spec, &id)
                  : task_test_job_start(st->mgr, &spec, &id);
    if (s == TV_OK)
        set_out0(ctx, id);
    return s;
}

const struct hcall_desc task_calls[TASK_CALL_COUNT] = {
    { TV_HC_TASK_QUERY, "TASK_QUERY", HCALL_F_MGMT, hc_query },
    { TV_HC_TASK_LIST, "TASK_LIST", HCALL_F_MGMT, hc_list },
    { TV_HC_TASK_CANCEL, "TASK_CANCEL", HCALL_F_MGMT, hc_cancel },
    { TV_HC_TASK_PAUSE, "TASK_PAUSE", HCALL_F_MGMT, hc_pause },
    { TV_HC_TASK_RESUME, "TASK_RESUME", HCALL_F_MGMT, hc_resume },
    { TV_HC_TASK_DISMISS, "TASK_DISMISS", HCALL_F_MGMT, hc_dismiss },
    { TV_HC_TASK_WAIT, "TASK_WAIT", HCALL_F_MGMT, hc_wait },
    { TV_HC_TASK_EVENTS_REGISTER, "TASK_EVENTS_REGISTER", HCALL_F_MGMT, hc_events_register },
    /* Only in test builds: the dispatcher answers UNKNOWN_CALL otherwise. */
    { TV_HC_TEST_TASK_START, "TEST_TASK_START", HCALL_F_MGMT | HCALL_F_TEST_ONLY, hc_test_start },
};

void task_calls_release(struct task_call_state *st)
{
    if (!st->ring_host)
        return;
    task_events_register(st->mgr, NULL, 0, NULL, NULL);
    if (st->unmap)
        st->unmap(st->ctx, st->ring_host, TV_TASK_RING_SIZE);
    st->ring_host = NULL;
}
