/* Running tasks: picking from the queue, the worker threads, and the life
 * of one job (run -> commit | abort -> cleanup -> final state). */
#include "task_internal.h"
#include "tv_status.h"

struct task_job *task_pick_next(struct task_mgr *mgr)
{
    if (mgr->holding_slot >= mgr->max_running || mgr->queued == 0)
        return NULL;
    /* The run queue's first: the highest priority, then the oldest. */
    struct task_job *best = task_tree_first(mgr->runq, TASK_TREE_QUEUE);
    if (!best)
        return NULL;
    task_dequeue(best);
    best->has_slot = true;
    mgr->holding_slot++;
    best->started = true;
    best->started_ns = tp_now_ns();
    task_ref(best);
    task_set_state(best, TV_TASK_RUNNING);
    return best;
}

enum tv_task_result task_result_for_status(tv_status_t st)
{
    switch (st) {
    case TV_OK:
        return TV_TASK_RESULT_SUCCESS;
    case TV_E_NO_MEMORY:
        return TV_TASK_RESULT_OUT_OF_MEMORY;
    case TV_E_IO:
    case TV_E_NO_SPACE:
    case TV_E_CORRUPT:
    case TV_E_READ_ONLY:
    case TV_E_PARENT_MISSING:
    case TV_E_PARENT_MODIFIED:
    case TV_E_WRONG_TYPE:
        return TV_TASK_RESULT_DISK;
    case TV_E_TIMEOUT:
        return TV_TASK_RESULT_TIMEOUT;
    case TV_E_INCOMPATIBLE_SAVED_STATE:
        return TV_TASK_RESULT_INCOMPATIBLE_SAVED_STATE;
    case TV_E_INVALID_ARGUMENT:
        return TV_TASK_RESULT_ILLEGAL_VALUE;
    default:
        /* TV_E_CANCELLED too: a task ends cancelled only through an
         * accepted cancel, never through a driver's failure. */
        return TV_TASK_RESULT_UNEXPECTED;
    }
}

/* Lock held.  Fixes result, error and error text of a failing task. */
static void record_failure(struct task_job *t, tv_status_t st)
{
    if (st == TV_OK)
        st = TV_E_IO; /* a driver must not "fail" with success */
    if (!t->failure_recorded) {
        t->fail_result = task_result_for_status(st);
        t->error = st;
        t->error_description_len = task_text_copy(t->error_description,
                                                  sizeof t->error_description,
                                                  tv_status_text(st));
    }
    t->result = t->fail_result;
}

/* Lock held on entry and exit; dropped around the driver's abort and
 * cleanup.  Returns the data outcome. */
static uint32_t abort_and_cleanup(struct task_job *t, tv_status_t why)
{
    struct tp_lock *lock = t->mgr->lock;
    uint32_t outcome = t->outcome_so_far ? t->outcome_so_far : TV_TASK_OUTCOME_UNTOUCHED;
    tp_lock_release(lock);
    if (t->driver->abort) {
        uint32_t o = t->driver->abort(t, t->ctx, why);
        outcome = (o >= TV_TASK_OUTCOME_UNTOUCHED && o < TV_TASK_OUTCOME_COUNT)
                      ? o : TV_TASK_OUTCOME_NEEDS_RECOVERY;
    }
    if (t->driver->cleanup)
        t->driver->cleanup(t->ctx);
    tp_lock_acquire(lock);
    return outcome;
}

static void finish_cancelled(struct task_job *t)
{
    t->finishing = true;
    t->error = TV_E_CANCELLED;
    t->error_description_len = task_text_copy(t->error_description,
                                              sizeof t->error_description,
                                              tv_status_text(TV_E_CANCELLED));
    uint32_t outcome = abort_and_cleanup(t, TV_E_CANCELLED);
    t->result = TV_TASK_RESULT_CANCELLED;
    t->outcome = outcome;
    task_set_state(t, TV_TASK_CANCELLED);
}

static void finish_failed(struct task_job *t, tv_status_t st)
{
    t->finishing = true;
    t->cancelable = false;
    record_failure(t, st);
    uint32_t outcome = abort_and_cleanup(t, st);
    t->outcome = outcome;
    task_set_state(t, TV_TASK_FAILED);
}

static void commit_and_finish(struct task_job *t)
{
    struct tp_lock *lock = t->mgr->lock;
    t->finishing = true;
    t->cancelable = false;
    task_set_state(t, TV_TASK_COMMITTING);
    tv_status_t st = TV_OK;
    if (t->driver->commit) {
        tp_lock_release(lock);
        st = t->driver->commit(t, t->ctx);
        tp_lock_acquire(lock);
    }
    if (st != TV_OK) {
        finish_failed(t, st);
        return;
    }
    tp_lock_release(lock);
    if (t->driver->cleanup)
        t->driver->cleanup(t->ctx);
    tp_lock_acquire(lock);
    t->result = TV_TASK_RESULT_SUCCESS;
    t->outcome = TV_TASK_OUTCOME_COMMITTED;
    t->error = TV_OK;
    if (t->total)
        t->done = t->total;
    t->percent = 100;
    task_set_state(t, TV_TASK_COMPLETED);
}

void task_hold_while_paused(struct task_job *t)
{
    struct task_mgr *mgr = t->mgr;
    if (t->state != TV_TASK_PAUSED)
        return;
    t->held = true;
    task_touch(t);
    while (t->state == TV_TASK_PAUSED)
        tp_waitq_wait(mgr->work_wq, mgr->lock, UINT64_MAX);
    /* task_set_state() cleared held when the task left PAUSED */
}

void task_execute(struct task_job *t)
{
    struct task_mgr *mgr = t->mgr;
    tp_lock_release(mgr->lock);
    tv_status_t st = t->driver->run(t, t->ctx);
    tp_lock_acquire(mgr->lock);

    /* A paused task does not enter committing until it is resumed. */
    if (st == TV_OK)
        task_hold_while_paused(t);

    if (t->state == TV_TASK_CANCELLING)
        finish_cancelled(t); /* an accepted cancel is final */
    else if (st == TV_OK)
        commit_and_finish(t);
    else
        finish_failed(t, st);

    task_release_slot(t);
    task_unref(t); /* the reference task_pick_next took */
}

void task_finish_unstarted(struct task_job *t)
{
    t->finishing = true;
    t->error = TV_E_CANCELLED;
    t->error_description_len = task_text_copy(t->error_description,
                                              sizeof t->error_description,
                                              tv_status_text(TV_E_CANCELLED));
    if (t->driver->cleanup) {
        tp_lock_release(t->mgr->lock);
        t->driver->cleanup(t->ctx);
        tp_lock_acquire(t->mgr->lock);
    }
    t->result = TV_TASK_RESULT_CANCELLED;
    t->outcome = TV_TASK_OUTCOME_UNTOUCHED;
    task_set_state(t, TV_TASK_CANCELLED);
}

void task_worker_main(void *arg)
{
    struct task_mgr *mgr = arg;
    tp_lock_acquire(mgr->lock);
    for (;;) {
        struct task_job *t = task_pick_next(mgr);
        if (t) {
            task_execute(t);
            continue;
        }
        if (mgr->shutting_down && mgr->queued == 0)
            break;
        tp_waitq_wait(mgr->work_wq, mgr->lock, UINT64_MAX);
    }
    tp_lock_release(mgr->lock);
}

tv_status_t task_mgr_run_next(struct task_mgr *mgr)
{
    tp_lock_acquire(mgr->lock);
    struct task_job *t = task_pick_next(mgr);
    if (t)
        task_execute(t);
    tp_lock_release(mgr->lock);
    return t ? TV_OK : TV_E_NOT_FOUND;
}
