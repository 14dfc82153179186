/* libFuzzer target: the guest agent's channel (vmm/services/vm_agent.c)
 * under the one dispatcher, driven by arbitrary sequences of guest calls
 * (any code near 0x380, any argument, 32- or 64-bit, any CPL) and monitor
 * actions (request, withdraw, forget, take the answer), checked against a
 * model of docs/agent.md's rules: every status is one the rules allow, a
 * call writes only RAX and, on success, the outputs it defines, POLL
 * returns exactly the request the model says is pending, an answer is
 * accepted exactly when the model accepts it, and the capabilities and
 * vector never hold a value ANNOUNCE refuses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform_hosted.h"
#include "hcall/hcall.h"
#include "services/vm_agent.h"
#include "taskvisor/hypercall.h"
#include "../common/fuzz_reader.h"
#include "../common/hcall_fixture.h"

/* Small values most of the time (they pass the checks), anything else now and then. */
static uint64_t arg(struct reader *r)
{
    uint8_t sel = (uint8_t)take(r, 1);
    if (sel < 160)
        return sel & 7;
    if (sel < 200)
        return take(r, 1);
    return take(r, 8);
}

struct model {
    uint32_t caps, vector, seq, kind, flags, answer;
};

static unsigned notified;

static void notify(void *ctx, uint8_t vector)
{
    (void)ctx;
    if (vector < 32)
        abort();
    notified++;
}

static void *agent_of(void *owner, const struct hcall_caller *caller)
{
    return caller->partition_id == 1 ? owner : NULL;
}

static tv_status_t no_read(void *c, uint64_t g, void *p, size_t n)
{
    (void)c; (void)g; (void)p; (void)n;
    return TV_E_INVALID_ARGUMENT;
}

static tv_status_t no_write(void *c, uint64_t g, const void *p, size_t n)
{
    (void)c; (void)g; (void)p; (void)n;
    return TV_E_INVALID_ARGUMENT;
}

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = { data, size };
    struct vm_agent a;
    CHECK(vm_agent_init(&a, notify, 0) == TV_OK);
    struct model m = { 0 };
    struct hcall_section sec = { vm_agent_calls, VM_AGENT_CALL_COUNT, agent_of, &a };
    struct hcall_table table = { &sec, 1 };
    struct guest_mem_range ram = { 0x10000, 0x1000 };
    struct guest_mem_view view = { &ram, 1, 0, no_read, no_write };
    struct hcall_caller caller = { .partition_id = 1, .mem = &view };
    struct hcall_env env = { &table, NULL, NULL };
    uint32_t last_seq = 0;

    for (int step = 0; step < 64 && r.n; step++) {
        uint8_t what = (uint8_t)take(&r, 1);
        if (what < 176) { /* a guest call */
            caller.wide = what & 1;
            caller.cpl = (what & 0x30) == 0x30 ? (uint8_t)(what >> 6) : 0;
            caller.partition_id = (what & 0x0e) == 0x0e ? 2 : 1;
            uint32_t code = TV_HC_AGENT_ANNOUNCE + (uint32_t)(take(&r, 1) % 6) - 1;
            uint64_t g[5];
            for (int i = 0; i < 5; i++)
                g[i] = i < 3 ? arg(&r) : ((take(&r, 1) < 16) ? take(&r, 1) : 0);
            if (code == TV_HC_AGENT_ANSWER && (what & 0x40))
                g[0] = m.seq ? m.seq : last_seq; /* aim at a real request */
            struct hcall_regs in = { .rax = code, .rbx = 0x1111, .rcx = 0x2222, .rdx = 0x3333,
                                     .rsi = 0x4444, .rdi = 0x5555, .r8 = 0x8888, .r10 = 0xaaaa };
            if (!caller.wide)
                for (int i = 0; i < 5; i++)
                    g[i] &= 0xffffffffu;
            hcf_set_args(&in, caller.wide, g);
            struct hcall_regs out = in;
            enum hcall_action act = hcall_dispatch(&env, &caller, &out);
            if (caller.cpl > 0) {
                CHECK(act == HCALL_INJECT_UD);
                continue;
            }
            CHECK(act == HCALL_ADVANCE);
            tv_status_t st = (tv_status_t)out.rax;
            bool outputs = st == TV_OK && (code == TV_HC_AGENT_ANNOUNCE || code == TV_HC_AGENT_POLL);
            CHECK(out.rbx == in.rbx && out.rcx == in.rcx && out.r8 == in.r8 && out.r10 == in.r10);
            if (!outputs)
                CHECK(out.rdx == in.rdx && out.rsi == in.rsi && out.rdi == in.rdi);
            if (code < TV_HC_AGENT_ANNOUNCE || code > TV_HC_AGENT_DEPART) {
                CHECK(st == TV_E_UNKNOWN_CALL);
                continue;
            }
            if (caller.partition_id != 1) {
                CHECK(st == TV_E_UNSUPPORTED);
                continue;
            }
            bool pending = m.seq && !m.answer && (m.caps & TV_AGENT_CAP_OF(m.kind));
            switch (code) {
            case TV_HC_AGENT_ANNOUNCE: {
                bool ok = !g[3] && !g[4] && g[0] == TV_AGENT_VERSION && g[1] &&
                          !(g[1] & ~(uint64_t)TV_AGENT_CAPS_ALL) && (!g[2] || (g[2] >= 32 && g[2] <= 255));
                CHECK(ok ? st == TV_OK : (st == TV_E_INVALID_ARGUMENT || st == TV_E_UNSUPPORTED));
                if (ok) {
                    CHECK(out.rdx == TV_AGENT_VERSION && out.rsi == TV_AGENT_CAPS_ALL);
                    m.caps = (uint32_t)g[1];
                    m.vector = (uint32_t)g[2];
                }
                break;
            }
            case TV_HC_AGENT_POLL:
                if (g[0] | g[1] | g[2] | g[3] | g[4])
                    CHECK(st == TV_E_INVALID_ARGUMENT);
                else if (!m.caps)
                    CHECK(st == TV_E_INVALID_STATE);
                else {
                    CHECK(st == TV_OK);
                    CHECK(out.rdx == (pending ? m.seq : 0));
                    CHECK(out.rsi == (pending ? m.kind : 0) && out.rdi == (pending ? m.flags : 0));
                }
                break;
            case TV_HC_AGENT_ANSWER: {
                bool args_ok = !g[2] && !g[3] && !g[4] && g[0] && g[0] <= UINT32_MAX && g[1] &&
                               g[1] < TV_AGENT_ANS_COUNT;
                if (!args_ok)
                    CHECK(st == TV_E_INVALID_ARGUMENT);
                else if (!m.caps)
                    CHECK(st == TV_E_INVALID_STATE);
                else if (m.seq != g[0] || m.answer)
                    CHECK(st == TV_E_NOT_FOUND);
                else if (!vm_agent_answer_valid(m.kind, m.flags, (uint32_t)g[1]))
                    CHECK(st == TV_E_INVALID_ARGUMENT);
                else {
                    CHECK(st == TV_OK);
                    m.answer = (uint32_t)g[1];
                }
                break;
            }
            case TV_HC_AGENT_DEPART:
                if (g[0] | g[1] | g[2] | g[3] | g[4])
                    CHECK(st == TV_E_INVALID_ARGUMENT);
                else {
                    CHECK(st == (m.caps ? TV_OK : TV_E_INVALID_STATE));
                    m.caps = 0;
                    m.vector = 0;
                }
                break;
            }
        } else { /* a monitor action */
            uint32_t kind = (uint32_t)take(&r, 1) % 5, flags = (uint32_t)take(&r, 1) % 3, seq = 0, ans = 0;
            switch (what % 4) {
            case 0: {
                tv_status_t st = vm_agent_request(&a, kind, flags, &seq);
                bool bad = kind < 1 || kind > 3 || flags > 1 || (kind == TV_AGENT_REQ_LOGOFF && flags);
                if (bad)
                    CHECK(st == TV_E_INVALID_ARGUMENT);
                else if (!(m.caps & TV_AGENT_CAP_OF(kind)))
                    CHECK(st == TV_E_AGENT_NOT_PRESENT);
                else if (m.seq)
                    CHECK(st == TV_E_BUSY);
                else {
                    CHECK(st == TV_OK && seq != 0 && seq != last_seq);
                    m.seq = last_seq = seq;
                    m.kind = kind;
                    m.flags = flags;
                    m.answer = 0;
                }
                break;
            }
            case 1:
                vm_agent_withdraw(&a, m.seq);
                m.seq = m.kind = m.flags = m.answer = 0;
                break;
            case 2:
                vm_agent_forget(&a);
                m = (struct model){ 0 };
                break;
            case 3: {
                uint32_t want = m.seq ? m.seq : last_seq;
                tv_status_t st = vm_agent_take_answer(&a, want, &ans);
                if (!want || m.seq != want)
                    CHECK(st == (m.caps ? TV_E_NOT_FOUND : TV_E_AGENT_NOT_PRESENT));
                else if (!m.answer && !m.caps) {
                    CHECK(st == TV_E_AGENT_NOT_PRESENT);
                    m.seq = m.kind = m.flags = 0;
                } else if (!m.answer)
                    CHECK(st == TV_E_CONTINUE);
                else {
                    CHECK(st == TV_OK && ans == m.answer);
                    m.seq = m.kind = m.flags = m.answer = 0;
                }
                break;
            }
            }
        }
        CHECK(vm_agent_caps(&a) == m.caps);
        CHECK(a.vector == m.vector && (a.vector == 0 || a.vector >= 32));
    }
    vm_agent_destroy(&a);
    return 0;
}
