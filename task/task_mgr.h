/* The task manager: creates tasks, runs them on worker threads, answers the
 * verbs.  Portable; one manager per monitor (tests may create several).
 * See docs/tasks.md. */
#ifndef TASK_MGR_H
#define TASK_MGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"
#include "taskvisor/task.h"
#include "taskvisor/vm.h"
#include "task_driver.h"

struct task_mgr;

#define TASK_DEFAULT_RETENTION_NS (5ull * 60 * 1000000000ull) /* 5 minutes */

struct task_mgr_config {
    uint32_t workers;      /* worker threads; 0 = none (caller runs tasks
                              with task_mgr_run_next, deterministic tests) */
    uint32_t max_running;  /* tasks holding a run slot at once (0 = workers) */
    uint32_t max_tasks;    /* records alive, finished included (0 = 1024) */
    uint64_t retention_ns; /* finished tasks kept this long (0 = default) */
};

tv_status_t task_mgr_create(const struct task_mgr_config *config, struct task_mgr **out);
/* Cancels what can be cancelled, lets non-cancelable tasks finish, joins
 * the workers and frees everything.  No other call may run concurrently. */
void task_mgr_destroy(struct task_mgr *mgr);

/* ---- Creating tasks ----------------------------------------------------- */
struct task_spec {
    uint32_t type;                  /* enum tv_task_type */
    struct tv_task_target target;
    const char *description;        /* UTF-8; truncated to TV_TASK_DESC_MAX-1 */
    uint32_t priority;              /* higher first; equal: oldest first */
    bool not_cancelable;            /* never cancelable (e.g. turn off) */
    bool not_pausable;
    const struct task_driver *driver;
    void *driver_ctx;               /* owned by the task once created: the
                                       driver's cleanup frees it */
};
/* On failure nothing is created and cleanup is NOT called (ctx stays the
 * caller's).  TV_E_LIMIT when max_tasks records exist; TV_E_INVALID_STATE
 * when the manager is shutting down. */
tv_status_t task_create(struct task_mgr *mgr, const struct task_spec *spec, uint64_t *id_out);

/* ---- Verbs (each checked against the tables in task_state.c) ------------ */
tv_status_t task_cancel(struct task_mgr *mgr, uint64_t id);
tv_status_t task_pause(struct task_mgr *mgr, uint64_t id);
tv_status_t task_resume(struct task_mgr *mgr, uint64_t id);
tv_status_t task_dismiss(struct task_mgr *mgr, uint64_t id);

/* One consistent snapshot (all fields taken under one lock hold). */
tv_status_t task_query(struct task_mgr *mgr, uint64_t id, struct tv_task_info *out);

/* Briefs of tasks with id > cursor in id order; *count_out = entries written
 * (< cap means the end was reached).  Pass the last id as the next cursor. */
tv_status_t task_list(struct task_mgr *mgr, uint64_t cursor, uint32_t flags,
                      struct tv_task_event *out, size_t cap, size_t *count_out);

#define TASK_LIST_SCAN_MAX 64u

/* One bounded step of a listing, for callers that must bound their own work
 * (the monitor's TASK_LIST runs with interrupts off): one hold of the lock,
 * at most max_scan records examined (and at most TASK_LIST_SCAN_MAX).
 * *count_out = entries written; *next_cursor = the id of the last record
 * examined (cursor if none), where the next step goes on; *end = true when
 * no record after *next_cursor exists. */
tv_status_t task_list_step(struct task_mgr *mgr, uint64_t cursor, uint32_t flags,
                           struct tv_task_event *out, size_t cap, uint32_t max_scan,
                           size_t *count_out, uint64_t *next_cursor, bool *end);

/* ---- Waiting -------------------------------------------------------------- */
/* IVMTask::WaitForCompletion: timeout_ms -1 = forever, 0..4,000,000.
 * TV_OK = finished, TV_E_TIMEOUT, TV_E_INVALID_ARGUMENT, TV_E_NOT_FOUND.
 * Blocks the calling thread (hosted users, monitor worker threads). */
tv_status_t task_wait(struct task_mgr *mgr, uint64_t id, int64_t timeout_ms);

/* Converts a WaitForCompletion timeout to an absolute deadline on the
 * platform clock (UINT64_MAX = forever).  TV_E_INVALID_ARGUMENT if out of
 * range. */
tv_status_t task_wait_deadline(int64_t timeout_ms, uint64_t now_ns, uint64_t *deadline_out);
/* Non-blocking wait step for the monitor's continuation: blocks at most
 * until min(deadline_ns, slice_end_ns) (pass slice_end_ns = 0 to never
 * block).  TV_OK finished, TV_E_TIMEOUT deadline passed, TV_E_CONTINUE
 * neither yet, TV_E_NOT_FOUND. */
tv_status_t task_wait_poll(struct task_mgr *mgr, uint64_t id, uint64_t deadline_ns,
                           uint64_t slice_end_ns);

/* ---- Running without workers (config.workers == 0) ---------------------- */
/* Runs the best queued task to its end on the calling thread.  TV_OK if one
 * ran, TV_E_NOT_FOUND if none is runnable. */
tv_status_t task_mgr_run_next(struct task_mgr *mgr);

/* ---- Housekeeping ------------------------------------------------------- */
/* Dismisses finished tasks older than the retention time.  Done lazily by
 * every call as well; exposed for the monitor's timer and for tests. */
void task_mgr_reap(struct task_mgr *mgr);

struct task_mgr_stats {
    uint32_t tasks;        /* records alive */
    uint32_t queued;
    uint32_t holding_slot; /* tasks holding a run slot */
    uint64_t next_id;
    uint64_t events_emitted;
    uint64_t events_coalesced;
    uint64_t bad_transitions; /* moves the matrix refused: always 0 unless the core has a bug */
};
void task_mgr_stats(struct task_mgr *mgr, struct task_mgr_stats *out);

/* ---- Events ------------------------------------------------------------- */
/* Notifier called (with the manager lock held: must not block or call back
 * into the manager) after events were appended to the ring. */
typedef void (*task_notify_fn)(void *ctx, uint32_t vector);
/* ring: host-addressable view of the 4 KiB ring page (NULL = unregister).
 * The manager initialises the header and keeps the pointer until it is
 * unregistered or replaced. */
tv_status_t task_events_register(struct task_mgr *mgr, struct tv_task_ring *ring,
                                 uint32_t vector, task_notify_fn notify, void *notify_ctx);
/* An event about something other than a task (a VM's state change) on the
 * same ring: entry {id, seq, kind << 24 | state, 0}, include/taskvisor/vm.h.
 * kind 1..31 (0 is the tasks'), state < 65536; TV_E_INVALID_ARGUMENT
 * otherwise.  Delivered only when the registered consumer asked for the
 * kind (task_events_set_kinds); dropped like any event when no ring is
 * registered or it is full (overflow).  Takes the manager's lock: never
 * call it holding it. */
tv_status_t task_events_post(struct task_mgr *mgr, uint32_t kind, uint64_t id, uint64_t seq,
                             uint32_t state);
/* Which other kinds the registered ring receives: bit k for kind k (bit 0,
 * the tasks', must be clear: they always come).  Every registration starts
 * with none, so a consumer that does not ask sees task entries only. */
tv_status_t task_events_set_kinds(struct task_mgr *mgr, uint32_t kinds);

#endif
