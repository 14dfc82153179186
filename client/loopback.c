/* Loopback transport: see loopback.h. */
#include <stdlib.h>
#include <string.h>

#include "loopback.h"
#include "hcall/hcall.h"
#include "services/task_calls.h"

struct tv_loopback {
    struct tv_transport transport;
    struct task_call_state tasks;
    struct guest_mem_range ram;
    struct guest_mem_view view;
    struct hcall_section sections[4];   /* the task calls, then any added */
    struct hcall_table table;
    unsigned char *arena;
    size_t arena_size;
    size_t arena_used;   /* bump allocator */
    _Atomic uint64_t calls, continuations, notifications;
    _Atomic uint32_t last_vector;
};

/* [gpa, gpa+len) inside the arena?  Written to survive wrap-around. */
static unsigned char *arena_ptr(struct tv_loopback *lb, uint64_t gpa, size_t len)
{
    if (gpa < TV_LOOPBACK_GPA_BASE)
        return NULL;
    uint64_t off = gpa - TV_LOOPBACK_GPA_BASE;
    if (off > lb->arena_size || len > lb->arena_size - off)
        return NULL;
    return lb->arena + off;
}

/* Called only for ranges guest_mem_check() accepted. */
static tv_status_t mem_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    unsigned char *p = arena_ptr(ctx, gpa, len);
    if (!p)
        return TV_E_INVALID_ARGUMENT;
    memcpy(dst, p, len);
    return TV_OK;
}

static tv_status_t mem_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    unsigned char *p = arena_ptr(ctx, gpa, len);
    if (!p)
        return TV_E_INVALID_ARGUMENT;
    memcpy(p, src, len);
    return TV_OK;
}

static void *mem_map(void *ctx, uint64_t gpa, size_t len)
{
    return arena_ptr(ctx, gpa, len);
}

static void mem_unmap(void *ctx, void *host, size_t len)
{
    (void)ctx;
    (void)host;
    (void)len;
}

static void notify(void *ctx, uint32_t vector)
{
    struct tv_loopback *lb = ctx;
    lb->notifications++;
    lb->last_vector = vector;
}

static void *task_state(void *owner, const struct hcall_caller *caller)
{
    (void)caller;
    struct tv_loopback *lb = owner;
    return &lb->tasks;
}

/* One call as the monitor makes it: the same dispatcher and permission
 * checks, a 64-bit CPL0 control-partition caller, registers in and out. */
static tv_status_t lb_call(void *ctx, uint32_t code, const uint64_t args[5], uint64_t *out)
{
    struct tv_loopback *lb = ctx;
    struct hcall_caller caller = {
        .partition_id = 0, .is_control = true, .cpl = 0, .wide = true, .mem = &lb->view,
    };
    struct hcall_env env = { &lb->table, NULL, NULL };
    struct hcall_regs r = { .rax = code, .rdi = args[0], .rsi = args[1], .rdx = args[2],
                            .r10 = args[3], .r8 = args[4] };
    lb->calls++;
    for (;;) {
        enum hcall_action act = hcall_dispatch(&env, &caller, &r);
        if (act != HCALL_CONTINUE)
            break;
        /* What the CPU does: RIP not advanced, the call runs again with the
         * registers the monitor rewrote. */
        lb->continuations++;
    }
    *out = r.rdx;
    return (tv_status_t)r.rax;
}

static void *lb_shared_alloc(void *ctx, size_t size, size_t align, uint64_t *gpa_out)
{
    struct tv_loopback *lb = ctx;
    if (align == 0 || (align & (align - 1)))
        return NULL;
    size_t start = (lb->arena_used + align - 1) & ~(align - 1);
    if (start > lb->arena_size || size > lb->arena_size - start)
        return NULL;
    lb->arena_used = start + size;
    memset(lb->arena + start, 0, size);
    *gpa_out = TV_LOOPBACK_GPA_BASE + start;
    return lb->arena + start;
}

static void lb_shared_free(void *ctx, void *ptr, size_t size)
{
    /* Bump allocator: only the most recent block is really returned. */
    struct tv_loopback *lb = ctx;
    if ((unsigned char *)ptr + size == lb->arena + lb->arena_used)
        lb->arena_used -= size;
}

tv_status_t tv_loopback_create(struct task_mgr *mgr, size_t arena_size, uint64_t wait_slice_ns,
                               struct tv_loopback **out)
{
    if (!mgr || arena_size == 0 || arena_size % 4096)
        return TV_E_INVALID_ARGUMENT;
    struct tv_loopback *lb = calloc(1, sizeof *lb);
    if (!lb)
        return TV_E_NO_MEMORY;
    lb->arena = aligned_alloc(4096, arena_size);
    if (!lb->arena) {
        free(lb);
        return TV_E_NO_MEMORY;
    }
    memset(lb->arena, 0, arena_size);
    lb->arena_size = arena_size;
    lb->tasks.mgr = mgr;
    lb->tasks.wait_slice_ns = wait_slice_ns;
    lb->tasks.ctx = lb;
    lb->tasks.map = mem_map;
    lb->tasks.unmap = mem_unmap;
    lb->tasks.notify = notify;
    lb->tasks.interrupt_pending = NULL; /* no virtual CPU here */
    lb->ram = (struct guest_mem_range){ TV_LOOPBACK_GPA_BASE, arena_size };
    lb->view = (struct guest_mem_view){ &lb->ram, 1, lb, mem_read, mem_write };
    lb->sections[0] = (struct hcall_section){ task_calls, TASK_CALL_COUNT, task_state, lb };
    lb->table = (struct hcall_table){ lb->sections, 1 };
    lb->transport.ctx = lb;
    lb->transport.call = lb_call;
    lb->transport.shared_alloc = lb_shared_alloc;
    lb->transport.shared_free = lb_shared_free;
    lb->transport.events_pull = NULL; /* the monitor code writes the ring itself */
    *out = lb;
    return TV_OK;
}

void tv_loopback_destroy(struct tv_loopback *lb)
{
    if (!lb)
        return;
    task_calls_release(&lb->tasks);
    free(lb->arena);
    free(lb);
}

tv_status_t tv_loopback_add_section(struct tv_loopback *lb, const struct hcall_section *sec)
{
    if (lb->table.nsections >= sizeof lb->sections / sizeof lb->sections[0])
        return TV_E_LIMIT;
    lb->sections[lb->table.nsections] = *sec;
    struct hcall_table t = { lb->sections, lb->table.nsections + 1 };
    tv_status_t st = hcall_table_check(&t, NULL);
    if (st == TV_OK)
        lb->table.nsections++;
    return st;
}

const struct tv_transport *tv_loopback_transport(struct tv_loopback *lb)
{
    return &lb->transport;
}

void tv_loopback_stats(struct tv_loopback *lb, struct tv_loopback_stats *out)
{
    out->calls = lb->calls;
    out->continuations = lb->continuations;
    out->notifications = lb->notifications;
    out->last_vector = lb->last_vector;
}
