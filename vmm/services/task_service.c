#include "services/task_service.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "vm/partition.h"
#include "mm/mm.h"
#include "task/task_hcall.h"
#include "task/task_mgr.h"
#include "tv_string.h"

static struct task_mgr *mgr;
static struct task_hcall_ctx hctx[MAX_PARTITIONS];
static uint64_t wait_slice_ns;

tv_status_t task_service_init(const char *options)
{
    struct task_mgr_config cfg = {
        .workers = (uint32_t)option_get_u64(options, "task_workers", 2),
        .max_running = (uint32_t)option_get_u64(options, "task_max_running", 0),
        .max_tasks = (uint32_t)option_get_u64(options, "task_max", 0),
        .retention_ns = option_get_u64(options, "task_retention_s", 300) * 1000000000ull,
    };
    if (cfg.workers == 0 || cfg.workers > 16)
        cfg.workers = 2;
    /* TASK_WAIT blocks a vCPU for at most this long per entry, then returns
     * to the guest without advancing RIP (continuation). */
    wait_slice_ns = option_get_u64(options, "task_wait_slice_us", 1000) * 1000ull;
    tv_status_t st = task_mgr_create(&cfg, &mgr);
    if (st == TV_OK)
        log_info("tasks: %u workers, wait slice %llu us, retention %llu s", cfg.workers,
                 (unsigned long long)(wait_slice_ns / 1000),
                 (unsigned long long)(cfg.retention_ns / 1000000000ull));
    return st;
}

/* The event ring must lie in one host-contiguous piece of guest RAM. */
static void *mem_map(void *ctx, uint64_t gpa, size_t len)
{
    struct partition *p = ctx;
    if (!guest_range_ok(p, gpa, len) || gpa / GUEST_CHUNK != (gpa + len - 1) / GUEST_CHUNK)
        return 0;
    return phys_to_virt(p->chunks[gpa / GUEST_CHUNK] + gpa % GUEST_CHUNK);
}

static void mem_unmap(void *ctx, void *host, size_t len)
{
    (void)ctx; (void)host; (void)len; /* guest RAM stays mapped for the partition's life */
}

static void notify(void *ctx, uint32_t vector)
{
    struct partition *p = ctx;
    if (vector >= 16 && vector <= 255)
        vcpu_post_interrupt(&p->vcpu, (uint8_t)vector);
}

/* Called on the vCPU's own thread during TASK_WAIT: an interrupt waiting for
 * the guest ends the wait step at once (the call continues after it). */
static bool interrupt_pending(void *ctx)
{
    struct partition *p = ctx;
    struct vcpu *v = &p->vcpu;
    for (int w = 0; w < 4; w++)
        if (__atomic_load_n(&v->posted_irr[w], __ATOMIC_RELAXED))
            return true;
    return v->apic.timer_fired || vapic_pending_vector(&v->apic) >= 0;
}

static struct task_hcall_ctx *ctx_for(struct partition *p)
{
    struct task_hcall_ctx *hc = &hctx[p->id];
    if (!hc->mgr) {
        hc->mgr = mgr;
        hc->mem.ctx = p;
        hc->mem.read = guest_read_cb;   /* bounded to the caller's RAM */
        hc->mem.write = guest_write_cb;
        hc->mem.map = mem_map;
        hc->mem.unmap = mem_unmap;
        hc->mem.notify = notify;
        hc->mem.interrupt_pending = interrupt_pending;
        hc->wait_slice_ns = wait_slice_ns;
#ifdef TV_TEST_BUILD
        hc->test_calls = true;
#endif
    }
    return hc;
}

static tv_status_t task_call(struct hcall_ctx *ctx, uint32_t code)
{
    struct vcpu *v = ctx->host;
    if (!mgr)
        return TV_E_UNSUPPORTED;
    struct task_hcall_result res;
    tv_memset(&res, 0, sizeof res);
    task_hcall(ctx_for(v->part), code, ctx->arg, &res);
    ctx->out[0] = res.out;
    ctx->out_mask = 1;
    if (res.status == TV_E_CONTINUE) {
        for (int i = 0; i < HCALL_NARGS; i++)
            ctx->arg[i] = res.args[i];
        ctx->arg_update_mask = (1u << HCALL_NARGS) - 1;
    }
    return res.status;
}

#define TASK_HANDLER(fn, code) \
    static tv_status_t fn(struct hcall_ctx *ctx) { return task_call(ctx, code); }
TASK_HANDLER(hc_task_query, TV_HC_TASK_QUERY)
TASK_HANDLER(hc_task_list, TV_HC_TASK_LIST)
TASK_HANDLER(hc_task_cancel, TV_HC_TASK_CANCEL)
TASK_HANDLER(hc_task_pause, TV_HC_TASK_PAUSE)
TASK_HANDLER(hc_task_resume, TV_HC_TASK_RESUME)
TASK_HANDLER(hc_task_dismiss, TV_HC_TASK_DISMISS)
TASK_HANDLER(hc_task_wait, TV_HC_TASK_WAIT)
TASK_HANDLER(hc_task_events, TV_HC_TASK_EVENTS_REGISTER)
TASK_HANDLER(hc_test_task_start, TV_HC_TEST_TASK_START)

static const struct hcall_desc task_calls[] = {
    { TV_HC_TASK_QUERY, "TASK_QUERY", HCALL_F_MGMT, hc_task_query },
    { TV_HC_TASK_LIST, "TASK_LIST", HCALL_F_MGMT, hc_task_list },
    { TV_HC_TASK_CANCEL, "TASK_CANCEL", HCALL_F_MGMT, hc_task_cancel },
    { TV_HC_TASK_PAUSE, "TASK_PAUSE", HCALL_F_MGMT, hc_task_pause },
    { TV_HC_TASK_RESUME, "TASK_RESUME", HCALL_F_MGMT, hc_task_resume },
    { TV_HC_TASK_DISMISS, "TASK_DISMISS", HCALL_F_MGMT, hc_task_dismiss },
    { TV_HC_TASK_WAIT, "TASK_WAIT", HCALL_F_MGMT, hc_task_wait },
    { TV_HC_TASK_EVENTS_REGISTER, "TASK_EVENTS_REGISTER", HCALL_F_MGMT, hc_task_events },
    /* Present only in test builds: the dispatcher answers UNKNOWN_CALL otherwise. */
    { TV_HC_TEST_TASK_START, "TEST_TASK_START", HCALL_F_MGMT | HCALL_F_TEST_ONLY, hc_test_task_start },
};

const struct hcall_section task_hcall_section = {
    task_calls, sizeof task_calls / sizeof task_calls[0],
};

void task_service_partition_stopped(struct partition *p)
{
    struct task_hcall_ctx *hc = &hctx[p->id];
    if (hc->mgr)
        task_hcall_release(hc);
}
