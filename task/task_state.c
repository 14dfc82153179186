/* Transition matrix and verb table for tasks (the model QEMU's job.c uses:
 * every change is checked against a table, refusals are explicit). */
#include "task_state.h"

#define Q  TV_TASK_QUEUED
#define R  TV_TASK_RUNNING
#define P  TV_TASK_PAUSED
#define CG TV_TASK_CANCELLING
#define CM TV_TASK_COMMITTING
#define D  TV_TASK_COMPLETED
#define F  TV_TASK_FAILED
#define X  TV_TASK_CANCELLED
#define N  TV_TASK_STATE_COUNT

/* allowed[from][to] */
static const bool allowed[N][N] = {
    /*              Q  R  P  CG CM D  F  X */
    /* queued -> cancelling: cancel of a task that never ran; the canceller
     * runs its cleanup and finishes it at once */
    [Q]  = { [R] = 1, [P] = 1, [CG] = 1 },
    /* running -> failed: run failed; paused: pause verb */
    [R]  = { [P] = 1, [CG] = 1, [CM] = 1, [F] = 1 },
    /* paused -> queued: resumed before it ever ran; -> failed: run returned
     * an error just as the pause was accepted */
    [P]  = { [Q] = 1, [R] = 1, [CG] = 1, [F] = 1 },
    /* an accepted cancel is final */
    [CG] = { [X] = 1 },
    [CM] = { [D] = 1, [F] = 1 },
    [D]  = { 0 },
    [F]  = { 0 },
    [X]  = { 0 },
};

bool task_state_valid(uint32_t state)
{
    return state < N;
}

bool task_state_is_final(uint32_t state)
{
    return state == D || state == F || state == X;
}

bool task_transition_allowed(uint32_t from, uint32_t to)
{
    if (from >= N || to >= N)
        return false;
    return allowed[from][to];
}

/* What a verb needs beyond the state. */
enum need {
    NEED_NOTHING = 0,
    NEED_CANCELABLE,   /* refusal: TV_E_NOT_CANCELABLE */
    NEED_PAUSABLE,     /* refusal: TV_E_UNSUPPORTED */
};

struct verb_rule {
    tv_status_t status;    /* TV_OK or the refusal for this state */
    uint8_t need;
    uint8_t next_started;  /* next state when the driver has been entered */
    uint8_t next_fresh;    /* next state when it has not */
};

#define OK_TO(s, f, n) { TV_OK, (n), (s), (f) }
#define REFUSE(st)     { (st), NEED_NOTHING, 0, 0 }
#define BAD            REFUSE(TV_E_INVALID_STATE)

static const struct verb_rule verb_table[TV_TASK_VERB_COUNT][N] = {
    [TV_TASK_VERB_CANCEL] = {
        [Q]  = OK_TO(CG, CG, NEED_CANCELABLE),
        [R]  = OK_TO(CG, CG, NEED_CANCELABLE),
        [P]  = OK_TO(CG, CG, NEED_CANCELABLE),
        [CG] = BAD,                              /* already being cancelled */
        [CM] = REFUSE(TV_E_NOT_CANCELABLE),      /* past the point of no return */
        [D] = BAD, [F] = BAD, [X] = BAD,
    },
    [TV_TASK_VERB_PAUSE] = {
        [Q]  = OK_TO(P, P, NEED_PAUSABLE),
        [R]  = OK_TO(P, P, NEED_PAUSABLE),
        [P] = BAD, [CG] = BAD, [CM] = BAD, [D] = BAD, [F] = BAD, [X] = BAD,
    },
    [TV_TASK_VERB_RESUME] = {
        [P]  = OK_TO(R, Q, NEED_NOTHING),
        [Q] = BAD, [R] = BAD, [CG] = BAD, [CM] = BAD, [D] = BAD, [F] = BAD, [X] = BAD,
    },
    [TV_TASK_VERB_DISMISS] = {
        [D] = OK_TO(N, N, NEED_NOTHING),
        [F] = OK_TO(N, N, NEED_NOTHING),
        [X] = OK_TO(N, N, NEED_NOTHING),
        [Q] = BAD, [R] = BAD, [P] = BAD, [CG] = BAD, [CM] = BAD,
    },
};

tv_status_t task_verb_check(uint32_t verb, uint32_t state, uint32_t facts, uint32_t *next_out)
{
    if (verb >= TV_TASK_VERB_COUNT || state >= N)
        return TV_E_INVALID_ARGUMENT;
    const struct verb_rule *rule = &verb_table[verb][state];
    if (rule->status != TV_OK)
        return rule->status;
    if (rule->need == NEED_CANCELABLE && !(facts & TASK_FACT_CANCELABLE))
        return TV_E_NOT_CANCELABLE;
    if (rule->need == NEED_PAUSABLE && !(facts & TASK_FACT_PAUSABLE))
        return TV_E_UNSUPPORTED;
    *next_out = (facts & TASK_FACT_STARTED) ? rule->next_started : rule->next_fresh;
    return TV_OK;
}

static const char *const state_names[N] = {
    [Q] = "queued", [R] = "running", [P] = "paused", [CG] = "cancelling",
    [CM] = "committing", [D] = "completed", [F] = "failed", [X] = "cancelled",
};

static const char *const result_names[TV_TASK_RESULT_COUNT] = {
    [TV_TASK_RESULT_SUCCESS] = "success",
    [TV_TASK_RESULT_CANCELLED] = "cancelled",
    [TV_TASK_RESULT_UNEXPECTED] = "unexpected error",
    [TV_TASK_RESULT_OUT_OF_MEMORY] = "out of memory",
    [TV_TASK_RESULT_DISK] = "disk error",
    [TV_TASK_RESULT_INCOMPATIBLE_SAVED_STATE] = "incompatible saved state",
    [TV_TASK_RESULT_TIMEOUT] = "timeout",
    [TV_TASK_RESULT_ILLEGAL_VALUE] = "illegal value",
    [TV_TASK_RESULT_THREAD_CRASH] = "thread crash",
    [TV_TASK_RESULT_SHUTDOWN_ABORT] = "shutdown aborted",
};

static const char *const outcome_names[TV_TASK_OUTCOME_COUNT] = {
    [TV_TASK_OUTCOME_PENDING] = "pending",
    [TV_TASK_OUTCOME_COMMITTED] = "committed",
    [TV_TASK_OUTCOME_UNTOUCHED] = "untouched",
    [TV_TASK_OUTCOME_ROLLED_BACK] = "rolled back",
    [TV_TASK_OUTCOME_CONSISTENT_PARTIAL] = "consistent partial",
    [TV_TASK_OUTCOME_NEEDS_RECOVERY] = "needs recovery",
};

static const char *const verb_names[TV_TASK_VERB_COUNT] = {
    [TV_TASK_VERB_CANCEL] = "cancel", [TV_TASK_VERB_PAUSE] = "pause",
    [TV_TASK_VERB_RESUME] = "resume", [TV_TASK_VERB_DISMISS] = "dismiss",
};

const char *task_state_name(uint32_t state)
{
    return state < N ? state_names[state] : "invalid";
}

const char *task_result_name(uint32_t result)
{
    if (result == TV_TASK_RESULT_PENDING)
        return "pending";
    return result < TV_TASK_RESULT_COUNT ? result_names[result] : "invalid";
}

const char *task_outcome_name(uint32_t outcome)
{
    return outcome < TV_TASK_OUTCOME_COUNT ? outcome_names[outcome] : "invalid";
}

const char *task_verb_name(uint32_t verb)
{
    return verb < TV_TASK_VERB_COUNT ? verb_names[verb] : "invalid";
}
