/* Internals shared by the files of the task core.  Not for drivers or
 * clients (they use task_driver.h / task_mgr.h). */
#ifndef TASK_INTERNAL_H
#define TASK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "task_mgr.h"
#include "task_platform.h"
#include "task_state.h"

#define TASK_DEFAULT_MAX_TASKS 1024u
#define TASK_MAX_WORKERS 64u
/* Work done per hold of the manager's lock (interrupts off in the monitor)
 * must not grow with the number of tasks: at most this many expired records
 * are reaped per hold (the rest on later calls); task_list() examines at
 * most TASK_LIST_SCAN_MAX (task_mgr.h) records per hold. */
#define TASK_REAP_BATCH 32u

/* One task record.  Drivers see it as an opaque struct task_job.  Every
 * field is protected by mgr->lock except those marked otherwise. */
struct task_job {
    struct task_mgr *mgr;          /* constant */
    struct task_job *prev, *next;  /* all records, ascending id */
    /* Links of the two trees (task_index.c): [TASK_TREE_*][left, right]. */
    struct task_job *tree_link[2][2];
    struct task_job *fin_prev, *fin_next; /* finished records, oldest first */
    bool in_fin;                   /* on the finished list */
    uint32_t refs;                 /* list, worker, waiters, cancellers */
    bool listed;                   /* still in the list (not dismissed/reaped) */
    bool queued;                   /* in the run queue (mgr->runq) */
    bool has_slot;                 /* counted in mgr->holding_slot */
    bool finishing;                /* winding down: no pause, no cancel */

    uint64_t id;                   /* constant */
    uint32_t type;                 /* constant */
    struct tv_task_target target;  /* constant */
    uint32_t priority;             /* constant */
    const struct task_driver *driver; /* constant */
    void *ctx;                     /* the driver's; touched by the worker only */

    uint32_t state;
    bool cancelable;
    bool pausable;
    bool started;
    bool held;                     /* the worker sits at a pause point */
    uint32_t result;
    uint32_t outcome;
    int32_t error;
    bool failure_recorded;         /* task_job_fail() was called */
    uint32_t fail_result;          /* from task_job_fail(), published at the end */
    uint32_t outcome_so_far;       /* from task_job_set_outcome() */
    uint32_t percent;
    uint64_t done, total;
    uint64_t seq;
    uint64_t created_ns, started_ns, updated_ns, finished_ns;
    uint32_t description_len, error_description_len;
    char description[TV_TASK_DESC_MAX];
    char error_description[TV_TASK_ERROR_MAX];
};

struct task_events {
    struct tv_task_ring *ring;     /* NULL = none registered */
    uint32_t capacity;             /* our copy: never read back from the guest */
    uint32_t head;                 /* our copy of the producer index */
    uint32_t lost;
    uint32_t vector;
    uint32_t kinds;                /* bit k: events of kind k (> 0) are delivered too */
    task_notify_fn notify;
    void *notify_ctx;
    uint64_t emitted, coalesced;
};

struct task_mgr {
    struct tp_lock *lock;
    struct tp_waitq *work_wq;      /* workers; paused drivers; finishing jobs */
    struct tp_waitq *done_wq;      /* completion waiters */
    uint32_t workers;
    uint32_t max_running;
    uint32_t max_tasks;
    uint64_t retention_ns;

    struct task_job *head, *tail;  /* listed records, ascending id */
    struct task_job *index;        /* root of the id tree of the listed records */
    struct task_job *runq;         /* root of the run-order tree of queued records */
    /* Listed records in a final state, in the order they finished (so in
     * finished_ns order): reaping looks at the oldest only. */
    struct task_job *fin_head, *fin_tail;
    uint32_t count;                /* listed records */
    uint32_t queued;               /* records with queued == true */
    uint32_t holding_slot;
    uint64_t next_id;
    bool shutting_down;
    uint64_t bad_transitions;      /* internal errors caught by the matrix */

    struct task_events events;
    struct tp_thread *threads[TASK_MAX_WORKERS];
};

/* task_mgr.c */
void task_ref(struct task_job *t);
void task_unref(struct task_job *t);                 /* lock held */
struct task_job *task_find(struct task_mgr *mgr, uint64_t id); /* lock held */
/* Moves t to state `to` (checked by the matrix), bumps seq, emits the event,
 * wakes waiters.  Lock held.  Returns false (and changes nothing) when the
 * matrix forbids the move. */
bool task_set_state(struct task_job *t, uint32_t to);
/* Bumps seq and updated_ns after a change of fields other than state. */
void task_touch(struct task_job *t);
void task_release_slot(struct task_job *t);          /* lock held */
/* Unlists up to TASK_REAP_BATCH records past their retention; returns how
 * many. */
uint32_t task_reap_locked(struct task_mgr *mgr, uint64_t now);
/* Puts t into the run queue / takes it out (lock held; no-ops when it
 * already is / is not queued). */
void task_enqueue(struct task_job *t);
void task_dequeue(struct task_job *t);
/* TASK_FACT_* of t for the verb table (lock held). */
uint32_t task_facts(const struct task_job *t);

/* task_index.c (lock held): O(log n) expected per call */
#define TASK_TREE_ID 0
#define TASK_TREE_QUEUE 1
void task_tree_insert(struct task_job **root, struct task_job *t, int tree);
void task_tree_remove(struct task_job **root, struct task_job *t, int tree);
/* The first record in the tree's order (the queue: the next to run). */
struct task_job *task_tree_first(struct task_job *root, int tree);
struct task_job *task_index_find(const struct task_mgr *mgr, uint64_t id);
/* The listed record with the smallest id > cursor, or NULL. */
struct task_job *task_index_after(const struct task_mgr *mgr, uint64_t cursor);

/* task_run.c */
/* Runs t (already RUNNING, holding a slot, referenced) to its final state.
 * Called and returns with the lock held; drops it around driver calls. */
void task_execute(struct task_job *t);
/* Finishes a task cancelled before its driver ever ran (state CANCELLING).
 * Lock held; dropped around cleanup. */
void task_finish_unstarted(struct task_job *t);
/* Blocks while t is paused, marking it held (quiescent).  Lock held. */
void task_hold_while_paused(struct task_job *t);
/* Worker thread body. */
void task_worker_main(void *arg);
/* Picks the best runnable queued task, gives it a slot and marks it
 * RUNNING; NULL if none or no slot is free.  Lock held. */
struct task_job *task_pick_next(struct task_mgr *mgr);

/* task_events.c (lock held) */
void task_events_emit(struct task_job *t, bool progress_only);

/* task_text.c */
/* Copies src as UTF-8 into dst (cap bytes incl. NUL): invalid bytes become
 * '?', truncation never splits a character.  Returns the length copied. */
uint32_t task_text_copy(char *dst, size_t cap, const char *src);
/* Same for a source of known length that need not be terminated. */
uint32_t task_text_copy_n(char *dst, size_t cap, const char *src, size_t src_len);

#endif
