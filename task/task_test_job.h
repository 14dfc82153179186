/* A synthetic job for tests and for the TEST_TASK_START hypercall (test
 * builds): counts units of simulated work, honouring pause and cancel,
 * optionally failing or passing a point of no return at a given unit. */
#ifndef TASK_TEST_JOB_H
#define TASK_TEST_JOB_H

#include "task_mgr.h"
#include "task_types.h"

#define TASK_TEST_MAX_UNITS   1000000000ull
#define TASK_TEST_MAX_UNIT_NS 1000000000ull /* one second per unit at most */

/* The test type, for a registry (test builds register it in the monitor's). */
extern const struct task_type task_test_type;

/* Starts one through a registry holding only the test type.  Validates spec (untrusted: it may come from a guest) and creates the task.
 * TV_E_INVALID_ARGUMENT for out-of-range fields or a description without a
 * terminating NUL. */
tv_status_t task_test_job_start(struct task_mgr *mgr, const struct tv_task_test_spec *spec,
                                uint64_t *id_out);

#endif
