/* VHD operations as job drivers of the task subsystem (task/task_driver.h).
 *
 * tv_vhd_task_start() turns a tv_vhd_op into a task: the job steps the
 * operation, calls the task checkpoint between steps (pause and cancel
 * points at most one block or a few MiB apart), reports progress in bytes,
 * claims the point of no return just before the operation's commit step,
 * and maps the operation's data outcome to the task's outcome:
 *   UNCHANGED    -> UNTOUCHED (nothing written yet) or ROLLED_BACK (temporary
 *                   output removed)
 *   COMPLETED    -> COMMITTED
 *   REDO_PENDING -> NEEDS_RECOVERY (an interrupted merge, finished when the
 *                   parent is next opened for writing) */
#ifndef TV_VHD_TASK_H
#define TV_VHD_TASK_H

#include "task/task_mgr.h"
#include "vhd_op.h"

/* Filled when the task's driver cleans up (caller-owned, may be NULL). */
struct tv_vhd_task_report {
    tv_status_t status;
    tv_vhd_outcome_t outcome;
    char detail[256];
    bool done;
};

extern const struct task_driver tv_vhd_task_driver;

/* Creates the task; on success the task owns op (destroyed at cleanup).
 * report, if given, must stay valid until the task has finished. */
tv_status_t tv_vhd_task_start(struct task_mgr *mgr, tv_vhd_op_t *op, uint32_t type,
                              const char *description, struct tv_vhd_task_report *report,
                              uint64_t *id_out);

/* The driver's context for op, for task types of the registry
 * (task/task_types.h) whose prepare builds the operation: the registry
 * hands it to the task (or, if the task cannot be created, to the driver's
 * cleanup), which then owns op.  Allocated from op's seam. */
tv_status_t tv_vhd_task_ctx(tv_vhd_op_t *op, struct tv_vhd_task_report *report, void **ctx_out);

#endif
