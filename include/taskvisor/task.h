/* Taskvisor ABI: tasks as guests see them (monitor, control partition,
 * libtaskvisor).  Fixed-size records with explicit widths and no pointers.
 * Values are stable: never renumber, only append.  See docs/tasks.md. */
#ifndef TASKVISOR_TASK_H
#define TASKVISOR_TASK_H

#include <stdint.h>

/* ---- States --------------------------------------------------------------
 * queued -> running <-> paused -> committing -> completed | failed | cancelled,
 * with cancelling between running/paused and cancelled. */
enum tv_task_state {
    TV_TASK_QUEUED     = 0, /* waiting for a free run slot */
    TV_TASK_RUNNING    = 1, /* the job's driver is working */
    TV_TASK_PAUSED     = 2, /* held at (or on its way to) a pause point */
    TV_TASK_CANCELLING = 3, /* cancel accepted; driver unwinding / rolling back */
    TV_TASK_COMMITTING = 4, /* past the point of no return; making work durable */
    TV_TASK_COMPLETED  = 5, /* finished with success */
    TV_TASK_FAILED     = 6, /* finished with an error */
    TV_TASK_CANCELLED  = 7, /* finished by an accepted cancel */
    TV_TASK_STATE_COUNT
};

/* ---- Results: Windows Virtual PC's VMTaskResult, same numbers ------------ */
enum tv_task_result {
    TV_TASK_RESULT_SUCCESS                  = 0,
    TV_TASK_RESULT_CANCELLED                = 1,
    TV_TASK_RESULT_UNEXPECTED               = 2,
    TV_TASK_RESULT_OUT_OF_MEMORY            = 3,
    TV_TASK_RESULT_DISK                     = 4,
    TV_TASK_RESULT_INCOMPATIBLE_SAVED_STATE = 5,
    TV_TASK_RESULT_TIMEOUT                  = 6,
    TV_TASK_RESULT_ILLEGAL_VALUE            = 7,
    TV_TASK_RESULT_THREAD_CRASH             = 8,
    TV_TASK_RESULT_SHUTDOWN_ABORT           = 9,
    TV_TASK_RESULT_COUNT,
    TV_TASK_RESULT_PENDING                  = 0xff, /* not finished yet */
};

/* ---- What a finished task left behind in the data it worked on ---------- */
enum tv_task_outcome {
    TV_TASK_OUTCOME_PENDING            = 0, /* not finished yet */
    TV_TASK_OUTCOME_COMMITTED          = 1, /* success: the work is in place */
    TV_TASK_OUTCOME_UNTOUCHED          = 2, /* nothing was changed */
    TV_TASK_OUTCOME_ROLLED_BACK        = 3, /* changes were undone */
    TV_TASK_OUTCOME_CONSISTENT_PARTIAL = 4, /* part done, data consistent */
    TV_TASK_OUTCOME_NEEDS_RECOVERY     = 5, /* data needs recovery (journal) */
    TV_TASK_OUTCOME_COUNT
};

/* ---- Verbs a client may apply ------------------------------------------- */
enum tv_task_verb {
    TV_TASK_VERB_CANCEL  = 0,
    TV_TASK_VERB_PAUSE   = 1,
    TV_TASK_VERB_RESUME  = 2,
    TV_TASK_VERB_DISMISS = 3,
    TV_TASK_VERB_COUNT
};

/* ---- Task types (the operation a task runs) ----------------------------- */
enum tv_task_type {
    TV_TASK_TYPE_TEST                 = 0,  /* synthetic job (test builds) */
    TV_TASK_TYPE_DISK_CREATE_DYNAMIC  = 1,
    TV_TASK_TYPE_DISK_CREATE_FIXED    = 2,
    TV_TASK_TYPE_DISK_CREATE_DIFF     = 3,
    TV_TASK_TYPE_DISK_MERGE           = 4,  /* differencing disk into its parent */
    TV_TASK_TYPE_DISK_MERGE_TO        = 5,  /* chain into a new image */
    TV_TASK_TYPE_DISK_COMPACT         = 6,
    TV_TASK_TYPE_DISK_CONVERT         = 7,
    TV_TASK_TYPE_VM_STARTUP           = 8,
    TV_TASK_TYPE_VM_SHUTDOWN          = 9,
    TV_TASK_TYPE_VM_RESTART           = 10,
    TV_TASK_TYPE_VM_LOGOFF            = 11,
    TV_TASK_TYPE_VM_SAVE              = 12,
    TV_TASK_TYPE_VM_RESET             = 13,
    TV_TASK_TYPE_VM_TURN_OFF          = 14,
    TV_TASK_TYPE_VM_MERGE_UNDO_DISKS  = 15,
    TV_TASK_TYPE_DISK_CHECK           = 16, /* validate (and repair) an image */
    TV_TASK_TYPE_DISK_RECOVER         = 17, /* finish or roll back an interrupted operation (at mount) */
    TV_TASK_TYPE_VM_PAUSE             = 18,
    TV_TASK_TYPE_VM_RESUME            = 19,
    TV_TASK_TYPE_COUNT
};

/* ---- Target: what a task works on --------------------------------------- */
enum tv_task_target_kind {
    TV_TASK_TARGET_NONE = 0,
    TV_TASK_TARGET_VM   = 1, /* id = partition id */
    TV_TASK_TARGET_DISK = 2, /* id = image-store disk id */
};

struct tv_task_target {
    uint32_t kind;      /* enum tv_task_target_kind */
    uint32_t reserved;  /* 0 */
    uint64_t id;
};

/* ---- Flags in tv_task_info.flags ---------------------------------------- */
#define TV_TASK_FLAG_CANCELABLE (1u << 0) /* a cancel now would be accepted */
#define TV_TASK_FLAG_PAUSABLE   (1u << 1) /* the job honours pause */
#define TV_TASK_FLAG_COMPLETE   (1u << 2) /* finished (completed/failed/cancelled) */
#define TV_TASK_FLAG_STARTED    (1u << 3) /* the driver has been entered */
#define TV_TASK_FLAG_HELD       (1u << 4) /* paused and the job has stopped at its
                                             pause point (quiescent) */

#define TV_TASK_DESC_MAX  128 /* bytes of UTF-8 including the terminating NUL */
#define TV_TASK_ERROR_MAX 128

#define TV_TASK_ETA_UNKNOWN UINT64_MAX

/* One consistent snapshot of a task: every IVMTask property and more.
 * Times are the monitor's monotonic clock in nanoseconds; snapshot_ns is the
 * time of this snapshot so a guest can compute ages without sharing a clock.
 * Strings are NUL-terminated UTF-8; *_len are their lengths without the NUL. */
struct tv_task_info {
    uint64_t id;             /* 1.., never reused */
    uint64_t seq;            /* bumped on every change of the record */
    uint32_t type;           /* enum tv_task_type */
    uint32_t state;          /* enum tv_task_state */
    uint32_t result;         /* enum tv_task_result (PENDING until finished) */
    uint32_t outcome;        /* enum tv_task_outcome */
    uint32_t flags;          /* TV_TASK_FLAG_* */
    uint32_t percent;        /* 0..100, never goes down */
    int32_t  error;          /* tv_status_t recorded for the task (0 = none) */
    uint32_t priority;       /* higher runs first */
    struct tv_task_target target;
    uint64_t done;           /* progress in the job's own units */
    uint64_t total;          /* 0 when the job has not said yet */
    uint64_t created_ns;
    uint64_t started_ns;     /* 0 until started */
    uint64_t updated_ns;
    uint64_t finished_ns;    /* 0 until finished */
    uint64_t eta_ns;         /* estimated time left, TV_TASK_ETA_UNKNOWN if unknown */
    uint64_t snapshot_ns;
    uint32_t description_len;
    uint32_t error_description_len;
    char     description[TV_TASK_DESC_MAX];
    char     error_description[TV_TASK_ERROR_MAX];
};

/* ---- Brief record: used by TASK_LIST and by the event ring -------------- */
struct tv_task_event {
    uint64_t id;
    uint64_t seq;
    uint32_t state;   /* enum tv_task_state; on the event ring the top byte is
                         the kind (include/taskvisor/vm.h, TV_EVENT_KIND_*):
                         0 for tasks, so task entries read unchanged */
    uint32_t percent;
};

/* ---- Event ring: one 4 KiB page owned by the control partition ----------
 * The monitor writes entries[head % capacity] then publishes head (release);
 * the consumer reads entries up to head (acquire) and then stores tail.
 * When the ring is full the monitor drops the event, sets overflow to 1 and
 * counts it in lost; the consumer clears overflow (atomic exchange) and
 * re-queries every task with TASK_LIST.  Progress-only events are coalesced
 * (skipped) while the ring is more than 3/4 full; the next event of the same
 * task carries the latest percent. */
#define TV_TASK_RING_MAGIC 0x54564556u /* "VEVT" */
#define TV_TASK_RING_SIZE  4096u

struct tv_task_ring_header {
    uint32_t magic;     /* written by the monitor at registration */
    uint32_t capacity;  /* number of entries */
    uint32_t head;      /* producer index (monitor), free-running */
    uint32_t tail;      /* consumer index (control partition), free-running */
    uint32_t overflow;  /* 1 = events were lost since the consumer cleared it */
    uint32_t lost;      /* count of dropped events, free-running */
    uint32_t reserved[10];
};

/* A power of two, so that entries[index % capacity] stays in step when the
 * free-running 32-bit indices wrap (with 168, the page's full fit, the slot
 * jumped at the wrap and two unread entries could share one). */
#define TV_TASK_RING_CAPACITY 128u

struct tv_task_ring {
    struct tv_task_ring_header hdr;
    struct tv_task_event entries[TV_TASK_RING_CAPACITY];
    uint8_t unused[TV_TASK_RING_SIZE - sizeof(struct tv_task_ring_header) -
                   TV_TASK_RING_CAPACITY * sizeof(struct tv_task_event)];
};
_Static_assert((TV_TASK_RING_CAPACITY & (TV_TASK_RING_CAPACITY - 1)) == 0,
               "ring capacity is a power of two");

/* ---- Hypercall arguments (see docs/tasks.md) ----------------------------
 * TASK_QUERY   a0 id, a1 gpa of tv_task_info (8-aligned), a2 buffer size
 *              -> out = sizeof(struct tv_task_info)
 * TASK_LIST    a0 cursor (list ids > cursor; 0 = from the start),
 *              a1 gpa of tv_task_event[] (8-aligned), a2 capacity (entries),
 *              a3 flags (TV_TASK_LIST_*) -> out = entries written
 * TASK_CANCEL / TASK_PAUSE / TASK_RESUME / TASK_DISMISS   a0 id
 * TASK_WAIT    a0 id, a1 timeout in ms (signed: -1 forever, 0..4,000,000),
 *              a2 continuation token: 0 from the caller; the monitor stores
 *              its deadline there when the call continues.
 *              TV_OK = finished, TV_E_TIMEOUT = time ran out.
 * TASK_EVENTS_REGISTER a0 gpa of a 4 KiB-aligned ring page (0 = unregister),
 *              a1 interrupt vector (32..255, 0 = no interrupt),
 *              a2 flags (TV_TASK_EVENTS_F_*; 0 = task events only)
 * TEST_TASK_START (test builds) a0 gpa of tv_task_test_spec, a1 its size
 *              -> out = new task id */
#define TV_TASK_LIST_UNFINISHED (1u << 0) /* only tasks not finished yet */
#define TV_TASK_EVENTS_F_VM     (1u << 0) /* VM state changes too (include/taskvisor/vm.h) */
#define TV_TASK_WAIT_FOREVER    (-1)
#define TV_TASK_WAIT_MAX_MS     4000000

/* Synthetic test job: does total_units units of work, unit_ns each. */
struct tv_task_test_spec {
    uint64_t total_units;
    uint64_t unit_ns;         /* simulated cost of one unit (sleeps) */
    uint64_t fail_at_unit;    /* 0 = never; else fail when reaching this unit */
    uint64_t no_return_unit;  /* 0 = never; else not cancelable from this unit */
    uint32_t flags;           /* TV_TASK_TEST_* */
    uint32_t priority;
    int32_t  fail_status;     /* tv_status_t to fail with (0 = TV_E_IO) */
    uint32_t reserved;
    char     description[TV_TASK_DESC_MAX];
};
#define TV_TASK_TEST_NOT_CANCELABLE (1u << 0) /* never cancelable */
#define TV_TASK_TEST_NOT_PAUSABLE   (1u << 1)
#define TV_TASK_TEST_FAIL_COMMIT    (1u << 2) /* commit fails */
#define TV_TASK_TEST_BUSY           (1u << 3) /* each unit spins unit_ns (CPU-bound, never yields) */

/* The layout is the ABI: same on 32- and 64-bit guests (no implicit padding). */
_Static_assert(sizeof(struct tv_task_target) == 16, "tv_task_target layout");
_Static_assert(sizeof(struct tv_task_info) == 392, "tv_task_info layout");
_Static_assert(sizeof(struct tv_task_event) == 24, "tv_task_event layout");
_Static_assert(sizeof(struct tv_task_ring_header) == 64, "tv_task_ring_header layout");
_Static_assert(sizeof(struct tv_task_ring) == TV_TASK_RING_SIZE, "tv_task_ring layout");
_Static_assert(sizeof(struct tv_task_test_spec) == 176, "tv_task_test_spec layout");

#endif
