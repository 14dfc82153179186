/* The task hypercalls (TASK_* and, in test builds, TEST_TASK_START) as a
 * section of the one hypercall table (vmm/hcall/hcall.h).  Portable: the
 * monitor's task service and the hosted loopback transport of libtaskvisor
 * (client/loopback.c) both put this section into a table and call
 * hcall_dispatch(), so permission checks, argument decoding, guest-memory
 * checks (guest_mem_check and its size cap) and result write-back happen in
 * one place.  Every argument is untrusted.  See docs/hypercalls.md. */
#ifndef SERVICES_TASK_CALLS_H
#define SERVICES_TASK_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hcall/hcall.h"
#include "task/task_mgr.h"
#include "task/task_types.h"

/* Per-caller state of the task calls: the section's state callback returns
 * it for the calling partition. */
struct task_call_state {
    struct task_mgr *mgr;
    /* Where TEST_TASK_START finds the test type (the monitor's one
     * registry); NULL = a registry holding only the test type. */
    const struct task_types *types;
    uint64_t wait_slice_ns;  /* longest a TASK_WAIT blocks per entry (0 = poll) */
    void *ctx;               /* for the callbacks below */
    /* Host pointer to len bytes of the caller's RAM at gpa (already checked
     * with guest_mem_check), contiguous on the host, for the event ring;
     * NULL if that is not possible.  Without map EVENTS_REGISTER answers
     * TV_E_UNSUPPORTED. */
    void *(*map)(void *ctx, uint64_t gpa, size_t len);
    void (*unmap)(void *ctx, void *host, size_t len);
    /* Raises `vector` in the caller (event notification).  Called with the
     * task manager's lock held, from any thread: must not block. */
    task_notify_fn notify;
    /* Optional: true when the calling vCPU has an interrupt waiting; a
     * TASK_WAIT then only polls and continues at once. */
    bool (*interrupt_pending)(void *ctx);
    void *ring_host;         /* the registered event ring, NULL if none */
};

#define TASK_CALL_COUNT 9u
#define TASK_CALL_LIST_MAX 65536u /* entries per TASK_LIST call */

/* The calls, for a section: { task_calls, TASK_CALL_COUNT, state_fn, owner }. */
extern const struct hcall_desc task_calls[TASK_CALL_COUNT];

/* Drops the caller's event ring registration (partition teardown). */
void task_calls_release(struct task_call_state *st);

#endif
