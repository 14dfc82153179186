/* libFuzzer target: the task hypercalls (vmm/services/task_calls.c) under
 * the one dispatcher (vmm/hcall), fed with
 * arbitrary call codes and arguments (bad ids, pointers outside the caller,
 * unaligned buffers, huge sizes and timeouts, tampered ring pages), against
 * a real task manager run on this one thread.  Checks that every answer is a
 * known status, continuations only come from TASK_WAIT and TASK_LIST, a call changes only
 * the registers docs/hypercalls.md says it defines, and whatever the
 * monitor writes into guest memory is well formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform_hosted.h"
#include "hcall/hcall.h"
#include "services/task_calls.h"
#include "task_test_job.h"
#include "taskvisor/hypercall.h"
#include "../common/fuzz_reader.h"
#include "../common/hcall_fixture.h"

#define BASE 0x200000ull
#define ARENA (64 * 1024)

struct fuzz_mem {
    struct hcf_ram ram;
    uint8_t *mem;                /* ram.mem */
    int mapped;
};

static void *m_map(void *ctx, uint64_t gpa, size_t len)
{
    struct fuzz_mem *m = ctx;
    void *p = hcf_at(&m->ram, gpa, len);
    if (p)
        m->mapped++;
    return p;
}

static void m_unmap(void *ctx, void *host, size_t len)
{
    struct fuzz_mem *m = ctx;
    (void)host;
    (void)len;
    m->mapped--;
}

static void m_notify(void *ctx, uint32_t vector)
{
    (void)ctx;
    if (vector < 32 || vector > 255)
        abort();
}

static uint64_t arg_value(struct reader *r, const uint64_t *ids, size_t nids)
{
    switch (take(r, 1) % 9) {
    case 0: return 0;
    case 1: return take(r, 8);
    case 2: return BASE + (take(r, 2) & ~7ull);
    case 3: return BASE + take(r, 2);
    case 4: return nids ? ids[take(r, 1) % nids] : 1;
    case 5: return take(r, 1);
    case 6: return (uint64_t)-1;
    case 7: return take(r, 4);
    default: {
        static const uint64_t sizes[] = { sizeof(struct tv_task_info),
                                          sizeof(struct tv_task_test_spec), 4096,
                                          TASK_CALL_LIST_MAX, 4000000, 0xffffffffull,
                                          BASE + ARENA - 8, BASE + 0x1000 };
        return sizes[take(r, 1) % (sizeof sizes / sizeof sizes[0])];
    }
    }
}

static void *fuzz_state(void *owner, const struct hcall_caller *caller)
{
    (void)caller;
    return owner;
}

/* Registers a call may change (docs/hypercalls.md): RAX (status; kept as
 * the call code by a continuation); RDX (o0) only for QUERY on OK and
 * BUFFER_TOO_SMALL, LIST and TEST_TASK_START on OK; a continuing TASK_WAIT
 * rewrites a1 and a2, a continuing TASK_LIST a0, a1, a2 and a4.  A 32-bit
 * caller's registers stay 32-bit values. */
static void check_registers(uint32_t code, bool wide, enum hcall_action act, tv_status_t st,
                            const struct hcall_regs *in, const struct hcall_regs *out)
{
    bool rdx_ok = (code == TV_HC_TASK_QUERY && (st == TV_OK || st == TV_E_BUFFER_TOO_SMALL)) ||
                  ((code == TV_HC_TASK_LIST || code == TV_HC_TEST_TASK_START) && st == TV_OK);
    struct hcall_regs want = *in;
    if (act == HCALL_CONTINUE) {
        if (out->rax != in->rax)
            abort();
        if (wide) {
            want.rsi = out->rsi;
            want.rdx = out->rdx;
        } else {
            want.rcx = out->rcx;
            want.rdx = out->rdx;
        }
        if (code == TV_HC_TASK_LIST) { /* LIST also rewrites a0 and a4 */
            if (wide) {
                want.rdi = out->rdi;
                want.r8 = out->r8;
            } else {
                want.rbx = out->rbx;
                want.rdi = out->rdi;
            }
        }
    } else {
        want.rax = out->rax;
        if (rdx_ok)
            want.rdx = out->rdx;
    }
    if (memcmp(&want, out, sizeof want) != 0)
        abort();
    if (!wide && (out->rdx >> 32 || out->rcx >> 32))
        abort();
}

static void check_info(const struct tv_task_info *in)
{
    if (in->state >= TV_TASK_STATE_COUNT || in->percent > 100 ||
        in->description[TV_TASK_DESC_MAX - 1] != '\0' ||
        in->error_description[TV_TASK_ERROR_MAX - 1] != '\0' ||
        in->description_len != strlen(in->description) ||
        in->error_description_len != strlen(in->error_description))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_mem m;
    if (!m.mem) {
        hcf_ram_init(&m.ram, BASE, ARENA);
        m.mem = m.ram.mem;
    }
    memset(m.mem, 0, ARENA);
    m.mapped = 0;
    tp_hosted_clock_manual(1000000000ull);

    struct task_mgr *mgr;
    struct task_mgr_config cfg = { .workers = 0, .max_tasks = 32 };
    if (task_mgr_create(&cfg, &mgr) != TV_OK)
        abort();
    struct task_call_state tasks = {
        .mgr = mgr, .wait_slice_ns = 0, .ctx = &m, .map = m_map, .unmap = m_unmap,
        .notify = m_notify,
    };
    struct hcall_section section = { task_calls, TASK_CALL_COUNT, fuzz_state, &tasks };
    struct hcall_table table = { &section, 1 };
    struct hcall_env env = { &table, NULL, NULL };
    struct hcall_caller caller = { .is_control = true, .wide = true, .mem = &m.ram.view };
    uint64_t ids[40];
    size_t nids = 0;
    /* A few tasks in different states to aim at. */
    for (int i = 0; i < 3; i++) {
        struct tv_task_test_spec spec = { .total_units = 3 };
        uint64_t id;
        if (task_test_job_start(mgr, &spec, &id) == TV_OK)
            ids[nids++] = id;
    }
    task_mgr_run_next(mgr);
    task_pause(mgr, ids[1]);

    struct reader r = { data, size };
    for (int calls = 0; r.n && calls < 64; calls++) {
        uint32_t op = (uint32_t)take(&r, 1) % 14;
        if (op == 11) {
            task_mgr_run_next(mgr);
            continue;
        }
        if (op == 12) {
            tp_hosted_clock_advance(take(&r, 4) * 1000000ull);
            continue;
        }
        if (op == 13) { /* the guest scribbles on its memory (ring page too) */
            uint64_t off = take(&r, 2);
            size_t len = (size_t)take(&r, 1);
            for (size_t i = 0; i < len && off + i < ARENA; i++)
                m.mem[off + i] = (uint8_t)take(&r, 1);
            continue;
        }
        uint32_t code;
        if (op <= 7)
            code = TV_HC_TASK_QUERY + op;
        else if (op == 8)
            code = TV_HC_TEST_TASK_START;
        else if (op == 9)
            code = (uint32_t)take(&r, 2);
        else
            code = TV_HC_TASK_WAIT;
        uint64_t args[5];
        for (int i = 0; i < 5; i++)
            args[i] = (take(&r, 1) & 3) ? 0 : arg_value(&r, ids, nids);
        if (op == 8 || (op <= 7 && (take(&r, 1) & 1))) {
            args[0] = op == 8 ? BASE + 0x3000 : args[0];
            args[1] = op == 8 ? sizeof(struct tv_task_test_spec) : args[1];
        }
        if (op == 8) {
            struct tv_task_test_spec spec;
            for (size_t i = 0; i < sizeof spec; i++)
                ((uint8_t *)&spec)[i] = (uint8_t)take(&r, 1);
            memcpy(m.mem + 0x3000, &spec, sizeof spec);
        }
        caller.wide = (take(&r, 1) & 7) != 0;
        struct hcall_regs in = { .rax = code, .rbx = take(&r, 1), .rcx = take(&r, 1),
                                 .rsi = take(&r, 1), .rdi = take(&r, 1), .r8 = take(&r, 1),
                                 .r10 = take(&r, 1) };
        if (!caller.wide)
            for (int i = 0; i < 5; i++)
                args[i] = (uint32_t)args[i];
        hcf_set_args(&in, caller.wide, args);
        struct hcall_regs out = in;
        enum hcall_action act = hcall_dispatch(&env, &caller, &out);
        struct { tv_status_t status; uint64_t out; } res;
        res.status = act == HCALL_CONTINUE ? TV_E_CONTINUE : (tv_status_t)out.rax;
        res.out = out.rdx;
        if (act == HCALL_INJECT_UD)
            abort();
        if (res.status < 0 || res.status >= TV_STATUS_COUNT)
            abort();
        if (res.status == TV_E_CONTINUE && code != TV_HC_TASK_WAIT && code != TV_HC_TASK_LIST)
            abort();
        check_registers(code, caller.wide, act, res.status, &in, &out);
        if (code == TV_HC_TASK_QUERY && res.status == TV_OK) {
            struct tv_task_info info;
            memcpy(&info, m.mem + (args[1] - BASE), sizeof info);
            check_info(&info);
            if (info.id != args[0])
                abort();
        }
        /* o0 = a4 (entries of earlier entries) + what this entry wrote */
        if (code == TV_HC_TASK_LIST && res.status == TV_OK &&
            (res.out < args[4] || res.out - args[4] > args[2]))
            abort();
        if (code == TV_HC_TEST_TASK_START && res.status == TV_OK && nids < 40)
            ids[nids++] = res.out;
    }
    task_calls_release(&tasks);
    if (m.mapped != 0)
        abort(); /* every mapped ring page was unmapped */
    task_mgr_destroy(mgr);
    return 0;
}
