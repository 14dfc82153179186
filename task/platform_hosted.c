/* task_platform.h on POSIX threads, for unit tests and host tools.
 * The only file of task/ that may use libc. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "task_platform.h"
#include "platform_hosted.h"

/* ---- Clock -------------------------------------------------------------- */

static _Atomic int clock_is_manual;
static _Atomic uint64_t manual_now;

static uint64_t real_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* +1 s so the clock never reads 0, which callers use as "never". */
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 1000000000u;
}

uint64_t tp_now_ns(void)
{
    if (clock_is_manual)
        return manual_now;
    return real_now_ns();
}

void tp_hosted_clock_manual(uint64_t start_ns)
{
    manual_now = start_ns ? start_ns : 1;
    clock_is_manual = 1;
}

void tp_hosted_clock_real(void)
{
    clock_is_manual = 0;
}

void tp_hosted_clock_advance(uint64_t delta_ns)
{
    manual_now += delta_ns;
    /* Sleepers with a deadline poll the manual clock (see tp_waitq_wait),
     * so no explicit wake-up is needed here. */
}

/* ---- Memory ------------------------------------------------------------- */

struct alloc_header {
    size_t size;
    size_t pad; /* keeps the payload 16-byte aligned */
};

static _Atomic uint64_t live_blocks, live_bytes, total_allocs;
static _Atomic uint64_t fail_countdown;

void *tp_alloc(size_t size)
{
    uint64_t n = fail_countdown;
    while (n) {
        if (atomic_compare_exchange_strong(&fail_countdown, &n, n - 1)) {
            if (n == 1)
                return NULL;
            break;
        }
    }
    if (size > SIZE_MAX - sizeof(struct alloc_header))
        return NULL;
    struct alloc_header *h = calloc(1, sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    live_blocks++;
    live_bytes += size;
    total_allocs++;
    return h + 1;
}

void tp_free(void *ptr)
{
    if (!ptr)
        return;
    struct alloc_header *h = (struct alloc_header *)ptr - 1;
    live_blocks--;
    live_bytes -= h->size;
    free(h);
}

void tp_hosted_alloc_stats(struct tp_hosted_alloc_stats *out)
{
    out->live_blocks = live_blocks;
    out->live_bytes = live_bytes;
    out->total_allocs = total_allocs;
}

void tp_hosted_fail_alloc_after(uint64_t n)
{
    fail_countdown = n;
}

/* ---- Lock --------------------------------------------------------------- */

struct tp_lock {
    pthread_mutex_t mutex;
};

tv_status_t tp_lock_create(struct tp_lock **out)
{
    struct tp_lock *l = tp_alloc(sizeof *l);
    if (!l)
        return TV_E_NO_MEMORY;
    pthread_mutex_init(&l->mutex, NULL);
    *out = l;
    return TV_OK;
}

void tp_lock_destroy(struct tp_lock *lock)
{
    if (!lock)
        return;
    pthread_mutex_destroy(&lock->mutex);
    tp_free(lock);
}

void tp_lock_acquire(struct tp_lock *lock)
{
    pthread_mutex_lock(&lock->mutex);
}

void tp_lock_release(struct tp_lock *lock)
{
    pthread_mutex_unlock(&lock->mutex);
}

/* ---- Wait queue ----------------------------------------------------------- */

struct tp_waitq {
    pthread_cond_t cond;
};

tv_status_t tp_waitq_create(struct tp_waitq **out)
{
    struct tp_waitq *wq = tp_alloc(sizeof *wq);
    if (!wq)
        return TV_E_NO_MEMORY;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wq->cond, &attr);
    pthread_condattr_destroy(&attr);
    *out = wq;
    return TV_OK;
}

void tp_waitq_destroy(struct tp_waitq *wq)
{
    if (!wq)
        return;
    pthread_cond_destroy(&wq->cond);
    tp_free(wq);
}

static struct timespec real_deadline_in(uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_nsec + ns % 1000000000u;
    ts.tv_sec += (time_t)(ns / 1000000000u + t / 1000000000u);
    ts.tv_nsec = (long)(t % 1000000000u);
    return ts;
}

void tp_waitq_wait(struct tp_waitq *wq, struct tp_lock *lock, uint64_t deadline_ns)
{
    if (deadline_ns == UINT64_MAX) {
        pthread_cond_wait(&wq->cond, &lock->mutex);
        return;
    }
    uint64_t now = tp_now_ns();
    if (now >= deadline_ns)
        return;
    /* Manual clock: wake every millisecond of real time to re-read it. */
    uint64_t slice = clock_is_manual ? 1000000u : deadline_ns - now;
    struct timespec ts = real_deadline_in(slice);
    int rc = pthread_cond_timedwait(&wq->cond, &lock->mutex, &ts);
    (void)rc; /* ETIMEDOUT or woken: the caller re-checks either way */
}

void tp_waitq_wake_all(struct tp_waitq *wq)
{
    pthread_cond_broadcast(&wq->cond);
}

/* ---- Threads ------------------------------------------------------------ */

struct tp_thread {
    pthread_t handle;
    tp_thread_fn fn;
    void *arg;
};

static _Atomic uint64_t live_threads;

static void *thread_trampoline(void *p)
{
    struct tp_thread *t = p;
    t->fn(t->arg);
    return NULL;
}

tv_status_t tp_thread_start(struct tp_thread **out, tp_thread_fn fn, void *arg,
                            const char *name)
{
    struct tp_thread *t = tp_alloc(sizeof *t);
    if (!t)
        return TV_E_NO_MEMORY;
    t->fn = fn;
    t->arg = arg;
    if (pthread_create(&t->handle, NULL, thread_trampoline, t) != 0) {
        tp_free(t);
        return TV_E_NO_MEMORY;
    }
    if (name) {
        char short_name[16];
        size_t i = 0;
        for (; name[i] && i < sizeof short_name - 1; i++)
            short_name[i] = name[i];
        short_name[i] = '\0';
        pthread_setname_np(t->handle, short_name);
    }
    live_threads++;
    *out = t;
    return TV_OK;
}

void tp_thread_join(struct tp_thread *thread)
{
    if (!thread)
        return;
    pthread_join(thread->handle, NULL);
    live_threads--;
    tp_free(thread);
}

uint64_t tp_hosted_live_threads(void)
{
    return live_threads;
}

void tp_yield(void)
{
    sched_yield();
}

void tp_sleep_ns(uint64_t ns)
{
    if (clock_is_manual)
        ns = ns < 20000u ? ns : 20000u; /* the test owns the clock */
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
