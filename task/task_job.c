/* The API drivers call while their job runs: pause/cancel points, progress,
 * point of no return, failure details. */
#include "task_internal.h"

/* Lock held.  Blocks while paused; returns TV_E_CANCELLED once a cancel was
 * accepted. */
static tv_status_t honour_verbs(struct task_job *t)
{
    task_hold_while_paused(t);
    return t->state == TV_TASK_CANCELLING ? TV_E_CANCELLED : TV_OK;
}

tv_status_t task_job_checkpoint(struct task_job *job)
{
    tp_lock_acquire(job->mgr->lock);
    tv_status_t st = honour_verbs(job);
    tp_lock_release(job->mgr->lock);
    return st;
}

tv_status_t task_job_sleep(struct task_job *job, uint64_t ns)
{
    struct task_mgr *mgr = job->mgr;
    tp_lock_acquire(mgr->lock);
    uint64_t now = tp_now_ns();
    uint64_t deadline = now > UINT64_MAX - 1 - ns ? UINT64_MAX - 1 : now + ns;
    tv_status_t st;
    for (;;) {
        st = honour_verbs(job);
        if (st != TV_OK || tp_now_ns() >= deadline)
            break;
        tp_waitq_wait(mgr->work_wq, mgr->lock, deadline);
    }
    tp_lock_release(mgr->lock);
    return st;
}

/* floor(done * 100 / total) without overflow; total > 0, done <= total. */
static uint32_t percent_of(uint64_t done, uint64_t total)
{
    if (done >= total)
        return 100;
    if (done <= UINT64_MAX / 100)
        return (uint32_t)(done * 100 / total);
    return (uint32_t)(done / (total / 100)); /* total > done > 2^57 here */
}

/* Lock held. */
static void update_progress(struct task_job *t, uint64_t done, uint64_t total)
{
    if (task_state_is_final(t->state))
        return;
    if (total && done > total)
        done = total;
    if (done == t->done && total == t->total)
        return;
    t->done = done;
    t->total = total;
    task_touch(t);
    if (!total)
        return;
    uint32_t pct = percent_of(done, total);
    if (pct > 99)
        pct = 99; /* 100 means complete */
    if (pct > t->percent) {
        t->percent = pct;
        task_events_emit(t, true);
    }
}

void task_job_set_total(struct task_job *job, uint64_t total)
{
    tp_lock_acquire(job->mgr->lock);
    update_progress(job, job->done, total);
    tp_lock_release(job->mgr->lock);
}

void task_job_set_done(struct task_job *job, uint64_t done)
{
    tp_lock_acquire(job->mgr->lock);
    update_progress(job, done, job->total);
    tp_lock_release(job->mgr->lock);
}

void task_job_advance(struct task_job *job, uint64_t delta)
{
    tp_lock_acquire(job->mgr->lock);
    uint64_t done = job->done > UINT64_MAX - delta ? UINT64_MAX : job->done + delta;
    update_progress(job, done, job->total);
    tp_lock_release(job->mgr->lock);
}

tv_status_t task_job_point_of_no_return(struct task_job *job)
{
    tp_lock_acquire(job->mgr->lock);
    tv_status_t st = TV_OK;
    if (job->state == TV_TASK_CANCELLING) {
        st = TV_E_CANCELLED;
    } else if (job->cancelable) {
        job->cancelable = false;
        task_touch(job);
    }
    tp_lock_release(job->mgr->lock);
    return st;
}

void task_job_set_cancelable(struct task_job *job, bool cancelable)
{
    tp_lock_acquire(job->mgr->lock);
    if (!job->finishing && job->state != TV_TASK_CANCELLING &&
        !task_state_is_final(job->state) && job->cancelable != cancelable) {
        job->cancelable = cancelable;
        task_touch(job);
    }
    tp_lock_release(job->mgr->lock);
}

void task_job_set_outcome(struct task_job *job, enum tv_task_outcome outcome)
{
    if ((uint32_t)outcome < TV_TASK_OUTCOME_UNTOUCHED || (uint32_t)outcome >= TV_TASK_OUTCOME_COUNT)
        outcome = TV_TASK_OUTCOME_NEEDS_RECOVERY;
    tp_lock_acquire(job->mgr->lock);
    job->outcome_so_far = outcome;
    tp_lock_release(job->mgr->lock);
}

void task_job_fail(struct task_job *job, enum tv_task_result result, tv_status_t error,
                   const char *description)
{
    if ((uint32_t)result >= TV_TASK_RESULT_COUNT || result == TV_TASK_RESULT_SUCCESS)
        result = TV_TASK_RESULT_UNEXPECTED;
    if (error == TV_OK)
        error = TV_E_IO;
    tp_lock_acquire(job->mgr->lock);
    if (!task_state_is_final(job->state)) {
        job->failure_recorded = true;
        job->fail_result = result;
        job->error = error;
        job->error_description_len = task_text_copy(job->error_description,
                                                    sizeof job->error_description,
                                                    description ? description : "");
        task_touch(job);
    }
    tp_lock_release(job->mgr->lock);
}

uint64_t task_job_id(const struct task_job *job)
{
    return job->id;
}

struct tv_task_target task_job_target(const struct task_job *job)
{
    return job->target;
}

uint32_t task_job_type(const struct task_job *job)
{
    return job->type;
}
