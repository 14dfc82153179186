/* The task-type registry: see task_types.h. */
#include "task_types.h"
#include "tv_string.h"

void task_types_init(struct task_types *reg)
{
    for (uint32_t i = 0; i < TV_TASK_TYPE_COUNT; i++)
        reg->by_type[i] = NULL;
}

tv_status_t task_types_add(struct task_types *reg, const struct task_type *t)
{
    if (!t || t->type >= TV_TASK_TYPE_COUNT || !t->driver || !t->driver->run || !t->prepare)
        return TV_E_INVALID_ARGUMENT;
    if (reg->by_type[t->type])
        return TV_E_BUSY;
    reg->by_type[t->type] = t;
    return TV_OK;
}

const struct task_type *task_types_get(const struct task_types *reg, uint32_t type)
{
    return type < TV_TASK_TYPE_COUNT ? reg->by_type[type] : NULL;
}

tv_status_t task_types_start(const struct task_types *reg, struct task_mgr *mgr, uint32_t type,
                             const void *args, size_t len, uint64_t *id_out)
{
    const struct task_type *t = task_types_get(reg, type);
    if (!t)
        return TV_E_UNSUPPORTED;
    if (len != t->args_size || (len && !args))
        return TV_E_INVALID_ARGUMENT;
    struct task_prepared p;
    tv_memset(&p, 0, sizeof p);
    tv_status_t st = t->prepare(t->owner, args, &p);
    if (st != TV_OK)
        return st;
    p.description[sizeof p.description - 1] = '\0';
    struct task_spec spec = {
        .type = t->type,
        .target = p.target,
        .description = p.description,
        .priority = p.priority,
        .not_cancelable = p.not_cancelable,
        .not_pausable = p.not_pausable,
        .driver = t->driver,
        .driver_ctx = p.ctx,
    };
    st = task_create(mgr, &spec, id_out);
    /* task_create leaves the context with the caller when it fails. */
    if (st != TV_OK && t->driver->cleanup)
        t->driver->cleanup(p.ctx);
    return st;
}
