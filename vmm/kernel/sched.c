#include "kernel/sched.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "tv_string.h"

#define STACK_PAGES 4

void context_switch(uint64_t *save_rsp, uint64_t new_rsp);
void thread_entry_trampoline(void);

static struct sched_config config = { 2000000ull, 50, 100000ull };

/* Run queues, class times, the slice timer and the thread to reap live in
 * struct percpu (this CPU's scheduler); these are global. */
static struct thread *all_threads;
static uint32_t next_thread_id = 1;
static struct thread boot_thread;
static uint64_t max_vcpu_wait_ns;

_Static_assert(CLASS_COUNT == 2, "struct percpu sizes its run queues for two classes");
#define rq_head (this_cpu()->rq_head)
#define rq_tail (this_cpu()->rq_tail)
#define rq_len (this_cpu()->rq_len)
#define class_vtime (this_cpu()->class_vtime)
#define slice_timer (this_cpu()->slice_timer)
#define dead_thread (this_cpu()->dead_thread)

void sched_init(const struct sched_config *cfg)
{
    if (cfg) {
        config = *cfg;
        if (config.tick_ns < 100000ull)
            config.tick_ns = 100000ull;
        if (config.task_share_pct < 1)
            config.task_share_pct = 1;
        if (config.task_share_pct > 99)
            config.task_share_pct = 99;
        if (config.min_slice_ns == 0 || config.min_slice_ns > config.tick_ns)
            config.min_slice_ns = config.tick_ns / 20 ? config.tick_ns / 20 : 1;
    }
}

const struct sched_config *sched_get_config(void) { return &config; }

struct thread *thread_current(void) { return this_cpu()->current; }
uint64_t sched_max_vcpu_wait_ns(void) { return max_vcpu_wait_ns; }

static uint32_t class_weight(int c);

/* A class with nothing runnable and not running is asleep. */
static bool class_active(int c)
{
    struct thread *cur = this_cpu()->current;
    return rq_len[c] != 0 || (cur && cur->cls == c && cur->state == THREAD_RUNNING);
}

/* How far one class may lead another when the one behind is picked.  A
 * class that woke from sleep may be at most one period behind: having
 * slept, it does not then monopolise the CPU to catch up.  A class that
 * stayed runnable may be behind by what the other's last slice moved the
 * other's virtual time (at least a period): that much is the normal lead
 * between two slices, and clamping it (as this code once did, always to one
 * period) cut the share of the class behind whenever a slice moved virtual
 * time by more than a period: a guest got 0.74 of the CPU at task_share 20
 * instead of 0.80.  The slice is counted at most as long as it was given,
 * so a thread that overran it (not preemptible: Bochs does not exit a guest
 * spinning with IF=0) leaves no debt beyond that.  (One CPU: per-CPU fields
 * when there are more.) */
static bool class_woke[CLASS_COUNT];
static uint64_t class_last_advance[CLASS_COUNT];

static void class_wake(int c)
{
    class_woke[c] = true;
}

static void class_catch_up_limit(int c)
{
    for (int o = 0; o < CLASS_COUNT; o++) {
        if (o == c || !class_active(o))
            continue;
        uint64_t limit = config.tick_ns;
        if (!class_woke[c] && class_last_advance[o] > limit)
            limit = class_last_advance[o];
        if (class_vtime[c] + limit < class_vtime[o])
            class_vtime[c] = class_vtime[o] - limit;
    }
    class_woke[c] = false;
}

static void rq_push(struct thread *t, bool front)
{
    int c = t->cls;
    if (c < CLASS_COUNT && !class_active(c))
        class_wake(c);
    t->rq_next = 0;
    if (!rq_head[c]) {
        rq_head[c] = rq_tail[c] = t;
    } else if (front) {
        t->rq_next = rq_head[c];
        rq_head[c] = t;
    } else {
        rq_tail[c]->rq_next = t;
        rq_tail[c] = t;
    }
    rq_len[c]++;
}

static struct thread *rq_pop(int c)
{
    struct thread *t = rq_head[c];
    if (t) {
        rq_head[c] = t->rq_next;
        if (!rq_head[c])
            rq_tail[c] = 0;
        rq_len[c]--;
        t->rq_next = 0;
    }
    return t;
}

static uint32_t class_weight(int c)
{
    return c == CLASS_TASK ? config.task_share_pct : 100 - config.task_share_pct;
}

static void slice_expired(struct timer *t)
{
    (void)t;
    this_cpu()->need_resched = true;
    this_cpu()->ticks++;
}

static void account(struct thread *t, uint64_t now)
{
    uint64_t ran = now - t->slice_start_ns;
    t->runtime_ns += ran;
    if (t->cls < CLASS_COUNT) {
        class_vtime[t->cls] += ran * 100 / class_weight(t->cls);
        uint64_t given = t->slice_ns ? t->slice_ns : config.tick_ns;
        class_last_advance[t->cls] = (ran < given ? ran : given) * 100 / class_weight(t->cls);
    }
}

static int pick_class(void)
{
    for (int c = 0; c < CLASS_COUNT; c++)
        if (rq_head[c])
            class_catch_up_limit(c);
    int best = -1;
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (!rq_head[c])
            continue;
        if (best < 0 || class_vtime[c] < class_vtime[best])
            best = c;
    }
    return best;
}

/* Interrupts must be off. */
static void switch_away(void)
{
    struct percpu *cpu = this_cpu();
    struct thread *prev = cpu->current;
    uint64_t now = time_now_ns();
    account(prev, now);
    cpu->need_resched = false;

    if (prev->state == THREAD_RUNNING) {
        /* Queued while still RUNNING: its class did not sleep. */
        if (prev != cpu->idle)
            rq_push(prev, false);
        prev->state = THREAD_RUNNABLE;
        prev->runnable_since_ns = now;
    }
    int c = pick_class();
    struct thread *next = c >= 0 ? rq_pop(c) : cpu->idle;
    next->state = THREAD_RUNNING;
    next->slice_start_ns = now;
    if (next->cls == CLASS_VCPU && now - next->runnable_since_ns > max_vcpu_wait_ns &&
        next->runnable_since_ns)
        max_vcpu_wait_ns = now - next->runnable_since_ns;

    uint32_t runnable = rq_len[CLASS_VCPU] + rq_len[CLASS_TASK] + 1;
    uint64_t slice = config.tick_ns / runnable;
    if (slice < config.min_slice_ns)
        slice = config.min_slice_ns;
    next->slice_ns = slice;
    if (next == cpu->idle)
        timer_cancel(&slice_timer);
    else
        timer_arm(&slice_timer, now + slice);

    if (next == prev)
        return;
    cpu->current = next;
    context_switch(&prev->rsp, next->rsp);
    /* Back on prev's stack.  Reap a thread that exited while we were away. */
    if (dead_thread && dead_thread != this_cpu()->current) {
        struct thread *d = dead_thread;
        dead_thread = 0;
        page_free(d->stack_pa, d->stack_pages);
        kfree(d);
    }
}

void schedule(void)
{
    bool irq = irq_save();
    switch_away();
    irq_restore(irq);
}

void sched_yield(void)
{
    schedule();
}

void sched_request_resched(void)
{
    this_cpu()->need_resched = true;
}

void sched_preempt_point(void)
{
    struct percpu *cpu = this_cpu();
    if (cpu->need_resched && cpu->current)
        switch_away();
}

bool thread_block_until(uint64_t deadline_ns)
{
    struct thread *t = thread_current();
    t->woken_by_timer = false;
    t->state = THREAD_BLOCKED;
    if (deadline_ns != UINT64_MAX)
        timer_arm(&t->wake_timer, deadline_ns);
    switch_away();
    timer_cancel(&t->wake_timer);
    return t->woken_by_timer;
}

void thread_wake(struct thread *t)
{
    bool irq = irq_save();
    if (t->state == THREAD_BLOCKED) {
        t->state = THREAD_RUNNABLE;
        t->runnable_since_ns = time_now_ns();
        rq_push(t, true); /* a waking thread goes first within its class */
        struct thread *cur = this_cpu()->current;
        /* Preempt the idle thread or a thread of another class at once.  A
         * waking vCPU (an interrupt is due) cuts the running thread's slice
         * down to the minimum granularity, so guest timers are delivered
         * within min_slice rather than a whole tick. */
        if (cur == this_cpu()->idle || (cur && cur->cls != t->cls && t->cls == CLASS_VCPU)) {
            this_cpu()->need_resched = true;
        } else if (cur && t->cls == CLASS_VCPU) {
            uint64_t now = time_now_ns();
            uint64_t earliest = cur->slice_start_ns + config.min_slice_ns;
            if (now >= earliest)
                this_cpu()->need_resched = true;
            else if (!slice_timer.armed || slice_timer.deadline_ns > earliest)
                timer_arm(&slice_timer, earliest);
        }
    }
    irq_restore(irq);
}

static void wake_timer_fn(struct timer *tm)
{
    struct thread *t = tm->arg;
    t->woken_by_timer = true;
    thread_wake(t);
}

void thread_sleep_ns(uint64_t ns)
{
    bool irq = irq_save();
    thread_block_until(time_now_ns() + ns);
    irq_restore(irq);
}

void thread_start(void (*fn)(void *), void *arg);
void thread_start(void (*fn)(void *), void *arg)
{
    cpu_sti();
    fn(arg);
    thread_exit();
}

struct thread *thread_create(const char *name, int cls, void (*fn)(void *), void *arg)
{
    struct thread *t = kzalloc(sizeof *t);
    if (!t)
        return 0;
    if (page_alloc(STACK_PAGES, 1, &t->stack_pa) != TV_OK) {
        kfree(t);
        return 0;
    }
    t->stack_pages = STACK_PAGES;
    t->cls = cls;
    t->fn = fn;
    t->arg = arg;
    tv_strlcpy(t->name, name, sizeof t->name);
    timer_init(&t->wake_timer, wake_timer_fn, t);
    /* Initial stack as context_switch expects it: r15 r14 r13 r12 rbp rbx ret. */
    uint64_t *sp = (uint64_t *)phys_to_virt(t->stack_pa + STACK_PAGES * PAGE_SIZE);
    *--sp = 0;                                   /* alignment slot */
    *--sp = (uint64_t)(uintptr_t)thread_entry_trampoline;
    *--sp = 0;                                   /* rbx */
    *--sp = 0;                                   /* rbp */
    *--sp = (uint64_t)(uintptr_t)fn;             /* r12 */
    *--sp = (uint64_t)(uintptr_t)arg;            /* r13 */
    *--sp = 0;                                   /* r14 */
    *--sp = 0;                                   /* r15 */
    t->rsp = (uint64_t)(uintptr_t)sp;
    bool irq = irq_save();
    t->id = next_thread_id++;
    t->all_next = all_threads;
    all_threads = t;
    t->state = THREAD_RUNNABLE;
    t->runnable_since_ns = time_now_ns();
    rq_push(t, false);
    irq_restore(irq);
    return t;
}

void thread_exit(void)
{
    cpu_cli();
    struct thread *t = thread_current();
    for (struct thread **pp = &all_threads; *pp; pp = &(*pp)->all_next) {
        if (*pp == t) {
            *pp = t->all_next;
            break;
        }
    }
    t->state = THREAD_DEAD;
    dead_thread = t;
    switch_away();
    panic_stop("dead thread %s was scheduled", t->name);
}

void sched_start(void)
{
    struct percpu *cpu = this_cpu();
    tv_strlcpy(boot_thread.name, "idle", sizeof boot_thread.name);
    boot_thread.cls = CLASS_IDLE;
    boot_thread.state = THREAD_RUNNING;
    boot_thread.slice_start_ns = time_now_ns();
    cpu->current = &boot_thread;
    cpu->idle = &boot_thread;
    timer_init(&slice_timer, slice_expired, 0);
    /* Waiting starts now: threads created during start-up were not yet
     * waiting for a CPU that scheduled anything. */
    uint64_t now = time_now_ns();
    for (struct thread *t = all_threads; t; t = t->all_next)
        if (t->state == THREAD_RUNNABLE)
            t->runnable_since_ns = now;
    cpu->need_resched = true;
    for (;;) {
        cpu_cli();
        if (cpu->need_resched || rq_head[CLASS_VCPU] || rq_head[CLASS_TASK]) {
            switch_away();
            cpu_sti();
            continue;
        }
        /* A timer vector stranded in IRR (timer.c's watchdog) would keep
         * this halt going for good: let it in first. */
        if (timer_watchdog_idle())
            continue;
        /* sti;hlt is atomic with respect to interrupts (STI shadow). */
        __asm__ volatile("sti; hlt" ::: "memory");
    }
}
