/* See task_test_util.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "task_test_util.h"

static struct timespec in_ms(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

void gate_init(struct gate *g)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->m, NULL);
    pthread_cond_init(&g->c, NULL);
    g->abort_outcome = TV_TASK_OUTCOME_ROLLED_BACK;
}

static void ack(struct gate *g, tv_status_t st)
{
    pthread_mutex_lock(&g->m);
    g->ack_status = st;
    g->ack_seq = g->cmd_seq;
    g->cmd = GATE_NONE;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

static tv_status_t gate_run(struct task_job *job, void *ctx)
{
    struct gate *g = ctx;
    pthread_mutex_lock(&g->m);
    g->runs++;
    pthread_mutex_unlock(&g->m);
    for (;;) {
        tv_status_t st = task_job_checkpoint(job);
        if (st != TV_OK)
            return st;
        pthread_mutex_lock(&g->m);
        if (g->cmd == GATE_NONE) {
            struct timespec ts = in_ms(1);
            pthread_cond_timedwait(&g->c, &g->m, &ts);
        }
        int cmd = g->cmd;
        int64_t arg = g->arg;
        bool released = g->released;
        pthread_mutex_unlock(&g->m);
        if (cmd == GATE_NONE && released)
            return TV_OK; /* teardown: finish */
        switch (cmd) {
        case GATE_NONE:
            break;
        case GATE_FINISH:
            ack(g, TV_OK);
            return TV_OK;
        case GATE_FAIL:
            ack(g, TV_OK);
            return (tv_status_t)arg;
        case GATE_FAIL_DETAIL:
            task_job_fail(job, TV_TASK_RESULT_INCOMPATIBLE_SAVED_STATE, (tv_status_t)arg,
                          "saved state does not match");
            ack(g, TV_OK);
            return (tv_status_t)arg;
        case GATE_NO_RETURN:
            st = task_job_point_of_no_return(job);
            ack(g, st);
            if (st != TV_OK)
                return st;
            break;
        case GATE_PROGRESS:
            task_job_set_total(job, 100);
            task_job_set_done(job, (uint64_t)arg);
            ack(g, TV_OK);
            break;
        case GATE_HOLD:
            ack(g, TV_OK);
            pthread_mutex_lock(&g->m);
            while (!g->released)
                pthread_cond_wait(&g->c, &g->m);
            pthread_mutex_unlock(&g->m);
            return (tv_status_t)arg; /* what run returns after the hold */
        }
    }
}

static tv_status_t gate_commit(struct task_job *job, void *ctx)
{
    struct gate *g = ctx;
    (void)job;
    pthread_mutex_lock(&g->m);
    g->commits++;
    g->in_commit = true;
    pthread_cond_broadcast(&g->c);
    while (g->commit_block && !g->commit_released)
        pthread_cond_wait(&g->c, &g->m);
    tv_status_t st = g->commit_status;
    pthread_mutex_unlock(&g->m);
    return st;
}

static enum tv_task_outcome gate_abort(struct task_job *job, void *ctx, tv_status_t why)
{
    struct gate *g = ctx;
    (void)job;
    pthread_mutex_lock(&g->m);
    g->aborts++;
    g->abort_why = why;
    enum tv_task_outcome o = g->abort_outcome;
    pthread_mutex_unlock(&g->m);
    return o;
}

static void gate_cleanup(void *ctx)
{
    struct gate *g = ctx;
    if (g->free_on_cleanup) {
        pthread_mutex_destroy(&g->m);
        pthread_cond_destroy(&g->c);
        free(g);
        return;
    }
    pthread_mutex_lock(&g->m);
    g->cleanups++;
    pthread_mutex_unlock(&g->m);
}

const struct task_driver gate_driver = {
    .name = "gate", .run = gate_run, .commit = gate_commit,
    .abort = gate_abort, .cleanup = gate_cleanup,
};

bool gate_send(struct gate *g, int cmd, int64_t arg)
{
    pthread_mutex_lock(&g->m);
    g->cmd = cmd;
    g->arg = arg;
    uint64_t seq = ++g->cmd_seq;
    pthread_cond_broadcast(&g->c);
    struct timespec ts = in_ms(5000);
    int rc = 0;
    while (g->ack_seq != seq && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g->c, &g->m, &ts);
    bool ok = g->ack_seq == seq;
    if (!ok)
        g->cmd = GATE_NONE;
    pthread_mutex_unlock(&g->m);
    return ok;
}

void gate_release(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    g->released = true;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

void gate_release_commit(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    g->commit_released = true;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

bool gate_wait_in_commit(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    struct timespec ts = in_ms(5000);
    int rc = 0;
    while (!g->in_commit && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g->c, &g->m, &ts);
    bool ok = g->in_commit;
    pthread_mutex_unlock(&g->m);
    return ok;
}

int gate_count(struct gate *g, int *field)
{
    pthread_mutex_lock(&g->m);
    int v = *field;
    pthread_mutex_unlock(&g->m);
    return v;
}

tv_status_t gate_task(struct task_mgr *mgr, struct gate *g, uint32_t priority,
                      bool cancelable, uint64_t *id)
{
    struct task_spec spec = {
        .type = TV_TASK_TYPE_TEST,
        .target = { TV_TASK_TARGET_DISK, 0, 7 },
        .description = "gate job",
        .priority = priority,
        .not_cancelable = !cancelable,
        .driver = &gate_driver,
        .driver_ctx = g,
    };
    return task_create(mgr, &spec, id);
}

static tv_status_t instant_run(struct task_job *job, void *ctx)
{
    struct instant *in = ctx;
    in->runs++;
    if (in->units) {
        task_job_set_total(job, in->units);
        for (uint64_t i = 1; i <= in->units; i++) {
            tv_status_t st = task_job_checkpoint(job);
            if (st != TV_OK)
                return st;
            task_job_set_done(job, i);
        }
    }
    return in->run_status;
}

static tv_status_t instant_commit(struct task_job *job, void *ctx)
{
    struct instant *in = ctx;
    (void)job;
    in->commits++;
    return TV_OK;
}

static enum tv_task_outcome instant_abort(struct task_job *job, void *ctx, tv_status_t why)
{
    struct instant *in = ctx;
    (void)job;
    (void)why;
    in->aborts++;
    return TV_TASK_OUTCOME_ROLLED_BACK;
}

static void instant_cleanup(void *ctx)
{
    struct instant *in = ctx;
    in->cleanups++;
}

const struct task_driver instant_driver = {
    .name = "instant", .run = instant_run, .commit = instant_commit,
    .abort = instant_abort, .cleanup = instant_cleanup,
};

tv_status_t instant_task(struct task_mgr *mgr, struct instant *in, uint64_t *id)
{
    struct task_spec spec = {
        .type = TV_TASK_TYPE_TEST,
        .description = "instant job",
        .driver = &instant_driver,
        .driver_ctx = in,
    };
    return task_create(mgr, &spec, id);
}

uint32_t state_of(struct task_mgr *mgr, uint64_t id)
{
    struct tv_task_info info;
    if (task_query(mgr, id, &info) != TV_OK)
        return UINT32_MAX;
    return info.state;
}

bool wait_state(struct task_mgr *mgr, uint64_t id, uint32_t want)
{
    for (int i = 0; i < 50000; i++) {
        if (state_of(mgr, id) == want)
            return true;
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    return false;
}
