/* The registry of task types: refusals before a task exists, the context's
 * ownership on every path, and the facts prepare gives reaching the task. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "platform_hosted.h"
#include "task_platform.h"
#include "task_mgr.h"
#include "task_test_job.h"
#include "task_types.h"

struct args {
    uint32_t value;
    uint32_t refuse; /* nonzero: prepare answers this status */
};

static int runs, cleanups, prepares;

static tv_status_t fake_run(struct task_job *job, void *ctx)
{
    (void)job;
    (void)ctx;
    runs++;
    return TV_OK;
}

static void fake_cleanup(void *ctx)
{
    cleanups++;
    tp_free(ctx);
}

static const struct task_driver fake_driver = { .name = "fake", .run = fake_run, .cleanup = fake_cleanup };

static tv_status_t fake_prepare(void *owner, const void *raw, struct task_prepared *out)
{
    const struct args *a = raw;
    prepares++;
    assert_ptr_equal(owner, &prepares);
    if (a->refuse)
        return (tv_status_t)a->refuse;
    out->ctx = tp_alloc(16);
    if (!out->ctx)
        return TV_E_NO_MEMORY;
    out->target = (struct tv_task_target){ .kind = TV_TASK_TARGET_DISK, .id = a->value };
    snprintf(out->description, sizeof out->description, "fake %u", a->value);
    out->not_cancelable = a->value == 7;
    return TV_OK;
}

static const struct task_type fake_type = {
    .type = TV_TASK_TYPE_DISK_COMPACT,
    .name = "disk.compact",
    .driver = &fake_driver,
    .args_size = sizeof(struct args),
    .prepare = fake_prepare,
    .owner = &prepares,
};

static struct task_mgr *new_mgr(uint32_t max_tasks)
{
    struct task_mgr_config cfg = { .workers = 0, .max_tasks = max_tasks };
    struct task_mgr *mgr;
    assert_int_equal(task_mgr_create(&cfg, &mgr), TV_OK);
    runs = cleanups = prepares = 0;
    return mgr;
}

static void registration_rules(void **state)
{
    (void)state;
    struct task_types reg;
    task_types_init(&reg);
    assert_null(task_types_get(&reg, TV_TASK_TYPE_DISK_COMPACT));
    assert_int_equal(task_types_add(&reg, &fake_type), TV_OK);
    assert_ptr_equal(task_types_get(&reg, TV_TASK_TYPE_DISK_COMPACT), &fake_type);
    assert_int_equal(task_types_add(&reg, &fake_type), TV_E_BUSY);
    struct task_type bad = fake_type;
    bad.type = TV_TASK_TYPE_COUNT;
    assert_int_equal(task_types_add(&reg, &bad), TV_E_INVALID_ARGUMENT);
    assert_null(task_types_get(&reg, TV_TASK_TYPE_COUNT));
    assert_null(task_types_get(&reg, 0xffffffffu));
    bad = fake_type;
    bad.type = TV_TASK_TYPE_DISK_MERGE;
    bad.prepare = NULL;
    assert_int_equal(task_types_add(&reg, &bad), TV_E_INVALID_ARGUMENT);
    bad.prepare = fake_prepare;
    bad.driver = NULL;
    assert_int_equal(task_types_add(&reg, &bad), TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_types_add(&reg, NULL), TV_E_INVALID_ARGUMENT);
}

static void refusals_create_nothing(void **state)
{
    (void)state;
    struct task_mgr *mgr = new_mgr(0);
    struct task_types reg;
    task_types_init(&reg);
    assert_int_equal(task_types_add(&reg, &fake_type), TV_OK);
    struct args a = { .value = 1 };
    uint64_t id = 0;
    /* Not registered. */
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_DISK_MERGE, &a, sizeof a, &id),
                     TV_E_UNSUPPORTED);
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_COUNT + 5, &a, sizeof a, &id),
                     TV_E_UNSUPPORTED);
    /* Wrong record size, or no record. */
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_DISK_COMPACT, &a, sizeof a - 1, &id),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_DISK_COMPACT, NULL, sizeof a, &id),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(prepares, 0);
    /* The operation's own refusal comes back as it is. */
    a.refuse = TV_E_EXISTS;
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_DISK_COMPACT, &a, sizeof a, &id),
                     TV_E_EXISTS);
    assert_int_equal(prepares, 1);
    assert_int_equal(cleanups, 0);
    struct task_mgr_stats s;
    task_mgr_stats(mgr, &s);
    assert_int_equal(s.tasks, 0);
    task_mgr_destroy(mgr);
}

static void full_table_hands_context_to_cleanup(void **state)
{
    (void)state;
    struct task_mgr *mgr = new_mgr(1);
    struct task_types reg;
    task_types_init(&reg);
    assert_int_equal(task_types_add(&reg, &fake_type), TV_OK);
    struct args a = { .value = 3 };
    uint64_t id1 = 0, id2 = 0;
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_DISK_COMPACT, &a, sizeof a, &id1), TV_OK);
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_DISK_COMPACT, &a, sizeof a, &id2),
                     TV_E_LIMIT);
    assert_int_equal(cleanups, 1); /* the refused task's context, freed once */
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(runs, 1);
    assert_int_equal(cleanups, 2);
    task_mgr_destroy(mgr);
}

static void prepared_facts_reach_the_task(void **state)
{
    (void)state;
    struct task_mgr *mgr = new_mgr(0);
    struct task_types reg;
    task_types_init(&reg);
    assert_int_equal(task_types_add(&reg, &fake_type), TV_OK);
    struct args a = { .value = 7 };
    uint64_t id = 0;
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_DISK_COMPACT, &a, sizeof a, &id), TV_OK);
    struct tv_task_info info;
    assert_int_equal(task_query(mgr, id, &info), TV_OK);
    assert_int_equal(info.type, TV_TASK_TYPE_DISK_COMPACT);
    assert_int_equal(info.target.kind, TV_TASK_TARGET_DISK);
    assert_int_equal(info.target.id, 7);
    assert_string_equal(info.description, "fake 7");
    assert_int_equal(info.flags & TV_TASK_FLAG_CANCELABLE, 0);
    assert_int_equal(task_cancel(mgr, id), TV_E_NOT_CANCELABLE);
    assert_int_equal(task_mgr_run_next(mgr), TV_OK);
    assert_int_equal(task_query(mgr, id, &info), TV_OK);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    task_mgr_destroy(mgr);
}

static void test_type_goes_through_a_registry(void **state)
{
    (void)state;
    struct task_mgr *mgr = new_mgr(0);
    struct task_types reg;
    task_types_init(&reg);
    assert_int_equal(task_types_add(&reg, &task_test_type), TV_OK);
    struct tv_task_test_spec spec = { .total_units = 2 };
    strcpy(spec.description, "two units");
    uint64_t id = 0;
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_TEST, &spec, sizeof spec, &id), TV_OK);
    spec.reserved = 1;
    assert_int_equal(task_types_start(&reg, mgr, TV_TASK_TYPE_TEST, &spec, sizeof spec, &id),
                     TV_E_INVALID_ARGUMENT);
    spec.reserved = 0;
    assert_int_equal(task_test_job_start(mgr, &spec, &id), TV_OK);
    task_mgr_destroy(mgr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registration_rules),
        cmocka_unit_test(refusals_create_nothing),
        cmocka_unit_test(full_table_hands_context_to_cleanup),
        cmocka_unit_test(prepared_facts_reach_the_task),
        cmocka_unit_test(test_type_goes_through_a_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
