#include "services/task_service.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "vm/partition.h"
#include "mm/mm.h"
#include "services/task_calls.h"
#include "vm/hypercall.h"
#include "task/task_mgr.h"
#include "task/task_test_job.h"
#include "tv_string.h"

static struct task_mgr *mgr;
static struct task_types types;
static struct task_call_state states[MAX_PARTITIONS];
static uint64_t wait_slice_ns;

static tv_status_t task_mgr_start(const char *options)
{
    struct task_mgr_config cfg = {
        .workers = (uint32_t)option_get_u64(options, "task_workers", 2),
        .max_running = (uint32_t)option_get_u64(options, "task_max_running", 0),
        .max_tasks = (uint32_t)option_get_u64(options, "task_max", 0),
        .retention_ns = option_get_u64(options, "task_retention_s", 300) * 1000000000ull,
    };
    /* Ranges are checked once at boot (monitor_options in kernel/options.c):
     * a bad value refuses the boot instead of becoming a default here. */
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
    if (!guest_range_ok(p, gpa, len) || gpa / GUEST_CHUNK != (gpa + len - 1) / GUEST_CHUNK ||
        guest_ram_prepare(p, gpa, len) != TV_OK)
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

/* The task calls' state for the calling partition, set up on its first call. */
static void *caller_state(void *owner, const struct hcall_caller *caller)
{
    (void)owner;
    struct partition *p = partition_by_id(caller->partition_id);
    if (!p || !mgr)
        return 0;
    struct task_call_state *st = &states[p->id];
    if (!st->mgr) {
        st->mgr = mgr;
        st->types = &types;
        st->wait_slice_ns = wait_slice_ns;
        st->ctx = p;
        st->map = mem_map;
        st->unmap = mem_unmap;
        st->notify = notify;
        st->interrupt_pending = interrupt_pending;
    }
    return st;
}

/* A stopped partition's event ring is unregistered: its RAM is going away. */
static void partition_stopped_listener(struct partition *p)
{
    struct task_call_state *st = &states[p->id];
    if (st->mgr)
        task_calls_release(st);
}

tv_status_t task_service_init(const char *options)
{
    tv_status_t st = task_mgr_start(options);
    if (st != TV_OK)
        return st;
    task_types_init(&types);
#ifdef TV_TEST_BUILD
    /* TEST_TASK_START exists only in test builds; so does its type. */
    st = task_types_add(&types, &task_test_type);
    if (st != TV_OK)
        return st;
#endif
    static const struct hcall_section section = {
        task_calls, TASK_CALL_COUNT, caller_state, 0,
    };
    st = hypercall_add_section(&section);
    if (st == TV_OK)
        st = partition_add_stop_listener(partition_stopped_listener);
    return st;
}

struct task_mgr *task_service_mgr(void)
{
    return mgr;
}

struct task_types *task_service_types(void)
{
    return mgr ? &types : NULL;
}
