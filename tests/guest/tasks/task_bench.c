/* Task numbers for `make bench` (guest time under -icount, so they repeat):
 * TASK_QUERY round trip beside GET_VERSION and NOP; the guest's loop
 * throughput and its longest stall (start-up of the tasks included) while two
 * CPU-bound tasks run, against the same loop alone, with the tasks' own
 * progress over the window; cancel latency as a distribution over cancels
 * landing at different points of a job's unit (its checkpoint interval).
 * Command line: task_share=N (the monitor's option, for the bounds; default
 * 50), mode=roundtrips (only the round trips: the Bochs bench), cancels=1
 * (the cancel distribution: `make bench`).
 * The monitor also checks its own bound (assert_vcpu_wait_us). */
#include "guest_transport.h"
#include "tv_string.h"

static struct tv_client client;

static uint64_t per_call(uint32_t code, uint64_t a0, uint64_t a1, uint64_t a2, unsigned n)
{
    struct tv_hc_out o;
    uint64_t t0 = rdtsc();
    for (unsigned i = 0; i < n; i++)
        tv_hypercall(code, a0, a1, a2, 0, 0, &o);
    return (rdtsc() - t0) / n;
}

/* Spins for `cycles` of TSC, counting loop iterations and the longest gap
 * between two consecutive TSC reads (time the vCPU did not run). */
static void loop_for(uint64_t cycles, uint64_t *iters, uint64_t *max_gap)
{
    uint64_t t0 = rdtsc(), last = t0, n = 0, gap = 0;
    for (;;) {
        uint64_t now = rdtsc();
        if (now - last > gap)
            gap = now - last;
        last = now;
        n++;
        if (now - t0 >= cycles)
            break;
    }
    *iters = n;
    *max_gap = gap;
}

static bool start_busy(struct tv_task *t, uint64_t units, uint64_t unit_ns)
{
    struct tv_task_test_spec spec;
    tv_memset(&spec, 0, sizeof spec);
    spec.total_units = units;
    spec.unit_ns = unit_ns;
    spec.flags = TV_TASK_TEST_BUSY;
    tv_strlcpy(spec.description, "CPU-bound test job", sizeof spec.description);
    return tv_test_task_start(&client, &spec, t) == TV_OK;
}

static uint64_t cmd_u64(const char *key, uint64_t dflt)
{
    char num[24];
    uint64_t v;
    if (guest_cmdline_value(key, num, sizeof num) && guest_parse_u64(num, &v))
        return v;
    return dflt;
}

static uint64_t units_done(struct tv_task t)
{
    struct tv_task_info info;
    return tv_task_query(t, &info) == TV_OK ? info.done : 0;
}

static void sort_u64(uint64_t *a, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && a[j - 1] > a[j]; j--) {
            uint64_t x = a[j];
            a[j] = a[j - 1];
            a[j - 1] = x;
        }
}

static void spin_cycles(uint64_t c)
{
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < c)
        __asm__ volatile("pause");
}

#define CANCELS 16
#define CANCEL_UNIT_US 2000 /* the job's checkpoint interval */

/* Cancels CANCELS CPU-bound jobs, the i-th i/CANCELS of the way into a unit
 * (after a unit boundary the guest saw), and measures from the cancel
 * hypercall to the task's state change (the monitor's finished_ns against
 * its clock at the call) and to the waiter's return (guest TSC). */
static void cancel_distribution(uint64_t khz, uint64_t wait_slice_us)
{
    uint64_t to_state[CANCELS], to_wait[CANCELS];
    unsigned ok = 0;
    for (unsigned i = 0; i < CANCELS; i++) {
        struct tv_task t;
        if (!start_busy(&t, 100000, CANCEL_UNIT_US * 1000ull))
            break;
        uint64_t d0 = units_done(t), guard = rdtsc();
        while (units_done(t) == d0 && rdtsc() - guard < 500 * khz)
            ;
        spin_cycles(i * CANCEL_UNIT_US * khz / 1000 / CANCELS);
        struct tv_task_info before, after;
        tv_task_query(t, &before);
        uint64_t tq = rdtsc();
        uint64_t t0 = rdtsc();
        tv_status_t st = tv_task_cancel(t);
        tv_status_t w = tv_task_wait_for_completion(t, -1);
        uint64_t t2 = rdtsc();
        tv_task_query(t, &after);
        uint64_t call_ns = before.snapshot_ns + (t0 - tq) * 1000000 / khz;
        if (st == TV_OK && w == TV_OK && after.state == TV_TASK_CANCELLED &&
            after.finished_ns >= call_ns) {
            to_state[ok] = (after.finished_ns - call_ns) / 1000;
            to_wait[ok] = (t2 - t0) * 1000 / khz;
            ok++;
        }
        tv_task_dismiss(t);
    }
    reportf(ok == CANCELS, "%u of %u cancels reached cancelled", ok, CANCELS);
    if (ok == 0)
        return;
    sort_u64(to_state, ok);
    sort_u64(to_wait, ok);
    guest_printf("BENCH cancel_to_state_us min=%llu median=%llu max=%llu n=%u unit_us=%u\n",
                 (unsigned long long)to_state[0], (unsigned long long)to_state[ok / 2],
                 (unsigned long long)to_state[ok - 1], ok, CANCEL_UNIT_US);
    guest_printf("BENCH cancel_to_waiter_us min=%llu median=%llu max=%llu n=%u wait_slice_us=%llu\n",
                 (unsigned long long)to_wait[0], (unsigned long long)to_wait[ok / 2],
                 (unsigned long long)to_wait[ok - 1], ok, (unsigned long long)wait_slice_us);
    /* docs/tasks.md: state change within one checkpoint interval plus one
     * scheduling period; the waiter within that plus one wait slice. */
    uint64_t tick_us = cpuid(0x40000010, 0).ecx;
    reportf(to_state[ok - 1] <= CANCEL_UNIT_US + tick_us,
            "cancel to cancelled at most %llu us <= checkpoint interval %u us + tick %llu us",
            (unsigned long long)to_state[ok - 1], CANCEL_UNIT_US, (unsigned long long)tick_us);
    reportf(to_wait[ok - 1] <= CANCEL_UNIT_US + tick_us + wait_slice_us,
            "cancel to the waiter's return at most %llu us <= that + wait slice %llu us",
            (unsigned long long)to_wait[ok - 1], (unsigned long long)wait_slice_us);
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    uint64_t khz = cpuid(0x40000010, 0).eax;
    uint64_t tick_us = cpuid(0x40000010, 0).ecx;
    uint64_t share = cmd_u64("task_share", 50);
    uint64_t wait_slice_us = cmd_u64("wait_slice_us", 1000);
    char mode[16] = "all";
    guest_cmdline_value("mode", mode, sizeof mode);
    report("client init", tv_client_init(&client, &guest_transport) == TV_OK);

    /* Round trips. */
    struct tv_task q;
    struct tv_task_test_spec spec;
    tv_memset(&spec, 0, sizeof spec);
    spec.total_units = 1;
    tv_strlcpy(spec.description, "query target", sizeof spec.description);
    report("start a task to query", tv_test_task_start(&client, &spec, &q) == TV_OK);
    tv_task_wait_for_completion(q, -1);
    uint64_t c_nop = per_call(TV_HC_NOP, 0, 0, 0, 2000);
    uint64_t c_ver = per_call(TV_HC_GET_VERSION, 0, 0, 0, 2000);
    uint64_t c_query = per_call(TV_HC_TASK_QUERY, q.id, client.scratch_gpa,
                                sizeof(struct tv_task_info), 2000);
    guest_printf("BENCH hypercall_nop cycles=%llu\n", (unsigned long long)c_nop);
    guest_printf("BENCH hypercall_get_version cycles=%llu\n", (unsigned long long)c_ver);
    guest_printf("BENCH task_query cycles=%llu\n", (unsigned long long)c_query);
    if (tv_strcmp(mode, "roundtrips") == 0) {
        guest_exit_summary();
        return 0;
    }

    /* Loop alone, then beside two CPU-bound tasks whose steps never yield
     * (each unit spins 5 ms: longer than a tick). */
    uint64_t window = 200 * khz; /* 200 ms */
    uint64_t alone, gap_alone, loaded, gap_start, gap_loaded;
    loop_for(window, &alone, &gap_alone);
    struct tv_task b1, b2;
    report("start CPU-bound task 1", start_busy(&b1, 100000, 5000000));
    report("start CPU-bound task 2", start_busy(&b2, 100000, 5000000));
    loop_for(window / 10, &loaded, &gap_start); /* the tasks start: counted in the stall */
    uint64_t d1 = units_done(b1), d2 = units_done(b2);
    loop_for(window, &loaded, &gap_loaded);
    uint64_t e1 = units_done(b1), e2 = units_done(b2);
    if (gap_start > gap_loaded)
        gap_loaded = gap_start;
    guest_printf("BENCH loop_alone iterations=%llu max_gap_us=%llu\n",
                 (unsigned long long)alone, (unsigned long long)(gap_alone * 1000 / khz));
    guest_printf("BENCH loop_with_tasks iterations=%llu max_gap_us=%llu\n",
                 (unsigned long long)loaded, (unsigned long long)(gap_loaded * 1000 / khz));
    guest_printf("BENCH task_progress units=%llu,%llu task_share=%llu\n",
                 (unsigned long long)(e1 - d1), (unsigned long long)(e2 - d2),
                 (unsigned long long)share);
    reportf(e1 > d1 && e2 > d2, "both CPU-bound tasks made progress in the window (%llu, %llu units)",
            (unsigned long long)(e1 - d1), (unsigned long long)(e2 - d2));
    /* A runnable vCPU waits at most max(tick, tick x share / (100 - share))
     * for the task class (docs/architecture.md), + 200 us of slack. */
    uint64_t bound_us = share < 100 ? tick_us * share / (100 - share) : ~0ull;
    if (bound_us < tick_us)
        bound_us = tick_us;
    reportf(gap_loaded * 1000 / khz <= bound_us + 200,
            "longest stall beside CPU-bound tasks, their start-up included, %llu us <= %llu us + 200 us",
            (unsigned long long)(gap_loaded * 1000 / khz), (unsigned long long)bound_us);
    tv_task_cancel(b1);
    tv_task_wait_for_completion(b1, -1);
    tv_task_cancel(b2);
    tv_task_wait_for_completion(b2, -1);
    tv_task_dismiss(b1);
    tv_task_dismiss(b2);

    if (cmd_u64("cancels", 0))
        cancel_distribution(khz, wait_slice_us);
    guest_exit_summary();
    return 0;
}
