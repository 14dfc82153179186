/* Taskvisor ABI: the paravirtual guest agent (Virtual PC's Integration
 * Components as IVMGuestOS used them).  An agent inside a guest announces
 * itself, learns of shutdown, restart and logoff requests (by polling, or
 * by an interrupt vector it chose) and answers them.  The calls below are
 * NOT management calls: any partition may make them, and each one acts on
 * the calling partition's own agent only (there is no VM id argument).
 * Every argument is untrusted.  Values are stable: only append.
 * See docs/agent.md. */
#ifndef TASKVISOR_AGENT_H
#define TASKVISOR_AGENT_H

#include <stdint.h>

#define TV_AGENT_VERSION 1u /* the one protocol version the monitor speaks */

/* Request kinds (AGENT_POLL o1). */
enum tv_agent_request {
    TV_AGENT_REQ_NONE     = 0,
    TV_AGENT_REQ_SHUTDOWN = 1,
    TV_AGENT_REQ_RESTART  = 2,
    TV_AGENT_REQ_LOGOFF   = 3,
};

/* Capabilities (AGENT_ANNOUNCE a1): the requests the agent can handle. */
#define TV_AGENT_CAP_SHUTDOWN (1u << 0)
#define TV_AGENT_CAP_RESTART  (1u << 1)
#define TV_AGENT_CAP_LOGOFF   (1u << 2)
#define TV_AGENT_CAPS_ALL     0x7u
#define TV_AGENT_CAP_OF(kind) (1u << ((kind) - 1u))

/* Request flags (AGENT_POLL o2). */
#define TV_AGENT_REQ_F_FORCED (1u << 0) /* shutdown/restart: locks and open work do not count */

/* Answers (AGENT_ANSWER a1). */
enum tv_agent_answer {
    TV_AGENT_ANS_DONE          = 1, /* shutdown/restart: ready to lose power; logoff: done */
    TV_AGENT_ANS_LOCKED        = 2, /* shutdown/restart not forced: the guest is locked */
    TV_AGENT_ANS_NO_SESSION    = 3, /* logoff: nobody is logged on */
    TV_AGENT_ANS_SHUTTING_DOWN = 4, /* any: the guest is already shutting down */
    TV_AGENT_ANS_COUNT
};

/* ---- Hypercalls (include/taskvisor/hypercall.h, 0x380-0x38f) ----------
 * AGENT_ANNOUNCE a0 version (TV_AGENT_VERSION), a1 capabilities (non-zero,
 *                known bits only), a2 vector (0: poll only; else 32..255)
 *                -> o0 = TV_AGENT_VERSION, o1 = TV_AGENT_CAPS_ALL.
 *                Announcing again replaces capabilities and vector.
 * AGENT_POLL     no arguments -> o0 = request sequence number (0: none
 *                pending), o1 = enum tv_agent_request, o2 = TV_AGENT_REQ_F_*.
 *                The same request is returned until it is answered or
 *                withdrawn.
 * AGENT_ANSWER   a0 sequence number, a1 enum tv_agent_answer -> nothing.
 * AGENT_DEPART   no arguments: the agent is gone (the operation waiting on
 *                a pending request ends with AGENT_NOT_PRESENT).
 * Unused arguments must be zero.  Statuses: INVALID_ARGUMENT, UNSUPPORTED
 * (another version), INVALID_STATE (no agent announced), NOT_FOUND (no
 * pending request with that number: answered, withdrawn or stale). */

#endif
