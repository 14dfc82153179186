/* The task state machine: the one place where transitions and verbs are
 * allowed or refused.  Portable, no state of its own. */
#ifndef TASK_STATE_H
#define TASK_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "taskvisor/status.h"
#include "taskvisor/task.h"

/* Facts about a task the verb rules depend on. */
#define TASK_FACT_CANCELABLE (1u << 0)
#define TASK_FACT_PAUSABLE   (1u << 1)
#define TASK_FACT_STARTED    (1u << 2) /* the driver has been entered */

/* Pseudo state: the record is removed (dismiss). */
#define TASK_STATE_GONE TV_TASK_STATE_COUNT

bool task_state_valid(uint32_t state);
bool task_state_is_final(uint32_t state);
/* True when the machine may move from -> to. */
bool task_transition_allowed(uint32_t from, uint32_t to);

/* Checks a verb against the verb table.  Returns TV_OK and the state the
 * task moves to (TASK_STATE_GONE for dismiss), or the refusal:
 * TV_E_NOT_CANCELABLE, TV_E_UNSUPPORTED (pause of a job that cannot pause),
 * TV_E_INVALID_STATE, TV_E_INVALID_ARGUMENT (unknown verb/state). */
tv_status_t task_verb_check(uint32_t verb, uint32_t state, uint32_t facts, uint32_t *next_out);

const char *task_state_name(uint32_t state);
const char *task_result_name(uint32_t result);
const char *task_outcome_name(uint32_t outcome);
const char *task_verb_name(uint32_t verb);

#endif
