/* agentvm: a VM that runs the guest library's agent, for the agent
 * scenarios.  Its command line says how it behaves:
 *   agent=MODE         what it does with every request:
 *     honour           answers DONE (the default)
 *     locked           "the workstation is locked": LOCKED to a shutdown or
 *                      restart that is not forced, DONE to a forced one and
 *                      to a logoff
 *     nosession        nobody is logged on: NO_SESSION to a logoff, DONE
 *                      to shutdown and restart
 *     busy             "already shutting down": SHUTTING_DOWN
 *     depart           withdraws its agent (AGENT_DEPART) instead of answering
 *     exit             stops itself (exit port, code 0) instead of answering
 *     mute             announces itself, then never answers (timeouts)
 *     none             runs no agent at all
 *   shutdown=MODE, restart=MODE, logoff=MODE
 *                      the same for one kind of request (overrides agent=)
 *   agent_vector=N     the agent's interrupt vector (default 0x60; 0 polls)
 * Like heartbeat it counts its boots in .data: every boot the monitor gives
 * it (Startup, Reset, Restart) loads the image afresh and prints
 * "agentvm: boot 1"; a restart that kept the old memory would print 2. */
#include "guest.h"
#include "tv_status.h"
#include "tv_string.h"

static volatile uint32_t boots __attribute__((section(".data")));
static char mode[16] = "honour";

static const char *kind_name(uint32_t k)
{
    return k == TV_AGENT_REQ_SHUTDOWN ? "shutdown" : k == TV_AGENT_REQ_RESTART ? "restart"
         : k == TV_AGENT_REQ_LOGOFF ? "logoff" : "?";
}

static bool is(const char *a, const char *b)
{
    return tv_strcmp(a, b) == 0;
}

/* The answer MODE gives r; 0 for "do not answer" (depart, exit, mute). */
static uint32_t answer_for(const char *m, const struct guest_agent_request *r)
{
    bool power = r->kind == TV_AGENT_REQ_SHUTDOWN || r->kind == TV_AGENT_REQ_RESTART;
    bool forced = (r->flags & TV_AGENT_REQ_F_FORCED) != 0;
    if (is(m, "depart") || is(m, "exit") || is(m, "mute"))
        return 0;
    if (is(m, "locked") && power && !forced)
        return TV_AGENT_ANS_LOCKED;
    if (is(m, "nosession") && r->kind == TV_AGENT_REQ_LOGOFF)
        return TV_AGENT_ANS_NO_SESSION;
    if (is(m, "busy"))
        return TV_AGENT_ANS_SHUTTING_DOWN;
    return TV_AGENT_ANS_DONE;
}

static __attribute__((noreturn)) void idle(void)
{
    for (;;)
        cpu_sti_hlt();
}

static void handle(const struct guest_agent_request *r)
{
    char m[16];
    tv_strlcpy(m, mode, sizeof m);
    guest_cmdline_value(kind_name(r->kind), m, sizeof m);
    const char *forced = (r->flags & TV_AGENT_REQ_F_FORCED) ? "forced " : "";
    tv_status_t st;
    if (is(m, "depart")) {
        st = guest_agent_depart();
        guest_printf("agentvm: %s%s request %u: departing: %s\n", forced, kind_name(r->kind),
                     r->seq, tv_status_name(st));
        idle();
    }
    if (is(m, "exit")) {
        guest_printf("agentvm: %s%s request %u: powering off myself\n", forced,
                     kind_name(r->kind), r->seq);
        guest_exit(0);
    }
    uint32_t a = answer_for(m, r);
    if (!a) {
        guest_printf("agentvm: %s%s request %u: not answering\n", forced, kind_name(r->kind),
                     r->seq);
        idle();
    }
    /* Printed before the answer: after a DONE to a shutdown or restart the
     * monitor may cut the power before another line gets out. */
    guest_printf("agentvm: %s%s request %u: answering %u\n", forced, kind_name(r->kind), r->seq,
                 a);
    st = guest_agent_answer(r->seq, a);
    if (st != TV_OK)
        guest_printf("agentvm: answer refused: %s\n", tv_status_name(st));
    else if (r->kind == TV_AGENT_REQ_LOGOFF && a == TV_AGENT_ANS_DONE)
        guest_printf("agentvm: logged off\n");
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    boots++;
    char num[24];
    uint64_t vector = 0x60;
    guest_cmdline_value("agent", mode, sizeof mode);
    if (guest_cmdline_value("agent_vector", num, sizeof num) && !guest_parse_u64(num, &vector))
        vector = 0x60;
    guest_printf("agentvm: boot %u, agent=%s\n", (unsigned)boots, mode);
    if (!guest_on_taskvisor() || is(mode, "none")) {
        guest_printf("agentvm: no agent\n");
        idle();
    }
    if (vector)
        apic_enable(false);
    tv_status_t st = guest_agent_start(TV_AGENT_CAPS_ALL, (uint8_t)vector);
    guest_printf("agentvm: agent announced (vector %#llx): %s\n", (unsigned long long)vector,
                 tv_status_name(st));
    if (st != TV_OK || is(mode, "mute"))
        idle();
    cpu_sti();
    for (;;) {
        struct guest_agent_request r;
        if ((st = guest_agent_wait(&r)) != TV_OK) {
            guest_printf("agentvm: poll failed: %s\n", tv_status_name(st));
            idle();
        }
        handle(&r);
    }
}
