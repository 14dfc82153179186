/* The disk task types: see disk_ops.h.  Each prepare checks the request in
 * the order Virtual PC's pages list the errors (arguments, path, volume,
 * the image and its chain, the target, room), builds the engine's
 * operation and hands it to the VHD job driver.  Nothing here writes: the
 * probes open files read-only or take and drop a lock. */
#include "services/disk_ops.h"
#include "storage/vhd_op.h"
#include "storage/vhd_task.h"
#include "tv_fmt.h"
#include "tv_string.h"

#define MIB (1024ull * 1024ull)
/* Virtual PC asked for at least 8 MB free on the host to create a disk. */
#define CREATE_MIN_FREE (8 * MIB)

/* A path resolved to its volume. */
struct disk_ref {
    tv_storage_t *st;
    struct disk_volume_facts facts;
    char name[TV_DISK_PATH_MAX]; /* path on the volume */
};

static tv_status_t resolve(const struct disk_ops *ops, const char *field, bool new_vhd,
                           struct disk_ref *out)
{
    tv_status_t s = disk_path_check(field, new_vhd);
    if (s != TV_OK)
        return s;
    if (!ops->resolve)
        return TV_E_NOT_FOUND;
    out->facts.free_bytes = DISK_UNKNOWN;
    out->facts.max_file_size = DISK_UNKNOWN;
    out->facts.read_only = false;
    const char *inner = NULL;
    out->st = NULL;
    s = ops->resolve(ops->resolve_ctx, field, &out->st, &inner, &out->facts);
    if (s != TV_OK)
        return s;
    if (!out->st || !inner || !inner[0])
        return TV_E_NOT_FOUND;
    if (tv_strlcpy(out->name, inner, sizeof out->name) >= sizeof out->name)
        return TV_E_BAD_PATH;
    return TV_OK;
}

/* The folder a new file goes into must exist: a missing one is
 * TV_E_NOT_FOUND (Virtual PC's PATH_NOT_FOUND) before any task exists, not
 * a failed task (the engine never makes folders).  A seam without folders
 * of its own (no mkdir) takes any name. */
static tv_status_t folder_present(const struct disk_ref *r)
{
    if (!r->st->mkdir)
        return TV_OK;
    size_t n = tv_strlen(r->name), k = n;
    while (k && r->name[k - 1] != '/')
        k--;
    while (k && r->name[k - 1] == '/')
        k--;
    if (k == 0)
        return TV_OK; /* in the root */
    char dir[TV_DISK_PATH_MAX];
    if (k >= sizeof dir)
        return TV_E_BAD_PATH;
    tv_memcpy(dir, r->name, k);
    dir[k] = '\0';
    tv_sfile_t *f;
    tv_status_t s = r->st->open(r->st->ctx, dir, 0, &f);
    if (s == TV_E_WRONG_TYPE)
        return TV_OK; /* a folder */
    if (s == TV_OK) {
        r->st->close(f);
        return TV_E_NOT_FOUND; /* a file where the folder should be */
    }
    return s;
}

/* TV_OK when the target's folder exists and nothing has its name yet. */
static tv_status_t target_absent(const struct disk_ref *r)
{
    tv_status_t s = folder_present(r);
    if (s != TV_OK)
        return s;
    tv_sfile_t *f;
    s = r->st->open(r->st->ctx, r->name, 0, &f);
    if (s == TV_OK) {
        r->st->close(f);
        return TV_E_EXISTS;
    }
    if (s == TV_E_WRONG_TYPE || s == TV_E_BUSY)
        return TV_E_EXISTS; /* a directory, or a file being written */
    return s == TV_E_NOT_FOUND ? TV_OK : s;
}

/* "In use" and "read-only" for a file the operation will write or delete:
 * takes the exclusive lock the engine will take, and drops it. */
static tv_status_t probe_writable(tv_storage_t *st, const char *name)
{
    tv_sfile_t *f;
    tv_status_t s = st->open(st->ctx, name, TV_ST_WRITE | TV_ST_EXCLUSIVE, &f);
    if (s == TV_OK)
        st->close(f);
    return s;
}

/* A new file of up to `bytes` (its size once fully written). */
static tv_status_t room_for(const struct disk_ref *r, uint64_t file_bytes, uint64_t need_now)
{
    if (r->facts.max_file_size != DISK_UNKNOWN && file_bytes > r->facts.max_file_size)
        return TV_E_FILE_TOO_LARGE;
    if (r->facts.free_bytes != DISK_UNKNOWN && r->facts.free_bytes < need_now)
        return TV_E_NO_SPACE;
    return TV_OK;
}

/* Upper bound of a VHD's file size for a disk of `size` bytes: the data,
 * one bitmap sector per 2 MiB block, the BAT, header, footers, and the CHS
 * rounding (at most one cylinder of 16 heads x 255 sectors). */
static uint64_t vhd_file_bound(uint64_t size)
{
    return size + size / 4096 + 16 * 255 * 512 + 4 * MIB;
}

/* What a new sparse (dynamic or differencing) disk needs before any data:
 * footer copy, header, the BAT (4 bytes a block, whole sectors), footer;
 * at least the 8 MB Virtual PC asked for.  Its data is not counted: blocks
 * that read as zeros are never written, so how much a copy writes is known
 * only as it reads the source (a volume that fills up fails the task with
 * DISK, nothing replaced: docs/hypercalls.md). */
static uint64_t sparse_need(uint64_t size, uint32_t block_size)
{
    uint64_t bs = block_size ? block_size : 2 * MIB;
    uint64_t blocks = size / bs + (size % bs != 0);
    uint64_t meta = 512 + 1024 + (blocks * 4 + 511) / 512 * 512 + 512;
    return meta > CREATE_MIN_FREE ? meta : CREATE_MIN_FREE;
}

/* The image, opened read-only with its chain (shared locks), to learn its
 * kind, size and parent; errors as the engine gives them (NOT_FOUND, BUSY,
 * PARENT_MISSING, PARENT_MODIFIED, CORRUPT, INVALID_STATE for a parent with
 * a pending merge). */
struct image_facts {
    enum tv_vhd_kind kind;
    uint64_t size;       /* virtual size */
    uint64_t file_size;
    enum tv_vhd_kind parent_kind;
    char parent[TV_DISK_PATH_MAX];
};

static tv_status_t inspect(const struct disk_ref *r, struct image_facts *out)
{
    tv_vhd_t *v;
    tv_status_t s = tv_vhd_open(r->st, r->name, 0, &v);
    if (s != TV_OK)
        return s;
    out->kind = tv_vhd_kind(v);
    out->size = tv_vhd_size(v);
    out->file_size = tv_vhd_file_size(v);
    out->parent[0] = '\0';
    out->parent_kind = 0;
    tv_vhd_t *p = tv_vhd_parent(v);
    if (p) {
        out->parent_kind = tv_vhd_kind(p);
        if (tv_strlcpy(out->parent, tv_vhd_name(p), sizeof out->parent) >= sizeof out->parent)
            s = TV_E_BAD_PATH;
    }
    tv_vhd_close(v);
    return s;
}

/* The task's description: "verb PATH[ extra]"; a path too long to fit
 * keeps its end (the file name), led by "...". */
static void describe(char *out, const char *verb, const char *path, const char *extra)
{
    size_t room = TV_TASK_DESC_MAX - 1 - tv_strlen(verb) - 1 - tv_strlen(extra);
    size_t n = tv_strlen(path);
    if (n > room) {
        size_t skip = n - (room - 3);
        while (skip < n && ((unsigned char)path[skip] & 0xc0) == 0x80)
            skip++; /* never cut a UTF-8 sequence */
        tv_snprintf(out, TV_TASK_DESC_MAX, "%s ...%s%s", verb, path + skip, extra);
    } else {
        tv_snprintf(out, TV_TASK_DESC_MAX, "%s %s%s", verb, path, extra);
    }
}

/* ---- The job: the engine's driver, with the outcome of a check ----------- */

struct disk_job {
    tv_storage_t *st;
    tv_vhd_op_t *op;
    void *vhd;          /* the VHD driver's context */
    bool is_check;
};

static tv_status_t job_run(struct task_job *job, void *ctx)
{
    struct disk_job *j = ctx;
    return tv_vhd_task_driver.run(job, j->vhd);
}

static enum tv_task_outcome job_abort(struct task_job *job, void *ctx, tv_status_t why)
{
    struct disk_job *j = ctx;
    enum tv_task_outcome o = tv_vhd_task_driver.abort(job, j->vhd, why);
    /* A check that failed wrote nothing unless it repaired something
     * (the engine marks its last step "past commit" while repairs are
     * written, which the generic mapping would call NEEDS_RECOVERY). */
    if (j->is_check)
        o = j->op->outcome == TV_VHD_OUTCOME_REPAIRED ? TV_TASK_OUTCOME_CONSISTENT_PARTIAL
                                                      : TV_TASK_OUTCOME_UNTOUCHED;
    return o;
}

static void job_cleanup(void *ctx)
{
    struct disk_job *j = ctx;
    tv_storage_t *st = j->st;
    tv_vhd_task_driver.cleanup(j->vhd); /* destroys the op */
    tv_st_free(st, j);
}

static const struct task_driver disk_driver = {
    .name = "disk",
    .run = job_run,
    .commit = NULL,
    .abort = job_abort,
    .cleanup = job_cleanup,
};

/* Wraps op into the job context; on failure op is destroyed. */
static tv_status_t make_job(tv_vhd_op_t *op, bool is_check, struct task_prepared *out)
{
    tv_storage_t *st = op->st;
    struct disk_job *j = tv_st_alloc(st, sizeof *j);
    if (!j) {
        tv_vhd_op_destroy(op);
        return TV_E_NO_MEMORY;
    }
    j->st = st;
    j->op = op;
    j->is_check = is_check;
    tv_status_t s = tv_vhd_task_ctx(op, NULL, &j->vhd);
    if (s != TV_OK) {
        tv_vhd_op_destroy(op);
        tv_st_free(st, j);
        return s;
    }
    out->ctx = j;
    out->target.kind = TV_TASK_TARGET_DISK;
    out->target.id = 0; /* the image store has no disk ids: the path is in the description */
    return TV_OK;
}

/* ---- Create fixed / dynamic ------------------------------------------------ */

static tv_status_t prepare_create(const struct disk_ops *ops, const struct tv_disk_create_args *a,
                                  bool fixed, struct task_prepared *out)
{
    if (a->reserved0 || !tv_all_zero(a->reserved, sizeof a->reserved))
        return TV_E_INVALID_ARGUMENT;
    uint32_t bs = a->block_size;
    if (fixed ? bs != 0 : (bs != 0 && (bs < 512 || bs > (256u << 20) || (bs & (bs - 1)))))
        return TV_E_INVALID_ARGUMENT;
    if (a->size_mb == 0)
        return TV_E_INVALID_ARGUMENT; /* Virtual PC: a size of 0 is E_INVALIDARG */
    if (a->size_mb < TV_DISK_SIZE_MIN_MB)
        return TV_E_SIZE_TOO_SMALL;
    if (a->size_mb > TV_DISK_SIZE_MAX_MB)
        return TV_E_SIZE_TOO_LARGE;
    struct disk_ref r;
    tv_status_t s = resolve(ops, a->path, true, &r);
    if (s != TV_OK)
        return s;
    if (r.facts.read_only)
        return TV_E_READ_ONLY;
    if ((s = target_absent(&r)) != TV_OK)
        return s;
    uint64_t size = a->size_mb * MIB;
    /* The per-file limit applies to the size a dynamic disk can grow to. */
    uint64_t need = fixed ? vhd_file_bound(size) : sparse_need(size, bs);
    if (need < CREATE_MIN_FREE)
        need = CREATE_MIN_FREE;
    if ((s = room_for(&r, vhd_file_bound(size), need)) != TV_OK)
        return s;
    struct tv_vhd_create_params p;
    tv_memset(&p, 0, sizeof p);
    p.kind = fixed ? TV_VHD_FIXED : TV_VHD_DYNAMIC;
    p.size = size;
    p.block_size = bs;
    tv_vhd_op_t *op;
    if ((s = tv_vhd_op_create(r.st, r.name, &p, &op)) != TV_OK)
        return s;
    char extra[32];
    tv_snprintf(extra, sizeof extra, " (%llu MB)", (unsigned long long)a->size_mb);
    describe(out->description, fixed ? "create fixed" : "create dynamic", a->path, extra);
    return make_job(op, false, out);
}

static tv_status_t prep_create_fixed(void *owner, const void *args, struct task_prepared *out)
{
    return prepare_create(owner, args, true, out);
}

static tv_status_t prep_create_dynamic(void *owner, const void *args, struct task_prepared *out)
{
    return prepare_create(owner, args, false, out);
}

/* ---- Create differencing ----------------------------------------------------- */

static tv_status_t prep_create_diff(void *owner, const void *args, struct task_prepared *out)
{
    const struct disk_ops *ops = owner;
    const struct tv_disk_create_diff_args *a = args;
    if (!tv_all_zero(a->reserved, sizeof a->reserved))
        return TV_E_INVALID_ARGUMENT;
    struct disk_ref r, pr;
    tv_status_t s = resolve(ops, a->path, true, &r);
    if (s != TV_OK)
        return s;
    s = resolve(ops, a->parent, false, &pr);
    if (s != TV_OK)
        return s == TV_E_NOT_FOUND ? TV_E_PARENT_MISSING : s;
    if (pr.st != r.st)
        return TV_E_CROSS_VOLUME;
    if (r.facts.read_only)
        return TV_E_READ_ONLY;
    if ((s = target_absent(&r)) != TV_OK)
        return s;
    struct image_facts pf;
    s = inspect(&pr, &pf);
    if (s != TV_OK)
        return s == TV_E_NOT_FOUND ? TV_E_PARENT_MISSING : s;
    if ((s = room_for(&r, vhd_file_bound(pf.size), sparse_need(pf.size, 0))) != TV_OK)
        return s;
    struct tv_vhd_create_params p;
    tv_memset(&p, 0, sizeof p);
    p.kind = TV_VHD_DIFF;
    p.parent = pr.name;
    p.parent_resolved = true;
    tv_vhd_op_t *op;
    if ((s = tv_vhd_op_create(r.st, r.name, &p, &op)) != TV_OK)
        return s;
    describe(out->description, "create differencing", a->path, "");
    return make_job(op, false, out);
}

/* ---- Merge into the parent ------------------------------------------------------ */

static tv_status_t image_args_ok(const struct tv_disk_image_args *a, uint32_t allowed_flags)
{
    if ((a->flags & ~allowed_flags) || a->reserved0 || !tv_all_zero(a->reserved, sizeof a->reserved))
        return TV_E_INVALID_ARGUMENT;
    return TV_OK;
}

static tv_status_t prep_merge(void *owner, const void *args, struct task_prepared *out)
{
    const struct disk_ops *ops = owner;
    const struct tv_disk_image_args *a = args;
    tv_status_t s = image_args_ok(a, 0);
    if (s != TV_OK)
        return s;
    struct disk_ref r;
    if ((s = resolve(ops, a->path, false, &r)) != TV_OK)
        return s;
    struct image_facts f;
    if ((s = inspect(&r, &f)) != TV_OK)
        return s;
    if (f.kind != TV_VHD_DIFF)
        return TV_E_WRONG_TYPE;
    /* The parent is written, the child deleted: both writable, not in use. */
    if (r.facts.read_only)
        return TV_E_READ_ONLY;
    if ((s = probe_writable(r.st, f.parent)) != TV_OK)
        return s;
    if ((s = probe_writable(r.st, r.name)) != TV_OK)
        return s;
    /* A sparse parent grows by at most the child's data. */
    if (f.parent_kind != TV_VHD_FIXED && (s = room_for(&r, 0, f.file_size)) != TV_OK)
        return s;
    tv_vhd_op_t *op;
    if ((s = tv_vhd_op_merge(r.st, r.name, &op)) != TV_OK)
        return s;
    describe(out->description, "merge", a->path, " into its parent");
    return make_job(op, false, out);
}

/* ---- Merge-to and convert: a new disk from an existing one ----------------------- */

static tv_status_t prepare_copy(const struct disk_ops *ops, const struct tv_disk_copy_args *a,
                                bool merge_to, struct task_prepared *out)
{
    if (a->reserved0 || !tv_all_zero(a->reserved, sizeof a->reserved))
        return TV_E_INVALID_ARGUMENT;
    if (a->target_kind != TV_DISK_KIND_FIXED && a->target_kind != TV_DISK_KIND_DYNAMIC)
        return TV_E_WRONG_TYPE; /* Virtual PC: VM_E_WRONG_HD_IMAGE_TYPE for the target type */
    struct disk_ref r, t;
    tv_status_t s = resolve(ops, a->path, false, &r);
    if (s != TV_OK)
        return s;
    if ((s = resolve(ops, a->target, true, &t)) != TV_OK)
        return s;
    if (r.st != t.st)
        return TV_E_CROSS_VOLUME;
    struct image_facts f;
    if ((s = inspect(&r, &f)) != TV_OK)
        return s;
    enum tv_vhd_kind kind = a->target_kind == TV_DISK_KIND_FIXED ? TV_VHD_FIXED : TV_VHD_DYNAMIC;
    if (merge_to ? f.kind != TV_VHD_DIFF : (f.kind == TV_VHD_DIFF || f.kind == kind))
        return TV_E_WRONG_TYPE;
    if (t.facts.read_only)
        return TV_E_READ_ONLY;
    if ((s = target_absent(&t)) != TV_OK)
        return s;
    /* A fixed target is the whole file; a dynamic one at least its metadata. */
    uint64_t need = kind == TV_VHD_FIXED ? vhd_file_bound(f.size) : sparse_need(f.size, 0);
    if ((s = room_for(&t, vhd_file_bound(f.size), need)) != TV_OK)
        return s;
    tv_vhd_op_t *op;
    s = merge_to ? tv_vhd_op_merge_to(r.st, r.name, t.name, kind, &op)
                 : tv_vhd_op_convert(r.st, r.name, false, t.name, kind, 0, &op);
    if (s != TV_OK)
        return s;
    char extra[TV_TASK_DESC_MAX];
    tv_snprintf(extra, sizeof extra, " to %s %s", tv_vhd_kind_name(kind), a->target);
    if (tv_strlen(extra) > TV_TASK_DESC_MAX / 2)
        tv_snprintf(extra, sizeof extra, " to a new %s disk", tv_vhd_kind_name(kind));
    describe(out->description, merge_to ? "merge-to" : "convert", a->path, extra);
    return make_job(op, false, out);
}

static tv_status_t prep_merge_to(void *owner, const void *args, struct task_prepared *out)
{
    return prepare_copy(owner, args, true, out);
}

static tv_status_t prep_convert(void *owner, const void *args, struct task_prepared *out)
{
    return prepare_copy(owner, args, false, out);
}

/* ---- Compact ---------------------------------------------------------------------- */

static tv_status_t prep_compact(void *owner, const void *args, struct task_prepared *out)
{
    const struct disk_ops *ops = owner;
    const struct tv_disk_image_args *a = args;
    tv_status_t s = image_args_ok(a, 0);
    if (s != TV_OK)
        return s;
    struct disk_ref r;
    if ((s = resolve(ops, a->path, false, &r)) != TV_OK)
        return s;
    struct image_facts f;
    if ((s = inspect(&r, &f)) != TV_OK)
        return s;
    /* Virtual PC compacts dynamic disks only; the engine also compacts a
     * differencing disk (keeping zero blocks that hide parent data). */
    if (f.kind != TV_VHD_DYNAMIC && f.kind != TV_VHD_DIFF)
        return TV_E_WRONG_TYPE;
    if (r.facts.read_only)
        return TV_E_READ_ONLY;
    if ((s = probe_writable(r.st, r.name)) != TV_OK)
        return s;
    /* The compacted copy is written beside the original before the rename. */
    if ((s = room_for(&r, 0, f.file_size)) != TV_OK)
        return s;
    tv_vhd_op_t *op;
    if ((s = tv_vhd_op_compact(r.st, r.name, &op)) != TV_OK)
        return s;
    describe(out->description, "compact", a->path, "");
    return make_job(op, false, out);
}

/* ---- Check (and repair) -------------------------------------------------------------- */

static tv_status_t prep_check(void *owner, const void *args, struct task_prepared *out)
{
    const struct disk_ops *ops = owner;
    const struct tv_disk_image_args *a = args;
    tv_status_t s = image_args_ok(a, TV_DISK_CHECK_REPAIR);
    if (s != TV_OK)
        return s;
    bool repair = (a->flags & TV_DISK_CHECK_REPAIR) != 0;
    struct disk_ref r;
    if ((s = resolve(ops, a->path, false, &r)) != TV_OK)
        return s;
    if (repair && r.facts.read_only)
        return TV_E_READ_ONLY;
    /* Only the file itself: a check must also run on an image that does not
     * open (that is what it reports). */
    tv_sfile_t *file;
    s = repair ? r.st->open(r.st->ctx, r.name, TV_ST_WRITE | TV_ST_EXCLUSIVE, &file)
               : r.st->open(r.st->ctx, r.name, TV_ST_SHARED, &file);
    if (s != TV_OK)
        return s;
    r.st->close(file);
    tv_vhd_op_t *op;
    if ((s = tv_vhd_op_check(r.st, r.name, repair, NULL, NULL, NULL, &op)) != TV_OK)
        return s;
    describe(out->description, repair ? "check and repair" : "check", a->path, "");
    return make_job(op, true, out);
}

/* ---- Recovery of an interrupted operation (started by the mount) --------------------------- */

/* Rolling back an interrupted create/convert/merge-to/compact: its output
 * never replaced anything (the rename is the commit), so the temporary is
 * removed.  One step. */
struct discard_op {
    tv_vhd_op_t op;
    char name[TV_DISK_PATH_MAX];
};

static tv_status_t discard_step(tv_vhd_op_t *op)
{
    struct discard_op *d = (struct discard_op *)op;
    op->cancelable = false; /* nothing to undo: the remove is the whole job */
    op->total = 1;
    tv_status_t s = op->st->remove(op->st->ctx, d->name);
    if (s == TV_E_NOT_FOUND)
        s = TV_OK;
    if (s == TV_OK) {
        op->done = 1;
        tv_snprintf(op->detail, sizeof op->detail, "removed %s: the interrupted operation was rolled back",
                    d->name);
    }
    return s;
}

static const struct tv_vhd_op_class discard_class = { "discard", discard_step, NULL, NULL };

static tv_status_t prep_recover(void *owner, const void *args, struct task_prepared *out)
{
    (void)owner;
    const struct disk_recover_args *a = args;
    size_t n = tv_strnlen(a->name, sizeof a->name);
    if (!a->seam || a->reserved || n == 0 || n == sizeof a->name ||
        tv_strnlen(a->volume, sizeof a->volume) == sizeof a->volume)
        return TV_E_INVALID_ARGUMENT;
    tv_storage_t *st = a->seam;
    tv_vhd_op_t *op;
    char path[TV_DISK_PATH_MAX + 64];
    tv_snprintf(path, sizeof path, "%s:%s", a->volume, a->name);
    tv_status_t s;
    if (a->kind == DISK_RECOVER_MERGE) {
        /* check --repair finishes the merge from its journal (or, when its
         * child is gone, clears the journal and gives the parent a new id). */
        if ((s = tv_vhd_op_check(st, a->name, true, NULL, NULL, NULL, &op)) != TV_OK)
            return s;
        describe(out->description, "recover", path, ": finish interrupted merge");
        return make_job(op, true, out);
    }
    if (a->kind != DISK_RECOVER_TEMP)
        return TV_E_INVALID_ARGUMENT;
    struct discard_op *d = tv_st_alloc(st, sizeof *d);
    if (!d)
        return TV_E_NO_MEMORY;
    tv_memset(d, 0, sizeof *d);
    d->op.cls = &discard_class;
    d->op.st = st;
    d->op.cancelable = true;
    tv_strlcpy(d->name, a->name, sizeof d->name);
    describe(out->description, "recover", path, ": roll back interrupted output");
    return make_job(&d->op, false, out);
}

/* ---- The registry ----------------------------------------------------------------------- */

static const struct {
    uint32_t type;
    const char *name;
    size_t args_size;
    tv_status_t (*prepare)(void *owner, const void *args, struct task_prepared *out);
} type_table[DISK_OP_TYPE_COUNT] = {
    { TV_TASK_TYPE_DISK_CREATE_FIXED, "disk.create-fixed", sizeof(struct tv_disk_create_args), prep_create_fixed },
    { TV_TASK_TYPE_DISK_CREATE_DYNAMIC, "disk.create-dynamic", sizeof(struct tv_disk_create_args), prep_create_dynamic },
    { TV_TASK_TYPE_DISK_CREATE_DIFF, "disk.create-diff", sizeof(struct tv_disk_create_diff_args), prep_create_diff },
    { TV_TASK_TYPE_DISK_MERGE, "disk.merge", sizeof(struct tv_disk_image_args), prep_merge },
    { TV_TASK_TYPE_DISK_MERGE_TO, "disk.merge-to", sizeof(struct tv_disk_copy_args), prep_merge_to },
    { TV_TASK_TYPE_DISK_COMPACT, "disk.compact", sizeof(struct tv_disk_image_args), prep_compact },
    { TV_TASK_TYPE_DISK_CONVERT, "disk.convert", sizeof(struct tv_disk_copy_args), prep_convert },
    { TV_TASK_TYPE_DISK_CHECK, "disk.check", sizeof(struct tv_disk_image_args), prep_check },
    { TV_TASK_TYPE_DISK_RECOVER, "disk.recover", sizeof(struct disk_recover_args), prep_recover },
};

void disk_ops_init(struct disk_ops *ops)
{
    tv_memset(ops, 0, sizeof *ops);
    for (uint32_t i = 0; i < DISK_OP_TYPE_COUNT; i++) {
        struct task_type *t = &ops->types[i];
        t->type = type_table[i].type;
        t->name = type_table[i].name;
        t->driver = &disk_driver;
        t->args_size = type_table[i].args_size;
        t->prepare = type_table[i].prepare;
        t->owner = ops;
    }
}

void disk_ops_set_resolver(struct disk_ops *ops, disk_resolve_fn fn, void *ctx)
{
    ops->resolve = fn;
    ops->resolve_ctx = ctx;
}

tv_status_t disk_ops_register(struct disk_ops *ops, struct task_types *reg)
{
    for (uint32_t i = 0; i < DISK_OP_TYPE_COUNT; i++) {
        tv_status_t s = task_types_add(reg, &ops->types[i]);
        if (s != TV_OK)
            return s;
    }
    return TV_OK;
}

bool disk_ops_startable(uint32_t type, size_t *args_size)
{
    for (uint32_t i = 0; i < DISK_OP_TYPE_COUNT; i++) {
        if (type_table[i].type == type && type != TV_TASK_TYPE_DISK_RECOVER) {
            *args_size = type_table[i].args_size;
            return true;
        }
    }
    return false;
}
