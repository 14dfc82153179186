/* The monitor's glue for the disk operations: see disk_service.h. */
#include "services/disk_service.h"
#include "kernel/log.h"
#include "services/disk_calls.h"
#include "services/task_service.h"
#include "vm/hypercall.h"
#include "tv_status.h"

static struct disk_ops ops;
static struct disk_call_state calls;
static bool ready;

tv_status_t disk_service_init(void)
{
    struct task_types *types = task_service_types();
    struct task_mgr *mgr = task_service_mgr();
    if (!types || !mgr)
        return TV_E_INVALID_STATE;
    disk_ops_init(&ops);
    tv_status_t st = disk_ops_register(&ops, types);
    if (st != TV_OK)
        return st;
    calls.types = types;
    calls.mgr = mgr;
    static const struct hcall_section section = {
        disk_calls, DISK_CALL_COUNT, disk_calls_state, &calls,
    };
    st = hypercall_add_section(&section);
    ready = st == TV_OK;
    return st;
}

void disk_service_set_resolver(disk_resolve_fn fn, void *ctx)
{
    disk_ops_set_resolver(&ops, fn, ctx);
}

tv_status_t disk_service_resolve(const char *path, tv_storage_t **seam, const char **inner,
                                 struct disk_volume_facts *facts)
{
    *facts = (struct disk_volume_facts){ DISK_UNKNOWN, DISK_UNKNOWN, false };
    return ops.resolve ? ops.resolve(ops.resolve_ctx, path, seam, inner, facts) : TV_E_NOT_FOUND;
}

tv_status_t disk_service_recover_volume(const char *volume, tv_storage_t *seam, disk_list_fn list,
                                        void *list_ctx, struct disk_recover_result *out)
{
    if (!ready)
        return TV_E_INVALID_STATE;
    struct disk_recover_result res;
    tv_status_t st = disk_recover_volume(calls.types, calls.mgr, volume, seam, list, list_ctx, true, &res);
    if (res.found || st != TV_OK)
        log_info("disks: %s: %u interrupted operation(s), %u recovery task(s) (ids %llu-%llu), %u failed%s%s",
                 volume, res.found, res.started, (unsigned long long)res.first_id,
                 (unsigned long long)res.last_id, res.failed, st != TV_OK ? ": " : "",
                 st != TV_OK ? tv_status_name(st) : "");
    if (out)
        *out = res;
    return st;
}
