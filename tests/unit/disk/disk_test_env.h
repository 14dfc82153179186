/* The hosted stand-in for the monitor's disk service, shared by the disk
 * tests and the fuzz target: memory volumes behind a resolver, the disk
 * and task call sections under the one dispatcher, a fake caller memory. */
#ifndef DISK_TEST_ENV_H
#define DISK_TEST_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "hcall/hcall.h"
#include "mem_storage.h"
#include "services/disk_calls.h"
#include "services/disk_ops.h"
#include "services/task_calls.h"
#include "../common/hcall_fixture.h"

#define DT_BASE 0x40000ull
#define DT_SIZE (64 * 1024)
#define DT_REC  (DT_BASE + 0x1000) /* where tests put argument records */

/* A seam that forwards to another and calls a hook on open/create, so a
 * test can act (cancel, pause) in the middle of a job. */
struct dt_hook {
    tv_storage_t inner;
    tv_storage_t seam;
    void (*fn)(void *ctx, const char *call, const char *name);
    void *ctx;
};

struct dt_volume {
    const char *name;
    tv_storage_t *seam;
    struct disk_volume_facts facts;
};

#define DT_VOLUMES 6

struct dt_env {
    unsigned char *mem;          /* ram.mem: DT_SIZE bytes at DT_BASE */
    mem_fs_t *fs, *other;        /* volumes MEM (+ HOOK, RO, FAT, SMALL views) and OTHER */
    tv_storage_t st, st_other;
    struct dt_hook hook;
    struct dt_volume vol[DT_VOLUMES];
    struct task_mgr *mgr;
    struct task_types types;
    struct disk_ops ops;
    struct disk_call_state disk;
    struct task_call_state tasks;
    struct hcf_ram ram;
    struct hcall_section sections[2];
    struct hcall_table table;
    struct hcall_caller caller;
};

/* workers: 0 = run tasks with task_mgr_run_next on the test's thread. */
struct dt_env *dt_env_new(uint32_t workers);
void dt_env_free(struct dt_env *e);

/* One call as a 64-bit CPL0 control-partition caller; *out = RDX. */
tv_status_t dt_call(struct dt_env *e, uint32_t code, uint64_t a0, uint64_t a1, uint64_t a2,
                    uint64_t a3, uint64_t a4, uint64_t *out);
/* DISK_START of `type` with the record copied to DT_REC. */
tv_status_t dt_start(struct dt_env *e, uint32_t type, const void *rec, size_t size, uint64_t *id);

/* Lists the files of MEM (disk_list_fn over mem_fs_name). */
tv_status_t dt_list(void *ctx, const char *volume, bool (*fn)(void *fctx, const char *name), void *fctx);

#endif
