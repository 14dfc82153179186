/* Task manager: records, ids, creation, verbs, retention, teardown. */
#include "task_internal.h"

/* ---- Records ------------------------------------------------------------ */

void task_ref(struct task_job *t)
{
    t->refs++;
}

void task_unref(struct task_job *t)
{
    if (--t->refs == 0)
        tp_free(t);
}

struct task_job *task_find(struct task_mgr *mgr, uint64_t id)
{
    return task_index_find(mgr, id);
}

void task_enqueue(struct task_job *t)
{
    if (t->queued)
        return;
    t->queued = true;
    t->mgr->queued++;
    task_tree_insert(&t->mgr->runq, t, TASK_TREE_QUEUE);
}

void task_dequeue(struct task_job *t)
{
    if (!t->queued)
        return;
    t->queued = false;
    t->mgr->queued--;
    task_tree_remove(&t->mgr->runq, t, TASK_TREE_QUEUE);
}

static void fin_append(struct task_job *t)
{
    struct task_mgr *mgr = t->mgr;
    t->fin_next = NULL;
    t->fin_prev = mgr->fin_tail;
    if (mgr->fin_tail)
        mgr->fin_tail->fin_next = t;
    else
        mgr->fin_head = t;
    mgr->fin_tail = t;
    t->in_fin = true;
}

static void fin_remove(struct task_job *t)
{
    struct task_mgr *mgr = t->mgr;
    if (!t->in_fin)
        return;
    if (t->fin_prev)
        t->fin_prev->fin_next = t->fin_next;
    else
        mgr->fin_head = t->fin_next;
    if (t->fin_next)
        t->fin_next->fin_prev = t->fin_prev;
    else
        mgr->fin_tail = t->fin_prev;
    t->fin_prev = t->fin_next = NULL;
    t->in_fin = false;
}

static void unlist(struct task_job *t)
{
    struct task_mgr *mgr = t->mgr;
    if (t->prev)
        t->prev->next = t->next;
    else
        mgr->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        mgr->tail = t->prev;
    t->prev = t->next = NULL;
    task_tree_remove(&mgr->index, t, TASK_TREE_ID);
    task_dequeue(t);
    fin_remove(t);
    t->listed = false;
    mgr->count--;
    task_unref(t);
}

void task_touch(struct task_job *t)
{
    t->seq++;
    t->updated_ns = tp_now_ns();
}

bool task_set_state(struct task_job *t, uint32_t to)
{
    struct task_mgr *mgr = t->mgr;
    if (!task_transition_allowed(t->state, to)) {
        mgr->bad_transitions++;
        return false;
    }
    t->state = to;
    if (to != TV_TASK_PAUSED)
        t->held = false; /* the worker leaves its pause point now */
    task_touch(t);
    if (task_state_is_final(to)) {
        t->finished_ns = t->updated_ns;
        t->cancelable = false;
        t->pausable = false;
        if (t->listed && !t->in_fin)
            fin_append(t);
    }
    task_events_emit(t, false);
    tp_waitq_wake_all(mgr->done_wq);
    tp_waitq_wake_all(mgr->work_wq);
    return true;
}

void task_release_slot(struct task_job *t)
{
    if (t->has_slot) {
        t->has_slot = false;
        t->mgr->holding_slot--;
        tp_waitq_wake_all(t->mgr->work_wq);
    }
}

uint32_t task_reap_locked(struct task_mgr *mgr, uint64_t now)
{
    /* The finished list is in finished_ns order: stop at the first record
     * still within its retention. */
    uint32_t n = 0;
    while (n < TASK_REAP_BATCH && mgr->fin_head &&
           now - mgr->fin_head->finished_ns >= mgr->retention_ns) {
        unlist(mgr->fin_head);
        n++;
    }
    return n;
}

/* ---- Manager ------------------------------------------------------------ */

tv_status_t task_mgr_create(const struct task_mgr_config *config, struct task_mgr **out)
{
    struct task_mgr_config cfg = { 0 };
    if (config)
        cfg = *config;
    if (cfg.workers > TASK_MAX_WORKERS)
        return TV_E_INVALID_ARGUMENT;
    struct task_mgr *mgr = tp_alloc(sizeof *mgr);
    if (!mgr)
        return TV_E_NO_MEMORY;
    mgr->workers = cfg.workers;
    mgr->max_running = cfg.max_running ? cfg.max_running : (cfg.workers ? cfg.workers : 1);
    mgr->max_tasks = cfg.max_tasks ? cfg.max_tasks : TASK_DEFAULT_MAX_TASKS;
    mgr->retention_ns = cfg.retention_ns ? cfg.retention_ns : TASK_DEFAULT_RETENTION_NS;
    mgr->next_id = 1;

    tv_status_t st = tp_lock_create(&mgr->lock);
    if (st == TV_OK)
        st = tp_waitq_create(&mgr->work_wq);
    if (st == TV_OK)
        st = tp_waitq_create(&mgr->done_wq);
    if (st != TV_OK) {
        tp_waitq_destroy(mgr->done_wq);
        tp_waitq_destroy(mgr->work_wq);
        tp_lock_destroy(mgr->lock);
        tp_free(mgr);
        return st;
    }
    for (uint32_t i = 0; i < cfg.workers; i++) {
        st = tp_thread_start(&mgr->threads[i], task_worker_main, mgr, "task-worker");
        if (st != TV_OK) {
            mgr->workers = i;
            task_mgr_destroy(mgr);
            return st;
        }
    }
    *out = mgr;
    return TV_OK;
}

void task_mgr_destroy(struct task_mgr *mgr)
{
    if (!mgr)
        return;
    tp_lock_acquire(mgr->lock);
    mgr->shutting_down = true;
    /* Cancel what may be cancelled; let the rest run to its end. */
    for (struct task_job *t = mgr->head; t;) {
        struct task_job *next = t->next;
        task_ref(t);
        if (!task_state_is_final(t->state)) {
            uint32_t facts = (t->cancelable ? TASK_FACT_CANCELABLE : 0) |
                             (t->started ? TASK_FACT_STARTED : 0);
            uint32_t to;
            if (!t->finishing &&
                task_verb_check(TV_TASK_VERB_CANCEL, t->state, facts, &to) == TV_OK) {
                task_dequeue(t);
                task_set_state(t, to);
                if (!t->started)
                    task_finish_unstarted(t);
            } else if (t->state == TV_TASK_PAUSED) {
                if (!t->started)
                    task_enqueue(t);
                task_set_state(t, t->started ? TV_TASK_RUNNING : TV_TASK_QUEUED);
            }
        }
        next = t->next;
        task_unref(t);
        t = next;
    }
    tp_waitq_wake_all(mgr->work_wq);
    tp_lock_release(mgr->lock);

    for (uint32_t i = 0; i < mgr->workers; i++)
        tp_thread_join(mgr->threads[i]);

    tp_lock_acquire(mgr->lock);
    /* Without workers, queued non-cancelable tasks still need to run. */
    while (mgr->workers == 0) {
        struct task_job *t = task_pick_next(mgr);
        if (!t)
            break;
        task_execute(t);
    }
    while (mgr->head)
        unlist(mgr->head);
    tp_lock_release(mgr->lock);

    tp_waitq_destroy(mgr->done_wq);
    tp_waitq_destroy(mgr->work_wq);
    tp_lock_destroy(mgr->lock);
    tp_free(mgr);
}

void task_mgr_reap(struct task_mgr *mgr)
{
    /* Every expired record, a batch per hold of the lock. */
    uint32_t n;
    do {
        tp_lock_acquire(mgr->lock);
        n = task_reap_locked(mgr, tp_now_ns());
        tp_lock_release(mgr->lock);
    } while (n == TASK_REAP_BATCH);
}

void task_mgr_stats(struct task_mgr *mgr, struct task_mgr_stats *out)
{
    tp_lock_acquire(mgr->lock);
    out->tasks = mgr->count;
    out->queued = mgr->queued;
    out->holding_slot = mgr->holding_slot;
    out->next_id = mgr->next_id;
    out->events_emitted = mgr->events.emitted;
    out->events_coalesced = mgr->events.coalesced;
    out->bad_transitions = mgr->bad_transitions;
    tp_lock_release(mgr->lock);
}

/* ---- Creating ----------------------------------------------------------- */

tv_status_t task_create(struct task_mgr *mgr, const struct task_spec *spec, uint64_t *id_out)
{
    if (!spec || !spec->driver || !spec->driver->run || spec->type >= TV_TASK_TYPE_COUNT ||
        spec->target.kind > TV_TASK_TARGET_DISK)
        return TV_E_INVALID_ARGUMENT;
    struct task_job *t = tp_alloc(sizeof *t);
    if (!t)
        return TV_E_NO_MEMORY;
    t->mgr = mgr;
    t->refs = 1; /* the list's */
    t->type = spec->type;
    t->target = spec->target;
    t->target.reserved = 0;
    t->priority = spec->priority;
    t->driver = spec->driver;
    t->ctx = spec->driver_ctx;
    t->state = TV_TASK_QUEUED;
    t->cancelable = !spec->not_cancelable;
    t->pausable = !spec->not_pausable;
    t->result = TV_TASK_RESULT_PENDING;
    t->outcome = TV_TASK_OUTCOME_PENDING;
    t->description_len = task_text_copy(t->description, sizeof t->description,
                                        spec->description ? spec->description : "");

    tp_lock_acquire(mgr->lock);
    uint64_t now = tp_now_ns();
    task_reap_locked(mgr, now);
    if (mgr->shutting_down || mgr->count >= mgr->max_tasks) {
        tv_status_t st = mgr->shutting_down ? TV_E_INVALID_STATE : TV_E_LIMIT;
        tp_lock_release(mgr->lock);
        tp_free(t);
        return st;
    }
    t->id = mgr->next_id++;
    t->created_ns = t->updated_ns = now;
    t->seq = 1;
    t->listed = true;
    t->prev = mgr->tail;
    if (mgr->tail)
        mgr->tail->next = t;
    else
        mgr->head = t;
    mgr->tail = t;
    task_tree_insert(&mgr->index, t, TASK_TREE_ID);
    mgr->count++;
    task_enqueue(t);
    if (id_out)
        *id_out = t->id;
    task_events_emit(t, false);
    tp_waitq_wake_all(mgr->work_wq);
    tp_lock_release(mgr->lock);
    return TV_OK;
}

/* ---- Verbs -------------------------------------------------------------- */

uint32_t task_facts(const struct task_job *t)
{
    return (t->cancelable && !t->finishing ? TASK_FACT_CANCELABLE : 0) |
           (t->pausable && !t->finishing ? TASK_FACT_PAUSABLE : 0) |
           (t->started ? TASK_FACT_STARTED : 0);
}

/* Looks the task up and checks the verb; on TV_OK *t_out is set and the
 * lock is still held; on refusal the lock is released. */
static tv_status_t verb_begin(struct task_mgr *mgr, uint64_t id, uint32_t verb,
                              struct task_job **t_out, uint32_t *next_out)
{
    tp_lock_acquire(mgr->lock);
    task_reap_locked(mgr, tp_now_ns());
    struct task_job *t = task_find(mgr, id);
    if (!t) {
        tp_lock_release(mgr->lock);
        return TV_E_NOT_FOUND;
    }
    tv_status_t st = task_verb_check(verb, t->state, task_facts(t), next_out);
    if (st != TV_OK) {
        tp_lock_release(mgr->lock);
        return st;
    }
    *t_out = t;
    return TV_OK;
}

tv_status_t task_cancel(struct task_mgr *mgr, uint64_t id)
{
    struct task_job *t;
    uint32_t to;
    tv_status_t st = verb_begin(mgr, id, TV_TASK_VERB_CANCEL, &t, &to);
    if (st != TV_OK)
        return st;
    task_dequeue(t);
    task_set_state(t, to);
    if (!t->started) {
        /* Nobody else will ever run it: finish it here. */
        task_ref(t);
        task_finish_unstarted(t);
        task_unref(t);
    }
    tp_lock_release(mgr->lock);
    return TV_OK;
}

tv_status_t task_pause(struct task_mgr *mgr, uint64_t id)
{
    struct task_job *t;
    uint32_t to;
    tv_status_t st = verb_begin(mgr, id, TV_TASK_VERB_PAUSE, &t, &to);
    if (st != TV_OK)
        return st;
    task_dequeue(t); /* not runnable until resumed */
    task_set_state(t, to);
    tp_lock_release(mgr->lock);
    return TV_OK;
}

tv_status_t task_resume(struct task_mgr *mgr, uint64_t id)
{
    struct task_job *t;
    uint32_t to;
    tv_status_t st = verb_begin(mgr, id, TV_TASK_VERB_RESUME, &t, &to);
    if (st != TV_OK)
        return st;
    if (to == TV_TASK_QUEUED)
        task_enqueue(t);
    task_set_state(t, to);
    tp_lock_release(mgr->lock);
    return TV_OK;
}

tv_status_t task_dismiss(struct task_mgr *mgr, uint64_t id)
{
    struct task_job *t;
    uint32_t to;
    tv_status_t st = verb_begin(mgr, id, TV_TASK_VERB_DISMISS, &t, &to);
    if (st != TV_OK)
        return st;
    unlist(t);
    tp_lock_release(mgr->lock);
    return TV_OK;
}
