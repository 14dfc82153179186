/* Platform hypercalls: NOP, GET_VERSION, PARTITION_LIST, POWER_OFF. */
#include "hcall.h"
#include "tv_string.h"

static tv_status_t hc_nop(struct hcall_ctx *ctx)
{
    (void)ctx;
    return TV_OK;
}

void hcall_version_outputs(const struct hcall_services *svc, uint64_t out[2])
{
    uint32_t features = 0;
    if (svc && svc->features)
        features = svc->features(svc->ctx);
    if (hcall_test_build)
        features |= TV_FEAT_TEST_CALLS;
    else
        features &= ~TV_FEAT_TEST_CALLS;
    out[0] = ((uint64_t)TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR;
    out[1] = features;
}

/* Out: o0 (RDX) = major<<16 | minor, o1 (RSI) = TV_FEAT_* bits. */
static tv_status_t hc_get_version(struct hcall_ctx *ctx)
{
    hcall_version_outputs(ctx->svc, ctx->out);
    ctx->out_mask = 3;
    return TV_OK;
}

/* In: a0 = buffer gpa (8-byte aligned), a1 = capacity in records; a2..a4
 * reserved (zero).
 * Out: o0 (RDX) = number of partitions (also on BUFFER_TOO_SMALL).
 * The whole claimed buffer must be caller RAM even when fewer records are
 * written, so a bad pointer fails the same way whatever the count is. */
static tv_status_t hc_partition_list(struct hcall_ctx *ctx)
{
    const struct hcall_services *svc = ctx->svc;
    uint64_t gpa = ctx->arg[0], capacity = ctx->arg[1], bytes;

    if (!rest_zero(ctx->arg, 2))
        return TV_E_INVALID_ARGUMENT;
    if (!svc || !svc->partition_count || !svc->partition_get)
        return TV_E_UNSUPPORTED;
    if (capacity != 0) {
        if (gpa & 7)
            return TV_E_INVALID_ARGUMENT;
        if (!guest_mem_array_bytes(capacity, TV_PARTITION_RECORD_SIZE, &bytes))
            return TV_E_INVALID_ARGUMENT;
        tv_status_t st = guest_mem_check(ctx->caller->mem, gpa, bytes);
        if (st != TV_OK)
            return st;
    }

    uint32_t count = svc->partition_count(svc->ctx);
    set_out0(ctx, count);
    if (count > capacity)
        return TV_E_BUFFER_TOO_SMALL;

    for (uint32_t i = 0; i < count; i++) {
        struct tv_partition_record rec;
        tv_memset(&rec, 0, sizeof rec);
        tv_status_t st = svc->partition_get(svc->ctx, i, &rec);
        if (st != TV_OK)
            return st;
        /* Never leak stale bytes: terminate and pad the name. */
        rec.name[TV_PARTITION_NAME_LEN - 1] = '\0';
        size_t n = tv_strlen(rec.name);
        tv_memset(rec.name + n, 0, TV_PARTITION_NAME_LEN - n);
        rec.reserved0 = 0;
        if (rec.id == ctx->caller->partition_id)
            rec.flags |= TV_PARTITION_F_SELF;
        else
            rec.flags &= ~TV_PARTITION_F_SELF;
        st = guest_mem_write(ctx->caller->mem, gpa + (uint64_t)i * TV_PARTITION_RECORD_SIZE,
                             &rec, sizeof rec);
        if (st != TV_OK)
            return st;
    }
    return TV_OK;
}

/* No arguments (all must be zero); returns only when the machine could not
 * be turned off. */
static tv_status_t hc_power_off(struct hcall_ctx *ctx)
{
    if (!rest_zero(ctx->arg, 0))
        return TV_E_INVALID_ARGUMENT;
    if (!ctx->svc || !ctx->svc->power_off)
        return TV_E_UNSUPPORTED;
    return ctx->svc->power_off(ctx->svc->ctx);
}

static const struct hcall_desc platform_calls[] = {
    { TV_HC_NOP,            "NOP",            0,            hc_nop },
    { TV_HC_GET_VERSION,    "GET_VERSION",    0,            hc_get_version },
    { TV_HC_PARTITION_LIST, "PARTITION_LIST", HCALL_F_MGMT, hc_partition_list },
    { TV_HC_POWER_OFF, "POWER_OFF", HCALL_F_MGMT, hc_power_off },
};

const struct hcall_section hcall_platform_section = {
    platform_calls, sizeof platform_calls / sizeof platform_calls[0], 0, 0
};
