/* Model-based test: random sequences of verbs and driver steps, checked
 * against a small reference model of the task state machine written
 * independently of task/task_state.c.  One slot, one or two workers, so the
 * order in which queued tasks start is predictable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform_hosted.h"
#include "task_mgr.h"
#include "task_state.h"
#include "task_test_util.h"
#include "tv_status.h"

#define MAX_TASKS 160

struct model_task {
    uint64_t id;
    bool exists;            /* not dismissed */
    uint32_t state;
    bool cancelable, pausable, started;
    uint32_t priority;
    uint32_t percent;
    uint32_t result;
    struct gate *gate;
    uint64_t last_seq;
};

struct model {
    struct task_mgr *mgr;
    struct model_task t[MAX_TASKS];
    int n;
    uint64_t rng;
    int steps, verbs_refused, verbs_ok;
};

static uint32_t rnd(struct model *m, uint32_t n)
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return (uint32_t)(m->rng % n);
}

static bool is_final(uint32_t s)
{
    return s == TV_TASK_COMPLETED || s == TV_TASK_FAILED || s == TV_TASK_CANCELLED;
}

static bool holds_slot(const struct model_task *t)
{
    return t->exists && t->started && !is_final(t->state);
}

/* The model's scheduler: one slot; best priority, then oldest. */
static void model_schedule(struct model *m)
{
    for (int i = 0; i < m->n; i++)
        if (holds_slot(&m->t[i]))
            return;
    struct model_task *best = NULL;
    for (int i = 0; i < m->n; i++) {
        struct model_task *t = &m->t[i];
        if (t->exists && t->state == TV_TASK_QUEUED && (!best || t->priority > best->priority))
            best = t;
    }
    if (best) {
        best->state = TV_TASK_RUNNING;
        best->started = true;
    }
}

static void model_finish(struct model_task *t, uint32_t state, uint32_t result)
{
    t->state = state;
    t->result = result;
    t->cancelable = false;
    t->pausable = false;
    if (state == TV_TASK_COMPLETED)
        t->percent = 100;
}

/* The model's answer to a verb (written from the spec, not from the table). */
static tv_status_t model_verb(struct model_task *t, uint32_t verb)
{
    if (!t || !t->exists)
        return TV_E_NOT_FOUND;
    uint32_t s = t->state;
    switch (verb) {
    case TV_TASK_VERB_CANCEL:
        if (is_final(s))
            return TV_E_INVALID_STATE;
        if (!t->cancelable)
            return TV_E_NOT_CANCELABLE;
        model_finish(t, TV_TASK_CANCELLED, TV_TASK_RESULT_CANCELLED);
        return TV_OK;
    case TV_TASK_VERB_PAUSE:
        if (s != TV_TASK_QUEUED && s != TV_TASK_RUNNING)
            return TV_E_INVALID_STATE;
        if (!t->pausable)
            return TV_E_UNSUPPORTED;
        t->state = TV_TASK_PAUSED;
        return TV_OK;
    case TV_TASK_VERB_RESUME:
        if (s != TV_TASK_PAUSED)
            return TV_E_INVALID_STATE;
        t->state = t->started ? TV_TASK_RUNNING : TV_TASK_QUEUED;
        return TV_OK;
    default:
        if (!is_final(s))
            return TV_E_INVALID_STATE;
        t->exists = false;
        return TV_OK;
    }
}

/* Waits until the real manager matches the model for every task. */
static void settle(struct model *m)
{
    for (int tries = 0; tries < 20000; tries++) {
        bool match = true;
        for (int i = 0; i < m->n && match; i++) {
            struct model_task *t = &m->t[i];
            struct tv_task_info info;
            tv_status_t st = task_query(m->mgr, t->id, &info);
            if (!t->exists) {
                match = st == TV_E_NOT_FOUND;
                continue;
            }
            if (st != TV_OK || info.state != t->state)
                match = false;
            else if (t->state == TV_TASK_PAUSED && t->started && !(info.flags & TV_TASK_FLAG_HELD))
                match = false; /* wait for the job to reach its pause point */
        }
        if (match)
            break;
        nanosleep(&(struct timespec){ 0, 100000 }, NULL);
    }
    /* Now compare everything. */
    for (int i = 0; i < m->n; i++) {
        struct model_task *t = &m->t[i];
        struct tv_task_info info;
        tv_status_t st = task_query(m->mgr, t->id, &info);
        if (!t->exists) {
            if (st != TV_E_NOT_FOUND)
                fail_msg("step %d: task %llu should be gone", m->steps,
                         (unsigned long long)t->id);
            continue;
        }
        if (st != TV_OK || info.state != t->state)
            fail_msg("step %d: task %llu is %s, model says %s", m->steps,
                     (unsigned long long)t->id, st == TV_OK ? task_state_name(info.state) : "gone",
                     task_state_name(t->state));
        if (!!(info.flags & TV_TASK_FLAG_CANCELABLE) != t->cancelable)
            fail_msg("step %d: task %llu cancelable %d, model %d", m->steps,
                     (unsigned long long)t->id, !!(info.flags & TV_TASK_FLAG_CANCELABLE),
                     t->cancelable);
        if (!!(info.flags & TV_TASK_FLAG_COMPLETE) != is_final(t->state))
            fail_msg("step %d: complete flag", m->steps);
        if (info.percent != t->percent)
            fail_msg("step %d: task %llu percent %u, model %u", m->steps,
                     (unsigned long long)t->id, info.percent, t->percent);
        if (info.result != t->result)
            fail_msg("step %d: task %llu result %u, model %u", m->steps,
                     (unsigned long long)t->id, info.result, t->result);
        if (info.seq < t->last_seq)
            fail_msg("step %d: seq went backwards", m->steps);
        t->last_seq = info.seq;
        if (is_final(t->state) && gate_count(t->gate, &t->gate->cleanups) != 1)
            fail_msg("step %d: task %llu finished with %d cleanups", m->steps,
                     (unsigned long long)t->id, gate_count(t->gate, &t->gate->cleanups));
        if (!t->started && gate_count(t->gate, &t->gate->runs) != 0)
            fail_msg("step %d: task %llu ran before its start", m->steps,
                     (unsigned long long)t->id);
    }
}

/* Mostly a task that is still alive, so verbs meet every state. */
static struct model_task *pick(struct model *m)
{
    if (m->n == 0)
        return NULL;
    if (rnd(m, 10) < 7) {
        int live[MAX_TASKS], k = 0;
        for (int i = 0; i < m->n; i++)
            if (m->t[i].exists && !is_final(m->t[i].state))
                live[k++] = i;
        if (k)
            return &m->t[live[rnd(m, (uint32_t)k)]];
    }
    return &m->t[rnd(m, (uint32_t)m->n)];
}

static void step(struct model *m)
{
    uint32_t what = rnd(m, 100);
    if (what < 15 && m->n < MAX_TASKS) {
        struct model_task *t = &m->t[m->n];
        memset(t, 0, sizeof *t);
        t->gate = malloc(sizeof *t->gate);
        gate_init(t->gate);
        t->priority = rnd(m, 3);
        t->cancelable = rnd(m, 5) != 0;
        t->pausable = true;
        t->result = TV_TASK_RESULT_PENDING;
        t->exists = true;
        t->state = TV_TASK_QUEUED;
        assert_int_equal(gate_task(m->mgr, t->gate, t->priority, t->cancelable, &t->id), TV_OK);
        m->n++;
    } else if (what < 60) {
        /* a verb on a random task, sometimes one that never existed */
        uint32_t verb = rnd(m, TV_TASK_VERB_COUNT);
        struct model_task *t = rnd(m, 10) == 0 ? NULL : pick(m);
        uint64_t id = t ? t->id : 1000000 + rnd(m, 5);
        tv_status_t want = model_verb(t, verb);
        tv_status_t got;
        switch (verb) {
        case TV_TASK_VERB_CANCEL: got = task_cancel(m->mgr, id); break;
        case TV_TASK_VERB_PAUSE: got = task_pause(m->mgr, id); break;
        case TV_TASK_VERB_RESUME: got = task_resume(m->mgr, id); break;
        default: got = task_dismiss(m->mgr, id); break;
        }
        if (got != want)
            fail_msg("step %d: %s on task %llu: got %s, model %s", m->steps,
                     task_verb_name(verb), (unsigned long long)id, tv_status_name(got),
                     tv_status_name(want));
        if (got == TV_OK)
            m->verbs_ok++;
        else
            m->verbs_refused++;
    } else {
        /* a driver step for the running task, if it is not paused */
        struct model_task *t = NULL;
        for (int i = 0; i < m->n; i++)
            if (m->t[i].exists && m->t[i].state == TV_TASK_RUNNING)
                t = &m->t[i];
        if (!t)
            return;
        uint32_t kind = rnd(m, 10);
        if (kind < 3) {
            assert_true(gate_send(t->gate, GATE_FINISH, 0));
            model_finish(t, TV_TASK_COMPLETED, TV_TASK_RESULT_SUCCESS);
        } else if (kind < 4) {
            assert_true(gate_send(t->gate, GATE_FAIL, TV_E_IO));
            model_finish(t, TV_TASK_FAILED, TV_TASK_RESULT_DISK);
        } else if (kind < 6) {
            assert_true(gate_send(t->gate, GATE_NO_RETURN, 0));
            assert_int_equal(t->gate->ack_status, TV_OK);
            t->cancelable = false;
        } else {
            int64_t done = rnd(m, 120);
            assert_true(gate_send(t->gate, GATE_PROGRESS, done));
            uint32_t pct = done >= 100 ? 99 : (uint32_t)done;
            if (pct > t->percent)
                t->percent = pct;
        }
    }
    model_schedule(m);
}

static void run_model(uint64_t seed, int steps, uint32_t workers)
{
    struct model *m = calloc(1, sizeof *m);
    m->rng = seed;
    struct task_mgr_config cfg = { .workers = workers, .max_running = 1 };
    assert_int_equal(task_mgr_create(&cfg, &m->mgr), TV_OK);
    for (m->steps = 0; m->steps < steps; m->steps++) {
        step(m);
        settle(m);
    }
    struct task_mgr_stats st;
    task_mgr_stats(m->mgr, &st);
    assert_int_equal(st.bad_transitions, 0);
    /* release whatever still runs so teardown ends */
    for (int i = 0; i < m->n; i++)
        gate_release(m->t[i].gate);
    task_mgr_destroy(m->mgr);
    for (int i = 0; i < m->n; i++) {
        if (gate_count(m->t[i].gate, &m->t[i].gate->cleanups) != 1)
            fail_msg("task %llu: %d cleanups after teardown", (unsigned long long)m->t[i].id,
                     m->t[i].gate->cleanups);
        free(m->t[i].gate);
    }
    printf("# seed %llu: %d steps, %d tasks, %d verbs accepted, %d refused\n",
           (unsigned long long)seed, steps, m->n, m->verbs_ok, m->verbs_refused);
    free(m);
}

static void model_seed_1(void **state) { (void)state; run_model(0x9e3779b97f4a7c15ull, 1500, 1); }
static void model_seed_2(void **state) { (void)state; run_model(0x2545f4914f6cdd1dull, 1500, 2); }
static void model_seed_3(void **state) { (void)state; run_model(0x5851f42d4c957f2dull, 1500, 2); }

int main(void)
{
    tp_hosted_clock_real();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_seed_1),
        cmocka_unit_test(model_seed_2),
        cmocka_unit_test(model_seed_3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
