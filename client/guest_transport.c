/* libtaskvisor's transport inside a freestanding guest: VMMCALL/VMCALL
 * through the guest library, and shared buffers from a static pool (the
 * guest library maps memory 1:1, so a pointer is its guest-physical
 * address). */
#include "guest_transport.h"
#include "tv_string.h"

static uint8_t pool[8 * 4096] __attribute__((aligned(4096)));
static size_t pool_used;

static tv_status_t call(void *ctx, uint32_t code, const uint64_t a[5], uint64_t *out)
{
    (void)ctx;
    struct tv_hc_out o = { 0, 0, 0 };
    /* A continued call re-executes by itself: the monitor leaves RIP on the
     * instruction, so this returns only with a final status. */
    tv_status_t st = tv_hypercall(code, a[0], a[1], a[2], a[3], a[4], &o);
    if (out)
        *out = o.rdx;
    return st;
}

static void *shared_alloc(void *ctx, size_t size, size_t align, uint64_t *gpa)
{
    (void)ctx;
    size_t start = (pool_used + align - 1) & ~(align - 1);
    if (start + size > sizeof pool)
        return 0;
    pool_used = start + size;
    tv_memset(pool + start, 0, size);
    *gpa = (uint64_t)(uintptr_t)(pool + start);
    return pool + start;
}

static void shared_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx; (void)ptr; (void)size; /* a test guest's pool lives as long as it does */
}

const struct tv_transport guest_transport = { 0, call, shared_alloc, shared_free, 0 };
