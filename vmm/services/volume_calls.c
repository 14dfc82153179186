/* The image store hypercalls: see volume_calls.h. */
#include "services/volume_calls.h"
#include "services/disk_ops.h"
#include "task/task_platform.h"
#include "taskvisor/hypercall.h"
#include "tv_string.h"

enum phase { IDLE, QUEUED, RUNNING, DONE };

#define OUT_MAX (DIR_LIST_MAX * sizeof(struct tv_dir_entry))

struct volume_call_state {
    struct tp_lock *lock;
    struct tp_waitq *wq;
    struct tp_thread *worker;
    struct store *store;
    struct store *(*ready)(void *ctx);
    void *ctx;
    bool (*interrupt_pending)(uint32_t partition_id);
    uint64_t wait_slice_ns;
    bool stop, serving, unmount, unmounted;
    tv_status_t unmount_status;
    /* the request slot */
    enum phase phase;
    uint32_t code;
    uint64_t args[HCALL_NARGS];
    char path[STORE_PATH_MAX];
    tv_status_t status;
    uint64_t outs[1];
    size_t out_len;
    union {
        struct tv_volume_info vols[VOLUME_LIST_MAX];
        struct tv_dir_entry ents[DIR_LIST_MAX];
        struct tv_disk_info disk;
        uint8_t bytes[OUT_MAX];
    } out;
};


/* ---- The worker ---------------------------------------------------------- */

static void run_request(struct volume_call_state *st)
{
    const uint64_t *a = st->args;
    struct store *s = st->store;
    st->out_len = 0;
    st->outs[0] = 0;
    switch (st->code) {
    case TV_HC_VOLUME_LIST: {
        unsigned n = store_count(s), first = (unsigned)a[0], w = 0;
        st->status = TV_OK;
        for (unsigned i = first; i < n && w < a[2]; i++, w++) {
            tv_status_t r = store_info(s, i, &st->out.vols[w]);
            if (r != TV_OK) {
                st->status = r;
                break;
            }
        }
        st->outs[0] = n;
        st->out_len = w * sizeof(struct tv_volume_info);
        break;
    }
    case TV_HC_DIR_LIST: {
        unsigned idx;
        const char *inner;
        uint32_t got = 0;
        uint64_t next = 0;
        st->status = store_resolve(s, st->path, &idx, &inner);
        if (st->status == TV_OK)
            st->status = store_list_dir(s, idx, inner, a[4], st->out.ents, (uint32_t)a[3], &got,
                                        &next);
        (void)next;
        st->outs[0] = got;
        st->out_len = got * sizeof(struct tv_dir_entry);
        break;
    }
    case TV_HC_DISK_INFO:
        st->status = store_disk_info(s, st->path, &st->out.disk);
        st->outs[0] = sizeof(struct tv_disk_info);
        st->out_len = st->status == TV_OK ? sizeof(struct tv_disk_info) : 0;
        break;
    case TV_HC_DIR_CREATE: {
        /* The disk calls' path rules (disk_path.c): a folder name follows
         * those of image names (without the .vhd). */
        char field[TV_DISK_PATH_MAX];
        size_t n = tv_strlen(st->path);
        tv_memset(field, 0, sizeof field);
        if (n >= sizeof field) {
            st->status = TV_E_BAD_PATH;
            break;
        }
        tv_memcpy(field, st->path, n);
        st->status = disk_path_check(field, false);
        if (st->status == TV_OK)
            st->status = store_mkdir(s, field);
        break;
    }
    default:
        st->status = TV_E_UNKNOWN_CALL;
    }
}

static void worker(void *arg)
{
    struct volume_call_state *st = arg;
    if (st->ready) {
        struct store *s = st->ready(st->ctx);
        tp_lock_acquire(st->lock);
        st->store = s;
        tp_lock_release(st->lock);
    }
    tp_lock_acquire(st->lock);
    st->serving = true;
    tp_waitq_wake_all(st->wq);
    for (;;) {
        while (!st->stop && st->phase != QUEUED && !(st->unmount && !st->unmounted))
            tp_waitq_wait(st->wq, st->lock, UINT64_MAX);
        if (st->stop)
            break;
        if (st->unmount && !st->unmounted) {
            /* Clean unmount before power-off; later calls find no volumes. */
            struct store *s = st->store;
            st->store = 0;
            tp_lock_release(st->lock);
            tv_status_t r = store_destroy(s);
            tp_lock_acquire(st->lock);
            st->unmount_status = r;
            st->unmounted = true;
            tp_waitq_wake_all(st->wq);
            continue;
        }
        st->phase = RUNNING;
        tp_lock_release(st->lock);
        run_request(st);
        tp_lock_acquire(st->lock);
        st->phase = DONE;
        tp_waitq_wake_all(st->wq);
    }
    tp_lock_release(st->lock);
}

tv_status_t volume_calls_start(struct store *store, struct store *(*ready)(void *ctx), void *ctx,
                               uint64_t wait_slice_ns, bool (*interrupt_pending)(uint32_t partition_id),
                               struct volume_call_state **out)
{
    struct volume_call_state *st = tp_alloc(sizeof *st);
    if (!st)
        return TV_E_NO_MEMORY;
    st->store = store;
    st->ready = ready;
    st->ctx = ctx;
    st->wait_slice_ns = wait_slice_ns;
    st->interrupt_pending = interrupt_pending;
    tv_status_t s = tp_lock_create(&st->lock);
    if (s == TV_OK)
        s = tp_waitq_create(&st->wq);
    if (s == TV_OK)
        s = tp_thread_start(&st->worker, worker, st, "image-store");
    if (s != TV_OK) {
        if (st->wq)
            tp_waitq_destroy(st->wq);
        if (st->lock)
            tp_lock_destroy(st->lock);
        tp_free(st);
        return s;
    }
    *out = st;
    return TV_OK;
}

void volume_calls_stop(struct volume_call_state *st)
{
    tp_lock_acquire(st->lock);
    st->stop = true;
    tp_waitq_wake_all(st->wq);
    tp_lock_release(st->lock);
    tp_thread_join(st->worker);
    tp_waitq_destroy(st->wq);
    tp_lock_destroy(st->lock);
    tp_free(st);
}

tv_status_t volume_calls_unmount(struct volume_call_state *st, uint64_t timeout_ns)
{
    uint64_t now = tp_now_ns();
    uint64_t end = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
    tp_lock_acquire(st->lock);
    st->unmount = true;
    tp_waitq_wake_all(st->wq);
    while (!st->unmounted && tp_now_ns() < end)
        tp_waitq_wait(st->wq, st->lock, end);
    tv_status_t r = st->unmounted ? st->unmount_status : TV_E_TIMEOUT;
    tp_lock_release(st->lock);
    return r;
}

struct store *volume_calls_store(struct volume_call_state *st)
{
    tp_lock_acquire(st->lock);
    struct store *s = st->serving ? st->store : 0;
    tp_lock_release(st->lock);
    return s;
}

/* ---- The calls ----------------------------------------------------------- */

static bool same_request(const struct volume_call_state *st, uint32_t code, const uint64_t *a)
{
    if (st->code != code)
        return false;
    for (unsigned i = 0; i < HCALL_NARGS; i++)
        if (st->args[i] != a[i])
            return false;
    return true;
}

/* Queues (first entry) or finds (re-entry) the request, waits at most a
 * slice; TV_OK with the slot DONE and the lock held, TV_E_CONTINUE without
 * it.  path_gpa/len: 0 when the call has no path. */
static tv_status_t submit(struct hcall_ctx *ctx, uint32_t code, uint64_t path_gpa,
                          uint64_t path_len)
{
    struct volume_call_state *st = ctx->host;
    const uint64_t *a = ctx->arg;
    uint64_t now = tp_now_ns();
    uint64_t end = st->wait_slice_ns > UINT64_MAX - now ? UINT64_MAX : now + st->wait_slice_ns;
    bool may_wait = st->wait_slice_ns &&
                    !(st->interrupt_pending && st->interrupt_pending(ctx->caller->partition_id));
    tp_lock_acquire(st->lock);
    for (;;) {
        if (st->phase == IDLE && st->serving) {
            st->code = code;
            tv_memcpy(st->args, a, sizeof st->args);
            st->path[0] = 0;
            if (path_len) {
                tv_status_t r = guest_mem_read(ctx->caller->mem, path_gpa, st->path, path_len);
                st->path[path_len] = 0;
                if (r != TV_OK || tv_strlen(st->path) != path_len) {
                    tp_lock_release(st->lock);
                    return TV_E_INVALID_ARGUMENT;   /* unreadable, or a NUL inside */
                }
            }
            st->phase = QUEUED;
            tp_waitq_wake_all(st->wq);
        } else if (st->phase == DONE) {
            if (same_request(st, code, a))
                return TV_OK;              /* lock held: the caller takes the result */
            st->phase = IDLE;              /* an abandoned request: drop its result */
            continue;
        }
        if (!may_wait || tp_now_ns() >= end)
            break;
        tp_waitq_wait(st->wq, st->lock, end);
    }
    tp_lock_release(st->lock);
    return TV_E_CONTINUE;
}

/* Copies the finished request's results out and frees the slot. */
static tv_status_t finish(struct hcall_ctx *ctx, uint64_t buf_gpa, unsigned nouts)
{
    struct volume_call_state *st = ctx->host;
    tv_status_t s = st->status;
    if ((s == TV_OK || s == TV_E_BUFFER_TOO_SMALL) && st->out_len)
        s = guest_mem_write(ctx->caller->mem, buf_gpa, st->out.bytes, st->out_len) == TV_OK
                ? s
                : TV_E_FAULT;
    if (s == TV_OK) {
        for (unsigned i = 0; i < nouts; i++)
            ctx->out[i] = st->outs[i];
        ctx->out_mask = (1u << nouts) - 1;
    }
    st->phase = IDLE;
    tp_lock_release(st->lock);
    return s;
}

static bool path_args_ok(struct hcall_ctx *ctx, uint64_t gpa, uint64_t len)
{
    return gpa && len && len < STORE_PATH_MAX && guest_mem_check(ctx->caller->mem, gpa, len) == TV_OK;
}

/* VOLUME_LIST a0 first index, a1 buffer gpa (8-aligned), a2 capacity in
 * records (<= VOLUME_LIST_MAX); o0 = volumes in all (records written:
 * min(capacity, total - first)). */
static tv_status_t hc_volume_list(struct hcall_ctx *ctx)
{
    const uint64_t *a = ctx->arg;
    if (!rest_zero(a, 3) || a[2] > VOLUME_LIST_MAX || a[0] > STORE_MAX_VOLUMES ||
        (a[2] && (a[1] == 0 || (a[1] & 7))))
        return TV_E_INVALID_ARGUMENT;
    if (a[2] && guest_mem_check(ctx->caller->mem, a[1], a[2] * sizeof(struct tv_volume_info)) != TV_OK)
        return TV_E_INVALID_ARGUMENT;
    tv_status_t s = submit(ctx, TV_HC_VOLUME_LIST, 0, 0);
    return s == TV_OK ? finish(ctx, a[1], 1) : s;
}

/* DIR_LIST a0 path gpa, a1 path length (no NUL, < STORE_PATH_MAX), a2 buffer
 * gpa (8-aligned), a3 capacity in entries (1..DIR_LIST_MAX), a4 cursor (the
 * index of the first entry wanted, 0 = from the start); o0 = entries
 * written.  Fewer than the capacity: the directory ends there; otherwise
 * the next call starts at cursor + written. */
static tv_status_t hc_dir_list(struct hcall_ctx *ctx)
{
    const uint64_t *a = ctx->arg;
    if (!path_args_ok(ctx, a[0], a[1]) || a[3] == 0 || a[3] > DIR_LIST_MAX || a[2] == 0 ||
        (a[2] & 7) ||
        guest_mem_check(ctx->caller->mem, a[2], a[3] * sizeof(struct tv_dir_entry)) != TV_OK)
        return TV_E_INVALID_ARGUMENT;
    tv_status_t s = submit(ctx, TV_HC_DIR_LIST, a[0], a[1]);
    return s == TV_OK ? finish(ctx, a[2], 1) : s;
}

/* DISK_INFO a0 path gpa, a1 path length, a2 buffer gpa (8-aligned), a3
 * buffer size; o0 = record size (OK and BUFFER_TOO_SMALL). */
static tv_status_t hc_disk_info(struct hcall_ctx *ctx)
{
    const uint64_t *a = ctx->arg;
    if (!path_args_ok(ctx, a[0], a[1]) || a[4] || a[2] == 0 || (a[2] & 7))
        return TV_E_INVALID_ARGUMENT;
    uint64_t span = a[3] < sizeof(struct tv_disk_info) ? a[3] : sizeof(struct tv_disk_info);
    if (guest_mem_check(ctx->caller->mem, a[2], span ? span : 1) != TV_OK)
        return TV_E_INVALID_ARGUMENT;
    if (a[3] < sizeof(struct tv_disk_info)) {
        set_out0(ctx, sizeof(struct tv_disk_info));
        return TV_E_BUFFER_TOO_SMALL;
    }
    tv_status_t s = submit(ctx, TV_HC_DISK_INFO, a[0], a[1]);
    return s == TV_OK ? finish(ctx, a[2], 1) : s;
}

/* DIR_CREATE a0 path gpa, a1 path length, a2-a4 reserved (0): makes one
 * folder (its parent must exist).  No outputs. */
static tv_status_t hc_dir_create(struct hcall_ctx *ctx)
{
    const uint64_t *a = ctx->arg;
    if (!path_args_ok(ctx, a[0], a[1]) || a[2] || a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    tv_status_t s = submit(ctx, TV_HC_DIR_CREATE, a[0], a[1]);
    return s == TV_OK ? finish(ctx, 0, 0) : s;
}

const struct hcall_desc volume_calls[VOLUME_CALL_COUNT] = {
    { TV_HC_VOLUME_LIST, "VOLUME_LIST", HCALL_F_MGMT, hc_volume_list },
    { TV_HC_DIR_LIST, "DIR_LIST", HCALL_F_MGMT, hc_dir_list },
    { TV_HC_DISK_INFO, "DISK_INFO", HCALL_F_MGMT, hc_disk_info },
    { TV_HC_DIR_CREATE, "DIR_CREATE", HCALL_F_MGMT, hc_dir_create },
};
