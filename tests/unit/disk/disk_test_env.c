/* See disk_test_env.h. */
#include "disk_test_env.h"

#include <stdlib.h>
#include <string.h>

#include "platform_hosted.h"
#include "taskvisor/hypercall.h"

/* ---- the hook seam ---------------------------------------------------------- */

static struct dt_hook *hook_of(void *ctx)
{
    return ctx;
}

static void hook_call(struct dt_hook *h, const char *call, const char *name)
{
    if (h->fn)
        h->fn(h->ctx, call, name);
}

static tv_status_t h_open(void *ctx, const char *name, unsigned mode, tv_sfile_t **out)
{
    struct dt_hook *h = hook_of(ctx);
    hook_call(h, "open", name);
    return h->inner.open(h->inner.ctx, name, mode, out);
}

static tv_status_t h_create(void *ctx, const char *name, tv_sfile_t **out)
{
    struct dt_hook *h = hook_of(ctx);
    hook_call(h, "create", name);
    return h->inner.create(h->inner.ctx, name, out);
}

static tv_status_t h_rename(void *ctx, const char *from, const char *to)
{
    struct dt_hook *h = hook_of(ctx);
    return h->inner.rename(h->inner.ctx, from, to);
}

static tv_status_t h_remove(void *ctx, const char *name)
{
    struct dt_hook *h = hook_of(ctx);
    return h->inner.remove(h->inner.ctx, name);
}

static tv_status_t h_mkdir(void *ctx, const char *name)
{
    struct dt_hook *h = hook_of(ctx);
    return h->inner.mkdir(h->inner.ctx, name);
}

static void *h_alloc(void *ctx, size_t size)
{
    struct dt_hook *h = hook_of(ctx);
    return h->inner.alloc(h->inner.ctx, size);
}

static void h_free(void *ctx, void *p)
{
    struct dt_hook *h = hook_of(ctx);
    h->inner.free(h->inner.ctx, p);
}

static uint32_t h_now(void *ctx)
{
    struct dt_hook *h = hook_of(ctx);
    return h->inner.now(h->inner.ctx);
}

static void h_entropy(void *ctx, void *buf, size_t len)
{
    struct dt_hook *h = hook_of(ctx);
    h->inner.entropy(h->inner.ctx, buf, len);
}

static void hook_init(struct dt_hook *h, const tv_storage_t *inner)
{
    h->inner = *inner;
    h->seam = *inner; /* file calls go straight to the inner seam's files */
    h->seam.ctx = h;
    h->seam.open = h_open;
    h->seam.create = h_create;
    h->seam.rename = h_rename;
    h->seam.remove = h_remove;
    h->seam.mkdir = inner->mkdir ? h_mkdir : NULL;
    h->seam.alloc = h_alloc;
    h->seam.free = h_free;
    h->seam.now = h_now;
    h->seam.entropy = h_entropy;
}

/* ---- the resolver --------------------------------------------------------------- */

static tv_status_t resolve(void *ctx, const char *path, tv_storage_t **seam, const char **inner,
                           struct disk_volume_facts *facts)
{
    struct dt_env *e = ctx;
    const char *colon = strchr(path, ':');
    if (!colon)
        return TV_E_NOT_FOUND;
    for (int i = 0; i < DT_VOLUMES; i++) {
        struct dt_volume *v = &e->vol[i];
        if (v->name && strlen(v->name) == (size_t)(colon - path) &&
            memcmp(v->name, path, strlen(v->name)) == 0) {
            *seam = v->seam;
            *inner = colon + 1;
            *facts = v->facts;
            return TV_OK;
        }
    }
    return TV_E_NOT_FOUND;
}

tv_status_t dt_list(void *ctx, const char *volume, bool (*fn)(void *fctx, const char *name), void *fctx)
{
    struct dt_env *e = ctx;
    if (strcmp(volume, "MEM") != 0)
        return TV_E_NOT_FOUND;
    /* Names first (the callback changes nothing, but be as strict as the
     * file system's walk). */
    for (size_t i = 0;; i++) {
        const char *n = mem_fs_name(e->fs, i);
        if (!n)
            return TV_OK;
        if (!fn(fctx, n))
            return TV_OK;
    }
}

static void *both_state(void *owner, const struct hcall_caller *caller)
{
    (void)caller;
    struct dt_env *e = owner;
    return &e->tasks;
}

struct dt_env *dt_env_new(uint32_t workers)
{
    struct dt_env *e = calloc(1, sizeof *e);
    hcf_ram_init(&e->ram, DT_BASE, DT_SIZE);
    e->mem = e->ram.mem;
    e->fs = mem_fs_new();
    e->other = mem_fs_new();
    mem_fs_storage(e->fs, &e->st);
    mem_fs_storage(e->other, &e->st_other);
    hook_init(&e->hook, &e->st);
    struct disk_volume_facts open_facts = { DISK_UNKNOWN, DISK_UNKNOWN, false };
    e->vol[0] = (struct dt_volume){ "MEM", &e->st, open_facts };
    e->vol[1] = (struct dt_volume){ "OTHER", &e->st_other, open_facts };
    e->vol[2] = (struct dt_volume){ "RO", &e->st, { DISK_UNKNOWN, DISK_UNKNOWN, true } };
    e->vol[3] = (struct dt_volume){ "FAT", &e->st, { DISK_UNKNOWN, 0xffffffffull, false } };
    e->vol[4] = (struct dt_volume){ "SMALL", &e->st, { 4ull << 20, DISK_UNKNOWN, false } };
    e->vol[5] = (struct dt_volume){ "HOOK", &e->hook.seam, open_facts };
    struct task_mgr_config cfg = { .workers = workers };
    if (task_mgr_create(&cfg, &e->mgr) != TV_OK)
        abort();
    task_types_init(&e->types);
    disk_ops_init(&e->ops);
    disk_ops_set_resolver(&e->ops, resolve, e);
    if (disk_ops_register(&e->ops, &e->types) != TV_OK)
        abort();
    e->disk = (struct disk_call_state){ &e->types, e->mgr };
    e->tasks = (struct task_call_state){ .mgr = e->mgr, .types = &e->types };
    e->sections[0] = (struct hcall_section){ disk_calls, DISK_CALL_COUNT, disk_calls_state, &e->disk };
    e->sections[1] = (struct hcall_section){ task_calls, TASK_CALL_COUNT, both_state, e };
    e->table = (struct hcall_table){ e->sections, 2 };
    e->caller = (struct hcall_caller){ .is_control = true, .wide = true, .mem = &e->ram.view };
    if (hcall_table_check(&e->table, NULL) != TV_OK)
        abort();
    return e;
}

void dt_env_free(struct dt_env *e)
{
    task_calls_release(&e->tasks);
    task_mgr_destroy(e->mgr);
    mem_fs_free(e->fs);
    mem_fs_free(e->other);
    hcf_ram_fini(&e->ram);
    free(e);
}

tv_status_t dt_call(struct dt_env *e, uint32_t code, uint64_t a0, uint64_t a1, uint64_t a2,
                    uint64_t a3, uint64_t a4, uint64_t *out)
{
    struct hcall_regs r = { .rax = code, .rdi = a0, .rsi = a1, .rdx = a2, .r10 = a3, .r8 = a4 };
    enum hcall_action act;
    /* A continued call (TASK_WAIT) is re-issued as the guest would. */
    while ((act = hcf_dispatch(&e->table, &e->caller, &r)) == HCALL_CONTINUE)
        r.rax = code;
    if (act == HCALL_INJECT_UD)
        return -1;
    if (out)
        *out = r.rdx;
    return (tv_status_t)r.rax;
}

tv_status_t dt_start(struct dt_env *e, uint32_t type, const void *rec, size_t size, uint64_t *id)
{
    memcpy(e->mem + (DT_REC - DT_BASE), rec, size);
    uint64_t out = 0xdead;
    tv_status_t s = dt_call(e, TV_HC_DISK_START, type, DT_REC, size, 0, 0, &out);
    if (id)
        *id = s == TV_OK ? out : 0;
    return s;
}
