/* Preemptive kernel threads and the per-CPU scheduler.
 *
 * Two classes share the CPU: vCPU threads and task workers, with the task
 * share a setting (percent).  Every scheduling period ("tick") is divided
 * among the runnable threads, so each runnable vCPU gets the CPU at least
 * once per tick; between the classes the one that has had less than its
 * share runs next, and neither falls more than one period behind.  See
 * docs/architecture.md for the bound on vCPU wait this gives. */
#ifndef VMM_SCHED_H
#define VMM_SCHED_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/timer.h"
#include "taskvisor/status.h"

enum thread_class { CLASS_VCPU = 0, CLASS_TASK = 1, CLASS_COUNT = 2, CLASS_IDLE = 3 };
enum thread_state { THREAD_RUNNABLE, THREAD_RUNNING, THREAD_BLOCKED, THREAD_DEAD };

struct thread {
    uint64_t rsp;                  /* saved while switched out */
    uint64_t stack_pa;
    uint64_t stack_pages;
    int state;
    int cls;
    uint32_t id;
    char name[24];
    struct thread *rq_next;
    struct thread *all_next;
    struct timer wake_timer;
    bool woken_by_timer;
    uint64_t runtime_ns;
    uint64_t slice_start_ns;
    uint64_t slice_ns;             /* the slice it was last given */
    uint64_t runnable_since_ns;
    void (*fn)(void *);
    void *arg;
    void *owner;                   /* vcpu or task worker */
};

struct sched_config {
    uint64_t tick_ns;              /* scheduling period */
    uint32_t task_share_pct;       /* CPU share of task workers when both classes run */
    uint64_t min_slice_ns;
};

void sched_init(const struct sched_config *cfg);
const struct sched_config *sched_get_config(void);
/* Starts scheduling on this CPU; the boot thread becomes idle. Never returns. */
__attribute__((noreturn)) void sched_start(void);

struct thread *thread_create(const char *name, int cls, void (*fn)(void *), void *arg);
__attribute__((noreturn)) void thread_exit(void);
struct thread *thread_current(void);

/* Gives up the CPU if something else should run. */
void schedule(void);
void sched_yield(void);
/* Called on the way out of interrupts. */
void sched_preempt_point(void);
/* Blocks the current thread until thread_wake() or the deadline (ns, or
 * UINT64_MAX for none).  Call with interrupts disabled after checking the
 * condition; returns true when the deadline passed. */
bool thread_block_until(uint64_t deadline_ns);
void thread_wake(struct thread *t);
/* Sleep for a duration (interrupts may be on). */
void thread_sleep_ns(uint64_t ns);
/* Reschedule request (from interrupt or other thread). */
void sched_request_resched(void);
/* Worst scheduling delay observed for a runnable vCPU (ns). */
uint64_t sched_max_vcpu_wait_ns(void);

#endif
