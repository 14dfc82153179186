/* Recovery at mount: see disk_recover_volume() in disk_ops.h.
 *
 * The engine leaves two kinds of marks (docs/vhd.md, "Crash safety"):
 *  - "<parent>.tvjournal": a merge past its commit point; the child is the
 *    redo log, and a check --repair of the parent finishes the merge (or,
 *    when the child is gone, clears the journal and gives the parent a new
 *    unique id);
 *  - "<target>.tvtmp": a create, convert, merge-to or compact that did not
 *    reach its rename; whatever the target is, it is as before, and removing
 *    the temporary rolls the operation back.
 * The listing is taken first and the volume changed only after it, so the
 * file system is never modified under its own directory walk. */
#include "services/disk_ops.h"
#include "tv_string.h"

struct found {
    struct found *next;
    uint32_t kind;
    char name[TV_DISK_PATH_MAX]; /* the image (merge) or the temporary (temp) */
};

struct walk {
    tv_storage_t *seam;
    struct found *head;
    uint32_t count;
    bool overflow;
    tv_status_t error;
};

static bool ends_with(const char *s, size_t n, const char *suffix, size_t m)
{
    return n > m && tv_memcmp(s + n - m, suffix, m) == 0;
}

static bool visit(void *ctx, const char *name)
{
    struct walk *w = ctx;
    static const char journal[] = ".tvjournal", temp[] = ".tvtmp";
    size_t n = tv_strlen(name);
    uint32_t kind = 0;
    size_t keep = n;
    if (ends_with(name, n, journal, sizeof journal - 1)) {
        kind = DISK_RECOVER_MERGE;
        keep = n - (sizeof journal - 1); /* the parent the journal belongs to */
    } else if (ends_with(name, n, temp, sizeof temp - 1)) {
        kind = DISK_RECOVER_TEMP;
    }
    if (!kind)
        return true;
    if (keep >= TV_DISK_PATH_MAX)
        return true; /* longer than any path a disk call can name: not ours */
    if (w->count >= DISK_RECOVER_MAX) {
        w->overflow = true;
        return false;
    }
    struct found *f = tv_st_alloc(w->seam, sizeof *f);
    if (!f) {
        w->error = TV_E_NO_MEMORY;
        return false;
    }
    tv_memset(f, 0, sizeof *f);
    f->kind = kind;
    tv_memcpy(f->name, name, keep);
    /* Keep the order of the listing (a merge journal before temporaries of
     * the same directory does not matter: they touch different files). */
    struct found **tail = &w->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = f;
    w->count++;
    return true;
}

tv_status_t disk_recover_volume(const struct task_types *reg, struct task_mgr *mgr,
                                const char *volume, tv_storage_t *seam, disk_list_fn list,
                                void *list_ctx, bool wait, struct disk_recover_result *out)
{
    struct disk_recover_result res;
    tv_memset(&res, 0, sizeof res);
    if (!reg || !mgr || !volume || !seam || !list ||
        tv_strnlen(volume, sizeof(((struct disk_recover_args *)0)->volume)) >=
            sizeof(((struct disk_recover_args *)0)->volume))
        return TV_E_INVALID_ARGUMENT;
    struct walk w = { .seam = seam };
    tv_status_t s = list(list_ctx, volume, visit, &w);
    if (s == TV_OK)
        s = w.error;
    if (s == TV_OK && w.overflow)
        s = TV_E_LIMIT; /* the first DISK_RECOVER_MAX are still recovered */
    res.found = w.count;
    struct disk_recover_args *args = tv_st_alloc(seam, sizeof *args);
    if (!args && w.head)
        s = TV_E_NO_MEMORY;
    for (struct found *f = w.head; f && args; f = f->next) {
        tv_memset(args, 0, sizeof *args);
        args->seam = seam;
        args->kind = f->kind;
        tv_strlcpy(args->volume, volume, sizeof args->volume);
        tv_strlcpy(args->name, f->name, sizeof args->name);
        uint64_t id = 0;
        tv_status_t st = task_types_start(reg, mgr, TV_TASK_TYPE_DISK_RECOVER, args, sizeof *args, &id);
        if (st != TV_OK) {
            res.failed++;
            if (s == TV_OK)
                s = st;
            continue;
        }
        res.started++;
        if (!res.first_id)
            res.first_id = id;
        res.last_id = id;
        if (wait) {
            /* One at a time: a merge and a temporary of one image must not
             * run at once, and nobody may open the volume before the end. */
            struct tv_task_info info;
            if (task_wait(mgr, id, TV_TASK_WAIT_FOREVER) != TV_OK || task_query(mgr, id, &info) != TV_OK ||
                info.state != TV_TASK_COMPLETED)
                res.failed++;
        }
    }
    tv_st_free(seam, args);
    while (w.head) {
        struct found *next = w.head->next;
        tv_st_free(seam, w.head);
        w.head = next;
    }
    if (out)
        *out = res;
    return s;
}
