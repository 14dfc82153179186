/* The control partition drives the guest agent operations through
 * libtaskvisor against agentvm VMs that honour, refuse as locked, have no
 * session, never answer (mute) or run no agent: CanShutdown, every refusal
 * before a task exists, Logoff done / no session, Shutdown refused by a
 * locked guest, timed out with a mute one (in bounded time, forced too: no
 * fallback to TurnOff), SHUTDOWN_IN_PROGRESS and a cancel that leaves the
 * VM running, Restart (a fresh boot: one more start, the agent announced
 * again), forced Restart and Shutdown past a lock, Shutdown honoured (the VM
 * ends turned off), by an interrupt-driven agent, by a polling one and by a
 * guest that stops itself instead of answering; a guest already shutting
 * down (SHUTDOWN_IN_PROGRESS) and an agent that departs (AGENT_NOT_PRESENT). */
#include "guest_transport.h"
#include "tv_status.h"
#include "tv_string.h"

#define TIMEOUT_MS 2000u /* agent_timeout_ms in the scenario's options */

static struct tv_client client;
static uint64_t tsc_khz;

static uint64_t now_ms(void)
{
    return rdtsc() / tsc_khz;
}

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

static uint32_t agent_caps(uint32_t id)
{
    return (query(id).flags >> TV_VM_F_AGENT_SHIFT) & TV_AGENT_CAPS_ALL;
}

/* Waits until VM id's agent announced everything (a boot takes a while). */
static bool wait_agent(uint32_t id, uint64_t ms)
{
    uint64_t end = now_ms() + ms;
    while (now_ms() < end) {
        if (agent_caps(id) == TV_AGENT_CAPS_ALL && query(id).state == TV_VM_RUNNING)
            return true;
        sleep_ms(10);
    }
    return false;
}

struct outcome {
    tv_status_t start;   /* the call's status */
    uint32_t result;     /* TV_TASK_RESULT_* */
    tv_status_t error;
    uint64_t ms;         /* from the call to the task's end */
};

static struct outcome finish(tv_status_t st, struct tv_task t, uint64_t t0)
{
    struct outcome o = { st, 0xff, TV_OK, 0 };
    if (st != TV_OK)
        return o;
    struct tv_task_info info;
    if (tv_task_wait_for_completion(t, 60000) == TV_OK && tv_task_query(t, &info) == TV_OK) {
        o.result = info.result;
        o.error = info.error;
    }
    o.ms = now_ms() - t0;
    tv_task_dismiss(t);
    return o;
}

static struct outcome shutdown(uint32_t id, bool forced)
{
    struct tv_task t;
    uint64_t t0 = now_ms();
    return finish(tv_vm_shutdown(&client, id, forced, &t), t, t0);
}

static struct outcome restart(uint32_t id, bool forced)
{
    struct tv_task t;
    uint64_t t0 = now_ms();
    return finish(tv_vm_restart(&client, id, forced, &t), t, t0);
}

static struct outcome logoff(uint32_t id)
{
    struct tv_task t;
    uint64_t t0 = now_ms();
    return finish(tv_vm_logoff(&client, id, &t), t, t0);
}

static struct outcome turn_off(uint32_t id)
{
    struct tv_task t;
    uint64_t t0 = now_ms();
    return finish(tv_vm_turn_off(&client, id, &t), t, t0);
}

static bool succeeded(struct outcome o)
{
    return o.start == TV_OK && o.result == TV_TASK_RESULT_SUCCESS;
}

static bool failed_with(struct outcome o, tv_status_t err)
{
    return o.start == TV_OK && o.result != TV_TASK_RESULT_SUCCESS && o.error == err;
}

static size_t task_count(void)
{
    struct tv_task_event ev[32];
    size_t n = 0;
    tv_task_list(&client, 0, 0, ev, 32, &n);
    return n;
}

static bool can_shutdown(uint32_t id)
{
    bool can = true;
    if (tv_vm_can_shutdown(&client, id, &can) != TV_OK)
        return true; /* makes a "false" check fail */
    return can;
}

static uint32_t find(const char *name)
{
    uint32_t id = 0xffff;
    tv_status_t st = tv_vm_find(&client, name, &id);
    reportf(st == TV_OK, "find %s: %s, id %u", name, tv_status_name(st), id);
    return id;
}

#define OUT(o) tv_status_name((o).start), (o).result, tv_status_name((o).error)

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    tsc_khz = cpuid(TV_CPUID_LEAF_TIMING, 0).eax;
    uint64_t features = 0;
    tv_get_version(0, &features);
    report("GET_VERSION reports the agent feature", features & TV_FEAT_AGENT);
    report("client init", tv_client_init(&client, &guest_transport) == TV_OK);
    uint32_t self = find("agentctl"), ok = find("ag_ok"), locked = find("ag_locked");
    uint32_t nosess = find("ag_nosess"), mute = find("ag_mute"), none = find("ag_none");
    /* ag_exit: busy, but stops itself when asked to shut down; ag_nosess
     * departs when asked to restart */
    uint32_t poll = find("ag_poll"), selfoff = find("ag_exit"), busy = selfoff, depart = nosess;

    const uint32_t agents[] = { ok, locked, nosess, mute, poll, selfoff };
    for (unsigned i = 0; i < sizeof agents / sizeof agents[0]; i++)
        reportf(wait_agent(agents[i], 30000), "VM %u: its agent announced shutdown, restart, logoff",
                agents[i]);
    struct tv_vm_info r = query(none);
    reportf(r.state == TV_VM_RUNNING && agent_caps(none) == 0, "ag_none runs without an agent: state %u caps %#x",
            r.state, agent_caps(none));

    /* CanShutdown: a query, no task */
    size_t tasks0 = task_count();
    report("CanShutdown: yes with an agent", can_shutdown(ok));
    report("CanShutdown: no without an agent", !can_shutdown(none));
    report("CanShutdown: no for the control partition", !can_shutdown(self));
    bool can = true;
    reportf(tv_vm_can_shutdown(&client, 77, &can) == TV_E_NOT_FOUND, "CanShutdown of an unknown VM: NOT_FOUND");

    /* Refusals before a task exists */
    struct tv_task t;
    reportf(tv_vm_shutdown(&client, none, false, &t) == TV_E_AGENT_NOT_PRESENT, "shutdown, no agent: AGENT_NOT_PRESENT");
    reportf(tv_vm_shutdown(&client, none, true, &t) == TV_E_AGENT_NOT_PRESENT, "forced shutdown, no agent: AGENT_NOT_PRESENT");
    reportf(tv_vm_restart(&client, none, false, &t) == TV_E_AGENT_NOT_PRESENT, "restart, no agent: AGENT_NOT_PRESENT");
    reportf(tv_vm_logoff(&client, none, &t) == TV_E_AGENT_NOT_PRESENT, "logoff, no agent: AGENT_NOT_PRESENT");
    reportf(tv_vm_shutdown(&client, self, false, &t) == TV_E_CONTROL_PARTITION, "shutdown of the control partition: CONTROL_PARTITION");
    reportf(tv_vm_shutdown(&client, 77, false, &t) == TV_E_NOT_FOUND, "shutdown of an unknown VM: NOT_FOUND");
    reportf(task_count() == tasks0, "no task after the refusals (%zu, %zu before)", task_count(), tasks0);

    /* Logoff: done, no session */
    struct outcome o = logoff(ok);
    reportf(succeeded(o) && query(ok).state == TV_VM_RUNNING, "logoff honoured: %s result %u error %s", OUT(o));
    o = logoff(nosess);
    reportf(failed_with(o, TV_E_NO_SESSION) && query(nosess).state == TV_VM_RUNNING,
            "logoff with nobody logged on: %s result %u error %s", OUT(o));

    /* A locked guest refuses what is not forced */
    o = shutdown(locked, false);
    reportf(failed_with(o, TV_E_GUEST_LOCKED) && query(locked).state == TV_VM_RUNNING,
            "shutdown of a locked guest: %s result %u error %s, still running", OUT(o));
    o = restart(locked, false);
    reportf(failed_with(o, TV_E_GUEST_LOCKED) && query(locked).start_count == 1,
            "restart of a locked guest: %s result %u error %s, not restarted", OUT(o));

    /* A mute agent: TIMEOUT after agent_timeout_ms, forced too */
    o = shutdown(mute, false);
    reportf(failed_with(o, TV_E_TIMEOUT) && o.ms >= TIMEOUT_MS && o.ms < TIMEOUT_MS + 3000,
            "shutdown, agent never answers: %s result %u error %s after %llu ms (bound %u ms)", OUT(o),
            (unsigned long long)o.ms, TIMEOUT_MS);
    o = shutdown(mute, true);
    reportf(failed_with(o, TV_E_TIMEOUT) && query(mute).state == TV_VM_RUNNING,
            "forced shutdown, agent never answers: %s result %u error %s after %llu ms, VM still running (no fallback)",
            OUT(o), (unsigned long long)o.ms);

    /* The guest says it is shutting down already; an agent that leaves */
    o = restart(busy, false);
    reportf(failed_with(o, TV_E_SHUTDOWN_IN_PROGRESS) && query(busy).state == TV_VM_RUNNING,
            "restart of a guest already shutting down: %s result %u error %s", OUT(o));
    o = logoff(busy);
    reportf(failed_with(o, TV_E_SHUTDOWN_IN_PROGRESS), "logoff of a guest already shutting down: %s result %u error %s",
            OUT(o));
    o = restart(depart, false);
    reportf(failed_with(o, TV_E_AGENT_NOT_PRESENT) && o.ms < TIMEOUT_MS && query(depart).state == TV_VM_RUNNING,
            "restart, the agent departs instead of answering: %s result %u error %s after %llu ms", OUT(o),
            (unsigned long long)o.ms);
    reportf(agent_caps(depart) == 0 && tv_vm_logoff(&client, depart, &t) == TV_E_AGENT_NOT_PRESENT,
            "once departed: no capabilities, logoff AGENT_NOT_PRESENT");

    /* Shutdown in progress; its cancel withdraws the request */
    tv_status_t st = tv_vm_shutdown(&client, mute, false, &t);
    struct tv_task t2;
    tv_status_t again = tv_vm_restart(&client, mute, true, &t2);
    tv_status_t lo = tv_vm_logoff(&client, mute, &t2);
    tv_status_t off = tv_vm_turn_off(&client, mute, &t2);
    reportf(st == TV_OK && again == TV_E_SHUTDOWN_IN_PROGRESS && lo == TV_E_SHUTDOWN_IN_PROGRESS && off == TV_E_BUSY,
            "while a shutdown waits: restart %s, logoff %s, turn off %s", tv_status_name(again),
            tv_status_name(lo), tv_status_name(off));
    report("CanShutdown: no while a shutdown waits", !can_shutdown(mute));
    sleep_ms(200);
    tv_status_t c = st == TV_OK ? tv_task_cancel(t) : st;
    o = finish(st, t, now_ms());
    reportf(c == TV_OK && o.result == TV_TASK_RESULT_CANCELLED && query(mute).state == TV_VM_RUNNING &&
            can_shutdown(mute), "shutdown cancelled while waiting: cancel %s result %u, VM running, CanShutdown again",
            tv_status_name(c), o.result);

    /* Restart: a fresh boot */
    o = restart(ok, false);
    r = query(ok);
    reportf(succeeded(o) && r.state == TV_VM_RUNNING && r.start_count == 2,
            "restart honoured: %s result %u error %s, state %u, starts %llu", OUT(o), r.state,
            (unsigned long long)r.start_count);
    reportf(wait_agent(ok, 30000), "after the restart the new boot's agent announced itself");
    o = restart(locked, true);
    r = query(locked);
    reportf(succeeded(o) && r.start_count == 2, "forced restart of a locked guest: %s result %u error %s, starts %llu",
            OUT(o), (unsigned long long)r.start_count);
    reportf(wait_agent(locked, 30000), "the locked guest booted again");

    /* Shutdown honoured: the VM ends turned off */
    o = shutdown(ok, false);
    r = query(ok);
    reportf(succeeded(o) && r.state == TV_VM_TURNED_OFF && r.stop_reason == TV_VM_STOP_TURNED_OFF,
            "shutdown honoured: %s result %u error %s, state %u, stop %u", OUT(o), r.state, r.stop_reason);
    report("CanShutdown: no once off", !can_shutdown(ok));
    reportf(tv_vm_logoff(&client, ok, &t) == TV_E_VM_NOT_RUNNING, "logoff of an off VM: VM_NOT_RUNNING");
    reportf(tv_vm_shutdown(&client, ok, false, &t) == TV_E_VM_NOT_RUNNING, "shutdown of an off VM: VM_NOT_RUNNING");
    o = shutdown(locked, true);
    reportf(succeeded(o) && query(locked).state == TV_VM_TURNED_OFF,
            "forced shutdown of a locked guest: %s result %u error %s, off", OUT(o));
    o = shutdown(poll, false);
    reportf(succeeded(o) && query(poll).state == TV_VM_TURNED_OFF,
            "shutdown honoured by a polling agent: %s result %u error %s, off", OUT(o));
    o = shutdown(selfoff, false);
    r = query(selfoff);
    reportf(succeeded(o) && r.state == TV_VM_TURNED_OFF && r.stop_reason == TV_VM_STOP_EXITED,
            "shutdown of a guest that powers itself off unanswered: %s result %u error %s, state %u, stop %u",
            OUT(o), r.state, r.stop_reason);

    /* The rest off, for the verdict */
    reportf(succeeded(turn_off(mute)) && succeeded(turn_off(none)) && succeeded(turn_off(depart)),
            "turn off of the mute, agentless and departed VMs");
    guest_exit_summary();
}
