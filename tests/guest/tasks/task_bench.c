/* Task numbers for `make bench` (guest time under -icount, so they repeat):
 * TASK_QUERY round trip beside GET_VERSION and NOP; cancel latency (from the
 * hypercall to the task reaching cancelled); the guest's loop throughput and
 * its longest stall while CPU-bound tasks run, against the same loop alone.
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

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    uint64_t khz = cpuid(0x40000010, 0).eax;
    uint64_t tick_us = cpuid(0x40000010, 0).ecx;
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

    /* Loop alone, then beside two CPU-bound tasks whose steps never yield
     * (each unit spins 5 ms: longer than a tick). */
    uint64_t window = 200 * khz; /* 200 ms */
    uint64_t alone, gap_alone, loaded, gap_loaded;
    loop_for(window, &alone, &gap_alone);
    struct tv_task b1, b2;
    report("start CPU-bound task 1", start_busy(&b1, 100000, 5000000));
    report("start CPU-bound task 2", start_busy(&b2, 100000, 5000000));
    loop_for(window / 10, &loaded, &gap_loaded); /* let them start */
    loop_for(window, &loaded, &gap_loaded);
    guest_printf("BENCH loop_alone iterations=%llu max_gap_us=%llu\n",
                 (unsigned long long)alone, (unsigned long long)(gap_alone * 1000 / khz));
    guest_printf("BENCH loop_with_tasks iterations=%llu max_gap_us=%llu\n",
                 (unsigned long long)loaded, (unsigned long long)(gap_loaded * 1000 / khz));
    reportf(gap_loaded * 1000 / khz <= tick_us + 200,
            "longest stall beside CPU-bound tasks %llu us <= one tick (%llu us) + 200 us",
            (unsigned long long)(gap_loaded * 1000 / khz), (unsigned long long)tick_us);

    /* Cancel latency of a running CPU-bound task. */
    uint64_t t0 = rdtsc();
    tv_status_t st = tv_task_cancel(b1);
    tv_status_t w = tv_task_wait_for_completion(b1, -1);
    uint64_t cancel_us = (rdtsc() - t0) * 1000 / khz;
    reportf(st == TV_OK && w == TV_OK, "cancel CPU-bound task 1 (%d, %d)", st, w);
    guest_printf("BENCH cancel_latency_us value=%llu\n", (unsigned long long)cancel_us);
    tv_task_cancel(b2);
    tv_task_wait_for_completion(b2, -1);
    guest_exit_summary();
    return 0;
}
