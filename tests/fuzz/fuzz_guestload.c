/* libFuzzer target: guest image plan + load into a bounded fake guest memory.
 * Any write outside the guest, over the boot-info area from a segment, or a
 * plan that fails its own validation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guestload/guestload.h"

#define FUZZ_MEM (4u << 20)
static uint8_t *gmem;

static tv_status_t w_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    (void)ctx;
    if (gpa > FUZZ_MEM || len > FUZZ_MEM - gpa)
        abort();
    memcpy(gmem + gpa, src, len);
    return TV_OK;
}

static tv_status_t w_zero(void *ctx, uint64_t gpa, uint64_t len)
{
    (void)ctx;
    if (gpa > FUZZ_MEM || len > FUZZ_MEM - gpa)
        abort();
    memset(gmem + gpa, 0, len);
    return TV_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!gmem)
        gmem = malloc(FUZZ_MEM);
    char err[128];
    struct guest_load_plan plan;
    /* Copy so the image is a heap object of exactly `size` bytes (ASan sees
     * any read past its end). */
    uint8_t *img = malloc(size ? size : 1);
    memcpy(img, data, size);
    tv_status_t st = guest_image_plan(img, size, FUZZ_MEM, &plan, err, sizeof err);
    if (st == TV_OK) {
        if (guest_plan_validate(&plan, NULL, 0) != TV_OK)
            abort();
        struct guest_mem_writer w = { NULL, w_write, (size & 1) ? w_zero : NULL };
        struct guest_entry_state es;
        if (guest_image_load(&plan, img, &w, "fuzz", FUZZ_MEM, &es) != TV_OK)
            abort();
        if (es.rip != plan.entry || es.rbx != plan.bootinfo_gpa)
            abort();
    } else if (err[0] == '\0') {
        abort();                       /* every refusal says why */
    }
    free(img);
    return 0;
}
