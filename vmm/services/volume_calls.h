/* The image store hypercalls (VOLUME_LIST, DIR_LIST, DISK_INFO,
 * DIR_CREATE) as a
 * section of the one hypercall table.  Portable: the monitor
 * (vmm/services/image_store.c) and the hosted tests put it into a table
 * under hcall_dispatch().
 *
 * These calls read disks, which a vCPU's thread must never wait for with
 * interrupts off.  So a call is a request to the store's worker thread (a
 * task-class kernel thread in the monitor): the first entry checks the
 * arguments, copies the path into monitor memory and queues the request;
 * the calling vCPU then waits for it at most one wait slice (not at all
 * when it has an interrupt pending) and otherwise returns to the guest
 * without advancing RIP (TV_E_CONTINUE), so the guest re-executes the call
 * after its interrupts; the entry that finds the request done copies the
 * results out.  A re-executed call is recognised by its arguments; a
 * different call while one is in flight waits for that one to finish and
 * drops its result.  See docs/hypercalls.md. */
#ifndef SERVICES_VOLUME_CALLS_H
#define SERVICES_VOLUME_CALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "hcall/hcall.h"
#include "services/store_core.h"

#define VOLUME_CALL_COUNT 4u
#define VOLUME_LIST_MAX STORE_MAX_VOLUMES  /* records per VOLUME_LIST call */
#define DIR_LIST_MAX 16u                   /* entries per DIR_LIST call */

struct volume_call_state;

/* Starts the worker.  ready (may be NULL) runs on the worker before it
 * serves any call and returns the store to serve (the monitor mounts the
 * disks there); without it, store is served as given.  Must not be called
 * from ready itself (nor volume_calls_unmount). */
tv_status_t volume_calls_start(struct store *store, struct store *(*ready)(void *ctx), void *ctx,
                               uint64_t wait_slice_ns, bool (*interrupt_pending)(uint32_t partition_id),
                               struct volume_call_state **out);
/* Stops the worker (after the request in flight). */
void volume_calls_stop(struct volume_call_state *st);
/* Has the worker unmount every volume cleanly (after the request in
 * flight) and waits for it at most timeout_ns: the store's status, or
 * TV_E_TIMEOUT.  Later calls see no volumes. */
tv_status_t volume_calls_unmount(struct volume_call_state *st, uint64_t timeout_ns);
/* The store being served (NULL until ready has run). */
struct store *volume_calls_store(struct volume_call_state *st);

/* The calls, for a section: { volume_calls, VOLUME_CALL_COUNT, state_fn, owner },
 * where state_fn returns the struct volume_call_state for the control
 * partition. */
extern const struct hcall_desc volume_calls[VOLUME_CALL_COUNT];

#endif
