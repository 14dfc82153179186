/* The long disk operations as task types of the one registry
 * (task/task_types.h): create fixed, dynamic and differencing disks, merge
 * into the parent, merge-to a new disk, compact, convert, check (with
 * repair), and the recovery of interrupted operations at mount.
 *
 * Portable (compiled unchanged into the monitor and into the hosted tests,
 * like task_calls.c): it knows no image store.  Paths ("VOLUME:/dir/x.vhd",
 * include/taskvisor/disk.h) are turned into a volume's storage seam and the
 * path on that volume by a resolver the owner supplies: the monitor's image
 * store, or a memory store in the tests.  Each type's prepare checks what
 * Virtual PC checked before it returned an IVMTask, each refusal its own
 * status, before any task exists; the job is the VHD engine's stepped
 * operation run by its job driver (storage/vhd_task.h).
 *
 * Source and target of one operation must be on one volume (the engine
 * works through one seam and commits by renaming within it):
 * TV_E_CROSS_VOLUME otherwise.  See docs/storage.md, "Disk operations as
 * tasks". */
#ifndef SERVICES_DISK_OPS_H
#define SERVICES_DISK_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/storage.h"
#include "task/task_mgr.h"
#include "task/task_types.h"
#include "taskvisor/disk.h"

#define DISK_UNKNOWN UINT64_MAX

/* What the resolver knows about the volume a path is on. */
struct disk_volume_facts {
    uint64_t free_bytes;    /* DISK_UNKNOWN when not known */
    uint64_t max_file_size; /* per-file limit (FAT32: 4 GiB - 1); DISK_UNKNOWN = none */
    bool read_only;         /* mounted read-only */
};

/* Resolves a checked "VOLUME:/path" into the volume's seam and the path on
 * the volume (*inner may point into path; it is copied at once).  *facts
 * comes preset to "unknown, writable".  TV_E_NOT_FOUND when no volume has
 * that name.  One seam per volume: two paths are on one volume exactly when
 * they resolve to the same seam. */
typedef tv_status_t (*disk_resolve_fn)(void *ctx, const char *path, tv_storage_t **seam,
                                       const char **inner, struct disk_volume_facts *facts);

#define DISK_OP_TYPE_COUNT 9u /* 8 operations and the recovery */

struct disk_ops {
    disk_resolve_fn resolve; /* NULL: every path is TV_E_NOT_FOUND */
    void *resolve_ctx;
    struct task_type types[DISK_OP_TYPE_COUNT];
};

void disk_ops_init(struct disk_ops *ops);
/* May be set (or replaced) before the first operation; not while tasks are
 * being prepared. */
void disk_ops_set_resolver(struct disk_ops *ops, disk_resolve_fn fn, void *ctx);
/* Adds every disk type (the recovery type too) to the registry. */
tv_status_t disk_ops_register(struct disk_ops *ops, struct task_types *reg);

/* True for the types DISK_START may start (not the recovery type, which
 * only the mount starts); *args_size = the size of the type's record. */
bool disk_ops_startable(uint32_t type, size_t *args_size);

/* Checks a path field of TV_DISK_PATH_MAX bytes: NUL-terminated, zero after
 * the NUL, valid UTF-8, fewer than TV_DISK_PATH_CHARS characters,
 * "VOLUME:/..." with no empty, "." or ".." component, no control
 * character or any of \ : * ? " < > | in the path; new_vhd: names a file
 * to be created, which must end in ".vhd" (any case).  TV_E_BAD_PATH. */
tv_status_t disk_path_check(const char *field, bool new_vhd);

/* ---- Recovery at mount (disk_recover.c) ---------------------------------- */

/* The internal argument record of TV_TASK_TYPE_DISK_RECOVER. */
enum disk_recover_kind {
    DISK_RECOVER_MERGE = 1, /* name has a merge journal: finish the merge (check --repair) */
    DISK_RECOVER_TEMP = 2,  /* name is a stale ".tvtmp" output: remove it (roll back) */
};
struct disk_recover_args {
    tv_storage_t *seam;
    uint32_t kind;          /* enum disk_recover_kind */
    uint32_t reserved;
    char volume[64];
    char name[TV_DISK_PATH_MAX]; /* path on the volume */
};

/* Calls fn for every regular file on the volume (absolute paths on the
 * volume, e.g. "/vms/a.vhd.tvjournal"); fn returns false to stop. */
typedef tv_status_t (*disk_list_fn)(void *ctx, const char *volume,
                                    bool (*fn)(void *fctx, const char *name), void *fctx);

struct disk_recover_result {
    uint32_t found;      /* interrupted operations found */
    uint32_t started;    /* recovery tasks started */
    uint32_t failed;     /* of which did not complete (or could not start) */
    uint64_t first_id;   /* the first recovery task (0 if none) */
    uint64_t last_id;
};

#define DISK_RECOVER_MAX 64u /* interrupted operations handled per mount */

/* Finds every image on a freshly mounted volume with an interrupted merge
 * (a "<image>.tvjournal") or an interrupted create, convert, merge-to or
 * compact (a "<target>.tvtmp"), and starts one recovery task each through
 * the registry; with wait, returns only when they have finished, so the
 * caller publishes the volume after its images are whole again.  Call it
 * before anyone else can open files on the volume, from a thread that may
 * block, after the registry holds the disk types.  The tasks stay in the
 * task table as finished tasks (type DISK_RECOVER, the image in the
 * description) for the retention time. */
tv_status_t disk_recover_volume(const struct task_types *reg, struct task_mgr *mgr,
                                const char *volume, tv_storage_t *seam, disk_list_fn list,
                                void *list_ctx, bool wait, struct disk_recover_result *out);

#endif
