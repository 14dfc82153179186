/* libFuzzer target: the saved-state parser (vmm/services/vm_savefile.c)
 * over arbitrary files.  It must never read outside the file, never hand a
 * sink a record that failed its checks, and give only OK or
 * INCOMPATIBLE_SAVED_STATE.  Memory sizes are capped in the header check,
 * so a file can claim at most 64 GiB; the harness keeps inputs small. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "savefile_build.h"

static tv_status_t f_vcpu(void *ctx, const struct save_vcpu *v)
{
    (void)ctx;
    if (save_vcpu_check(v) != TV_OK)
        abort();
    return TV_OK;
}

static tv_status_t f_dev(void *ctx, const struct save_devices *d)
{
    (void)ctx;
    if (save_devices_check(d) != TV_OK)
        abort();
    return TV_OK;
}

static tv_status_t f_mem(void *ctx, uint64_t gpa, const void *data, size_t len)
{
    uint64_t memory = *(const uint64_t *)ctx;
    (void)data;
    if (gpa >= memory || len > memory - gpa)
        abort();
    return TV_OK;
}

static uint8_t scratch[16384];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct membuf m = { (uint8_t *)data, size, size };
    uint64_t memory = SB_MEMORY;
    struct save_sink sink = { &memory, f_vcpu, NULL, f_dev, f_mem, NULL };
    /* Without and with a compatibility set: a file of any memory size is
     * parsed the first way (the sink checks ranges against 64 GiB then). */
    memory = SAVE_MAX_MEMORY;
    tv_status_t st = save_parse(membuf_read, &m, size, NULL, 0, &sink, scratch, sizeof scratch, NULL);
    if (st != TV_OK && st != TV_E_INCOMPATIBLE_SAVED_STATE)
        abort();
    memory = SB_MEMORY;
    st = save_parse(membuf_read, &m, size, &sb_compat, 0, &sink, scratch, sizeof scratch, NULL);
    if (st != TV_OK && st != TV_E_INCOMPATIBLE_SAVED_STATE)
        abort();
    return 0;
}
