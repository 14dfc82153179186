/* The one seam between the portable task core and the platform it runs on.
 *
 * Two implementations:
 *   task/platform_hosted.c  pthreads + libc (unit tests, host tools); its
 *                           clock can be driven by tests (platform_hosted.h)
 *   vmm/...                 the monitor: kernel threads, scheduler wait queues
 *
 * Everything in task/ other than the hosted file uses only these functions.
 * All functions may be called from any worker or vCPU thread. */
#ifndef TASK_PLATFORM_H
#define TASK_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "taskvisor/status.h"

/* ---- Clock -------------------------------------------------------------- */
/* Monotonic nanoseconds; never goes backwards.  Starts at some value > 0. */
uint64_t tp_now_ns(void);

/* ---- Memory ------------------------------------------------------------- */
/* Returns zeroed memory, or NULL when none is left.  Never blocks for long.
 * The core never calls tp_alloc with a tp_lock held; it does call tp_free
 * with its lock held (a record freed on dismiss or reap), so tp_free must
 * not sleep. */
void *tp_alloc(size_t size);
void tp_free(void *ptr); /* NULL is fine */

/* ---- Lock (non-recursive mutual exclusion, may sleep) ------------------- */
struct tp_lock;
tv_status_t tp_lock_create(struct tp_lock **out);
void tp_lock_destroy(struct tp_lock *lock);
void tp_lock_acquire(struct tp_lock *lock);
void tp_lock_release(struct tp_lock *lock);

/* ---- Wait queue (condition variable bound to a tp_lock) ----------------- */
struct tp_waitq;
tv_status_t tp_waitq_create(struct tp_waitq **out);
void tp_waitq_destroy(struct tp_waitq *wq);
/* Called with lock held; releases it while sleeping and holds it again on
 * return.  Returns when woken, when tp_now_ns() >= deadline_ns (pass
 * UINT64_MAX for no deadline), or spuriously: callers re-check their
 * condition and the clock in a loop. */
void tp_waitq_wait(struct tp_waitq *wq, struct tp_lock *lock, uint64_t deadline_ns);
/* Wakes every sleeper.  Call with the associated lock held. */
void tp_waitq_wake_all(struct tp_waitq *wq);

/* ---- Worker threads ----------------------------------------------------- */
struct tp_thread;
typedef void (*tp_thread_fn)(void *arg);
tv_status_t tp_thread_start(struct tp_thread **out, tp_thread_fn fn, void *arg,
                            const char *name);
/* Waits for fn to return, then frees the thread. */
void tp_thread_join(struct tp_thread *thread);

/* Gives the CPU away for a moment (checkpoints call it so long jobs never
 * hog a CPU in a cooperative setting).  May return at once. */
void tp_yield(void);

/* Sleeps about ns nanoseconds of the platform clock (used by synthetic test
 * jobs; real jobs wait on their own events). */
void tp_sleep_ns(uint64_t ns);

#endif
