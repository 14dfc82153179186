/* Job drivers: how a long operation (disk merge, VM save, ...) runs as a task.
 * Portable; stable API (see docs/tasks.md, "Driver interface").
 *
 * Life of a job, all callbacks on one worker thread, never with core locks held:
 *
 *   run(job, ctx)            does the work; calls task_job_checkpoint() at
 *                            bounded intervals (pause and cancel are honoured
 *                            there) and reports progress.  Returns
 *                              TV_OK           work done, ready to commit
 *                              TV_E_CANCELLED  a checkpoint said so
 *                              other           failure (task_job_fail() may
 *                                              refine result/description)
 *   commit(job, ctx)         only after run returned TV_OK and the task is not
 *                            paused; state COMMITTING, never cancelable.
 *                            Optional (NULL = nothing to commit).
 *   abort(job, ctx, why)     after a cancel or a failure (of run or commit):
 *                            undo what can be undone and return the data
 *                            outcome (ROLLED_BACK, UNTOUCHED, ...).  Optional
 *                            (NULL = the outcome last set by
 *                            task_job_set_outcome(), default UNTOUCHED).
 *   cleanup(ctx)             always last, exactly once, also for tasks
 *                            cancelled before they ever ran; frees ctx.
 *                            Optional.
 *
 * The task reaches its final state only after cleanup returned, so a waiter
 * that sees "complete" may use the target at once. */
#ifndef TASK_DRIVER_H
#define TASK_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"
#include "taskvisor/task.h"

struct task_job; /* the running task, as its driver sees it */

struct task_driver {
    const char *name;
    tv_status_t (*run)(struct task_job *job, void *ctx);
    tv_status_t (*commit)(struct task_job *job, void *ctx);
    enum tv_task_outcome (*abort)(struct task_job *job, void *ctx, tv_status_t why);
    void (*cleanup)(void *ctx);
};

/* ---- Called by the driver (from its callbacks) -------------------------- */

/* The pause/cancel point.  Returns TV_OK to go on, or TV_E_CANCELLED when a
 * cancel was accepted (the driver unwinds and returns TV_E_CANCELLED from
 * run).  If the task is paused it blocks here until resumed or cancelled.
 * Cheap: call it every few milliseconds of work (e.g. every block). */
tv_status_t task_job_checkpoint(struct task_job *job);

/* Sleeps up to ns but wakes early for pause/cancel; same returns as
 * task_job_checkpoint().  For jobs that wait on something outside (a guest
 * shutting down) by polling. */
tv_status_t task_job_sleep(struct task_job *job, uint64_t ns);

/* Progress in the job's own units.  total may be set (or changed) at any
 * time; done is clamped to total.  The percent shown to clients is
 * floor(done*100/total), never goes down (a smaller done or a larger total is
 * accepted but the percent holds) and stays below 100 until the task
 * completes. */
void task_job_set_total(struct task_job *job, uint64_t total);
void task_job_set_done(struct task_job *job, uint64_t done);
void task_job_advance(struct task_job *job, uint64_t delta);

/* The point of no return: after TV_OK the task is no longer cancelable
 * (cancel answers NOT_CANCELABLE).  Returns TV_E_CANCELLED instead when a
 * cancel was accepted first; the driver must then unwind. */
tv_status_t task_job_point_of_no_return(struct task_job *job);
/* Makes a task cancelable again (e.g. a later phase that can be undone).
 * Rarely needed. */
void task_job_set_cancelable(struct task_job *job, bool cancelable);

/* Records the data outcome so far (used when abort is NULL or when the task
 * fails; e.g. CONSISTENT_PARTIAL after each durable step). */
void task_job_set_outcome(struct task_job *job, enum tv_task_outcome outcome);

/* Records why the job failed: result (VMTaskResult), status code and a text
 * (UTF-8, truncated to TV_TASK_ERROR_MAX-1 bytes; NULL = status name).
 * Without it a failure maps the status returned by run/commit to a result
 * (NO_MEMORY -> OUT_OF_MEMORY, IO/NO_SPACE/CORRUPT/READ_ONLY -> DISK,
 * TIMEOUT -> TIMEOUT, INVALID_ARGUMENT -> ILLEGAL_VALUE, else UNEXPECTED). */
/* The one mapping from a status to Virtual PC's VMTaskResult, used for every
 * failure the core records and by drivers that report their own. */
enum tv_task_result task_result_for_status(tv_status_t st);

void task_job_fail(struct task_job *job, enum tv_task_result result,
                   tv_status_t error, const char *description);

/* Read-only facts about the job. */
uint64_t task_job_id(const struct task_job *job);
struct tv_task_target task_job_target(const struct task_job *job);
uint32_t task_job_type(const struct task_job *job);

#endif
