/* Unit tests of the task core: every state, every verb, progress, waiting,
 * retention, queueing, events, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "platform_hosted.h"
#include "task_platform.h"
#include "task_internal.h" /* events_wrap starts the ring indices near 2^32 */
#include "task_mgr.h"
#include "task_state.h"
#include "task_test_util.h"
#include "tv_status.h"

#define SEC 1000000000ull
#define MS 1000000ull

static struct task_mgr *mk(uint32_t workers, uint32_t max_running)
{
    struct task_mgr_config cfg = { .workers = workers, .max_running = max_running };
    struct task_mgr *mgr = NULL;
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    return mgr;
}

static struct tv_task_info q(struct task_mgr *mgr, uint64_t id)
{
    struct tv_task_info info;
    assert_int_equal(task_query(mgr, id, &info), TV_OK);
    return info;
}

static int setup_real_clock(void **state)
{
    (void)state;
    tp_hosted_clock_real();
    return 0;
}

/* ---- Tables ------------------------------------------------------------- */

static void transition_matrix(void **state)
{
    (void)state;
    enum { Q, R, P, CG, CM, D, F, X, N };
    static const char *allowed[N] = {
        [Q] = "RPG", [R] = "PGMF", [P] = "QRGF", [CG] = "X", [CM] = "DF",
        [D] = "", [F] = "", [X] = "",
    };
    const char letters[N] = { 'Q', 'R', 'P', 'G', 'M', 'D', 'F', 'X' };
    for (int from = 0; from < N; from++)
        for (int to = 0; to < N; to++) {
            bool want = strchr(allowed[from], letters[to]) != NULL;
            if (task_transition_allowed((uint32_t)from, (uint32_t)to) != want)
                fail_msg("transition %s -> %s", task_state_name((uint32_t)from),
                         task_state_name((uint32_t)to));
        }
    assert_false(task_transition_allowed(N, Q));
    assert_false(task_transition_allowed(Q, 99));
    for (int s = 0; s < N; s++)
        assert_int_equal(task_state_is_final((uint32_t)s), s == D || s == F || s == X);
}

static void verb_table(void **state)
{
    (void)state;
    const uint32_t all = TASK_FACT_CANCELABLE | TASK_FACT_PAUSABLE | TASK_FACT_STARTED;
    /* expected status with every fact set, one row per verb */
    static const tv_status_t expect[TV_TASK_VERB_COUNT][TV_TASK_STATE_COUNT] = {
        [TV_TASK_VERB_CANCEL] = { TV_OK, TV_OK, TV_OK, TV_E_INVALID_STATE, TV_E_NOT_CANCELABLE,
                                  TV_E_INVALID_STATE, TV_E_INVALID_STATE, TV_E_INVALID_STATE },
        [TV_TASK_VERB_PAUSE] = { TV_OK, TV_OK, TV_E_INVALID_STATE, TV_E_INVALID_STATE,
                                 TV_E_INVALID_STATE, TV_E_INVALID_STATE, TV_E_INVALID_STATE,
                                 TV_E_INVALID_STATE },
        [TV_TASK_VERB_RESUME] = { TV_E_INVALID_STATE, TV_E_INVALID_STATE, TV_OK,
                                  TV_E_INVALID_STATE, TV_E_INVALID_STATE, TV_E_INVALID_STATE,
                                  TV_E_INVALID_STATE, TV_E_INVALID_STATE },
        [TV_TASK_VERB_DISMISS] = { TV_E_INVALID_STATE, TV_E_INVALID_STATE, TV_E_INVALID_STATE,
                                   TV_E_INVALID_STATE, TV_E_INVALID_STATE, TV_OK, TV_OK, TV_OK },
    };
    for (uint32_t v = 0; v < TV_TASK_VERB_COUNT; v++)
        for (uint32_t s = 0; s < TV_TASK_STATE_COUNT; s++) {
            uint32_t next = 999;
            tv_status_t st = task_verb_check(v, s, all, &next);
            if (st != expect[v][s])
                fail_msg("%s in %s: %s", task_verb_name(v), task_state_name(s),
                         tv_status_name(st));
            if (st == TV_OK && v != TV_TASK_VERB_DISMISS &&
                !task_transition_allowed(s, next))
                fail_msg("%s in %s leads to a forbidden state", task_verb_name(v),
                         task_state_name(s));
        }
    uint32_t next;
    /* flags */
    assert_int_equal(task_verb_check(TV_TASK_VERB_CANCEL, TV_TASK_RUNNING,
                                     TASK_FACT_STARTED, &next), TV_E_NOT_CANCELABLE);
    assert_int_equal(task_verb_check(TV_TASK_VERB_CANCEL, TV_TASK_QUEUED, 0, &next),
                     TV_E_NOT_CANCELABLE);
    assert_int_equal(task_verb_check(TV_TASK_VERB_PAUSE, TV_TASK_RUNNING,
                                     TASK_FACT_STARTED, &next), TV_E_UNSUPPORTED);
    /* started decides where resume goes */
    assert_int_equal(task_verb_check(TV_TASK_VERB_RESUME, TV_TASK_PAUSED, 0, &next), TV_OK);
    assert_int_equal(next, TV_TASK_QUEUED);
    assert_int_equal(task_verb_check(TV_TASK_VERB_RESUME, TV_TASK_PAUSED, all, &next), TV_OK);
    assert_int_equal(next, TV_TASK_RUNNING);
    assert_int_equal(task_verb_check(TV_TASK_VERB_DISMISS, TV_TASK_COMPLETED, 0, &next), TV_OK);
    assert_int_equal(next, TASK_STATE_GONE);
    assert_int_equal(task_verb_check(9, TV_TASK_QUEUED, all, &next), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_verb_check(0, 77, all, &next), TV_E_INVALID_ARGUMENT);
    assert_string_equal(task_result_name(TV_TASK_RESULT_SHUTDOWN_ABORT), "shutdown aborted");
    assert_string_equal(task_outcome_name(TV_TASK_OUTCOME_NEEDS_RECOVERY), "needs recovery");
}

/* ---- Creation and the record -------------------------------------------- */

static void create_and_query(void **state)
{
    (void)state;
    tp_hosted_clock_manual(5 * SEC);
    struct task_mgr *mgr = mk(0, 1);
    struct instant in = { 0 };
    uint64_t a, b;
    assert_int_equal(instant_task(mgr, &in, &a), TV_OK);
    assert_int_equal(instant_task(mgr, &in, &b), TV_OK);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    struct tv_task_info info = q(mgr, a);
    assert_int_equal(info.id, 1);
    assert_int_equal(info.state, TV_TASK_QUEUED);
    assert_int_equal(info.result, TV_TASK_RESULT_PENDING);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_PENDING);
    assert_int_equal(info.flags, TV_TASK_FLAG_CANCELABLE | TV_TASK_FLAG_PAUSABLE);
    assert_int_equal(info.percent, 0);
    assert_int_equal(info.created_ns, 5 * SEC);
    assert_int_equal(info.started_ns, 0);
    assert_int_equal(info.finished_ns, 0);
    assert_true(info.seq >= 1);
    assert_string_equal(info.description, "instant job");
    assert_int_equal(info.description_len, strlen("instant job"));
    assert_int_equal(info.eta_ns, TV_TASK_ETA_UNKNOWN);
    assert_int_equal(info.snapshot_ns, 5 * SEC);
    assert_int_equal(task_query(mgr, 3, &info), TV_E_NOT_FOUND);
    assert_int_equal(task_query(mgr, 0, &info), TV_E_NOT_FOUND);

    /* invalid specs are refused and create nothing */
    struct task_spec bad = { .type = TV_TASK_TYPE_COUNT, .driver = &instant_driver };
    assert_int_equal(task_create(mgr, &bad, &a), TV_E_INVALID_ARGUMENT);
    bad.type = 0;
    bad.driver = NULL;
    assert_int_equal(task_create(mgr, &bad, &a), TV_E_INVALID_ARGUMENT);
    bad.driver = &instant_driver;
    bad.target.kind = 9;
    assert_int_equal(task_create(mgr, &bad, &a), TV_E_INVALID_ARGUMENT);
    task_mgr_destroy(mgr);
    assert_int_equal(in.cleanups, 2); /* destroy cancelled both */
    assert_int_equal(in.runs, 0);
}

static void description_utf8(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(0, 1);
    struct instant in = { 0 };
    char longtext[400];
    /* 3-byte characters: truncation must fall on a character boundary */
    for (int i = 0; i < 133; i++)
        memcpy(longtext + 3 * i, "\xe2\x82\xac", 3); /* EURO SIGN */
    longtext[399] = '\0';
    struct task_spec spec = { .driver = &instant_driver, .driver_ctx = &in,
                              .description = longtext };
    uint64_t id;
    assert_int_equal(task_create(mgr, &spec, &id), TV_OK);
    struct tv_task_info info = q(mgr, id);
    assert_int_equal(info.description_len, 126); /* 42 euro signs, 127 would split one */
    assert_int_equal(strlen(info.description), 126);
    spec.description = "bad \xff\xc0\x80 ok \xed\xa0\x80!";
    assert_int_equal(task_create(mgr, &spec, &id), TV_OK);
    info = q(mgr, id);
    assert_string_equal(info.description, "bad ??" "? ok ??" "?!");
    /* 4-byte characters pass; above U+10FFFF, overlong 3-byte and a
     * sequence cut by the end of the string do not */
    spec.description = "\xf0\x9f\x98\x80|\xf4\x90\x80\x80|\xe0\x80\xaf|\xe2\x82";
    assert_int_equal(task_create(mgr, &spec, &id), TV_OK);
    info = q(mgr, id);
    assert_string_equal(info.description, "\xf0\x9f\x98\x80|?" "?" "??|?" "??|?" "?");
    spec.description = NULL;
    assert_int_equal(task_create(mgr, &spec, &id), TV_OK);
    info = q(mgr, id);
    assert_string_equal(info.description, "");
    assert_int_equal(info.description_len, 0);
    task_mgr_destroy(mgr);
}

/* ---- Life cycles ---------------------------------------------------------- */

static void run_to_completion(void **state)
{
    (void)state;
    tp_hosted_clock_manual(SEC);
    struct task_mgr *mgr = mk(0, 1);
    struct instant in = { .units = 10 };
    uint64_t id;
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    uint64_t seq0 = q(mgr, id).seq;
    tp_hosted_clock_advance(SEC);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(task_mgr_run_next(mgr), TV_E_NOT_FOUND);
    struct tv_task_info info = q(mgr, id);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(info.result, TV_TASK_RESULT_SUCCESS);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_COMMITTED);
    assert_int_equal(info.percent, 100);
    assert_int_equal(info.done, 10);
    assert_int_equal(info.total, 10);
    assert_int_equal(info.error, TV_OK);
    assert_int_equal(info.flags & (TV_TASK_FLAG_COMPLETE | TV_TASK_FLAG_CANCELABLE |
                                   TV_TASK_FLAG_STARTED),
                     TV_TASK_FLAG_COMPLETE | TV_TASK_FLAG_STARTED);
    assert_int_equal(info.started_ns, 2 * SEC);
    assert_int_equal(info.finished_ns, 2 * SEC);
    assert_int_equal(info.eta_ns, 0);
    assert_true(info.seq > seq0 + 10);
    assert_int_equal(in.runs, 1);
    assert_int_equal(in.commits, 1);
    assert_int_equal(in.aborts, 0);
    assert_int_equal(in.cleanups, 1);
    /* verbs on a finished task */
    assert_int_equal(task_cancel(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_pause(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_resume(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_wait(mgr, id, 0), TV_OK);
    assert_int_equal(task_dismiss(mgr, id), TV_OK);
    assert_int_equal(task_dismiss(mgr, id), TV_E_NOT_FOUND);
    assert_int_equal(task_cancel(mgr, id), TV_E_NOT_FOUND);
    assert_int_equal(task_pause(mgr, id), TV_E_NOT_FOUND);
    assert_int_equal(task_resume(mgr, id), TV_E_NOT_FOUND);
    assert_int_equal(task_wait(mgr, id, 0), TV_E_NOT_FOUND);
    /* ids are never reused */
    uint64_t id2;
    assert_int_equal(instant_task(mgr, &in, &id2), TV_OK);
    assert_int_equal(id2, id + 1);
    task_mgr_destroy(mgr);
}

static void cancel_queued(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(0, 1);
    struct instant in = { 0 };
    uint64_t id;
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(task_cancel(mgr, id), TV_OK);
    struct tv_task_info info = q(mgr, id);
    assert_int_equal(info.state, TV_TASK_CANCELLED);
    assert_int_equal(info.result, TV_TASK_RESULT_CANCELLED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_UNTOUCHED);
    assert_int_equal(info.error, TV_E_CANCELLED);
    assert_string_equal(info.error_description, "cancelled");
    assert_int_equal(in.cleanups, 1);
    assert_int_equal(in.runs, 0);
    assert_int_equal(task_cancel(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_mgr_run_next(mgr), TV_E_NOT_FOUND);

    /* not cancelable: refused, and the task goes on */
    struct task_spec spec = { .driver = &instant_driver, .driver_ctx = &in,
                              .not_cancelable = true };
    assert_int_equal(task_create(mgr, &spec, &id), TV_OK);
    assert_int_equal(task_cancel(mgr, id), TV_E_NOT_CANCELABLE);
    assert_int_equal(q(mgr, id).state, TV_TASK_QUEUED);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(q(mgr, id).state, TV_TASK_COMPLETED);
    task_mgr_destroy(mgr);
}

static void pause_queued(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(0, 1);
    struct instant in = { 0 };
    uint64_t id;
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(task_pause(mgr, id), TV_OK);
    assert_int_equal(q(mgr, id).state, TV_TASK_PAUSED);
    assert_int_equal(task_pause(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_mgr_run_next(mgr), TV_E_NOT_FOUND); /* held */
    assert_int_equal(task_resume(mgr, id), TV_OK);
    assert_int_equal(q(mgr, id).state, TV_TASK_QUEUED);
    assert_int_equal(task_resume(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_pause(mgr, id), TV_OK);
    assert_int_equal(task_cancel(mgr, id), TV_OK); /* paused, never ran */
    assert_int_equal(q(mgr, id).state, TV_TASK_CANCELLED);
    assert_int_equal(q(mgr, id).outcome, TV_TASK_OUTCOME_UNTOUCHED);
    assert_int_equal(in.cleanups, 1);
    /* not pausable */
    struct task_spec spec = { .driver = &instant_driver, .driver_ctx = &in,
                              .not_pausable = true };
    assert_int_equal(task_create(mgr, &spec, &id), TV_OK);
    assert_int_equal(task_pause(mgr, id), TV_E_UNSUPPORTED);
    assert_int_equal(q(mgr, id).flags & TV_TASK_FLAG_PAUSABLE, 0);
    task_mgr_destroy(mgr);
}

static void cancel_running(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(1, 1);
    struct gate g;
    gate_init(&g);
    uint64_t id;
    assert_int_equal(gate_task(mgr, &g, 0, true, &id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_true(gate_send(&g, GATE_PROGRESS, 40));
    assert_int_equal(q(mgr, id).percent, 40);
    assert_int_equal(task_resume(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_dismiss(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_cancel(mgr, id), TV_OK);
    assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
    struct tv_task_info info = q(mgr, id);
    assert_int_equal(info.state, TV_TASK_CANCELLED);
    assert_int_equal(info.result, TV_TASK_RESULT_CANCELLED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_ROLLED_BACK);
    assert_int_equal(info.percent, 40); /* stays where it was */
    assert_int_equal(g.aborts, 1);
    assert_int_equal(g.abort_why, TV_E_CANCELLED);
    assert_int_equal(g.commits, 0);
    assert_int_equal(g.cleanups, 1);
    task_mgr_destroy(mgr);
}

static void point_of_no_return(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(1, 1);
    struct gate g;
    gate_init(&g);
    uint64_t id;
    assert_int_equal(gate_task(mgr, &g, 0, true, &id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_true(q(mgr, id).flags & TV_TASK_FLAG_CANCELABLE);
    assert_true(gate_send(&g, GATE_NO_RETURN, 0));
    assert_int_equal(g.ack_status, TV_OK);
    assert_false(q(mgr, id).flags & TV_TASK_FLAG_CANCELABLE);
    assert_int_equal(task_cancel(mgr, id), TV_E_NOT_CANCELABLE);
    assert_int_equal(q(mgr, id).state, TV_TASK_RUNNING); /* goes on */
    assert_true(gate_send(&g, GATE_FINISH, 0));
    assert_int_equal(task_wait(mgr, id, -1), TV_OK);
    assert_int_equal(q(mgr, id).state, TV_TASK_COMPLETED);
    task_mgr_destroy(mgr);
}

static void pause_resume_running(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(1, 1);
    struct gate g;
    gate_init(&g);
    uint64_t id;
    assert_int_equal(gate_task(mgr, &g, 0, true, &id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_int_equal(task_pause(mgr, id), TV_OK);
    assert_int_equal(q(mgr, id).state, TV_TASK_PAUSED);
    /* HELD once the job has reached its pause point */
    for (int i = 0; i < 5000 && !(q(mgr, id).flags & TV_TASK_FLAG_HELD); i++)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    assert_true(q(mgr, id).flags & TV_TASK_FLAG_HELD);
    /* the driver is held at its checkpoint: commands are not taken */
    pthread_mutex_lock(&g.m);
    g.cmd = GATE_PROGRESS;
    g.arg = 10;
    uint64_t seq = ++g.cmd_seq;
    pthread_mutex_unlock(&g.m);
    struct timespec ts = { 0, 30 * 1000000 };
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&g.m);
    assert_true(g.ack_seq != seq);
    pthread_mutex_unlock(&g.m);
    assert_int_equal(q(mgr, id).percent, 0);
    assert_int_equal(task_resume(mgr, id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_false(q(mgr, id).flags & TV_TASK_FLAG_HELD);
    for (int i = 0; i < 5000 && q(mgr, id).percent != 10; i++)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    assert_int_equal(q(mgr, id).percent, 10);
    /* cancel a paused, started task: cancelling, then cancelled */
    assert_int_equal(task_pause(mgr, id), TV_OK);
    assert_int_equal(task_cancel(mgr, id), TV_OK);
    assert_int_equal(task_cancel(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
    assert_int_equal(q(mgr, id).state, TV_TASK_CANCELLED);
    assert_int_equal(g.aborts, 1);
    task_mgr_destroy(mgr);
}

static void paused_does_not_commit(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(1, 1);
    struct gate g;
    gate_init(&g);
    uint64_t id;
    assert_int_equal(gate_task(mgr, &g, 0, true, &id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_true(gate_send(&g, GATE_HOLD, TV_OK)); /* driver busy, no checkpoint */
    assert_int_equal(task_pause(mgr, id), TV_OK);
    gate_release(&g); /* run returns TV_OK while paused */
    nanosleep(&(struct timespec){ 0, 30 * 1000000 }, NULL);
    assert_int_equal(q(mgr, id).state, TV_TASK_PAUSED);
    assert_int_equal(gate_count(&g, &g.commits), 0);
    assert_int_equal(task_resume(mgr, id), TV_OK);
    assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
    assert_int_equal(q(mgr, id).state, TV_TASK_COMPLETED);
    assert_int_equal(g.commits, 1);

    /* same, but cancelled while paused: the accepted cancel is final */
    struct gate g2;
    gate_init(&g2);
    assert_int_equal(gate_task(mgr, &g2, 0, true, &id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_true(gate_send(&g2, GATE_HOLD, 0));
    assert_int_equal(task_pause(mgr, id), TV_OK);
    gate_release(&g2);
    assert_int_equal(task_cancel(mgr, id), TV_OK);
    assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
    assert_int_equal(q(mgr, id).state, TV_TASK_CANCELLED);
    assert_int_equal(g2.commits, 0);
    assert_int_equal(g2.aborts, 1);
    task_mgr_destroy(mgr);
}

/* Whatever run returns after a cancel was accepted, the task ends cancelled. */
static void accepted_cancel_is_final(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(1, 1);
    const tv_status_t returns[] = { TV_OK, TV_E_IO };
    for (int i = 0; i < 2; i++) {
        struct gate g;
        gate_init(&g);
        uint64_t id;
        assert_int_equal(gate_task(mgr, &g, 0, true, &id), TV_OK);
        assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
        assert_true(gate_send(&g, GATE_HOLD, returns[i])); /* busy, no checkpoint */
        assert_int_equal(task_cancel(mgr, id), TV_OK);
        struct tv_task_info info = q(mgr, id);
        assert_int_equal(info.state, TV_TASK_CANCELLING);
        assert_false(info.flags & TV_TASK_FLAG_CANCELABLE);
        assert_int_equal(task_pause(mgr, id), TV_E_INVALID_STATE);
        assert_int_equal(task_cancel(mgr, id), TV_E_INVALID_STATE);
        gate_release(&g);
        assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
        info = q(mgr, id);
        assert_int_equal(info.state, TV_TASK_CANCELLED);
        assert_int_equal(info.result, TV_TASK_RESULT_CANCELLED);
        assert_int_equal(g.commits, 0);
        assert_int_equal(g.aborts, 1);
        assert_int_equal(g.abort_why, TV_E_CANCELLED);
        assert_int_equal(g.cleanups, 1);
    }
    task_mgr_destroy(mgr);
}

/* A cancel that gets in before the point of no return wins it. */
struct race {
    struct task_mgr *mgr;
    tv_status_t cancel_st, ponr_st, after_st;
};

static tv_status_t race_run(struct task_job *job, void *ctx)
{
    struct race *r = ctx;
    r->cancel_st = task_cancel(r->mgr, task_job_id(job));
    r->ponr_st = task_job_point_of_no_return(job);
    r->after_st = task_job_checkpoint(job);
    return r->ponr_st;
}

static tv_status_t ponr_first_run(struct task_job *job, void *ctx)
{
    struct race *r = ctx;
    r->ponr_st = task_job_point_of_no_return(job);
    r->cancel_st = task_cancel(r->mgr, task_job_id(job));
    r->after_st = task_job_checkpoint(job);
    return TV_OK;
}

static void cancel_races_point_of_no_return(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(0, 1);
    static const struct task_driver race_driver = { .name = "race", .run = race_run };
    static const struct task_driver ponr_driver = { .name = "ponr", .run = ponr_first_run };
    struct race r = { .mgr = mgr };
    struct task_spec spec = { .driver = &race_driver, .driver_ctx = &r };
    uint64_t id;
    assert_int_equal(task_create(mgr, &spec, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(r.cancel_st, TV_OK);
    assert_int_equal(r.ponr_st, TV_E_CANCELLED);
    assert_int_equal(r.after_st, TV_E_CANCELLED);
    assert_int_equal(q(mgr, id).state, TV_TASK_CANCELLED);

    struct race r2 = { .mgr = mgr };
    spec.driver = &ponr_driver;
    spec.driver_ctx = &r2;
    assert_int_equal(task_create(mgr, &spec, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(r2.ponr_st, TV_OK);
    assert_int_equal(r2.cancel_st, TV_E_NOT_CANCELABLE);
    assert_int_equal(r2.after_st, TV_OK);
    struct tv_task_info info = q(mgr, id);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_COMMITTED);
    task_mgr_destroy(mgr);
}

static void committing_refuses_verbs(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(1, 1);
    struct gate g;
    gate_init(&g);
    g.commit_block = true;
    uint64_t id;
    assert_int_equal(gate_task(mgr, &g, 0, true, &id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_true(gate_send(&g, GATE_FINISH, 0));
    assert_true(gate_wait_in_commit(&g));
    struct tv_task_info info = q(mgr, id);
    assert_int_equal(info.state, TV_TASK_COMMITTING);
    assert_false(info.flags & TV_TASK_FLAG_CANCELABLE);
    assert_int_equal(task_cancel(mgr, id), TV_E_NOT_CANCELABLE);
    assert_int_equal(task_pause(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_resume(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_dismiss(mgr, id), TV_E_INVALID_STATE);
    assert_int_equal(task_wait(mgr, id, 0), TV_E_TIMEOUT);
    gate_release_commit(&g);
    assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
    assert_int_equal(q(mgr, id).state, TV_TASK_COMPLETED);
    task_mgr_destroy(mgr);
}

static void failures(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(1, 1);
    struct gate g;
    gate_init(&g);
    uint64_t id;
    /* plain failure: the status maps to a result */
    assert_int_equal(gate_task(mgr, &g, 0, true, &id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_true(gate_send(&g, GATE_FAIL, TV_E_NO_MEMORY));
    assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
    struct tv_task_info info = q(mgr, id);
    assert_int_equal(info.state, TV_TASK_FAILED);
    assert_int_equal(info.result, TV_TASK_RESULT_OUT_OF_MEMORY);
    assert_int_equal(info.error, TV_E_NO_MEMORY);
    assert_string_equal(info.error_description, "out of memory");
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_ROLLED_BACK);
    assert_int_equal(g.abort_why, TV_E_NO_MEMORY);
    assert_int_equal(g.cleanups, 1);

    /* driver-specific result and text */
    struct gate g2;
    gate_init(&g2);
    g2.abort_outcome = TV_TASK_OUTCOME_CONSISTENT_PARTIAL;
    assert_int_equal(gate_task(mgr, &g2, 0, true, &id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_true(gate_send(&g2, GATE_FAIL_DETAIL, TV_E_CORRUPT));
    assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
    info = q(mgr, id);
    assert_int_equal(info.state, TV_TASK_FAILED);
    assert_int_equal(info.result, TV_TASK_RESULT_INCOMPATIBLE_SAVED_STATE);
    assert_int_equal(info.error, TV_E_CORRUPT);
    assert_string_equal(info.error_description, "saved state does not match");
    assert_int_equal(info.error_description_len, strlen("saved state does not match"));
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_CONSISTENT_PARTIAL);

    /* commit fails */
    struct gate g3;
    gate_init(&g3);
    g3.commit_status = TV_E_NO_SPACE;
    g3.abort_outcome = TV_TASK_OUTCOME_NEEDS_RECOVERY;
    assert_int_equal(gate_task(mgr, &g3, 0, true, &id), TV_OK);
    assert_true(wait_state(mgr, id, TV_TASK_RUNNING));
    assert_true(gate_send(&g3, GATE_FINISH, 0));
    assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
    info = q(mgr, id);
    assert_int_equal(info.state, TV_TASK_FAILED);
    assert_int_equal(info.result, TV_TASK_RESULT_DISK);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_NEEDS_RECOVERY);
    assert_int_equal(g3.commits, 1);
    assert_int_equal(g3.aborts, 1);

    /* every mapping of status to result */
    static const struct { tv_status_t st; uint32_t result; } map[] = {
        { TV_E_IO, TV_TASK_RESULT_DISK }, { TV_E_READ_ONLY, TV_TASK_RESULT_DISK },
        { TV_E_TIMEOUT, TV_TASK_RESULT_TIMEOUT },
        { TV_E_INVALID_ARGUMENT, TV_TASK_RESULT_ILLEGAL_VALUE },
        { TV_E_BUSY, TV_TASK_RESULT_UNEXPECTED },
        { TV_E_CANCELLED, TV_TASK_RESULT_UNEXPECTED }, /* no cancel was accepted */
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        struct instant in = { .run_status = map[i].st };
        assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
        assert_int_equal(task_wait(mgr, id, 5000), TV_OK);
        info = q(mgr, id);
        assert_int_equal(info.state, TV_TASK_FAILED);
        assert_int_equal(info.result, map[i].result);
        assert_int_equal(info.error, map[i].st);
    }
    struct task_mgr_stats stats;
    task_mgr_stats(mgr, &stats);
    assert_int_equal(stats.bad_transitions, 0);
    task_mgr_destroy(mgr);
}

/* ---- Progress and ETA ----------------------------------------------------- */

struct progress_script {
    struct tv_task_info seen[8];
    struct task_mgr *mgr;
};

static tv_status_t progress_run(struct task_job *job, void *ctx)
{
    struct progress_script *ps = ctx;
    uint64_t id = task_job_id(job);
    task_job_set_total(job, 200);
    task_job_set_done(job, 50);
    task_query(ps->mgr, id, &ps->seen[0]);      /* 25% */
    task_job_set_done(job, 10);
    task_query(ps->mgr, id, &ps->seen[1]);      /* done 10, percent holds 25 */
    task_job_set_total(job, 1000);
    task_job_set_done(job, 200);
    task_query(ps->mgr, id, &ps->seen[2]);      /* 20% < 25: holds */
    task_job_set_done(job, 5000);
    task_query(ps->mgr, id, &ps->seen[3]);      /* clamped to total: 99 until done */
    task_job_set_total(job, UINT64_MAX);
    task_job_set_done(job, UINT64_MAX / 2);
    task_query(ps->mgr, id, &ps->seen[4]);      /* huge values: no overflow */
    task_job_advance(job, UINT64_MAX);
    task_query(ps->mgr, id, &ps->seen[5]);
    tp_hosted_clock_advance(10 * SEC);
    task_job_set_total(job, 100);
    task_job_set_done(job, 25);
    tp_hosted_clock_advance(0);
    task_query(ps->mgr, id, &ps->seen[6]);      /* ETA */
    return TV_OK;
}

static const struct task_driver progress_driver = { .name = "progress", .run = progress_run };

static void progress_monotonic(void **state)
{
    (void)state;
    tp_hosted_clock_manual(SEC);
    struct task_mgr *mgr = mk(0, 1);
    struct progress_script ps = { .mgr = mgr };
    struct task_spec spec = { .driver = &progress_driver, .driver_ctx = &ps };
    uint64_t id;
    assert_int_equal(task_create(mgr, &spec, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(ps.seen[0].percent, 25);
    assert_int_equal(ps.seen[0].done, 50);
    assert_int_equal(ps.seen[1].percent, 25);
    assert_int_equal(ps.seen[1].done, 10);
    assert_int_equal(ps.seen[2].percent, 25);
    assert_int_equal(ps.seen[3].percent, 99);
    assert_int_equal(ps.seen[3].done, 1000);
    assert_int_equal(ps.seen[4].percent, 99);
    assert_int_equal(ps.seen[5].done, UINT64_MAX);
    assert_int_equal(ps.seen[6].percent, 99);
    assert_int_equal(ps.seen[6].eta_ns, 30 * SEC); /* 10 s for 25 of 100 units */
    for (int i = 1; i < 7; i++)
        assert_true(ps.seen[i].seq >= ps.seen[i - 1].seq);
    struct tv_task_info info = q(mgr, id);
    assert_int_equal(info.percent, 100);
    assert_int_equal(info.done, 100);
    task_mgr_destroy(mgr);
}

/* ---- Waiting ---------------------------------------------------------------- */

struct waiter {
    struct task_mgr *mgr;
    uint64_t id;
    int64_t timeout;
    uint64_t deadline;
    _Atomic int done;
    tv_status_t st;
};

static void *waiter_main(void *p)
{
    struct waiter *w = p;
    w->st = task_wait(w->mgr, w->id, w->timeout);
    w->done = 1;
    return NULL;
}

static void *poller_main(void *p)
{
    struct waiter *w = p;
    w->st = task_wait_poll(w->mgr, w->id, w->deadline, UINT64_MAX);
    w->done = 1;
    return NULL;
}

static void wait_timeouts(void **state)
{
    (void)state;
    tp_hosted_clock_manual(SEC);
    struct task_mgr *mgr = mk(0, 1);
    struct instant in = { 0 };
    uint64_t id;
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    /* the IVMTask range */
    assert_int_equal(task_wait(mgr, id, -2), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_wait(mgr, id, 4000001), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_wait(mgr, id, INT64_MIN), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_wait(mgr, id, INT64_MAX), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_wait(mgr, 999, 10), TV_E_NOT_FOUND);
    assert_int_equal(task_wait(mgr, id, 0), TV_E_TIMEOUT);
    uint64_t dl;
    assert_int_equal(task_wait_deadline(4000000, 7, &dl), TV_OK);
    assert_int_equal(dl, 7 + 4000000ull * MS);
    assert_int_equal(task_wait_deadline(-1, 7, &dl), TV_OK);
    assert_int_equal(dl, UINT64_MAX);

    /* a wait for a deadline ends exactly when the driven clock passes it
     * (deadline fixed here, so the waiter's start time does not matter) */
    struct waiter w = { .mgr = mgr, .id = id, .deadline = tp_now_ns() + 1000 * MS };
    pthread_t th;
    pthread_create(&th, NULL, poller_main, &w);
    tp_hosted_clock_advance(999 * MS);
    nanosleep(&(struct timespec){ 0, 10 * 1000000 }, NULL);
    assert_int_equal(w.done, 0);
    tp_hosted_clock_advance(1 * MS);
    pthread_join(th, NULL);
    assert_int_equal(w.st, TV_E_TIMEOUT);

    /* task_wait(1000 ms) ends with TIMEOUT once enough driven time passed */
    struct waiter w1 = { .mgr = mgr, .id = id, .timeout = 1000 };
    pthread_create(&th, NULL, waiter_main, &w1);
    uint64_t advanced = 0;
    while (!w1.done && advanced < 3600 * SEC) {
        tp_hosted_clock_advance(100 * MS);
        advanced += 100 * MS;
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    pthread_join(th, NULL);
    assert_int_equal(w1.st, TV_E_TIMEOUT);
    assert_true(advanced >= 1000 * MS);

    /* a forever wait ends when the task finishes */
    struct waiter w2 = { .mgr = mgr, .id = id, .timeout = -1 };
    pthread_create(&th, NULL, waiter_main, &w2);
    nanosleep(&(struct timespec){ 0, 5 * 1000000 }, NULL);
    tp_hosted_clock_advance(3600 * SEC);
    nanosleep(&(struct timespec){ 0, 5 * 1000000 }, NULL);
    assert_int_equal(w2.done, 0);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    pthread_join(th, NULL);
    assert_int_equal(w2.st, TV_OK);
    task_mgr_destroy(mgr);
}

static void wait_poll_continuation(void **state)
{
    (void)state;
    tp_hosted_clock_manual(SEC);
    struct task_mgr *mgr = mk(0, 1);
    struct instant in = { 0 };
    uint64_t id;
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    uint64_t deadline = 2 * SEC;
    assert_int_equal(task_wait_poll(mgr, id, deadline, 0), TV_E_CONTINUE);
    assert_int_equal(task_wait_poll(mgr, 77, deadline, 0), TV_E_NOT_FOUND);
    tp_hosted_clock_advance(SEC);
    assert_int_equal(task_wait_poll(mgr, id, deadline, 0), TV_E_TIMEOUT);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(task_wait_poll(mgr, id, deadline, 0), TV_OK); /* finished wins */
    task_mgr_destroy(mgr);
}

/* ---- Retention -------------------------------------------------------------- */

static void retention(void **state)
{
    (void)state;
    tp_hosted_clock_manual(SEC);
    struct task_mgr *mgr = mk(0, 1);
    struct instant in = { 0 };
    uint64_t id, other;
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(instant_task(mgr, &in, &other), TV_OK); /* unfinished: never reaped */
    tp_hosted_clock_advance(TASK_DEFAULT_RETENTION_NS - 1);
    assert_int_equal(q(mgr, id).state, TV_TASK_COMPLETED);
    tp_hosted_clock_advance(1);
    struct tv_task_info info;
    assert_int_equal(task_query(mgr, id, &info), TV_E_NOT_FOUND);
    tp_hosted_clock_advance(3600 * SEC);
    assert_int_equal(q(mgr, other).state, TV_TASK_QUEUED);
    task_mgr_destroy(mgr);

    struct task_mgr_config cfg = { .retention_ns = 10 * MS };
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    tp_hosted_clock_advance(10 * MS);
    task_mgr_reap(mgr);
    struct task_mgr_stats st;
    task_mgr_stats(mgr, &st);
    assert_int_equal(st.tasks, 0);
    task_mgr_destroy(mgr);
}

/* ---- Queue, limit, priorities ------------------------------------------------- */

static void queue_and_priorities(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(2, 1);
    struct gate a, b, c;
    gate_init(&a);
    gate_init(&b);
    gate_init(&c);
    uint64_t ia, ib, ic;
    assert_int_equal(gate_task(mgr, &a, 0, true, &ia), TV_OK);
    assert_true(wait_state(mgr, ia, TV_TASK_RUNNING));
    assert_int_equal(gate_task(mgr, &b, 1, true, &ib), TV_OK);
    assert_int_equal(gate_task(mgr, &c, 5, true, &ic), TV_OK);
    nanosleep(&(struct timespec){ 0, 10 * 1000000 }, NULL);
    /* one slot: b and c wait although a worker is idle */
    assert_int_equal(q(mgr, ib).state, TV_TASK_QUEUED);
    assert_int_equal(q(mgr, ic).state, TV_TASK_QUEUED);
    struct task_mgr_stats st;
    task_mgr_stats(mgr, &st);
    assert_int_equal(st.queued, 2);
    assert_int_equal(st.holding_slot, 1);
    /* a paused task keeps its slot */
    assert_int_equal(task_pause(mgr, ia), TV_OK);
    nanosleep(&(struct timespec){ 0, 10 * 1000000 }, NULL);
    assert_int_equal(q(mgr, ic).state, TV_TASK_QUEUED);
    assert_int_equal(task_resume(mgr, ia), TV_OK);
    assert_true(gate_send(&a, GATE_FINISH, 0));
    /* the higher priority goes first */
    assert_true(wait_state(mgr, ic, TV_TASK_RUNNING));
    assert_int_equal(q(mgr, ib).state, TV_TASK_QUEUED);
    assert_true(gate_send(&c, GATE_FINISH, 0));
    assert_true(wait_state(mgr, ib, TV_TASK_RUNNING));
    assert_true(gate_send(&b, GATE_FINISH, 0));
    assert_int_equal(task_wait(mgr, ib, 5000), TV_OK);
    assert_true(q(mgr, ic).started_ns <= q(mgr, ib).started_ns);
    task_mgr_destroy(mgr);
}

static void equal_priority_fifo(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(0, 1);
    struct instant in[3] = { 0 };
    uint64_t id[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(instant_task(mgr, &in[i], &id[i]), TV_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(task_mgr_run_next(mgr), TV_OK);
        for (int j = 0; j < 3; j++)
            assert_int_equal(in[j].runs, j <= i);
    }
    task_mgr_destroy(mgr);
}

/* ---- Limits and memory ---------------------------------------------------------- */

static void limits(void **state)
{
    (void)state;
    struct task_mgr_config cfg = { .max_tasks = 3 };
    struct task_mgr *mgr;
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    struct instant in = { 0 };
    uint64_t id;
    for (int i = 0; i < 3; i++)
        assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(instant_task(mgr, &in, &id), TV_E_LIMIT);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(instant_task(mgr, &in, &id), TV_E_LIMIT); /* finished still counts */
    assert_int_equal(task_dismiss(mgr, 1), TV_OK);
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(id, 4);
    /* allocation failure: nothing created, nothing called */
    assert_int_equal(task_dismiss(mgr, 4) == TV_E_INVALID_STATE, 1);
    assert_int_equal(task_cancel(mgr, 4), TV_OK);
    assert_int_equal(task_dismiss(mgr, 4), TV_OK);
    int cleanups = in.cleanups;
    tp_hosted_fail_alloc_after(1);
    assert_int_equal(instant_task(mgr, &in, &id), TV_E_NO_MEMORY);
    assert_int_equal(in.cleanups, cleanups);
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(id, 5);
    task_mgr_destroy(mgr);

    struct task_mgr_config bad = { .workers = 1000 };
    assert_int_equal(task_mgr_create(&bad, &mgr), TV_E_INVALID_ARGUMENT);
    for (uint64_t n = 1; n <= 3; n++) {
        tp_hosted_fail_alloc_after(n);
        assert_int_equal(task_mgr_create(NULL, &mgr), TV_E_NO_MEMORY);
    }
    tp_hosted_fail_alloc_after(0);
}

static void destroy_busy_manager(void **state)
{
    (void)state;
    struct tp_hosted_alloc_stats before, after;
    tp_hosted_alloc_stats(&before);
    uint64_t threads_before = tp_hosted_live_threads();
    struct task_mgr *mgr = mk(2, 2);
    struct gate running, paused, queued, stubborn;
    gate_init(&running);
    gate_init(&paused);
    gate_init(&queued);
    gate_init(&stubborn);
    uint64_t ir, ip, iq, is;
    assert_int_equal(gate_task(mgr, &running, 0, true, &ir), TV_OK);
    assert_int_equal(gate_task(mgr, &paused, 0, true, &ip), TV_OK);
    assert_true(wait_state(mgr, ir, TV_TASK_RUNNING));
    assert_true(wait_state(mgr, ip, TV_TASK_RUNNING));
    assert_int_equal(task_pause(mgr, ip), TV_OK);
    assert_int_equal(gate_task(mgr, &queued, 0, true, &iq), TV_OK);
    assert_int_equal(gate_task(mgr, &stubborn, 0, false, &is), TV_OK);
    /* the non-cancelable queued task must still run to its end */
    gate_release(&stubborn);
    stubborn.cmd = GATE_HOLD;
    stubborn.cmd_seq = 1;
    task_mgr_destroy(mgr);
    assert_int_equal(running.cleanups + paused.cleanups + queued.cleanups, 3);
    assert_int_equal(running.aborts + paused.aborts, 2);
    assert_int_equal(queued.runs, 0);
    assert_int_equal(stubborn.runs, 1);
    assert_int_equal(stubborn.commits, 1);
    assert_int_equal(stubborn.cleanups, 1);
    tp_hosted_alloc_stats(&after);
    assert_int_equal(after.live_blocks, before.live_blocks);
    assert_int_equal(after.live_bytes, before.live_bytes);
    assert_int_equal(tp_hosted_live_threads(), threads_before);
}

/* ---- Listing ---------------------------------------------------------------- */

static void listing(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(0, 1);
    struct instant in = { 0 };
    uint64_t id;
    for (int i = 0; i < 7; i++)
        assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK); /* id 1 completed */
    assert_int_equal(task_cancel(mgr, 4), TV_OK);
    assert_int_equal(task_dismiss(mgr, 4), TV_OK);
    struct tv_task_event out[3];
    size_t n;
    uint64_t cursor = 0, seen[8];
    size_t total = 0;
    do {
        assert_int_equal(task_list(mgr, cursor, 0, out, 3, &n), TV_OK);
        for (size_t i = 0; i < n; i++)
            seen[total++] = out[i].id;
        if (n)
            cursor = out[n - 1].id;
    } while (n == 3);
    assert_int_equal(total, 6);
    const uint64_t want[6] = { 1, 2, 3, 5, 6, 7 };
    for (int i = 0; i < 6; i++)
        assert_int_equal(seen[i], want[i]);
    assert_int_equal(task_list(mgr, 0, TV_TASK_LIST_UNFINISHED, out, 3, &n), TV_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].id, 2);
    assert_int_equal(out[0].state, TV_TASK_QUEUED);
    assert_int_equal(task_list(mgr, 7, 0, out, 3, &n), TV_OK);
    assert_int_equal(n, 0);
    assert_int_equal(task_list(mgr, 0, 0x80, out, 3, &n), TV_E_INVALID_ARGUMENT);
    task_mgr_destroy(mgr);
}

/* A full table (1,000 records) with holes: the id index (task_index.c)
 * finds exactly the listed records, a cursor walk lists them in order
 * across removed ids, TV_TASK_LIST_UNFINISHED skips runs of finished
 * records longer than one lock hold's scan, and reaping in batches
 * removes every expired record. */
#define BIG 1000
static void large_table(void **state)
{
    (void)state;
    tp_hosted_clock_manual(SEC);
    struct task_mgr_config cfg = { .workers = 0, .max_running = 1, .max_tasks = BIG,
                                   .retention_ns = 10 * SEC };
    struct task_mgr *mgr = NULL;
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    struct instant in = { 0 };
    uint64_t id;
    static bool listed[BIG + 1], finished[BIG + 1];
    memset(listed, 0, sizeof listed);
    memset(finished, 0, sizeof finished);
    for (uint64_t i = 1; i <= BIG; i++) {
        assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
        assert_int_equal(id, i);
        listed[i] = true;
    }
    assert_int_equal(instant_task(mgr, &in, &id), TV_E_LIMIT);
    /* Ids 1..300 finished (a run of 300 finished records), then a
     * pseudo-random half of the rest cancelled and some of those dismissed. */
    for (uint64_t i = 1; i <= 300; i++) {
        assert_int_equal(task_cancel(mgr, i), TV_OK);
        finished[i] = true;
    }
    uint64_t x = 12345;
    for (uint64_t i = 301; i <= BIG; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        if ((x >> 33) & 1) {
            assert_int_equal(task_cancel(mgr, i), TV_OK);
            finished[i] = true;
            if ((x >> 35) & 1) {
                assert_int_equal(task_dismiss(mgr, i), TV_OK);
                listed[i] = false;
            }
        }
    }
    struct tv_task_info info;
    for (uint64_t i = 0; i <= BIG + 5; i++) {
        bool want = i >= 1 && i <= BIG && listed[i];
        assert_int_equal(task_query(mgr, i, &info), want ? TV_OK : TV_E_NOT_FOUND);
        if (want)
            assert_int_equal(info.id, i);
    }
    for (int pass = 0; pass < 2; pass++) {
        uint32_t flags = pass ? TV_TASK_LIST_UNFINISHED : 0;
        struct tv_task_event out[7];
        uint64_t cursor = 0, expect = 0;
        size_t n;
        do {
            assert_int_equal(task_list(mgr, cursor, flags, out, 7, &n), TV_OK);
            for (size_t k = 0; k < n; k++) {
                do
                    expect++;
                while (expect <= BIG && (!listed[expect] || (pass && finished[expect])));
                assert_int_equal(out[k].id, expect);
                cursor = out[k].id;
            }
        } while (n == 7);
        do
            expect++;
        while (expect <= BIG && (!listed[expect] || (pass && finished[expect])));
        assert_true(expect > BIG); /* nothing left out */
    }
    /* The run queue (a tree in run order) gives the oldest queued task
     * next, after the cancels took most of them out. */
    for (int k = 0; k < 3; k++) {
        uint64_t next = 0;
        for (uint64_t i = 1; i <= BIG && !next; i++)
            if (listed[i] && !finished[i])
                next = i;
        assert_true(next != 0);
        assert_int_equal(task_mgr_run_next(mgr), TV_OK);
        assert_int_equal(q(mgr, next).state, TV_TASK_COMPLETED);
        finished[next] = true;
    }
    /* One call with a capacity larger than the table. */
    static struct tv_task_event all[BIG + 10];
    size_t n, want = 0;
    for (uint64_t i = 1; i <= BIG; i++)
        want += listed[i];
    assert_int_equal(task_list(mgr, 0, 0, all, BIG + 10, &n), TV_OK);
    assert_int_equal(n, want);
    /* Retention: every finished record expires; a call reaps a batch,
     * task_mgr_reap all of them; the unfinished stay. */
    size_t unfinished = 0;
    for (uint64_t i = 1; i <= BIG; i++)
        unfinished += listed[i] && !finished[i];
    tp_hosted_clock_advance(10 * SEC);
    struct task_mgr_stats st;
    assert_int_equal(task_query(mgr, 1, &info), TV_E_NOT_FOUND);
    task_mgr_stats(mgr, &st);
    assert_true(st.tasks > unfinished);
    task_mgr_reap(mgr);
    task_mgr_stats(mgr, &st);
    assert_int_equal(st.tasks, unfinished);
    for (uint64_t i = 1; i <= BIG; i++)
        assert_int_equal(task_query(mgr, i, &info),
                         listed[i] && !finished[i] ? TV_OK : TV_E_NOT_FOUND);
    task_mgr_destroy(mgr);
}

/* ---- Events ------------------------------------------------------------------ */

struct notes {
    int count;
    uint32_t vector;
};

static void note(void *ctx, uint32_t vector)
{
    struct notes *n = ctx;
    n->count++;
    n->vector = vector;
}

static size_t drain(struct tv_task_ring *ring, struct tv_task_event *out, size_t cap)
{
    size_t n = 0;
    uint32_t head = __atomic_load_n(&ring->hdr.head, __ATOMIC_ACQUIRE);
    while (ring->hdr.tail != head && n < cap) {
        out[n++] = ring->entries[ring->hdr.tail % ring->hdr.capacity];
        ring->hdr.tail++;
    }
    return n;
}

/* The free-running 32-bit indices wrap: entries written across the wrap stay
 * in their own slots, so a consumer that has not read yet loses none. */
static void events_wrap(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(0, 1);
    static struct tv_task_ring ring __attribute__((aligned(4096)));
    assert_int_equal(task_events_register(mgr, &ring, 0, NULL, NULL), TV_OK);
    assert_int_equal(task_events_set_kinds(mgr, 1u << TV_EVENT_KIND_VM), TV_OK);
    const uint32_t start = 0u - 60u;
    mgr->events.head = start;
    ring.hdr.head = start;
    ring.hdr.tail = start;
    const uint32_t posted = TV_TASK_RING_CAPACITY - 8; /* unread across the wrap */
    for (uint32_t i = 0; i < posted; i++)
        assert_int_equal(task_events_post(mgr, TV_EVENT_KIND_VM, 7, i, 2), TV_OK);
    assert_int_equal(ring.hdr.overflow, 0);
    assert_int_equal(ring.hdr.head, start + posted);
    static struct tv_task_event ev[TV_TASK_RING_CAPACITY];
    size_t n = drain(&ring, ev, TV_TASK_RING_CAPACITY);
    assert_int_equal(n, posted);
    for (uint32_t i = 0; i < posted; i++) {
        assert_int_equal(ev[i].id, 7);
        assert_int_equal(ev[i].seq, i);
    }
    assert_int_equal(task_events_register(mgr, NULL, 0, NULL, NULL), TV_OK);
    task_mgr_destroy(mgr);
}

static void events(void **state)
{
    (void)state;
    struct task_mgr *mgr = mk(0, 1);
    static struct tv_task_ring ring __attribute__((aligned(4096)));
    memset(&ring, 0xa5, sizeof ring);
    struct notes nt = { 0 };
    assert_int_equal(task_events_register(mgr, &ring, 5, note, &nt), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_events_register(mgr, &ring, 256, note, &nt), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_events_register(mgr, (void *)((char *)&ring + 4), 40, note, &nt),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_events_register(mgr, &ring, 40, note, &nt), TV_OK);
    assert_int_equal(ring.hdr.magic, TV_TASK_RING_MAGIC);
    assert_int_equal(ring.hdr.capacity, TV_TASK_RING_CAPACITY);
    assert_int_equal(ring.hdr.head, 0);
    assert_int_equal(TV_TASK_RING_CAPACITY, 128);
    assert_int_equal(sizeof ring, 4096);

    struct instant in = { .units = 1000 };
    uint64_t id;
    assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    static struct tv_task_event ev[400];
    size_t n = drain(&ring, ev, 400);
    /* queued, running, whole-percent steps, committing, completed; nobody
     * reads while it runs, so progress past 3/4 of the ring is coalesced
     * (steps 95..99 of a 128-entry ring), state changes never are */
    const int steps = (int)(TV_TASK_RING_CAPACITY - TV_TASK_RING_CAPACITY / 4) - 2;
    assert_int_equal(n, 1 + 1 + steps + 1 + 1);
    assert_int_equal(ev[0].state, TV_TASK_QUEUED);
    assert_int_equal(ev[1].state, TV_TASK_RUNNING);
    for (int i = 1; i <= steps; i++) {
        assert_int_equal(ev[1 + i].percent, i);
        assert_int_equal(ev[1 + i].state, TV_TASK_RUNNING);
    }
    assert_int_equal(ev[2 + steps].state, TV_TASK_COMMITTING);
    assert_int_equal(ev[3 + steps].state, TV_TASK_COMPLETED);
    assert_int_equal(ev[3 + steps].percent, 100);
    for (size_t i = 1; i < n; i++) {
        assert_true(ev[i].seq > ev[i - 1].seq);
        assert_int_equal(ev[i].id, id);
    }
    assert_int_equal(nt.count, (int)n);
    assert_int_equal(nt.vector, 40);
    assert_int_equal(ring.hdr.overflow, 0);
    struct tv_task_info info = q(mgr, id);
    assert_int_equal(ev[3 + steps].seq, info.seq);

    /* nobody reads: progress is coalesced above 3/4, state changes overflow */
    for (int i = 0; i < 3; i++) {
        struct instant *big = &(struct instant){ .units = 100 };
        assert_int_equal(instant_task(mgr, big, &id), TV_OK);
        assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    }
    struct task_mgr_stats st;
    task_mgr_stats(mgr, &st);
    assert_true(st.events_coalesced > 0);
    uint32_t used = ring.hdr.head - ring.hdr.tail;
    assert_true(used >= TV_TASK_RING_CAPACITY - TV_TASK_RING_CAPACITY / 4 &&
                used <= TV_TASK_RING_CAPACITY);
    assert_int_equal(ring.hdr.overflow, 0);
    for (int i = 0; i < 60; i++)
        assert_int_equal(instant_task(mgr, &in, &id), TV_OK);
    assert_int_equal(ring.hdr.overflow, 1);
    assert_true(ring.hdr.lost > 0);
    assert_int_equal(ring.hdr.head - ring.hdr.tail, TV_TASK_RING_CAPACITY);
    /* the consumer catches up and clears the flag; new events flow again */
    n = drain(&ring, ev, 400);
    assert_int_equal(n, TV_TASK_RING_CAPACITY);
    ring.hdr.overflow = 0;
    assert_int_equal(task_cancel(mgr, id), TV_OK);
    n = drain(&ring, ev, 400);
    assert_int_equal(n, 2); /* cancelling, cancelled */
    assert_int_equal(ev[1].state, TV_TASK_CANCELLED);
    assert_int_equal(ring.hdr.overflow, 0);

    /* a consumer that writes nonsense into tail only causes overflow */
    ring.hdr.tail = ring.hdr.head + 1000;
    assert_int_equal(task_cancel(mgr, id - 1), TV_OK);
    assert_int_equal(ring.hdr.overflow, 1);
    ring.hdr.head = 12345; /* and nonsense in head is ignored */
    ring.hdr.tail = 0;
    assert_int_equal(task_cancel(mgr, id - 2), TV_OK);

    assert_int_equal(task_events_register(mgr, NULL, 0, NULL, NULL), TV_OK);
    int before = nt.count;
    assert_int_equal(task_cancel(mgr, id - 3), TV_OK);
    assert_int_equal(nt.count, before);
    task_mgr_destroy(mgr);
}

/* One status-to-result mapping for the core and every driver. */
static void result_mapping(void **state)
{
    (void)state;
    assert_int_equal(task_result_for_status(TV_OK), TV_TASK_RESULT_SUCCESS);
    assert_int_equal(task_result_for_status(TV_E_NO_MEMORY), TV_TASK_RESULT_OUT_OF_MEMORY);
    const tv_status_t disk[] = { TV_E_IO, TV_E_NO_SPACE, TV_E_CORRUPT, TV_E_READ_ONLY,
                                 TV_E_PARENT_MISSING, TV_E_PARENT_MODIFIED, TV_E_WRONG_TYPE };
    for (size_t i = 0; i < sizeof disk / sizeof disk[0]; i++)
        assert_int_equal(task_result_for_status(disk[i]), TV_TASK_RESULT_DISK);
    assert_int_equal(task_result_for_status(TV_E_TIMEOUT), TV_TASK_RESULT_TIMEOUT);
    assert_int_equal(task_result_for_status(TV_E_INVALID_ARGUMENT), TV_TASK_RESULT_ILLEGAL_VALUE);
    assert_int_equal(task_result_for_status(TV_E_CANCELLED), TV_TASK_RESULT_UNEXPECTED);
    assert_int_equal(task_result_for_status(TV_E_BUSY), TV_TASK_RESULT_UNEXPECTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transition_matrix),
        cmocka_unit_test(verb_table),
        cmocka_unit_test(create_and_query),
        cmocka_unit_test(description_utf8),
        cmocka_unit_test(run_to_completion),
        cmocka_unit_test(cancel_queued),
        cmocka_unit_test(pause_queued),
        cmocka_unit_test_setup(cancel_running, setup_real_clock),
        cmocka_unit_test_setup(point_of_no_return, setup_real_clock),
        cmocka_unit_test_setup(pause_resume_running, setup_real_clock),
        cmocka_unit_test_setup(paused_does_not_commit, setup_real_clock),
        cmocka_unit_test_setup(accepted_cancel_is_final, setup_real_clock),
        cmocka_unit_test(cancel_races_point_of_no_return),
        cmocka_unit_test_setup(committing_refuses_verbs, setup_real_clock),
        cmocka_unit_test_setup(failures, setup_real_clock),
        cmocka_unit_test(progress_monotonic),
        cmocka_unit_test(wait_timeouts),
        cmocka_unit_test(wait_poll_continuation),
        cmocka_unit_test(retention),
        cmocka_unit_test_setup(queue_and_priorities, setup_real_clock),
        cmocka_unit_test(equal_priority_fifo),
        cmocka_unit_test(limits),
        cmocka_unit_test_setup(destroy_busy_manager, setup_real_clock),
        cmocka_unit_test(listing),
        cmocka_unit_test(large_table),
        cmocka_unit_test(events),
        cmocka_unit_test(events_wrap),
        cmocka_unit_test(result_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
