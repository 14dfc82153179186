/* Reading tasks: one consistent snapshot, listing with a cursor, and
 * waiting for completion (blocking, and the non-blocking step the monitor's
 * continuations use). */
#include "task_internal.h"
#include "tv_string.h"

/* ---- Queries ------------------------------------------------------------ */

/* Time left, from the elapsed running time and done/total.  Integer only
 * and without 128-bit division (the monitor has no libgcc). */
static uint64_t estimate_eta(const struct task_job *t, uint64_t now)
{
    if (task_state_is_final(t->state))
        return 0;
    if (!t->started || t->done == 0 || t->total == 0 || t->done >= t->total ||
        now <= t->started_ns)
        return TV_TASK_ETA_UNKNOWN;
    uint64_t elapsed = now - t->started_ns;
    uint64_t done = t->done, left = t->total - t->done;
    while (left > (1ull << 20) || done > (1ull << 20)) { /* keep products small */
        left >>= 1;
        done >>= 1;
    }
    if (done == 0)
        return TV_TASK_ETA_UNKNOWN;
    if (elapsed < (1ull << 43))
        return elapsed * left / done;
    return elapsed / done * left;
}

/* The record has no padding and every byte of it is assigned below (the
 * strings as whole arrays, zero-filled in the job), so it is not cleared
 * first; the assert keeps a new field from being left out unnoticed. */
_Static_assert(sizeof(struct tv_task_info) ==
                   8 * 2 + 4 * 8 + sizeof(struct tv_task_target) + 8 * 8 + 4 * 2 +
                       TV_TASK_DESC_MAX + TV_TASK_ERROR_MAX,
               "tv_task_info changed: assign every new field in snapshot()");

static void snapshot(const struct task_job *t, uint64_t now, struct tv_task_info *out)
{
    out->id = t->id;
    out->seq = t->seq;
    out->type = t->type;
    out->state = t->state;
    out->result = t->result;
    out->outcome = t->outcome;
    uint32_t ignored;
    /* IsCancelable: a cancel now would be accepted (false while cancelling) */
    bool cancel_ok = task_verb_check(TV_TASK_VERB_CANCEL, t->state, task_facts(t), &ignored) == TV_OK;
    out->flags = (cancel_ok ? TV_TASK_FLAG_CANCELABLE : 0) |
                 (task_facts(t) & TASK_FACT_PAUSABLE ? TV_TASK_FLAG_PAUSABLE : 0) |
                 (task_state_is_final(t->state) ? TV_TASK_FLAG_COMPLETE : 0) |
                 (t->started ? TV_TASK_FLAG_STARTED : 0) |
                 (t->held ? TV_TASK_FLAG_HELD : 0);
    out->percent = t->percent;
    out->error = t->error;
    out->priority = t->priority;
    out->target = t->target;
    out->done = t->done;
    out->total = t->total;
    out->created_ns = t->created_ns;
    out->started_ns = t->started_ns;
    out->updated_ns = t->updated_ns;
    out->finished_ns = t->finished_ns;
    out->eta_ns = estimate_eta(t, now);
    out->snapshot_ns = now;
    out->description_len = t->description_len;
    out->error_description_len = t->error_description_len;
    tv_memcpy(out->description, t->description, sizeof out->description);
    tv_memcpy(out->error_description, t->error_description, sizeof out->error_description);
}

tv_status_t task_query(struct task_mgr *mgr, uint64_t id, struct tv_task_info *out)
{
    tp_lock_acquire(mgr->lock);
    uint64_t now = tp_now_ns();
    task_reap_locked(mgr, now);
    struct task_job *t = task_find(mgr, id);
    if (t)
        snapshot(t, now, out);
    tp_lock_release(mgr->lock);
    return t ? TV_OK : TV_E_NOT_FOUND;
}

/* The lock is held for at most TASK_LIST_SCAN_MAX examined records (plus
 * one O(log n) index lookup and a bounded reap); a longer scan, e.g. past
 * many finished records with TV_TASK_LIST_UNFINISHED, drops the lock and
 * resumes after the last id it examined.  Records created or removed while
 * the lock is dropped are seen or not, as with separate calls. */
tv_status_t task_list_step(struct task_mgr *mgr, uint64_t cursor, uint32_t flags,
                           struct tv_task_event *out, size_t cap, uint32_t max_scan,
                           size_t *count_out, uint64_t *next_cursor, bool *end)
{
    if (flags & ~(uint32_t)TV_TASK_LIST_UNFINISHED)
        return TV_E_INVALID_ARGUMENT;
    if (max_scan > TASK_LIST_SCAN_MAX)
        max_scan = TASK_LIST_SCAN_MAX;
    size_t n = 0;
    tp_lock_acquire(mgr->lock);
    task_reap_locked(mgr, tp_now_ns());
    struct task_job *t = task_index_after(mgr, cursor);
    for (uint32_t seen = 0; t && n < cap && seen < max_scan; seen++, t = t->next) {
        cursor = t->id;
        if ((flags & TV_TASK_LIST_UNFINISHED) && task_state_is_final(t->state))
            continue;
        out[n].id = t->id;
        out[n].seq = t->seq;
        out[n].state = t->state;
        out[n].percent = t->percent;
        n++;
    }
    *end = t == NULL;
    tp_lock_release(mgr->lock);
    *count_out = n;
    *next_cursor = cursor;
    return TV_OK;
}

tv_status_t task_list(struct task_mgr *mgr, uint64_t cursor, uint32_t flags,
                      struct tv_task_event *out, size_t cap, size_t *count_out)
{
    size_t n = 0;
    bool end = cap == 0;
    while (!end && n < cap) {
        size_t got;
        tv_status_t st = task_list_step(mgr, cursor, flags, out + n, cap - n,
                                        TASK_LIST_SCAN_MAX, &got, &cursor, &end);
        if (st != TV_OK)
            return st;
        n += got;
    }
    if (cap == 0 && (flags & ~(uint32_t)TV_TASK_LIST_UNFINISHED))
        return TV_E_INVALID_ARGUMENT;
    *count_out = n;
    return TV_OK;
}

/* ---- Waiting ------------------------------------------------------------ */

tv_status_t task_wait_deadline(int64_t timeout_ms, uint64_t now_ns, uint64_t *deadline_out)
{
    if (timeout_ms == TV_TASK_WAIT_FOREVER) {
        *deadline_out = UINT64_MAX;
        return TV_OK;
    }
    if (timeout_ms < 0 || timeout_ms > TV_TASK_WAIT_MAX_MS)
        return TV_E_INVALID_ARGUMENT;
    uint64_t span = (uint64_t)timeout_ms * 1000000u;
    *deadline_out = now_ns > UINT64_MAX - 1 - span ? UINT64_MAX - 1 : now_ns + span;
    return TV_OK;
}

tv_status_t task_wait_poll(struct task_mgr *mgr, uint64_t id, uint64_t deadline_ns,
                           uint64_t slice_end_ns)
{
    tp_lock_acquire(mgr->lock);
    task_reap_locked(mgr, tp_now_ns());
    struct task_job *t = task_find(mgr, id);
    if (!t) {
        tp_lock_release(mgr->lock);
        return TV_E_NOT_FOUND;
    }
    task_ref(t);
    tv_status_t st;
    for (;;) {
        uint64_t now = tp_now_ns();
        if (task_state_is_final(t->state)) {
            st = TV_OK;
            break;
        }
        if (now >= deadline_ns) {
            st = TV_E_TIMEOUT;
            break;
        }
        if (now >= slice_end_ns) {
            st = TV_E_CONTINUE;
            break;
        }
        tp_waitq_wait(mgr->done_wq, mgr->lock,
                      slice_end_ns < deadline_ns ? slice_end_ns : deadline_ns);
    }
    task_unref(t);
    tp_lock_release(mgr->lock);
    return st;
}

tv_status_t task_wait(struct task_mgr *mgr, uint64_t id, int64_t timeout_ms)
{
    uint64_t deadline;
    tv_status_t st = task_wait_deadline(timeout_ms, tp_now_ns(), &deadline);
    if (st != TV_OK)
        return st;
    return task_wait_poll(mgr, id, deadline, UINT64_MAX);
}
