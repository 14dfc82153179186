/* One registry of task types: how every long operation becomes a task.
 *
 * Each operation (disk create, merge, compact, convert, check; VM startup,
 * save, turn off, ...) registers its type once with a prepare function and
 * a job driver.  Every caller that starts work -- a hypercall, a recovery at
 * mount, the test-task call of test builds -- goes through
 * task_types_start(), so argument checks, refusals before a task exists and
 * the hand-over of the driver's context happen one way for all of them.
 * Portable (task/); the monitor's task service owns one registry. */
#ifndef TASK_TYPES_H
#define TASK_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"
#include "taskvisor/task.h"
#include "task_mgr.h"

/* What prepare hands back: the task's facts and the driver's context. */
struct task_prepared {
    void *ctx;                          /* the driver's; owned by the task once created */
    struct tv_task_target target;
    char description[TV_TASK_DESC_MAX]; /* UTF-8, NUL-terminated */
    uint32_t priority;
    bool not_cancelable;
    bool not_pausable;
};

struct task_type {
    uint32_t type;                      /* enum tv_task_type */
    const char *name;                   /* short, for logs: "disk.merge" */
    const struct task_driver *driver;
    size_t args_size;                   /* the exact size of the argument record */
    /* Checks the request before any task exists and builds the driver's
     * context.  args (args_size bytes) is the caller's record, already
     * copied out of its memory, and untrusted.  Everything that can be
     * refused up front is refused here with its own status (nothing then
     * exists to clean up: prepare frees what it allocated).  On TV_OK,
     * out->ctx belongs to the registry, which passes it to the task or, if
     * the task cannot be created, to driver->cleanup. */
    tv_status_t (*prepare)(void *owner, const void *args, struct task_prepared *out);
    void *owner;                        /* the registering service's state */
};

struct task_types {
    const struct task_type *by_type[TV_TASK_TYPE_COUNT];
};

void task_types_init(struct task_types *reg);

/* TV_E_INVALID_ARGUMENT for a type outside enum tv_task_type or a
 * description missing its driver or prepare; TV_E_BUSY when the type is
 * already registered. */
tv_status_t task_types_add(struct task_types *reg, const struct task_type *t);

/* NULL when the type is not registered. */
const struct task_type *task_types_get(const struct task_types *reg, uint32_t type);

/* Starts a task of `type` from its argument record.  TV_E_UNSUPPORTED when
 * the type is not registered (in this build), TV_E_INVALID_ARGUMENT when len
 * is not the type's args_size, else prepare's refusal or task_create's
 * (TV_E_LIMIT with the table full).  On success *id_out is the new task. */
tv_status_t task_types_start(const struct task_types *reg, struct task_mgr *mgr, uint32_t type,
                             const void *args, size_t len, uint64_t *id_out);

#endif
