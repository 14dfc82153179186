/* Shutdown, Restart and Logoff through the guest agent (Virtual PC's
 * IVMGuestOS): the request goes to the VM's agent (services/vm_agent.c),
 * the task waits for its answer at most agent_timeout_ms, then -- for a
 * shutdown or restart the agent said DONE to -- the monitor cuts the power
 * (TurnOff) or resets the VM (Reset: a fresh boot).  Cancelable until the
 * agent answered: the request is withdrawn and the VM left as it was. */
#include "vm/vm_life.h"
#include "vm/partition.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "services/vm_agent.h"

#define ANSWER_POLL_NS 1000000ull /* 1 ms between looks at the agent's answer */

static uint64_t timeout_ns = VM_AGENT_TIMEOUT_MS_DEFAULT * 1000000ull;

void vm_set_agent_timeout_ms(uint64_t ms)
{
    timeout_ns = ms * 1000000ull;
}

/* A guest that stopped on its own while asked (it powered itself off). */
static bool vm_gone(struct partition *p)
{
    return vm_get_state(p) != TV_VM_RUNNING;
}

/* Asks the agent and waits for its answer.  TV_OK with *answer, or the
 * task's error: TIMEOUT, CANCELLED, AGENT_NOT_PRESENT (it left), or
 * VM_NOT_RUNNING (the VM stopped meanwhile; *answer = 0). */
static tv_status_t ask(struct partition *p, struct task_job *job, uint32_t kind, uint32_t flags,
                       uint32_t *answer)
{
    uint32_t seq = 0;
    *answer = 0;
    tv_status_t st = vm_agent_request(&p->agent, kind, flags, &seq);
    if (st != TV_OK)
        return st == TV_E_BUSY ? TV_E_SHUTDOWN_IN_PROGRESS : st;
    uint64_t deadline = time_now_ns() + timeout_ns;
    for (;;) {
        st = vm_agent_take_answer(&p->agent, seq, answer);
        /* A run that ends forgets its agent: "no agent" then means the VM
         * stopped, which the caller must hear as such. */
        if (st == TV_E_AGENT_NOT_PRESENT && vm_gone(p)) {
            st = TV_E_VM_NOT_RUNNING;
            break;
        }
        if (st != TV_E_CONTINUE)
            break;
        if (vm_gone(p)) {
            st = TV_E_VM_NOT_RUNNING;
            break;
        }
        if ((int64_t)(time_now_ns() - deadline) >= 0) {
            st = TV_E_TIMEOUT;
            break;
        }
        if (job) {
            if ((st = task_job_sleep(job, ANSWER_POLL_NS)) != TV_OK)
                break; /* cancelled */
        } else {
            thread_sleep_ns(ANSWER_POLL_NS);
        }
    }
    if (st != TV_OK) {
        vm_agent_withdraw(&p->agent, seq);
        return st;
    }
    /* Answered: past here the guest has acted, nothing to undo. */
    if (job && (st = task_job_point_of_no_return(job)) != TV_OK)
        return st;
    return TV_OK;
}

static tv_status_t refusal(uint32_t answer)
{
    switch (answer) {
    case TV_AGENT_ANS_LOCKED: return TV_E_GUEST_LOCKED;
    case TV_AGENT_ANS_NO_SESSION: return TV_E_NO_SESSION;
    case TV_AGENT_ANS_SHUTTING_DOWN: return TV_E_SHUTDOWN_IN_PROGRESS;
    default: return TV_E_INVALID_STATE; /* AGENT_ANSWER lets no other answer through */
    }
}

tv_status_t vm_shutdown(struct partition *p, struct task_job *job, bool forced)
{
    uint32_t answer;
    tv_status_t st = ask(p, job, TV_AGENT_REQ_SHUTDOWN, forced ? TV_AGENT_REQ_F_FORCED : 0,
                         &answer);
    if (st == TV_E_VM_NOT_RUNNING) {
        /* It stopped on its own when asked (exit port, ...): once its vCPU
         * thread has released everything, that is what a shutdown is for.
         * The claim keeps every other operation away meanwhile. */
        partition_wait_ended(p);
        if (vm_get_state(p) == TV_VM_TURNED_OFF) {
            log_info("VM %s: turned itself off when asked to shut down", p->name);
            return TV_OK;
        }
    }
    if (st != TV_OK)
        return st;
    if (answer != TV_AGENT_ANS_DONE)
        return refusal(answer);
    return vm_turn_off(p, job);
}

tv_status_t vm_restart(struct partition *p, struct task_job *job, bool forced)
{
    uint32_t answer;
    tv_status_t st = ask(p, job, TV_AGENT_REQ_RESTART, forced ? TV_AGENT_REQ_F_FORCED : 0,
                         &answer);
    if (st != TV_OK)
        return st;
    if (answer != TV_AGENT_ANS_DONE)
        return refusal(answer);
    return vm_reset(p, job); /* Reset's machinery: the guest sees a fresh boot */
}

tv_status_t vm_logoff(struct partition *p, struct task_job *job)
{
    uint32_t answer;
    tv_status_t st = ask(p, job, TV_AGENT_REQ_LOGOFF, 0, &answer);
    if (st != TV_OK)
        return st;
    return answer == TV_AGENT_ANS_DONE ? TV_OK : refusal(answer);
}
