/* Scenario verdict: see verdict.h. */
#include "testing/verdict.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "kernel/power.h"
#include "kernel/sched.h"
#include "vm/exit.h"
#include "vm/partition.h"
#include "tv_fmt.h"
#include "tv_string.h"

enum expectation {
    EXPECT_EXIT_CODE = 0,   /* exits through the exit port with `code` */
    EXPECT_TRIPLE_FAULT,
    EXPECT_BAD_ACCESS,
    EXPECT_RUNNING,         /* still running when the others are done */
    EXPECT_ENTRY_FAILED,    /* refused by VM entry (the fault hooks) */
    EXPECT_EXCEPTION_LOOP,  /* still running, caught in an exception loop the
                               monitor intercepts: its exception exits keep
                               coming (the monitor keeps the CPU) */
    EXPECT_OFF,             /* a VM turned off at the end: never started
                               (autostart = no) or its last run ended by a
                               TurnOff, not by a fault */
};

struct expect {
    enum expectation kind;
    uint64_t code;
};

static struct expect expects[MAX_PARTITIONS];
static const char *run_options = "";
static uint32_t holds, held_passed, held_failed;
static bool summary_printed;

static tv_status_t parse_expectation(const struct partition *p, const char *options,
                                     struct expect *e)
{
    char key[48], val[32];
    tv_snprintf(key, sizeof key, "expect.%s", p->name);
    e->kind = EXPECT_EXIT_CODE;
    e->code = 0;
    if (!option_get(options, key, val, sizeof val))
        return TV_OK;
    if (tv_strncmp(val, "exit:", 5) == 0 && parse_u64(val + 5, &e->code))
        return TV_OK;
    if (tv_strcmp(val, "triple_fault") == 0)
        e->kind = EXPECT_TRIPLE_FAULT;
    else if (tv_strcmp(val, "bad_access") == 0)
        e->kind = EXPECT_BAD_ACCESS;
    else if (tv_strcmp(val, "entry_failed") == 0)
        e->kind = EXPECT_ENTRY_FAILED;
    else if (tv_strcmp(val, "running") == 0)
        e->kind = EXPECT_RUNNING;
    else if (tv_strcmp(val, "exception_loop") == 0)
        e->kind = EXPECT_EXCEPTION_LOOP;
    else if (tv_strcmp(val, "off") == 0)
        e->kind = EXPECT_OFF;
    else {
        log_err("scenario option %s=%s: not an expectation (exit:N, triple_fault, bad_access, "
                "entry_failed, running, exception_loop, off)", key, val);
        return TV_E_INVALID_ARGUMENT;
    }
    return TV_OK;
}

#define LOOP_SAMPLE_NS 20000000ull   /* 20 ms between the two exit counts */
#define LOOP_MIN_EXITS 100u          /* exception exits before the first count */

static bool judge(const struct partition *p, const struct expect *e, char *what, size_t len)
{
    switch (e->kind) {
    case EXPECT_EXCEPTION_LOOP: {
        /* Still running, and still taking intercepted exceptions: two
         * counts LOOP_SAMPLE_NS apart (this thread sleeps, so the looping
         * vCPU gets the CPU in between). */
        uint64_t c1 = p->vcpu.exit_counts[EXIT_EXCEPTION];
        thread_sleep_ns(LOOP_SAMPLE_NS);
        uint64_t c2 = p->vcpu.exit_counts[EXIT_EXCEPTION];
        tv_snprintf(what, len, "exception loop (%llu, +%llu exits)", (unsigned long long)c1,
                    (unsigned long long)(c2 - c1));
        return p->state == PART_RUNNING && c1 >= LOOP_MIN_EXITS && c2 > c1;
    }
    case EXPECT_TRIPLE_FAULT:
        tv_strlcpy(what, "triple fault", len);
        return p->state == PART_STOPPED && p->stop_reason == STOP_TRIPLE_FAULT;
    case EXPECT_BAD_ACCESS:
        tv_strlcpy(what, "access outside its memory", len);
        return p->state == PART_STOPPED && p->stop_reason == STOP_BAD_ACCESS;
    case EXPECT_ENTRY_FAILED:
        tv_strlcpy(what, "VM entry failure", len);
        return p->state == PART_STOPPED && p->stop_reason == STOP_ENTRY_FAILED;
    case EXPECT_RUNNING:
        tv_strlcpy(what, "still running", len);
        return p->state == PART_RUNNING;
    case EXPECT_OFF:
        tv_strlcpy(what, "turned off", len);
        return p->state != PART_RUNNING &&
               (p->stop_reason == STOP_NONE || p->stop_reason == STOP_REQUESTED);
    default:
        tv_snprintf(what, len, "exit code %llu", (unsigned long long)e->code);
        return p->state == PART_STOPPED && p->stop_reason == STOP_EXIT_PORT &&
               p->stop_code == e->code;
    }
}

static void print_summary(void)
{
    bool irq = irq_save();
    bool again = summary_printed;
    summary_printed = true;
    irq_restore(irq);
    if (again)
        return;
    uint32_t passed = 0, failed = 0;
    for (uint32_t i = 0; i < partition_count; i++) {
        struct partition *p = partitions[i];
        char what[64];
        bool ok = judge(p, &expects[p->id], what, sizeof what);
        const struct vcpu *v = &p->vcpu;
        log_info("partition %s: %s (%s, code %#llx), expected %s: %s", p->name,
                 partition_state_name(p->state), stop_reason_name(p->stop_reason),
                 (unsigned long long)p->stop_code, what, ok ? "PASS" : "FAIL");
        log_info("partition %s exits: cpuid %llu msr %llu/%llu io %llu hlt %llu hypercall %llu "
                 "npf %llu intr %llu window %llu", p->name,
                 (unsigned long long)v->exit_counts[EXIT_CPUID],
                 (unsigned long long)v->exit_counts[EXIT_MSR_READ],
                 (unsigned long long)v->exit_counts[EXIT_MSR_WRITE],
                 (unsigned long long)v->exit_counts[EXIT_IO],
                 (unsigned long long)v->exit_counts[EXIT_HLT],
                 (unsigned long long)v->exit_counts[EXIT_HYPERCALL],
                 (unsigned long long)v->exit_counts[EXIT_NESTED_PAGE_FAULT],
                 (unsigned long long)v->exit_counts[EXIT_EXTERNAL_INTERRUPT],
                 (unsigned long long)v->exit_counts[EXIT_INTERRUPT_WINDOW]);
        if (ok) passed++; else failed++;
    }
    log_info("scheduler: worst vCPU wait %llu us (tick %llu us, task share %u%%)",
             (unsigned long long)(sched_max_vcpu_wait_ns() / 1000),
             (unsigned long long)(sched_get_config()->tick_ns / 1000),
             sched_get_config()->task_share_pct);
    /* A scenario may bound the worst scheduling delay of a runnable vCPU. */
    uint64_t bound_us = option_get_u64(run_options, "assert_vcpu_wait_us", 0);
    if (bound_us) {
        bool ok = sched_max_vcpu_wait_ns() <= bound_us * 1000ull;
        log_info("worst vCPU wait %llu us, bound %llu us: %s",
                 (unsigned long long)(sched_max_vcpu_wait_ns() / 1000),
                 (unsigned long long)bound_us, ok ? "PASS" : "FAIL");
        if (ok) passed++; else failed++;
    }
    passed += held_passed;
    failed += held_failed;
    /* The machine goes off as after POWER_OFF: services clean up first
     * (the image store's clean unmount, which scenarios check on the host). */
    power_run_shutdown_hooks();
    log_info("TASKVISOR SUMMARY: %u passed, %u failed", passed, failed);
    monitor_exit(failed ? MON_EXIT_FAIL : MON_EXIT_PASS);
}

/* No partition runs, except those expected to keep running (a VM that was
 * never started, autostart = no, counts as done).  Called with interrupts
 * off, so partition states cannot change under it. */
static bool all_done(void)
{
    if (holds)
        return false;
    for (uint32_t i = 0; i < partition_count; i++) {
        const struct partition *p = partitions[i];
        if (p->state == PART_RUNNING && expects[p->id].kind != EXPECT_RUNNING &&
            expects[p->id].kind != EXPECT_EXCEPTION_LOOP)
            return false;
    }
    return true;
}

static void on_stop(struct partition *p)
{
    (void)p;
    bool irq = irq_save();
    bool done = all_done();
    irq_restore(irq);
    if (done)
        print_summary();
}

void verdict_hold(void)
{
    bool irq = irq_save();
    holds++;
    irq_restore(irq);
}

void verdict_release(uint32_t passed, uint32_t failed)
{
    bool irq = irq_save();
    held_passed += passed;
    held_failed += failed;
    if (holds)
        holds--;
    bool done = all_done();
    irq_restore(irq);
    if (done)
        print_summary();
}

tv_status_t verdict_start(const char *options)
{
    run_options = options;
    for (uint32_t i = 0; i < partition_count; i++) {
        tv_status_t st = parse_expectation(partitions[i], options, &expects[partitions[i]->id]);
        if (st != TV_OK)
            return st;
    }
    return partition_add_stop_listener(on_stop);
}
