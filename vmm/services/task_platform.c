/* The task subsystem's platform seam (task/task_platform.h) inside the
 * monitor: kernel threads in the task class, the scheduler's blocking, the
 * kernel heap and the TSC clock. */
#include "task/task_platform.h"
#include "arch/x86/cpu.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "mm/mm.h"

uint64_t tp_now_ns(void)
{
    return time_now_ns() + 1; /* never 0 */
}

void *tp_alloc(size_t size)
{
    return kzalloc(size);
}

void tp_free(void *ptr)
{
    kfree(ptr);
}

/* Interrupts stay off while the lock is held: critical sections in the task
 * core are short, and a holder can then never be preempted (one CPU). */
struct tp_lock {
    spinlock_t sl;
    bool irq;
};

tv_status_t tp_lock_create(struct tp_lock **out)
{
    *out = kzalloc(sizeof **out);
    return *out ? TV_OK : TV_E_NO_MEMORY;
}

void tp_lock_destroy(struct tp_lock *lock)
{
    kfree(lock);
}

void tp_lock_acquire(struct tp_lock *lock)
{
    bool irq = spin_lock_irqsave(&lock->sl);
    lock->irq = irq;
}

void tp_lock_release(struct tp_lock *lock)
{
    bool irq = lock->irq;
    spin_unlock_irqrestore(&lock->sl, irq);
}

struct wq_entry {
    struct thread *thread;
    struct wq_entry *next;
};

struct tp_waitq {
    struct wq_entry *head;
};

tv_status_t tp_waitq_create(struct tp_waitq **out)
{
    *out = kzalloc(sizeof **out);
    return *out ? TV_OK : TV_E_NO_MEMORY;
}

void tp_waitq_destroy(struct tp_waitq *wq)
{
    kfree(wq);
}

void tp_waitq_wait(struct tp_waitq *wq, struct tp_lock *lock, uint64_t deadline_ns)
{
    /* Entered with the lock held, hence interrupts off: queue ourselves,
     * drop the lock but keep interrupts off until we are blocked, so no
     * wake-up can slip between the two. */
    struct wq_entry me = { thread_current(), wq->head };
    wq->head = &me;
    bool irq = lock->irq;
    __atomic_store_n(&lock->sl.locked, 0, __ATOMIC_RELEASE);
    uint64_t now = time_now_ns() + 1;
    if (deadline_ns > now)
        thread_block_until(deadline_ns == UINT64_MAX ? UINT64_MAX : deadline_ns - 1);
    /* Retake the lock (interrupts are still off) and leave the queue. */
    while (__atomic_exchange_n(&lock->sl.locked, 1, __ATOMIC_ACQUIRE))
        cpu_pause();
    lock->irq = irq;
    for (struct wq_entry **pp = &wq->head; *pp; pp = &(*pp)->next) {
        if (*pp == &me) {
            *pp = me.next;
            break;
        }
    }
}

void tp_waitq_wake_all(struct tp_waitq *wq)
{
    for (struct wq_entry *e = wq->head; e; e = e->next)
        thread_wake(e->thread);
    /* Entries unlink themselves when their threads run again. */
}

struct tp_thread {
    struct thread *thread;
    tp_thread_fn fn;
    void *arg;
    volatile bool done;
    struct thread *joiner;
};

static void worker_trampoline(void *arg)
{
    struct tp_thread *t = arg;
    t->fn(t->arg);
    bool irq = irq_save();
    t->done = true;
    if (t->joiner)
        thread_wake(t->joiner);
    irq_restore(irq);
}

tv_status_t tp_thread_start(struct tp_thread **out, tp_thread_fn fn, void *arg, const char *name)
{
    struct tp_thread *t = kzalloc(sizeof *t);
    if (!t)
        return TV_E_NO_MEMORY;
    t->fn = fn;
    t->arg = arg;
    t->thread = thread_create(name, CLASS_TASK, worker_trampoline, t);
    if (!t->thread) {
        kfree(t);
        return TV_E_NO_MEMORY;
    }
    *out = t;
    return TV_OK;
}

void tp_thread_join(struct tp_thread *t)
{
    bool irq = irq_save();
    t->joiner = thread_current();
    while (!t->done)
        thread_block_until(UINT64_MAX);
    irq_restore(irq);
    kfree(t);
}

void tp_yield(void)
{
    sched_yield();
}

void tp_sleep_ns(uint64_t ns)
{
    thread_sleep_ns(ns);
}
