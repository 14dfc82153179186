/* Decoding and validation of the task hypercalls (TASK_* and, in test
 * builds, TEST_TASK_START).  Portable: the monitor calls task_hcall() from
 * its hypercall table after checking the caller is the control partition;
 * the hosted loopback transport (client/) calls the same code.  Every
 * argument is untrusted.  See docs/tasks.md, "Hypercalls". */
#ifndef TASK_HCALL_H
#define TASK_HCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "task_mgr.h"

/* Access to the calling partition's memory. */
struct task_guest_mem {
    void *ctx;
    /* Copy len bytes from/to guest-physical gpa.  TV_E_INVALID_ARGUMENT unless every
     * byte lies in memory the caller owns (check gpa + len for wrap). */
    tv_status_t (*read)(void *ctx, uint64_t gpa, void *dst, size_t len);
    tv_status_t (*write)(void *ctx, uint64_t gpa, const void *src, size_t len);
    /* Pin len bytes at gpa and return a host pointer to them (the event
     * ring), NULL if not allowed.  Optional: without it EVENTS_REGISTER
     * answers TV_E_UNSUPPORTED. */
    void *(*map)(void *ctx, uint64_t gpa, size_t len);
    void (*unmap)(void *ctx, void *host, size_t len);
    /* Raise `vector` in the caller (event notification).  Called with the
     * task manager's lock held, from any thread: must not block. */
    task_notify_fn notify;
    /* Optional: true when the calling vCPU has an interrupt pending; a
     * TASK_WAIT then only polls (no blocking slice) and continues at once,
     * so the guest takes the interrupt without delay. */
    bool (*interrupt_pending)(void *ctx);
};

/* One per calling partition. */
struct task_hcall_ctx {
    struct task_mgr *mgr;
    struct task_guest_mem mem;
    uint64_t wait_slice_ns;  /* longest a TASK_WAIT blocks per entry (0 = poll) */
    bool test_calls;         /* accept TEST_TASK_START */
    void *ring_host;         /* mapped event ring, NULL if none */
};

struct task_hcall_result {
    tv_status_t status;      /* for RAX */
    uint64_t out;            /* for RDX (call-specific, 0 if none) */
    /* status == TV_E_CONTINUE: the call is not finished.  The monitor writes
     * args[] back into the argument registers and returns to the guest
     * WITHOUT advancing RIP and without touching RAX, so the guest re-issues
     * the call (after taking its pending interrupts). */
    uint64_t args[5];
};

#define TASK_HCALL_LIST_MAX 65536u /* entries per TASK_LIST call */

/* True for the call codes task_hcall() handles. */
bool task_hcall_handles(uint32_t code);

void task_hcall(struct task_hcall_ctx *hc, uint32_t code, const uint64_t args[5],
                struct task_hcall_result *res);

/* Drops the caller's event ring registration (partition teardown). */
void task_hcall_release(struct task_hcall_ctx *hc);

#endif
