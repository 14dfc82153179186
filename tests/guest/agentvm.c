/* agentvm: a VM that runs the guest library's agent, for the agent
 * scenarios.  Its command line says how it behaves:
 *   agent=honour     answers DONE to everything (the default)
 *   agent=locked     "the workstation is locked": LOCKED to a shutdown or
 *                    restart that is not forced, DONE to a forced one and
 *                    to a logoff
 *   agent=nosession  nobody is logged on: NO_SESSION to a logoff, DONE to
 *                    shutdown and restart
 *   agent=mute       announces itself, then never answers (timeouts)
 *   agent=exit       stops itself (exit port, code 0) when asked to shut
 *                    down, without answering
 *   agent=none       runs no agent at all
 *   agent_vector=N   the agent's interrupt vector (default 0x60; 0 polls)
 * Like heartbeat it counts its boots in .data: every boot the monitor gives
 * it (Startup, Reset, Restart) loads the image afresh and prints
 * "agentvm: boot 1"; a restart that kept the old memory would print 2. */
#include "guest.h"
#include "tv_status.h"
#include "tv_string.h"

static volatile uint32_t boots __attribute__((section(".data")));

static const char *kind_name(uint32_t k)
{
    return k == TV_AGENT_REQ_SHUTDOWN ? "shutdown" : k == TV_AGENT_REQ_RESTART ? "restart"
         : k == TV_AGENT_REQ_LOGOFF ? "logoff" : "?";
}

static uint32_t answer_for(const char *mode, const struct guest_agent_request *r)
{
    bool power = r->kind == TV_AGENT_REQ_SHUTDOWN || r->kind == TV_AGENT_REQ_RESTART;
    bool forced = (r->flags & TV_AGENT_REQ_F_FORCED) != 0;
    if (tv_strcmp(mode, "locked") == 0 && power && !forced)
        return TV_AGENT_ANS_LOCKED;
    if (tv_strcmp(mode, "nosession") == 0 && r->kind == TV_AGENT_REQ_LOGOFF)
        return TV_AGENT_ANS_NO_SESSION;
    return TV_AGENT_ANS_DONE;
}

static __attribute__((noreturn)) void idle(void)
{
    for (;;)
        cpu_sti_hlt();
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    boots++;
    char mode[16] = "honour", num[24];
    uint64_t vector = 0x60;
    guest_cmdline_value("agent", mode, sizeof mode);
    if (guest_cmdline_value("agent_vector", num, sizeof num) && !guest_parse_u64(num, &vector))
        vector = 0x60;
    guest_printf("agentvm: boot %u, agent=%s\n", (unsigned)boots, mode);
    if (!guest_on_taskvisor() || tv_strcmp(mode, "none") == 0) {
        guest_printf("agentvm: no agent\n");
        idle();
    }
    if (vector)
        apic_enable(false);
    tv_status_t st = guest_agent_start(TV_AGENT_CAPS_ALL, (uint8_t)vector);
    guest_printf("agentvm: agent announced (vector %#llx): %s\n", (unsigned long long)vector,
                 tv_status_name(st));
    if (st != TV_OK || tv_strcmp(mode, "mute") == 0)
        idle();
    cpu_sti();
    for (;;) {
        struct guest_agent_request r;
        if ((st = guest_agent_wait(&r)) != TV_OK) {
            guest_printf("agentvm: poll failed: %s\n", tv_status_name(st));
            idle();
        }
        if (tv_strcmp(mode, "exit") == 0 && r.kind == TV_AGENT_REQ_SHUTDOWN) {
            guest_printf("agentvm: shutdown request %u: powering off myself\n", r.seq);
            guest_exit(0);
        }
        uint32_t a = answer_for(mode, &r);
        /* Printed before the answer: after a DONE to a shutdown or restart
         * the monitor may cut the power before another line gets out. */
        guest_printf("agentvm: %s%s request %u: answering %u\n",
                     (r.flags & TV_AGENT_REQ_F_FORCED) ? "forced " : "", kind_name(r.kind),
                     r.seq, a);
        st = guest_agent_answer(r.seq, a);
        if (st != TV_OK)
            guest_printf("agentvm: answer refused: %s\n", tv_status_name(st));
        if (r.kind == TV_AGENT_REQ_LOGOFF && a == TV_AGENT_ANS_DONE)
            guest_printf("agentvm: logged off\n");
    }
}
