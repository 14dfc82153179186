/* The job driver that runs a tv_vhd_op as a task. */
#include "vhd_task.h"

#include "tv_string.h"

struct vhd_job {
    tv_vhd_op_t *op;
    struct tv_vhd_task_report *report;
};

static tv_status_t job_run(struct task_job *job, void *ctx)
{
    struct vhd_job *j = ctx;
    tv_vhd_op_t *op = j->op;
    for (;;) {
        tv_status_t s = task_job_checkpoint(job);
        if (s == TV_OK && op->at_commit)
            s = task_job_point_of_no_return(job);
        if (s == TV_E_CANCELLED) {
            if (tv_vhd_op_cancel(op) == TV_OK)
                return TV_E_CANCELLED;
            s = TV_OK; /* past its commit: the operation runs on */
        }
        if (s != TV_OK)
            return s;
        s = tv_vhd_op_step(op);
        if (op->total)
            task_job_set_total(job, op->total);
        task_job_set_done(job, op->done);
        if (s != TV_E_CONTINUE) {
            if (s != TV_OK)
                task_job_fail(job, task_result_for_status(s), s, op->detail[0] ? op->detail : NULL);
            return s;
        }
    }
}

static enum tv_task_outcome job_abort(struct task_job *job, void *ctx, tv_status_t why)
{
    struct vhd_job *j = ctx;
    (void)job;
    if (!j->op->finished)
        tv_vhd_op_cancel(j->op);
    (void)why;
    switch (j->op->outcome) {
    case TV_VHD_OUTCOME_REDO_PENDING: return TV_TASK_OUTCOME_NEEDS_RECOVERY;
    case TV_VHD_OUTCOME_COMPLETED:
    case TV_VHD_OUTCOME_REPAIRED: return TV_TASK_OUTCOME_COMMITTED;
    default: return j->op->done ? TV_TASK_OUTCOME_ROLLED_BACK : TV_TASK_OUTCOME_UNTOUCHED;
    }
}

static void job_cleanup(void *ctx)
{
    struct vhd_job *j = ctx;
    tv_vhd_op_t *op = j->op;
    tv_storage_t *st = op->st;
    struct tv_vhd_task_report *r = j->report;
    if (!op->finished)
        tv_vhd_op_cancel(op); /* cancelled before it ever ran */
    if (r) {
        r->status = op->status;
        r->outcome = op->outcome;
        tv_strlcpy(r->detail, op->detail, sizeof r->detail);
    }
    tv_vhd_op_destroy(op);
    if (r)
        r->done = true;
    tv_st_free(st, j);
}

const struct task_driver tv_vhd_task_driver = {
    .name = "vhd",
    .run = job_run,
    .commit = NULL,
    .abort = job_abort,
    .cleanup = job_cleanup,
};

tv_status_t tv_vhd_task_ctx(tv_vhd_op_t *op, struct tv_vhd_task_report *report, void **ctx_out)
{
    struct vhd_job *j = tv_st_alloc(op->st, sizeof *j);
    if (!j)
        return TV_E_NO_MEMORY;
    j->op = op;
    j->report = report;
    if (report)
        tv_memset(report, 0, sizeof *report);
    *ctx_out = j;
    return TV_OK;
}

tv_status_t tv_vhd_task_start(struct task_mgr *mgr, tv_vhd_op_t *op, uint32_t type,
                              const char *description, struct tv_vhd_task_report *report,
                              uint64_t *id_out)
{
    void *ctx;
    tv_status_t s = tv_vhd_task_ctx(op, report, &ctx);
    if (s != TV_OK)
        return s;
    struct vhd_job *j = ctx;
    struct task_spec spec;
    tv_memset(&spec, 0, sizeof spec);
    spec.type = type;
    spec.target.kind = TV_TASK_TARGET_DISK;
    spec.description = description;
    spec.driver = &tv_vhd_task_driver;
    spec.driver_ctx = j;
    s = task_create(mgr, &spec, id_out);
    if (s != TV_OK)
        tv_st_free(op->st, j);
    return s;
}
