/* task_fill: fills the task table (TEST_TASK_START until LIMIT) and then
 * lists it over and over with the longest TASK_LIST the monitor allows (the
 * whole table in one call, all records and only the unfinished ones), with
 * TASK_QUERY of the newest record, until every other partition has stopped
 * or "rounds" rounds are done (a neighbour expected to keep running, e.g.
 * the spinner, never stops).
 *
 * Beside a timer-sensitive neighbour (apic_timer), this is the load that
 * used to keep interrupts off for a walk of the table per 16 entries
 * (issue 9: a 9.6 ms vCPU wait with 1,024 tasks); the scenario asserts the
 * monitor's worst vCPU wait (assert_vcpu_wait_us) and the neighbour checks
 * its own timer lateness.
 *
 * Command line: "tasks=N" the table size the monitor was given (task_max,
 * default 1024), "rounds=N" an upper bound on list rounds (default 100000). */
#include "guest.h"
#include "partition_list.h"
#include "taskvisor/task.h"

#define MAX_TASKS 4096

static struct tv_task_event events[MAX_TASKS];
static struct tv_partition_record parts[GUEST_MAX_PARTITIONS];

static uint64_t arg_u64(const char *key, uint64_t def)
{
    char num[24];
    uint64_t v;
    if (guest_cmdline_value(key, num, sizeof num) && guest_parse_u64(num, &v))
        return v;
    return def;
}

/* True while a partition other than this one is still running. */
static bool others_running(void)
{
    uint32_t n = 0;
    if (guest_partition_list(parts, GUEST_MAX_PARTITIONS, &n) != TV_OK)
        return false;
    for (uint32_t i = 0; i < n && i < GUEST_MAX_PARTITIONS; i++)
        if (!(parts[i].flags & TV_PARTITION_F_SELF) && parts[i].state == TV_PARTITION_RUNNING)
            return true;
    return false;
}

/* One TASK_LIST of the whole table; checks ascending ids and the count. */
static bool list_all(uint32_t flags, uint64_t want, uint64_t *got)
{
    struct tv_hc_out o = { 0, 0, 0 };
    tv_status_t st = tv_hypercall(TV_HC_TASK_LIST, 0, (uint64_t)(uintptr_t)events, want, flags,
                                  0, &o);
    *got = o.rdx;
    if (st != TV_OK || o.rdx != want)
        return false;
    for (uint64_t i = 1; i < o.rdx; i++)
        if (events[i].id <= events[i - 1].id)
            return false;
    return true;
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    uint64_t want = arg_u64("tasks", 1024), max_rounds = arg_u64("rounds", 100000);
    if (want > MAX_TASKS)
        want = MAX_TASKS;
    static struct tv_task_test_spec spec;
    spec.total_units = 3600;
    spec.unit_ns = 1000000000ull; /* an hour: never finishes during the run */
    uint64_t made = 0, last_id = 0;
    tv_status_t st = TV_OK;
    while (made < want + 1) {
        struct tv_hc_out o = { 0, 0, 0 };
        st = tv_hypercall(TV_HC_TEST_TASK_START, (uint64_t)(uintptr_t)&spec, sizeof spec, 0, 0, 0,
                          &o);
        if (st != TV_OK)
            break;
        last_id = o.rdx;
        made++;
    }
    reportf(made == want && st == TV_E_LIMIT, "table filled: %lu tasks, then %d (LIMIT %d)",
            (unsigned long)made, st, TV_E_LIMIT);

    uint64_t rounds = 0, got_all = 0, got_unfinished = 0;
    bool lists_ok = true, query_ok = true;
    uint64_t t0 = rdtsc();
    while (rounds < max_rounds && (rounds == 0 || others_running())) {
        lists_ok &= list_all(0, made, &got_all);
        lists_ok &= list_all(TV_TASK_LIST_UNFINISHED, made, &got_unfinished);
        static struct tv_task_info info;
        struct tv_hc_out o = { 0, 0, 0 };
        query_ok &= tv_hypercall(TV_HC_TASK_QUERY, last_id, (uint64_t)(uintptr_t)&info,
                                 sizeof info, 0, 0, &o) == TV_OK && info.id == last_id;
        rounds++;
    }
    uint64_t cycles = rdtsc() - t0;
    reportf(lists_ok, "%lu rounds of TASK_LIST of the whole table: %lu and %lu (unfinished) "
            "entries in ascending order", (unsigned long)rounds, (unsigned long)got_all,
            (unsigned long)got_unfinished);
    reportf(query_ok, "TASK_QUERY of the newest task (%lu) in every round",
            (unsigned long)last_id);
    report_info("%lu TSC cycles per round", (unsigned long)(rounds ? cycles / rounds : 0));
    guest_exit_summary();
    return 0;
}
