/* Synthetic test job: see task_test_job.h. */
#include "task_test_job.h"
#include "task_platform.h"
#include "tv_string.h"

struct test_job {
    struct tv_task_test_spec spec;
    uint64_t units_done;
};

static tv_status_t test_run(struct task_job *job, void *ctx)
{
    struct test_job *tj = ctx;
    task_job_set_total(job, tj->spec.total_units);
    for (uint64_t unit = 1; unit <= tj->spec.total_units; unit++) {
        tv_status_t st = task_job_checkpoint(job);
        if (st != TV_OK)
            return st;
        if (unit == tj->spec.no_return_unit) {
            st = task_job_point_of_no_return(job);
            if (st != TV_OK)
                return st;
        }
        if (unit == tj->spec.fail_at_unit) {
            tv_status_t why = tj->spec.fail_status ? tj->spec.fail_status : TV_E_IO;
            return why;
        }
        if (tj->spec.unit_ns && (tj->spec.flags & TV_TASK_TEST_BUSY)) {
            /* A CPU-bound step that never yields: only preemption by the
             * platform's scheduler gets anyone else onto the CPU. */
            uint64_t end = tp_now_ns() + tj->spec.unit_ns;
            while (tp_now_ns() < end)
                ;
        } else if (tj->spec.unit_ns) {
            st = task_job_sleep(job, tj->spec.unit_ns);
            if (st != TV_OK)
                return st;
        }
        tj->units_done = unit;
        task_job_set_outcome(job, TV_TASK_OUTCOME_CONSISTENT_PARTIAL);
        task_job_set_done(job, unit);
    }
    return TV_OK;
}

static tv_status_t test_commit(struct task_job *job, void *ctx)
{
    struct test_job *tj = ctx;
    (void)job;
    return (tj->spec.flags & TV_TASK_TEST_FAIL_COMMIT) ? TV_E_IO : TV_OK;
}

static enum tv_task_outcome test_abort(struct task_job *job, void *ctx, tv_status_t why)
{
    struct test_job *tj = ctx;
    (void)job;
    (void)why;
    return tj->units_done ? TV_TASK_OUTCOME_ROLLED_BACK : TV_TASK_OUTCOME_UNTOUCHED;
}

static void test_cleanup(void *ctx)
{
    tp_free(ctx);
}

static const struct task_driver test_driver = {
    .name = "test",
    .run = test_run,
    .commit = test_commit,
    .abort = test_abort,
    .cleanup = test_cleanup,
};

#define KNOWN_FLAGS (TV_TASK_TEST_NOT_CANCELABLE | TV_TASK_TEST_NOT_PAUSABLE | \
                     TV_TASK_TEST_FAIL_COMMIT | TV_TASK_TEST_BUSY)

/* Checks the spec (untrusted: it may come from a guest) and builds the job. */
static tv_status_t test_prepare(void *owner, const void *args, struct task_prepared *out)
{
    const struct tv_task_test_spec *spec = args;
    (void)owner;
    if (spec->total_units > TASK_TEST_MAX_UNITS || spec->unit_ns > TASK_TEST_MAX_UNIT_NS ||
        (spec->flags & ~(uint32_t)KNOWN_FLAGS) || spec->reserved != 0 ||
        spec->fail_status < 0 || spec->fail_status >= TV_STATUS_COUNT ||
        tv_strnlen(spec->description, sizeof spec->description) == sizeof spec->description)
        return TV_E_INVALID_ARGUMENT;
    struct test_job *tj = tp_alloc(sizeof *tj);
    if (!tj)
        return TV_E_NO_MEMORY;
    tj->spec = *spec;
#ifdef TV_FUZZING
    /* Fuzz runs execute the jobs they create on one thread with a frozen
     * clock: keep them instant.  Validation above is unchanged. */
    if (tj->spec.total_units > 16)
        tj->spec.total_units = 16;
    tj->spec.unit_ns = 0;
#endif
    out->ctx = tj;
    tv_strlcpy(out->description, spec->description, sizeof out->description);
    out->priority = spec->priority;
    out->not_cancelable = (spec->flags & TV_TASK_TEST_NOT_CANCELABLE) != 0;
    out->not_pausable = (spec->flags & TV_TASK_TEST_NOT_PAUSABLE) != 0;
    return TV_OK;
}

const struct task_type task_test_type = {
    .type = TV_TASK_TYPE_TEST,
    .name = "test",
    .driver = &test_driver,
    .args_size = sizeof(struct tv_task_test_spec),
    .prepare = test_prepare,
};

tv_status_t task_test_job_start(struct task_mgr *mgr, const struct tv_task_test_spec *spec,
                                uint64_t *id_out)
{
    struct task_types reg;
    task_types_init(&reg);
    tv_status_t st = task_types_add(&reg, &task_test_type);
    if (st == TV_OK)
        st = task_types_start(&reg, mgr, TV_TASK_TYPE_TEST, spec, sizeof *spec, id_out);
    return st;
}
