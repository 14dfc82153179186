/* Long-running VHD operations as resumable steps.
 *
 * Every operation is an object advanced by tv_vhd_op_step(), which does a
 * bounded amount of work (at most one block or a few MiB) and returns
 * TV_E_CONTINUE while work remains.  Between steps the caller may pause
 * (simply stop stepping), cancel, or report progress in bytes; this is what
 * the task subsystem's job drivers wrap.  tv_vhd_op_run() is the plain loop
 * with a progress callback.
 *
 * Each operation states its data outcome when it ends (tv_vhd_op_outcome):
 * UNCHANGED means every image reads exactly as before and no output exists;
 * COMPLETED means the result is in place; a merge past its commit point
 * cannot be cancelled and, if interrupted by a crash, is finished when the
 * parent is next opened for writing (REDO_PENDING). */
#ifndef TV_VHD_OP_H
#define TV_VHD_OP_H

#include "vhd.h"

typedef enum tv_vhd_outcome {
    TV_VHD_OUTCOME_RUNNING = 0,
    TV_VHD_OUTCOME_UNCHANGED,    /* nothing changed: cancelled or failed before commit */
    TV_VHD_OUTCOME_COMPLETED,    /* the result is in place */
    TV_VHD_OUTCOME_REDO_PENDING, /* merge stopped after commit: finished on next open */
    TV_VHD_OUTCOME_REPAIRED,     /* check: repairs written */
} tv_vhd_outcome_t;

typedef struct tv_vhd_op tv_vhd_op_t;

struct tv_vhd_op_class {
    const char *name;
    tv_status_t (*step)(tv_vhd_op_t *op);     /* TV_E_CONTINUE while work remains */
    void (*rollback)(tv_vhd_op_t *op);        /* undo everything (before commit only) */
    void (*destroy)(tv_vhd_op_t *op);         /* release resources */
};

struct tv_vhd_op {
    const struct tv_vhd_op_class *cls;
    tv_storage_t *st;
    uint64_t done, total;   /* progress in bytes */
    bool cancelable;        /* false once past the commit point */
    bool at_commit;         /* the next step passes the commit point (a task
                               driver claims its point of no return first) */
    bool finished;
    tv_status_t status;     /* final status once finished */
    tv_vhd_outcome_t outcome;
    char detail[256];       /* one line: what happened to the data */
};

/* Advances the operation; TV_E_CONTINUE while more steps are needed, else
 * the final status (also in op->status). */
tv_status_t tv_vhd_op_step(tv_vhd_op_t *op);
/* Cancels: rolls back and ends with TV_E_CANCELLED / UNCHANGED, or returns
 * TV_E_NOT_CANCELABLE (the operation then runs on). */
tv_status_t tv_vhd_op_cancel(tv_vhd_op_t *op);
void tv_vhd_op_destroy(tv_vhd_op_t *op);
const char *tv_vhd_outcome_name(tv_vhd_outcome_t o);

/* Progress callback: return TV_OK to go on, TV_E_CANCELLED to cancel. */
typedef tv_status_t (*tv_vhd_progress_fn)(void *ctx, const tv_vhd_op_t *op);
tv_status_t tv_vhd_op_run(tv_vhd_op_t *op, tv_vhd_progress_fn fn, void *ctx);

/* Constructors.  Names are seam names; nothing is touched until the first
 * step.  Outputs are written under "<name>.tvtmp" and renamed into place
 * when complete, so an interrupted create/convert/compact leaves no output
 * (or the untouched original) behind. */
tv_status_t tv_vhd_op_create(tv_storage_t *st, const char *name, const struct tv_vhd_create_params *p,
                             tv_vhd_op_t **out);
/* Any image (src_raw: a raw file) to a new image of kind dst_kind
 * (fixed, dynamic or raw).  A differencing source is refused: use merge-to. */
tv_status_t tv_vhd_op_convert(tv_storage_t *st, const char *src, bool src_raw, const char *dst,
                              enum tv_vhd_kind dst_kind, uint32_t block_size, tv_vhd_op_t **out);
/* A differencing disk and all its ancestors flattened into a new fixed or
 * dynamic (or raw) image. */
tv_status_t tv_vhd_op_merge_to(tv_storage_t *st, const char *src, const char *dst,
                               enum tv_vhd_kind dst_kind, tv_vhd_op_t **out);
/* Drops all-zero blocks of a dynamic or differencing disk (keeping zero
 * blocks that hide parent data) and shrinks the file. */
tv_status_t tv_vhd_op_compact(tv_storage_t *st, const char *name, tv_vhd_op_t **out);
/* Merges a differencing disk into its parent, then deletes the child. */
tv_status_t tv_vhd_op_merge(tv_storage_t *st, const char *child, tv_vhd_op_t **out);

/* Check: every finding is passed to report (one line each). */
typedef void (*tv_vhd_report_fn)(void *ctx, bool error, const char *line);
struct tv_vhd_check_result {
    uint32_t errors;      /* problems found */
    uint32_t repaired;    /* of which repaired */
    uint32_t warnings;
    uint64_t lost_bytes;  /* data dropped by repairs */
};
tv_status_t tv_vhd_op_check(tv_storage_t *st, const char *name, bool repair, tv_vhd_report_fn report,
                            void *ctx, struct tv_vhd_check_result *result, tv_vhd_op_t **out);

#endif
