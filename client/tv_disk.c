/* libtaskvisor's disk operations: build the record, DISK_START. */
#include "tv_disk.h"
#include "tv_string.h"

_Static_assert(sizeof(struct tv_disk_copy_args) <= TV_CLIENT_SCRATCH_SIZE, "records fit the scratch page");

static tv_status_t set_path(char *field, const char *path)
{
    if (!path || tv_strlcpy(field, path, TV_DISK_PATH_MAX) >= TV_DISK_PATH_MAX)
        return TV_E_BAD_PATH;
    return TV_OK;
}

/* The record is built in the scratch page (zeroed first: reserved fields
 * and the bytes after each path's NUL must be zero). */
static void *record(struct tv_client *c, size_t size)
{
    tv_memset(c->scratch, 0, size);
    return c->scratch;
}

static tv_status_t start(struct tv_client *c, uint32_t type, size_t size, struct tv_task *task_out)
{
    uint64_t args[5] = { type, c->scratch_gpa, size, 0, 0 };
    uint64_t id = 0;
    tv_status_t st = c->transport->call(c->transport->ctx, TV_HC_DISK_START, args, &id);
    if (st == TV_OK)
        *task_out = tv_task_handle(c, id);
    return st;
}

static tv_status_t create(struct tv_client *c, uint32_t type, const char *path, uint64_t size_mb,
                          uint32_t block_size, struct tv_task *task_out)
{
    struct tv_disk_create_args *a = record(c, sizeof *a);
    tv_status_t st = set_path(a->path, path);
    if (st != TV_OK)
        return st;
    a->size_mb = size_mb;
    a->block_size = block_size;
    return start(c, type, sizeof *a, task_out);
}

tv_status_t tv_disk_create_fixed(struct tv_client *c, const char *path, uint64_t size_mb,
                                 struct tv_task *task_out)
{
    return create(c, TV_TASK_TYPE_DISK_CREATE_FIXED, path, size_mb, 0, task_out);
}

tv_status_t tv_disk_create_dynamic(struct tv_client *c, const char *path, uint64_t size_mb,
                                   uint32_t block_size, struct tv_task *task_out)
{
    return create(c, TV_TASK_TYPE_DISK_CREATE_DYNAMIC, path, size_mb, block_size, task_out);
}

tv_status_t tv_disk_create_differencing(struct tv_client *c, const char *path, const char *parent,
                                        struct tv_task *task_out)
{
    struct tv_disk_create_diff_args *a = record(c, sizeof *a);
    tv_status_t st = set_path(a->path, path);
    if (st == TV_OK)
        st = set_path(a->parent, parent);
    return st == TV_OK ? start(c, TV_TASK_TYPE_DISK_CREATE_DIFF, sizeof *a, task_out) : st;
}

static tv_status_t image(struct tv_client *c, uint32_t type, const char *path, uint32_t flags,
                         struct tv_task *task_out)
{
    struct tv_disk_image_args *a = record(c, sizeof *a);
    tv_status_t st = set_path(a->path, path);
    if (st != TV_OK)
        return st;
    a->flags = flags;
    return start(c, type, sizeof *a, task_out);
}

tv_status_t tv_disk_merge(struct tv_client *c, const char *path, struct tv_task *task_out)
{
    return image(c, TV_TASK_TYPE_DISK_MERGE, path, 0, task_out);
}

tv_status_t tv_disk_compact(struct tv_client *c, const char *path, struct tv_task *task_out)
{
    return image(c, TV_TASK_TYPE_DISK_COMPACT, path, 0, task_out);
}

tv_status_t tv_disk_check(struct tv_client *c, const char *path, bool repair,
                          struct tv_task *task_out)
{
    return image(c, TV_TASK_TYPE_DISK_CHECK, path, repair ? TV_DISK_CHECK_REPAIR : 0, task_out);
}

static tv_status_t copy(struct tv_client *c, uint32_t type, const char *path, const char *target,
                        enum tv_disk_kind kind, struct tv_task *task_out)
{
    struct tv_disk_copy_args *a = record(c, sizeof *a);
    tv_status_t st = set_path(a->path, path);
    if (st == TV_OK)
        st = set_path(a->target, target);
    if (st != TV_OK)
        return st;
    a->target_kind = (uint32_t)kind;
    return start(c, type, sizeof *a, task_out);
}

tv_status_t tv_disk_merge_to(struct tv_client *c, const char *path, const char *target,
                             enum tv_disk_kind kind, struct tv_task *task_out)
{
    return copy(c, TV_TASK_TYPE_DISK_MERGE_TO, path, target, kind, task_out);
}

tv_status_t tv_disk_convert(struct tv_client *c, const char *path, const char *target,
                            enum tv_disk_kind kind, struct tv_task *task_out)
{
    return copy(c, TV_TASK_TYPE_DISK_CONVERT, path, target, kind, task_out);
}
