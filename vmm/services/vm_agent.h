/* The guest agent's channel, monitor side (include/taskvisor/agent.h,
 * docs/agent.md): one record per VM holding what its agent announced and
 * the one request it may have pending, the AGENT_* hypercalls (a section
 * of the one table, not management: a caller reaches only its own record,
 * through the section's caller_state), and the half the Shutdown, Restart
 * and Logoff drivers use.  Portable: the monitor and the hosted tests run
 * the same code.  Every guest input is untrusted. */
#ifndef SERVICES_VM_AGENT_H
#define SERVICES_VM_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "hcall/hcall.h"
#include "taskvisor/agent.h"
#include "taskvisor/status.h"

struct tp_lock;

/* Raises vector in the VM (the monitor: vcpu_post_interrupt). */
typedef void (*vm_agent_notify_fn)(void *ctx, uint8_t vector);

struct vm_agent {
    struct tp_lock *lock;
    vm_agent_notify_fn notify;
    void *notify_ctx;
    /* under lock */
    uint32_t caps;        /* 0: no agent */
    uint8_t vector;       /* 0: the agent polls */
    uint32_t next_seq;    /* the last request's number; never 0 once used */
    uint32_t req_seq;     /* 0: nothing pending */
    uint32_t req_kind;    /* enum tv_agent_request */
    uint32_t req_flags;   /* TV_AGENT_REQ_F_* */
    uint32_t answer;      /* 0 until the agent answered req_seq */
};

tv_status_t vm_agent_init(struct vm_agent *a, vm_agent_notify_fn notify, void *ctx);
void vm_agent_destroy(struct vm_agent *a);

/* The agent is gone (the VM starts, stops or is reset): no capabilities,
 * any request dropped.  Sequence numbers keep counting, so an answer from
 * an earlier run never matches a later request. */
void vm_agent_forget(struct vm_agent *a);

/* The capabilities announced (0: no agent). */
uint32_t vm_agent_caps(struct vm_agent *a);

/* Posts a request and raises the agent's vector if it registered one.
 * TV_E_AGENT_NOT_PRESENT when no agent announced the capability for kind,
 * TV_E_BUSY when a request is already pending, TV_E_INVALID_ARGUMENT for
 * an unknown kind or flag (FORCED is for shutdown and restart only). */
tv_status_t vm_agent_request(struct vm_agent *a, uint32_t kind, uint32_t flags, uint32_t *seq_out);

/* The answer to request seq: TV_OK with *answer set once the agent
 * answered (the request is then closed), TV_E_CONTINUE while it is pending,
 * TV_E_AGENT_NOT_PRESENT if the agent departed or was forgotten meanwhile,
 * TV_E_NOT_FOUND if seq is not the current request. */
tv_status_t vm_agent_take_answer(struct vm_agent *a, uint32_t seq, uint32_t *answer);

/* Closes request seq unanswered (timeout, cancel): a later answer to it
 * gets NOT_FOUND.  Nothing if seq is not the current request. */
void vm_agent_withdraw(struct vm_agent *a, uint32_t seq);

/* Whether `answer` is a valid reply to a request of kind/flags (the rule
 * AGENT_ANSWER enforces; docs/agent.md). */
bool vm_agent_answer_valid(uint32_t kind, uint32_t flags, uint32_t answer);

#define VM_AGENT_CALL_COUNT 4u
/* The section's caller_state must return the caller's own struct vm_agent
 * (NULL: the caller has none; the calls then answer INVALID_STATE). */
extern const struct hcall_desc vm_agent_calls[VM_AGENT_CALL_COUNT];

#endif
