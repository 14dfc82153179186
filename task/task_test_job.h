/* A synthetic job for tests and for the TEST_TASK_START hypercall (test
 * builds): counts units of simulated work, honouring pause and cancel,
 * optionally failing or passing a point of no return at a given unit. */
#ifndef TASK_TEST_JOB_H
#define TASK_TEST_JOB_H

#include "task_mgr.h"

#define TASK_TEST_MAX_UNITS   1000000000ull
#define TASK_TEST_MAX_UNIT_NS 1000000000ull /* one second per unit at most */

/* Validates spec (untrusted: it may come from a guest) and creates the task.
 * TV_E_INVALID_ARGUMENT for out-of-range fields or a description without a
 * terminating NUL. */
tv_status_t task_test_job_start(struct task_mgr *mgr, const struct tv_task_test_spec *spec,
                                uint64_t *id_out);

#endif
