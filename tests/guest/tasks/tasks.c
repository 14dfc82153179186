/* The control partition drives in-monitor tasks through libtaskvisor:
 * query, wait with and without timeout, pause, resume, cancel (before and
 * after the point of no return), dismiss, the event ring with its interrupt,
 * and its own timer interrupts keep coming during TASK_WAIT(-1). */
#include "guest_transport.h"
#include "tv_string.h"

#define EVENT_VECTOR 0x50
#define TIMER_VECTOR 0x51

static struct tv_client client;
static volatile uint64_t timer_ticks;

static void on_timer(struct trap_frame *f, void *ctx) { (void)f; (void)ctx; timer_ticks++; }
static void on_event(struct trap_frame *f, void *ctx) { (void)f; (void)ctx; }

static bool start(struct tv_task *t, const char *desc, uint64_t units, uint64_t unit_ns,
                  uint64_t no_return, uint32_t flags)
{
    struct tv_task_test_spec spec;
    tv_memset(&spec, 0, sizeof spec);
    spec.total_units = units;
    spec.unit_ns = unit_ns;
    spec.no_return_unit = no_return;
    spec.flags = flags;
    tv_strlcpy(spec.description, desc, sizeof spec.description);
    tv_status_t st = tv_test_task_start(&client, &spec, t);
    return reportf(st == TV_OK, "start '%s' (status %d, id %llu)", desc, st,
                   (unsigned long long)t->id);
}

static uint32_t state_of(struct tv_task t)
{
    struct tv_task_info info;
    if (tv_task_query(t, &info) != TV_OK)
        return 0xffffffffu;
    return info.state;
}

static void sleep_ms(uint64_t ms, uint64_t tsc_khz)
{
    uint64_t end = rdtsc() + ms * tsc_khz;
    while (rdtsc() < end)
        cpu_pause();
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    uint64_t tsc_khz = cpuid(0x40000010, 0).eax;
    uint32_t version;
    uint64_t features;
    tv_get_version(&version, &features);
    report("GET_VERSION reports the task feature", features & TV_FEAT_TASKS);
    report("client init", tv_client_init(&client, &guest_transport) == TV_OK);

    /* Events: ring page + interrupt vector. */
    apic_enable(false);
    guest_irq_register(EVENT_VECTOR, on_event, 0, true);
    cpu_sti();
    report("events register", tv_events_register(&client, EVENT_VECTOR) == TV_OK);

    /* A: 500 units of 2 ms (long enough for slow emulators, where every
     * console line costs milliseconds). Query, timeout, pause/resume, wait. */
    struct tv_task a;
    start(&a, "task A: counting", 500, 2000000, 0, 0);
    char desc[64];
    size_t len = 0;
    tv_task_description(a, desc, sizeof desc, &len);
    reportf(tv_strcmp(desc, "task A: counting") == 0 && len == 16, "description '%s' (%zu bytes)", desc, len);
    bool b = false;
    tv_task_is_cancelable(a, &b);
    report("A is cancelable", b);
    tv_task_is_complete(a, &b);
    report("A is not complete yet", !b);
    uint64_t t0 = rdtsc();
    tv_status_t st = tv_task_wait_for_completion(a, 20);
    uint64_t waited_ms = (rdtsc() - t0) / tsc_khz;
    reportf(st == TV_E_TIMEOUT && waited_ms >= 20, "wait 20 ms times out (status %d after %llu ms)",
            st, (unsigned long long)waited_ms);
    report("pause A", tv_task_pause(a) == TV_OK);
    sleep_ms(10, tsc_khz);
    int32_t p1 = -1, p2 = -1;
    tv_task_percent_completed(a, &p1);
    uint32_t s = state_of(a);
    sleep_ms(30, tsc_khz);
    tv_task_percent_completed(a, &p2);
    reportf(s == TV_TASK_PAUSED && p1 == p2, "paused: state %u, percent stays %d -> %d", s, p1, p2);
    report("pause of a paused task is INVALID_STATE", tv_task_pause(a) == TV_E_INVALID_STATE);
    report("resume A", tv_task_resume(a) == TV_OK);
    st = tv_task_wait_for_completion(a, -1);
    enum tv_task_result r = TV_TASK_RESULT_UNEXPECTED;
    tv_task_result(a, &r);
    int32_t pct = 0;
    tv_task_percent_completed(a, &pct);
    reportf(st == TV_OK && r == TV_TASK_RESULT_SUCCESS && pct == 100,
            "A completes: wait %d, result %d, percent %d", st, r, pct);

    /* Events seen for A: its states in order, ending with completed. */
    struct tv_task_event ev[64];
    size_t n = 0, total = 0;
    bool overflow = false, any_overflow = false;
    bool saw_running = false, saw_paused = false, saw_done = false;
    uint64_t last_seq = 0;
    bool seq_ok = true;
    do {
        n = 0;
        tv_events_read(&client, ev, 64, &n, &overflow);
        any_overflow |= overflow;
        total += n;
        for (size_t i = 0; i < n; i++) {
            if (ev[i].id != a.id)
                continue;
            seq_ok &= ev[i].seq > last_seq;
            last_seq = ev[i].seq;
            saw_running |= ev[i].state == TV_TASK_RUNNING;
            saw_paused |= ev[i].state == TV_TASK_PAUSED;
            saw_done |= ev[i].state == TV_TASK_COMPLETED && ev[i].percent == 100;
        }
    } while (n > 0);
    reportf(saw_running && saw_paused && saw_done && seq_ok && !any_overflow,
            "event ring: %zu events, running/paused/completed in sequence order, no overflow", total);
    reportf(guest_irq_count(EVENT_VECTOR) > 0, "event interrupts taken (%llu)",
            (unsigned long long)guest_irq_count(EVENT_VECTOR));

    /* B: long; cancel while running. */
    struct tv_task bt;
    start(&bt, "task B: to cancel", 100000, 1000000, 0, 0);
    sleep_ms(5, tsc_khz);
    uint64_t c0 = rdtsc();
    st = tv_task_cancel(bt);
    tv_status_t w = tv_task_wait_for_completion(bt, 5000);
    uint64_t cancel_us = (rdtsc() - c0) * 1000 / tsc_khz;
    tv_task_result(bt, &r);
    struct tv_task_info info;
    tv_task_query(bt, &info);
    reportf(st == TV_OK && w == TV_OK && r == TV_TASK_RESULT_CANCELLED &&
            info.state == TV_TASK_CANCELLED, "cancel B: %d, wait %d, result %d, state %u",
            st, w, r, info.state);
    reportf(info.outcome != 0, "B states its data outcome (%u)", info.outcome);
    report_info("cancel latency (hypercall to cancelled, guest time): %llu us",
                (unsigned long long)cancel_us);
    report("cancel of a finished task is INVALID_STATE", tv_task_cancel(bt) == TV_E_INVALID_STATE);

    /* C: passes its point of no return at unit 1, so cancel is refused and
     * it finishes. */
    struct tv_task c;
    start(&c, "task C: past no return", 300, 1000000, 1, 0);
    sleep_ms(10, tsc_khz);
    st = tv_task_cancel(c);
    tv_task_is_cancelable(c, &b);
    reportf(st == TV_E_NOT_CANCELABLE && !b, "cancel after the point of no return: %d", st);
    st = tv_task_wait_for_completion(c, -1);
    tv_task_result(c, &r);
    reportf(st == TV_OK && r == TV_TASK_RESULT_SUCCESS, "C completes anyway (result %d)", r);

    /* D: never cancelable. */
    struct tv_task d;
    start(&d, "task D: not cancelable", 200, 1000000, 0, TV_TASK_TEST_NOT_CANCELABLE);
    report("cancel of a never-cancelable task is NOT_CANCELABLE", tv_task_cancel(d) == TV_E_NOT_CANCELABLE);
    tv_task_wait_for_completion(d, -1);

    /* Timer interrupts keep coming during TASK_WAIT(-1). */
    struct tv_task e;
    start(&e, "task E: 200 ms", 100, 2000000, 0, 0);
    guest_irq_register(TIMER_VECTOR, on_timer, 0, true);
    apic_timer_periodic(TIMER_VECTOR, (uint32_t)(cpuid(0x40000010, 0).ebx)); /* 1 ms */
    uint64_t ticks0 = timer_ticks;
    st = tv_task_wait_for_completion(e, -1);
    uint64_t ticks = timer_ticks - ticks0;
    apic_timer_stop();
    reportf(st == TV_OK && ticks >= 100, "TASK_WAIT(-1) over 200 ms: %llu timer interrupts taken",
            (unsigned long long)ticks);

    /* Argument checks and dismiss. */
    report("timeout -2 is INVALID_ARGUMENT", tv_task_wait_for_completion(a, -2) == TV_E_INVALID_ARGUMENT);
    report("timeout 4000001 is INVALID_ARGUMENT",
           tv_task_wait_for_completion(a, 4000001) == TV_E_INVALID_ARGUMENT);
    report("timeout 0 on a finished task is OK", tv_task_wait_for_completion(a, 0) == TV_OK);
    report("dismiss A", tv_task_dismiss(a) == TV_OK);
    report("query after dismiss is NOT_FOUND", tv_task_query(a, &info) == TV_E_NOT_FOUND);
    report("query of id 999999 is NOT_FOUND",
           tv_task_query(tv_task_handle(&client, 999999), &info) == TV_E_NOT_FOUND);
    size_t count = 0;
    struct tv_task_event list[16];
    st = tv_task_list(&client, 0, 0, list, 16, &count);
    reportf(st == TV_OK && count == 4, "TASK_LIST sees B, C, D, E (%zu)", count);
    struct tv_hc_out o;
    report("TASK_QUERY with a buffer outside RAM is INVALID_ARGUMENT",
           tv_hypercall(TV_HC_TASK_QUERY, bt.id, 0x7fff0000000ull, 4096, 0, 0, &o) == TV_E_INVALID_ARGUMENT);
    guest_exit_summary();
    return 0;
}
