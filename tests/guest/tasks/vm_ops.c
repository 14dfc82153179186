/* The control partition runs a VM's life through libtaskvisor: the VM list,
 * every refusal before a task exists (unknown VM, not running, running,
 * control partition, busy), Startup cancelled (the VM stays turned off),
 * Startup with its progress in bytes, the VM's heartbeat (its exit count
 * advances), Pause (the count stops) and Resume, Reset (a fresh boot: one
 * more start, the count starts over), TurnOff (never cancelable), and the
 * VM state events on the task event ring. */
#include "guest_transport.h"
#include "partition_list.h"
#include "tv_string.h"

#define EVENT_VECTOR 0x50

static struct tv_client client;
static uint64_t tsc_khz;

static void on_event(struct trap_frame *f, void *ctx) { (void)f; (void)ctx; }

static void sleep_ms(uint64_t ms)
{
    uint64_t end = rdtsc() + ms * tsc_khz;
    while (rdtsc() < end)
        cpu_pause();
}

static struct tv_vm_info query(uint32_t id)
{
    struct tv_vm_info r;
    tv_memset(&r, 0, sizeof r);
    if (tv_vm_query(&client, id, &r) != TV_OK)
        r.state = 0;
    return r;
}

/* Runs one operation to its end; returns the task's result (or 0xff when it
 * could not be started or waited for). */
static uint32_t run_op(tv_status_t (*op)(struct tv_client *, uint32_t, struct tv_task *),
                       uint32_t id, struct tv_task_info *info)
{
    struct tv_task t;
    tv_status_t st = op(&client, id, &t);
    if (st != TV_OK) {
        report_info("operation refused: %d", st);
        return 0xff;
    }
    if (tv_task_wait_for_completion(t, 60000) != TV_OK)
        return 0xff;
    tv_task_query(t, info);
    tv_task_dismiss(t);
    return info->result;
}

/* The heartbeat VM's state as PARTITION_LIST shows it. */
static uint32_t partition_state(uint32_t id)
{
    static struct tv_partition_record parts[GUEST_MAX_PARTITIONS];
    uint32_t n = 0;
    if (guest_partition_list(parts, GUEST_MAX_PARTITIONS, &n) != TV_OK || id >= n)
        return 0xff;
    return parts[id].state;
}

static void check(tv_status_t got, tv_status_t want, const char *what)
{
    reportf(got == want, "%s: %d", what, got);
}

static size_t task_count(void)
{
    struct tv_task_event ev[32];
    size_t n = 0;
    tv_task_list(&client, 0, 0, ev, 32, &n);
    return n;
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    tsc_khz = cpuid(TV_CPUID_LEAF_TIMING, 0).eax;
    uint32_t version;
    uint64_t features;
    tv_get_version(&version, &features);
    report("GET_VERSION reports the VM feature", features & TV_FEAT_VMS);
    report("client init", tv_client_init(&client, &guest_transport) == TV_OK);
    apic_enable(false);
    guest_irq_register(EVENT_VECTOR, on_event, 0, true);
    cpu_sti();
    report("events register (task and VM events)",
           tv_events_register_flags(&client, EVENT_VECTOR, TV_TASK_EVENTS_F_VM) == TV_OK);

    /* The list: this partition and a VM defined with autostart = no. */
    struct tv_vm_info vms[8];
    size_t n = 0;
    tv_status_t st = tv_vm_list(&client, vms, 8, &n);
    reportf(st == TV_OK && n == 2, "VM_LIST: %d, %zu VMs", st, n);
    uint32_t hb = 0, self = 0;
    st = tv_vm_find(&client, "heartbeat", &hb);
    reportf(st == TV_OK && hb == 1, "find heartbeat: %d, id %u", st, hb);
    st = tv_vm_find(&client, "vmctl", &self);
    reportf(st == TV_OK && self == 0, "find vmctl: %d, id %u", st, self);
    check(tv_vm_find(&client, "nosuch", &hb), TV_E_NOT_FOUND, "find an unknown name");
    tv_vm_find(&client, "heartbeat", &hb);
    struct tv_vm_info r = query(hb);
    reportf(r.state == TV_VM_TURNED_OFF && !(r.flags & TV_VM_F_AUTOSTART) &&
            r.start_count == 0 && r.memory_bytes == (64u << 20) && r.image_bytes > 0,
            "heartbeat is defined, turned off: state %u flags %#x memory %llu image %llu",
            r.state, r.flags, (unsigned long long)r.memory_bytes,
            (unsigned long long)r.image_bytes);
    r = query(self);
    reportf(r.state == TV_VM_RUNNING &&
            (r.flags & (TV_VM_F_CONTROL | TV_VM_F_SELF | TV_VM_F_AUTOSTART)) ==
            (TV_VM_F_CONTROL | TV_VM_F_SELF | TV_VM_F_AUTOSTART),
            "vmctl is running, control, self: state %u flags %#x", r.state, r.flags);

    /* Refusals: each answered by the call, no task created. */
    size_t tasks0 = task_count();
    struct tv_task t;
    check(tv_vm_turn_off(&client, hb, &t), TV_E_VM_NOT_RUNNING, "turn off of an off VM");
    check(tv_vm_reset(&client, hb, &t), TV_E_VM_NOT_RUNNING, "reset of an off VM");
    check(tv_vm_pause(&client, hb, &t), TV_E_VM_NOT_RUNNING, "pause of an off VM");
    check(tv_vm_resume(&client, hb, &t), TV_E_VM_NOT_RUNNING, "resume of an off VM");
    check(tv_vm_startup(&client, 77, &t), TV_E_NOT_FOUND, "startup of an unknown VM");
    check(tv_vm_turn_off(&client, self, &t), TV_E_CONTROL_PARTITION, "turn off of the control partition");
    check(tv_vm_reset(&client, self, &t), TV_E_CONTROL_PARTITION, "reset of the control partition");
    check(tv_vm_pause(&client, self, &t), TV_E_CONTROL_PARTITION, "pause of the control partition");
    check(tv_vm_startup(&client, self, &t), TV_E_VM_RUNNING, "startup of the running control partition");
    reportf(task_count() == tasks0, "no task exists after the refusals (%zu, %zu before)", task_count(), tasks0);

    /* Startup cancelled at once: nothing of the run is left. */
    st = tv_vm_startup(&client, hb, &t);
    tv_status_t busy = TV_OK;
    struct tv_task t2;
    if (st == TV_OK)
        busy = tv_vm_startup(&client, hb, &t2);
    tv_status_t c = st == TV_OK ? tv_task_cancel(t) : st;
    tv_task_wait_for_completion(t, 60000);
    struct tv_task_info info;
    tv_task_query(t, &info);
    tv_task_dismiss(t);
    r = query(hb);
    /* BUSY while the first is queued (claimed), VM_RUNNING once it turns on */
    /* Cancelled while queued, it never touched the VM; once its driver ran,
     * the VM went turning on -> turned off. */
    bool cancelled_ran = (info.flags & TV_TASK_FLAG_STARTED) != 0;
    reportf(busy == TV_E_BUSY || busy == TV_E_VM_RUNNING,
            "a second Startup while the first works: %d", busy);
    reportf(st == TV_OK && c == TV_OK && info.result == TV_TASK_RESULT_CANCELLED &&
            r.state == TV_VM_TURNED_OFF && r.start_count == 0,
            "startup cancelled: start %d cancel %d result %u, VM state %u, starts %llu", st, c,
            info.result, r.state, (unsigned long long)r.start_count);

    /* Startup. */
    uint32_t res = run_op(tv_vm_startup, hb, &info);
    r = query(hb);
    reportf(res == TV_TASK_RESULT_SUCCESS && r.state == TV_VM_RUNNING && r.start_count == 1,
            "startup: result %u, state %u, starts %llu", res, r.state,
            (unsigned long long)r.start_count);
    reportf(info.total == r.memory_bytes + r.image_bytes && info.done == info.total &&
            info.percent == 100 && info.target.kind == TV_TASK_TARGET_VM && info.target.id == hb,
            "startup progress in bytes: %llu of %llu (RAM %llu + image %llu)",
            (unsigned long long)info.done, (unsigned long long)info.total,
            (unsigned long long)r.memory_bytes, (unsigned long long)r.image_bytes);
    uint64_t e0 = query(hb).exit_count;
    sleep_ms(200);
    uint64_t e1 = query(hb).exit_count;
    reportf(e1 > e0, "heartbeat: %llu exits, then %llu", (unsigned long long)e0,
            (unsigned long long)e1);
    check(tv_vm_startup(&client, hb, &t), TV_E_VM_RUNNING, "startup of a running VM");
    check(tv_vm_resume(&client, hb, &t), TV_E_INVALID_STATE, "resume of a running VM");

    /* Pause and Resume. */
    res = run_op(tv_vm_pause, hb, &info);
    r = query(hb);
    e0 = r.exit_count;
    sleep_ms(200);
    e1 = query(hb).exit_count;
    reportf(res == TV_TASK_RESULT_SUCCESS && r.state == TV_VM_PAUSED && e1 == e0,
            "paused: result %u, state %u, exits %llu then %llu", res, r.state,
            (unsigned long long)e0, (unsigned long long)e1);
    check(tv_vm_pause(&client, hb, &t), TV_E_INVALID_STATE, "pause of a paused VM");
    reportf(partition_state(hb) == TV_PARTITION_PAUSED, "PARTITION_LIST shows it paused: %u",
            partition_state(hb));
    res = run_op(tv_vm_resume, hb, &info);
    sleep_ms(200);
    r = query(hb);
    reportf(res == TV_TASK_RESULT_SUCCESS && r.state == TV_VM_RUNNING && r.exit_count > e1,
            "resumed: result %u, state %u, exits %llu", res, r.state,
            (unsigned long long)r.exit_count);

    /* Reset: a fresh boot (a new run: one more start, its exits from 0). */
    uint64_t before = r.exit_count;
    res = run_op(tv_vm_reset, hb, &info);
    r = query(hb);
    reportf(res == TV_TASK_RESULT_SUCCESS && r.state == TV_VM_RUNNING && r.start_count == 2 &&
            r.exit_count < before, "reset: result %u, state %u, starts %llu, exits %llu (were %llu)",
            res, r.state, (unsigned long long)r.start_count, (unsigned long long)r.exit_count,
            (unsigned long long)before);
    sleep_ms(100);

    /* TurnOff: not cancelable. */
    st = tv_vm_turn_off(&client, hb, &t);
    bool cancelable = true;
    tv_task_is_cancelable(t, &cancelable);
    c = tv_task_cancel(t);
    bool done_before = false;
    tv_task_is_complete(t, &done_before);
    tv_task_wait_for_completion(t, 60000);
    tv_task_query(t, &info);
    tv_task_dismiss(t);
    r = query(hb);
    /* NOT_CANCELABLE; or INVALID_STATE when it had already finished (it is quick) */
    reportf(st == TV_OK && !cancelable &&
            (c == TV_E_NOT_CANCELABLE || (c == TV_E_INVALID_STATE && done_before)) &&
            info.result == TV_TASK_RESULT_SUCCESS && r.state == TV_VM_TURNED_OFF &&
            r.stop_reason == TV_VM_STOP_TURNED_OFF && info.done == r.memory_bytes,
            "turn off: %d, cancelable %d, cancel %d, result %u, state %u, stop %u, %llu bytes freed",
            st, cancelable, c, info.result, r.state, r.stop_reason, (unsigned long long)info.done);
    check(tv_vm_turn_off(&client, hb, &t), TV_E_VM_NOT_RUNNING, "turn off again");
    reportf(partition_state(hb) == TV_PARTITION_STOPPED,
            "PARTITION_LIST shows it stopped, not crashed: %u", partition_state(hb));

    /* The VM's state changes were on the event ring, in order. */
    static const uint32_t want[] = {
        TV_VM_TURNING_ON, TV_VM_TURNED_OFF,                    /* cancelled startup */
        TV_VM_TURNING_ON, TV_VM_RUNNING, TV_VM_PAUSED, TV_VM_RUNNING,
        TV_VM_TURNING_OFF, TV_VM_TURNED_OFF, TV_VM_TURNING_ON, TV_VM_RUNNING, /* reset */
        TV_VM_TURNING_OFF, TV_VM_TURNED_OFF,
    };
    unsigned first = cancelled_ran ? 0 : 2;
    unsigned matched = first, vm_events = 0, task_events = 0;
    struct tv_task_event ev[64];
    bool overflow = false;
    size_t got = 0;
    while (tv_events_read(&client, ev, 64, &got, &overflow) == TV_OK && got) {
        for (size_t i = 0; i < got; i++) {
            if (TV_EVENT_KIND(ev[i].state) != TV_EVENT_KIND_VM) {
                task_events++;
                continue;
            }
            vm_events++;
            if (ev[i].id == hb && matched < sizeof want / sizeof want[0] &&
                TV_EVENT_STATE(ev[i].state) == want[matched])
                matched++;
        }
    }
    reportf(!overflow && matched == sizeof want / sizeof want[0] && task_events > 0 &&
            vm_events == sizeof want / sizeof want[0] - first,
            "events: %u VM events, the %u state changes in order (%u of them; the cancelled "
            "Startup %s), %u task events", vm_events,
            (unsigned)(sizeof want / sizeof want[0] - first), matched - first,
            cancelled_ran ? "had started" : "never ran", task_events);
    tv_client_fini(&client);
    guest_exit_summary();
    return 0;
}
