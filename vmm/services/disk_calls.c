/* DISK_START: decode and check the call, copy the argument record once into
 * monitor memory (no double fetch), start the task through the registry.
 * The record's own checks are the type's prepare (disk_ops.c). */
#include "services/disk_calls.h"
#include "services/disk_ops.h"
#include "taskvisor/disk.h"
#include "taskvisor/hypercall.h"

union disk_record {
    struct tv_disk_create_args create;
    struct tv_disk_create_diff_args diff;
    struct tv_disk_image_args image;
    struct tv_disk_copy_args copy;
};

/* DISK_START a0 task type, a1 record gpa (8-aligned, non-zero), a2 record
 * size (exactly the type's), a3 = a4 = 0.  o0 = the new task id (OK only). */
static tv_status_t hc_disk_start(struct hcall_ctx *ctx)
{
    const struct disk_call_state *st = ctx->host;
    const uint64_t *a = ctx->arg;
    size_t size = 0;
    if (!rest_zero(a, 3) || a[0] > UINT32_MAX || !disk_ops_startable((uint32_t)a[0], &size) ||
        a[2] != size || size > sizeof(union disk_record) || a[1] == 0 || (a[1] & 7u))
        return TV_E_INVALID_ARGUMENT;
    if (!st || !st->types || !st->mgr)
        return TV_E_UNSUPPORTED;
    if (guest_mem_check(ctx->caller->mem, a[1], size) != TV_OK)
        return TV_E_INVALID_ARGUMENT;
    union disk_record rec;
    tv_status_t s = guest_mem_read(ctx->caller->mem, a[1], &rec, size);
    if (s != TV_OK)
        return s;
    uint64_t id = 0;
    s = task_types_start(st->types, st->mgr, (uint32_t)a[0], &rec, size, &id);
    if (s == TV_OK)
        set_out0(ctx, id);
    return s;
}

const struct hcall_desc disk_calls[DISK_CALL_COUNT] = {
    { TV_HC_DISK_START, "DISK_START", HCALL_F_MGMT, hc_disk_start },
};

void *disk_calls_state(void *owner, const struct hcall_caller *caller)
{
    (void)caller;
    return owner;
}
