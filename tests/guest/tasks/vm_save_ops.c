/* The control partition saves and restores the savevm guest through
 * libtaskvisor (tests/integration/scenarios/vm_save.cfg): the refusals
 * (save of a VM that is off, of the control partition, of a saved VM), a
 * Save cancelled at once (the VM keeps running, no saved state), a Save
 * with its progress in bytes of memory (the VM then SAVED, its resources
 * gone), a Startup that restores it (RESTORING, then running on from where
 * it was: the guest checks its memory, registers and counter and says so
 * in its log), and a second Save whose file the test build damages
 * (save_test_corrupt=2): its Startup fails with INCOMPATIBLE_SAVED_STATE
 * and the VM stays SAVED. */
#include "guest_transport.h"
#include "tv_string.h"

static struct tv_client client;
static uint64_t tsc_khz;

#define SLEEP_VECTOR 0x41
static volatile bool woke;

static void on_sleep_timer(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
    woke = true;
}

/* Sleeps halted on a one-shot vAPIC timer (100 MHz clock), so the VM under
 * test gets the CPU meanwhile: a spinning control partition leaves it
 * little on Bochs. */
static void sleep_ms(uint64_t ms)
{
    while (ms) {
        uint64_t step = ms > 10000 ? 10000 : ms;
        woke = false;
        apic_timer_oneshot(SLEEP_VECTOR, (uint32_t)(step * 100000u));
        while (!woke)
            cpu_sti_hlt();
        ms -= step;
    }
}

static struct tv_vm_info query(uint32_t id)
{
    struct tv_vm_info r;
    tv_memset(&r, 0, sizeof r);
    if (tv_vm_query(&client, id, &r) != TV_OK)
        r.state = 0;
    return r;
}

static uint32_t run_op(tv_status_t (*op)(struct tv_client *, uint32_t, struct tv_task *),
                       uint32_t id, struct tv_task_info *info)
{
    struct tv_task t;
    tv_memset(info, 0, sizeof *info);
    tv_status_t st = op(&client, id, &t);
    if (st != TV_OK) {
        report_info("operation refused: %d", st);
        return 0xff;
    }
    if (tv_task_wait_for_completion(t, 120000) != TV_OK)
        return 0xff;
    tv_task_query(t, info);
    tv_task_dismiss(t);
    return info->result;
}

/* Waits (at most timeout_ms) until the VM's current run made `exits` VM
 * exits.  A vCPU in its guest exits at least for every host timer tick, so
 * a count that grows says the vCPU runs (a held one makes none). */
static bool wait_exits(uint32_t id, uint64_t exits, uint64_t timeout_ms)
{
    uint64_t end = rdtsc() + timeout_ms * tsc_khz;
    while (rdtsc() < end) {
        struct tv_vm_info r = query(id);
        if (r.state == TV_VM_RUNNING && r.exit_count >= exits)
            return true;
        sleep_ms(50);
    }
    return false;
}

static void check(tv_status_t got, tv_status_t want, const char *what)
{
    reportf(got == want, "%s: %d", what, got);
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    tsc_khz = cpuid(TV_CPUID_LEAF_TIMING, 0).eax;
    report("client init", tv_client_init(&client, &guest_transport) == TV_OK);
    report("local APIC and its timer for sleeping",
           apic_enable(true) != APIC_NONE && guest_irq_register(SLEEP_VECTOR, on_sleep_timer, 0, true));
    cpu_sti();
    uint32_t vm = 0, self = 0;
    report("find savevm", tv_vm_find(&client, "savevm", &vm) == TV_OK);
    report("find the control partition", tv_vm_find(&client, "savectl", &self) == TV_OK);
    struct tv_task t;
    struct tv_task_info info;

    /* Refusals before any task exists. */
    check(tv_vm_save(&client, vm, &t), TV_E_VM_NOT_RUNNING, "save of a VM that is off");
    check(tv_vm_save(&client, self, &t), TV_E_CONTROL_PARTITION, "save of the control partition");
    check(tv_vm_save(&client, 77, &t), TV_E_NOT_FOUND, "save of an unknown VM");

    uint32_t res = run_op(tv_vm_startup, vm, &info);
    reportf(res == TV_TASK_RESULT_SUCCESS && query(vm).state == TV_VM_RUNNING,
            "startup: result %u, state %u", res, query(vm).state);
    /* Some rounds (savevm prints them): seconds of TSC time, enough on
     * Bochs too (some 4 million instructions a second). */
    sleep_ms(8000);

    /* A Save cancelled at once: the VM runs on, nothing was saved. */
    tv_status_t st = tv_vm_save(&client, vm, &t);
    tv_status_t c = st == TV_OK ? tv_task_cancel(t) : st;
    if (st == TV_OK) {
        tv_task_wait_for_completion(t, 60000);
        tv_task_query(t, &info);
        tv_task_dismiss(t);
    }
    uint64_t e0 = query(vm).exit_count;
    bool runs = wait_exits(vm, e0 + 1, 20000);
    struct tv_vm_info r = query(vm);
    reportf(st == TV_OK && c == TV_OK && info.result == TV_TASK_RESULT_CANCELLED &&
            r.state == TV_VM_RUNNING && runs,
            "save cancelled: start %d cancel %d result %u, state %u, exits %llu then %llu", st, c,
            info.result, r.state, (unsigned long long)e0, (unsigned long long)r.exit_count);

    /* The Save. */
    uint64_t starts = r.start_count;
    res = run_op(tv_vm_save, vm, &info);
    r = query(vm);
    reportf(res == TV_TASK_RESULT_SUCCESS && r.state == TV_VM_SAVED,
            "save: result %u (error %d), state %u", res, info.error, r.state);
    reportf(info.total > 0 && info.done == info.total && info.total % (2u << 20) == 0 &&
            info.total <= r.memory_bytes && info.percent == 100,
            "save progress in bytes of memory: %llu of %llu (RAM %llu)",
            (unsigned long long)info.done, (unsigned long long)info.total,
            (unsigned long long)r.memory_bytes);
    check(tv_vm_save(&client, vm, &t), TV_E_VM_NOT_RUNNING, "save of a saved VM");
    check(tv_vm_turn_off(&client, vm, &t), TV_E_VM_NOT_RUNNING, "turn off of a saved VM");
    guest_printf("savectl: saved, waiting 4 s before the restore\n");
    sleep_ms(4000);

    /* Startup of the SAVED VM restores it. */
    res = run_op(tv_vm_startup, vm, &info);
    r = query(vm);
    reportf(res == TV_TASK_RESULT_SUCCESS && r.state == TV_VM_RUNNING,
            "restore: result %u (error %d), state %u", res, info.error, r.state);
    reportf(info.done == info.total && info.total > 0,
            "restore progress in bytes of memory: %llu of %llu", (unsigned long long)info.done,
            (unsigned long long)info.total);
    /* A restore is a Startup (start_count counts those); the guest shows
     * it is no new boot (its boot counter, the scenario's reject-log). */
    reportf(r.start_count == starts + 1, "a restore counts as a start: starts %llu (were %llu)",
            (unsigned long long)r.start_count, (unsigned long long)starts);
    guest_printf("savectl: restored\n");
    /* The restored run checks everything first (its "resumed" line), then
     * goes on with its rounds. */
    sleep_ms(15000);
    r = query(vm);
    reportf(r.state == TV_VM_RUNNING, "the restored VM still runs: state %u, stop %u", r.state,
            r.stop_reason);

    /* The second Save: the test build damages its file. */
    res = run_op(tv_vm_save, vm, &info);
    reportf(res == TV_TASK_RESULT_SUCCESS && query(vm).state == TV_VM_SAVED,
            "second save: result %u, state %u", res, query(vm).state);
    res = run_op(tv_vm_startup, vm, &info);
    r = query(vm);
    reportf(res == TV_TASK_RESULT_INCOMPATIBLE_SAVED_STATE &&
            info.error == TV_E_INCOMPATIBLE_SAVED_STATE && r.state == TV_VM_SAVED,
            "restore from a damaged file: result %u, error %d, state %u", res, info.error,
            r.state);
    guest_exit_summary();
}
