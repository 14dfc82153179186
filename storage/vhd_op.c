/* The operation framework: stepping, cancel, outcomes. */
#include "vhd_op.h"

#include "tv_fmt.h"

const char *tv_vhd_outcome_name(tv_vhd_outcome_t o)
{
    switch (o) {
    case TV_VHD_OUTCOME_RUNNING: return "running";
    case TV_VHD_OUTCOME_UNCHANGED: return "unchanged";
    case TV_VHD_OUTCOME_COMPLETED: return "completed";
    case TV_VHD_OUTCOME_REDO_PENDING: return "redo-pending";
    case TV_VHD_OUTCOME_REPAIRED: return "repaired";
    }
    return "unknown";
}

static void finish(tv_vhd_op_t *op, tv_status_t s)
{
    op->finished = true;
    op->status = s;
    if (s == TV_OK) {
        if (op->outcome == TV_VHD_OUTCOME_RUNNING)
            op->outcome = TV_VHD_OUTCOME_COMPLETED;
        return;
    }
    if (op->cancelable) {
        if (op->cls->rollback)
            op->cls->rollback(op);
        op->outcome = TV_VHD_OUTCOME_UNCHANGED;
    } else if (op->outcome == TV_VHD_OUTCOME_RUNNING) {
        op->outcome = TV_VHD_OUTCOME_REDO_PENDING;
    }
}

tv_status_t tv_vhd_op_step(tv_vhd_op_t *op)
{
    if (op->finished)
        return op->status;
    tv_status_t s = op->cls->step(op);
    if (s != TV_E_CONTINUE)
        finish(op, s);
    return s;
}

tv_status_t tv_vhd_op_cancel(tv_vhd_op_t *op)
{
    if (op->finished)
        return TV_E_INVALID_STATE;
    if (!op->cancelable)
        return TV_E_NOT_CANCELABLE;
    finish(op, TV_E_CANCELLED);
    return TV_OK;
}

void tv_vhd_op_destroy(tv_vhd_op_t *op)
{
    if (!op)
        return;
    if (!op->finished)
        finish(op, TV_E_CANCELLED); /* dropping a running op rolls it back if it can */
    tv_storage_t *st = op->st;
    if (op->cls->destroy)
        op->cls->destroy(op);
    tv_st_free(st, op);
}

tv_status_t tv_vhd_op_run(tv_vhd_op_t *op, tv_vhd_progress_fn fn, void *ctx)
{
    for (;;) {
        tv_status_t s = tv_vhd_op_step(op);
        if (s != TV_E_CONTINUE)
            return s;
        if (fn && fn(ctx, op) == TV_E_CANCELLED && tv_vhd_op_cancel(op) == TV_OK)
            return op->status;
    }
}
