/* Helpers shared by the task unit tests: a driver the test steers step by
 * step ("gate"), an instant driver, and polling helpers. */
#ifndef TASK_TEST_UTIL_H
#define TASK_TEST_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "task_mgr.h"

enum gate_cmd {
    GATE_NONE = 0,
    GATE_FINISH,       /* run returns TV_OK */
    GATE_FAIL,         /* run returns arg (a status) */
    GATE_FAIL_DETAIL,  /* task_job_fail(INCOMPATIBLE_SAVED_STATE, arg, "detail") then fail */
    GATE_NO_RETURN,    /* task_job_point_of_no_return */
    GATE_PROGRESS,     /* set_total(100), set_done(arg) */
    GATE_HOLD,         /* block without checkpoints until gate_release(), then return arg */
};

struct gate {
    pthread_mutex_t m;
    pthread_cond_t c;
    int cmd;
    int64_t arg;
    uint64_t cmd_seq, ack_seq;
    tv_status_t ack_status;      /* what the command's job call returned */
    bool released;
    bool commit_block;           /* commit blocks until gate_release_commit() */
    bool commit_released;
    bool in_commit;
    tv_status_t commit_status;
    int runs, commits, aborts, cleanups;
    tv_status_t abort_why;
    enum tv_task_outcome abort_outcome;
    bool free_on_cleanup;        /* gate is heap-allocated and owned by the task */
};

extern const struct task_driver gate_driver;

void gate_init(struct gate *g);
/* Sends a command and waits (up to 5 s real) until the driver took it.
 * Returns false on time-out. */
bool gate_send(struct gate *g, int cmd, int64_t arg);
/* Ends a GATE_HOLD; an idle driver then finishes with TV_OK too. */
void gate_release(struct gate *g);
void gate_release_commit(struct gate *g);
/* Waits until the driver is inside commit (5 s max). */
bool gate_wait_in_commit(struct gate *g);
int gate_count(struct gate *g, int *field);

/* Creates a task driven by g. */
tv_status_t gate_task(struct task_mgr *mgr, struct gate *g, uint32_t priority,
                      bool cancelable, uint64_t *id);

/* Instant driver: run does `units` units of progress and returns ctx-given
 * status; cleanup frees nothing.  Counts in a shared struct. */
struct instant {
    _Atomic int runs, commits, aborts, cleanups;
    tv_status_t run_status;
    uint64_t units;
};
extern const struct task_driver instant_driver;
tv_status_t instant_task(struct task_mgr *mgr, struct instant *in, uint64_t *id);

/* Polls task_query until state == want (5 s real max). */
bool wait_state(struct task_mgr *mgr, uint64_t id, uint32_t want);
uint32_t state_of(struct task_mgr *mgr, uint64_t id);

#endif
