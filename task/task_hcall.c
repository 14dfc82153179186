/* Task hypercalls: argument decoding and validation, then the task core.
 * Guest memory is read once into local copies (no double fetch) and written
 * once per result. */
#include "task_hcall.h"
#include "task_platform.h"
#include "task_test_job.h"
#include "taskvisor/hypercall.h"
#include "tv_string.h"

#define LIST_CHUNK 16 /* entries copied per write: bounded monitor stack */

bool task_hcall_handles(uint32_t code)
{
    return (code >= TV_HC_TASK_QUERY && code <= TV_HC_TASK_EVENTS_REGISTER) ||
           code == TV_HC_TEST_TASK_START;
}

/* Arguments from `first` on must be zero (room for future use). */
static bool rest_zero(const uint64_t args[5], unsigned first)
{
    for (unsigned i = first; i < 5; i++)
        if (args[i])
            return false;
    return true;
}

static tv_status_t check_id(uint64_t id)
{
    return id == 0 ? TV_E_INVALID_ARGUMENT : TV_OK;
}

static tv_status_t hc_query(struct task_hcall_ctx *hc, const uint64_t a[5],
                            struct task_hcall_result *res)
{
    if (!rest_zero(a, 3) || check_id(a[0]) || (a[1] & 7u) || a[1] == 0)
        return TV_E_INVALID_ARGUMENT;
    res->out = sizeof(struct tv_task_info);
    if (a[2] < sizeof(struct tv_task_info))
        return TV_E_BUFFER_TOO_SMALL;
    struct tv_task_info info;
    tv_status_t st = task_query(hc->mgr, a[0], &info);
    if (st != TV_OK)
        return st;
    return hc->mem.write(hc->mem.ctx, a[1], &info, sizeof info);
}

static tv_status_t hc_list(struct task_hcall_ctx *hc, const uint64_t a[5],
                           struct task_hcall_result *res)
{
    uint64_t cursor = a[0], gpa = a[1], cap = a[2];
    if (!rest_zero(a, 4) || (gpa & 7u) || (cap && gpa == 0) || cap > TASK_HCALL_LIST_MAX ||
        (a[3] & ~(uint64_t)TV_TASK_LIST_UNFINISHED))
        return TV_E_INVALID_ARGUMENT;
    uint64_t written = 0;
    while (written < cap) {
        struct tv_task_event chunk[LIST_CHUNK];
        size_t want = cap - written < LIST_CHUNK ? (size_t)(cap - written) : LIST_CHUNK;
        size_t got = 0;
        tv_status_t st = task_list(hc->mgr, cursor, (uint32_t)a[3], chunk, want, &got);
        if (st != TV_OK)
            return st;
        if (got == 0)
            break;
        st = hc->mem.write(hc->mem.ctx, gpa + written * sizeof chunk[0], chunk,
                           got * sizeof chunk[0]);
        if (st != TV_OK)
            return st;
        written += got;
        cursor = chunk[got - 1].id;
        if (got < want)
            break;
    }
    res->out = written;
    return TV_OK;
}

static tv_status_t hc_verb(struct task_hcall_ctx *hc, uint32_t code, const uint64_t a[5])
{
    if (!rest_zero(a, 1) || check_id(a[0]))
        return TV_E_INVALID_ARGUMENT;
    switch (code) {
    case TV_HC_TASK_CANCEL:
        return task_cancel(hc->mgr, a[0]);
    case TV_HC_TASK_PAUSE:
        return task_pause(hc->mgr, a[0]);
    case TV_HC_TASK_RESUME:
        return task_resume(hc->mgr, a[0]);
    default:
        return task_dismiss(hc->mgr, a[0]);
    }
}

/* TASK_WAIT with continuation: a1 = timeout ms, a2 = deadline token. */
static tv_status_t hc_wait(struct task_hcall_ctx *hc, const uint64_t a[5],
                           struct task_hcall_result *res)
{
    if (!rest_zero(a, 3) || check_id(a[0]))
        return TV_E_INVALID_ARGUMENT;
    int64_t timeout = (int64_t)a[1];
    if (a[1] == 0xffffffffu) /* -1 from a 32-bit caller */
        timeout = TV_TASK_WAIT_FOREVER;
    uint64_t now = tp_now_ns();
    uint64_t deadline;
    tv_status_t st = task_wait_deadline(timeout, now, &deadline);
    if (st != TV_OK)
        return st;
    /* A token from an earlier entry can only shorten the wait. */
    if (a[2] != 0 && a[2] < deadline)
        deadline = a[2];
    uint64_t slice_end = hc->wait_slice_ns > UINT64_MAX - now ? UINT64_MAX
                                                              : now + hc->wait_slice_ns;
    if (hc->wait_slice_ns == 0 ||
        (hc->mem.interrupt_pending && hc->mem.interrupt_pending(hc->mem.ctx)))
        slice_end = 0;
    st = task_wait_poll(hc->mgr, a[0], deadline, slice_end);
    if (st == TV_E_CONTINUE) {
        tv_memcpy(res->args, a, sizeof res->args);
        if (deadline != UINT64_MAX) {
            uint64_t left = tp_now_ns();
            left = deadline > left ? deadline - left : 0;
            res->args[1] = (left + 999999u) / 1000000u; /* ceil: never early */
            res->args[2] = deadline;
        }
    }
    return st;
}

static tv_status_t hc_events_register(struct task_hcall_ctx *hc, const uint64_t a[5])
{
    uint64_t gpa = a[0], vector = a[1];
    if (!rest_zero(a, 2) || (gpa & (TV_TASK_RING_SIZE - 1)) ||
        (vector != 0 && (vector < 32 || vector > 255)))
        return TV_E_INVALID_ARGUMENT;
    if (!hc->mem.map)
        return TV_E_UNSUPPORTED;
    void *ring = NULL;
    if (gpa) {
        ring = hc->mem.map(hc->mem.ctx, gpa, TV_TASK_RING_SIZE);
        if (!ring)
            return TV_E_INVALID_ARGUMENT;
    }
    tv_status_t st = task_events_register(hc->mgr, ring, (uint32_t)vector, hc->mem.notify,
                                          hc->mem.ctx);
    if (st != TV_OK) {
        if (ring && hc->mem.unmap)
            hc->mem.unmap(hc->mem.ctx, ring, TV_TASK_RING_SIZE);
        return st;
    }
    if (hc->ring_host && hc->mem.unmap)
        hc->mem.unmap(hc->mem.ctx, hc->ring_host, TV_TASK_RING_SIZE);
    hc->ring_host = ring;
    return TV_OK;
}

static tv_status_t hc_test_start(struct task_hcall_ctx *hc, const uint64_t a[5],
                                 struct task_hcall_result *res)
{
    if (!rest_zero(a, 2) || a[0] == 0 || (a[0] & 7u) || a[1] != sizeof(struct tv_task_test_spec))
        return TV_E_INVALID_ARGUMENT;
    struct tv_task_test_spec spec;
    tv_status_t st = hc->mem.read(hc->mem.ctx, a[0], &spec, sizeof spec);
    if (st != TV_OK)
        return st;
    uint64_t id = 0;
    st = task_test_job_start(hc->mgr, &spec, &id);
    if (st == TV_OK)
        res->out = id;
    return st;
}

void task_hcall(struct task_hcall_ctx *hc, uint32_t code, const uint64_t args[5],
                struct task_hcall_result *res)
{
    tv_memset(res, 0, sizeof *res);
    tv_status_t st;
    switch (code) {
    case TV_HC_TASK_QUERY:
        st = hc_query(hc, args, res);
        break;
    case TV_HC_TASK_LIST:
        st = hc_list(hc, args, res);
        break;
    case TV_HC_TASK_CANCEL:
    case TV_HC_TASK_PAUSE:
    case TV_HC_TASK_RESUME:
    case TV_HC_TASK_DISMISS:
        st = hc_verb(hc, code, args);
        break;
    case TV_HC_TASK_WAIT:
        st = hc_wait(hc, args, res);
        break;
    case TV_HC_TASK_EVENTS_REGISTER:
        st = hc_events_register(hc, args);
        break;
    case TV_HC_TEST_TASK_START:
        st = hc->test_calls ? hc_test_start(hc, args, res) : TV_E_UNKNOWN_CALL;
        break;
    default:
        st = TV_E_UNKNOWN_CALL;
        break;
    }
    res->status = st;
    if (st != TV_OK && st != TV_E_BUFFER_TOO_SMALL && st != TV_E_CONTINUE)
        res->out = 0;
}

void task_hcall_release(struct task_hcall_ctx *hc)
{
    if (!hc->ring_host)
        return;
    task_events_register(hc->mgr, NULL, 0, NULL, NULL);
    if (hc->mem.unmap)
        hc->mem.unmap(hc->mem.ctx, hc->ring_host, TV_TASK_RING_SIZE);
    hc->ring_host = NULL;
}
