/* libFuzzer target: guest image plan + load into a bounded fake guest memory
 * (ELF PVH, Multiboot1 and Linux bzImage headers; for bzImages also an
 * initrd whose size follows from the input).
 * The guest's RAM size varies (2 MiB, 4 MiB, 6 GiB); only the first 4 MiB are
 * backed.  Any write outside the guest's RAM, a plan that fails its own
 * validation, or a refusal without a reason aborts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guestload/guestload.h"

#define BACKED (4u << 20)
static uint8_t *gmem;
static uint64_t ram;

static void check(uint64_t gpa, uint64_t len)
{
    if (gpa > ram || len > ram - gpa)
        abort();
}

static tv_status_t w_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    (void)ctx;
    check(gpa, len);
    if (gpa < BACKED)
        memcpy(gmem + gpa, src, len < BACKED - gpa ? len : BACKED - gpa);
    return TV_OK;
}

static tv_status_t w_zero(void *ctx, uint64_t gpa, uint64_t len)
{
    (void)ctx;
    check(gpa, len);
    if (gpa < BACKED)
        memset(gmem + gpa, 0, len < BACKED - gpa ? len : BACKED - gpa);
    return TV_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!gmem)
        gmem = malloc(BACKED);
    static const uint64_t sizes[3] = { 2u << 20, 4u << 20, 6ull << 30 };
    ram = sizes[size % 3];
    char err[128];
    struct guest_load_plan plan;
    /* Copy so the image is a heap object of exactly `size` bytes (ASan sees
     * any read past its end). */
    uint8_t *img = malloc(size ? size : 1);
    memcpy(img, data, size);
    tv_status_t st = guest_image_plan(img, size, ram, &plan, err, sizeof err);
    if (st == TV_OK) {
        if (guest_plan_validate(&plan, NULL, 0) != TV_OK)
            abort();
        /* Without a zero callback the loader zeroes through write(). */
        bool small = ram <= BACKED;
        struct guest_mem_writer w = { NULL, w_write, (small && (size & 1)) ? NULL : w_zero };
        struct guest_entry_state es;
        /* A kernel may take fewer than the 4 bytes of "fuzz": refused. */
        bool too_long = plan.protocol == GUEST_PROTO_LINUX && plan.lnx_cmdline_max < 4;
        st = guest_image_load(&plan, img, &w, "fuzz", ram, &es);
        if (too_long) {
            if (st != TV_E_INVALID_ARGUMENT)
                abort();
            free(img);
            return 0;
        }
        if (st != TV_OK)
            abort();
        if (es.rip != plan.entry)
            abort();
        if (plan.protocol == GUEST_PROTO_LINUX ? es.rsi != plan.bootinfo_gpa || es.rbx != 0
                                               : es.rbx != plan.bootinfo_gpa)
            abort();
        if (plan.protocol == GUEST_PROTO_LINUX) {
            uint64_t rd_size = 1 + (size * 2654435761u) % (8u << 20);
            if (guest_plan_add_initrd(&plan, rd_size, err, sizeof err) == TV_OK) {
                if (guest_plan_validate(&plan, NULL, 0) != TV_OK ||
                    plan.initrd_gpa + plan.initrd_size > ram)
                    abort();
                void *rd = calloc(1, (size_t)rd_size);
                if (guest_load_initrd(&plan, rd, &w) != TV_OK)
                    abort();
                free(rd);
            } else if (err[0] == '\0') {
                abort();
            }
        } else if (guest_plan_add_initrd(&plan, 4096, err, sizeof err) != TV_E_UNSUPPORTED) {
            abort();
        }
    } else if (err[0] == '\0') {
        abort();                       /* every refusal says why */
    }
    free(img);
    return 0;
}
