/* The guest agent, guest side: the AGENT_* calls (docs/agent.md) and a
 * wait for the next request that halts until the agent's vector fires. */
#include "guest.h"

static uint8_t agent_vector;
static volatile uint64_t agent_irqs;

static void on_agent_irq(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
    agent_irqs++;
}

tv_status_t guest_agent_start(uint32_t caps, uint8_t vector)
{
    if (vector && !guest_irq_register(vector, on_agent_irq, 0, true))
        return TV_E_INVALID_ARGUMENT;
    tv_status_t st = tv_hypercall(TV_HC_AGENT_ANNOUNCE, TV_AGENT_VERSION, caps, vector, 0, 0, 0);
    if (st == TV_OK)
        agent_vector = vector;
    else if (vector)
        guest_irq_unregister(vector);
    return st;
}

tv_status_t guest_agent_poll(struct guest_agent_request *req)
{
    struct tv_hc_out o = { 0, 0, 0 };
    tv_status_t st = tv_hypercall(TV_HC_AGENT_POLL, 0, 0, 0, 0, 0, &o);
    req->seq = st == TV_OK ? (uint32_t)o.rdx : 0;
    req->kind = st == TV_OK ? (uint32_t)o.rsi : 0;
    req->flags = st == TV_OK ? (uint32_t)o.rdi : 0;
    return st;
}

tv_status_t guest_agent_answer(uint32_t seq, uint32_t answer)
{
    return tv_hypercall(TV_HC_AGENT_ANSWER, seq, answer, 0, 0, 0, 0);
}

tv_status_t guest_agent_depart(void)
{
    tv_status_t st = tv_hypercall(TV_HC_AGENT_DEPART, 0, 0, 0, 0, 0, 0);
    if (agent_vector)
        guest_irq_unregister(agent_vector);
    agent_vector = 0;
    return st;
}

tv_status_t guest_agent_wait(struct guest_agent_request *req)
{
    for (;;) {
        uint64_t seen = agent_irqs;
        tv_status_t st = guest_agent_poll(req);
        if (st != TV_OK || req->seq)
            return st;
        if (agent_vector) {
            /* sleep only if no interrupt came since the poll: checked with
             * interrupts off, then "sti; hlt" (one instruction of shadow) */
            cpu_cli();
            if (agent_irqs == seen)
                cpu_sti_hlt();
            else
                cpu_sti();
        } else {
            uint64_t end = rdtsc() + 1000000; /* ~1 ms at 1 GHz: a pause between polls */
            while ((int64_t)(rdtsc() - end) < 0)
                cpu_pause();
        }
    }
}
