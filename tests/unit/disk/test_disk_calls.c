/* Unit tests of the disk operations as tasks: DISK_START through the one
 * dispatcher (vmm/services/disk_calls.c), every type's prepare and refusal
 * (disk_ops.c, disk_path.c), the jobs run by the task manager over memory
 * volumes, the task verbs on them (cancel mid-merge, pause/resume, a
 * failure with the DISK result) and recovery at mount after a power cut
 * (disk_recover.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk_test_env.h"
#include "platform_hosted.h"
#include "task_platform.h"
#include "taskvisor/disk.h"
#include "taskvisor/hypercall.h"
#include "tv_disk.h"
#include "vhd_test_util.h"

#define MB (1024ull * 1024ull)

static int setup0(void **state)
{
    *state = dt_env_new(0);
    return 0;
}

static int setup1(void **state)
{
    *state = dt_env_new(1);
    return 0;
}

static int teardown(void **state)
{
    dt_env_free(*state);
    return 0;
}

static size_t task_count(struct dt_env *e)
{
    struct tv_task_event ev[64];
    size_t n = 0;
    assert_int_equal(task_list(e->mgr, 0, 0, ev, 64, &n), TV_OK);
    return n;
}

static struct tv_task_info run_task(struct dt_env *e, uint64_t id)
{
    struct tv_task_info info;
    assert_int_equal(task_mgr_run_next(e->mgr), TV_OK);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    return info;
}

static struct tv_disk_create_args create_rec(const char *path, uint64_t mb)
{
    struct tv_disk_create_args a;
    memset(&a, 0, sizeof a);
    strncpy(a.path, path, sizeof a.path - 1);
    a.size_mb = mb;
    return a;
}

static struct tv_disk_image_args image_rec(const char *path, uint32_t flags)
{
    struct tv_disk_image_args a;
    memset(&a, 0, sizeof a);
    strncpy(a.path, path, sizeof a.path - 1);
    a.flags = flags;
    return a;
}

static struct tv_disk_copy_args copy_rec(const char *path, const char *target, uint32_t kind)
{
    struct tv_disk_copy_args a;
    memset(&a, 0, sizeof a);
    strncpy(a.path, path, sizeof a.path - 1);
    strncpy(a.target, target, sizeof a.target - 1);
    a.target_kind = kind;
    return a;
}

static struct tv_disk_create_diff_args diff_rec(const char *path, const char *parent)
{
    struct tv_disk_create_diff_args a;
    memset(&a, 0, sizeof a);
    strncpy(a.path, path, sizeof a.path - 1);
    strncpy(a.parent, parent, sizeof a.parent - 1);
    return a;
}

static tv_status_t start_create(struct dt_env *e, uint32_t type, const struct tv_disk_create_args *a)
{
    size_t before = task_count(e);
    uint64_t id;
    tv_status_t s = dt_start(e, type, a, sizeof *a, &id);
    if (s != TV_OK)
        assert_int_equal(task_count(e), before); /* a refusal creates no task */
    return s;
}

/* A dynamic base (8 MiB, data in its first 3 MiB) and a differencing child
 * over it (data at 2..5 MiB); *model = what the child reads. */
static uint8_t *make_chain(struct dt_env *e)
{
    uint8_t *model = calloc(1, 8 * MB);
    assert_int_equal(tu_create(&e->st, "/base.vhd", TV_VHD_DYNAMIC, 8 * MB, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&e->st, "/base.vhd", 0, 3 * MB, 1, model), TV_OK);
    assert_int_equal(tu_create(&e->st, "/child.vhd", TV_VHD_DIFF, 0, 0, "/base.vhd"), TV_OK);
    assert_int_equal(tu_write(&e->st, "/child.vhd", 2 * MB, 3 * MB, 2, model), TV_OK);
    return model;
}

static void assert_reads(struct dt_env *e, const char *name, const uint8_t *model, uint64_t size)
{
    uint64_t got = 0;
    uint8_t *all = tu_read_all(&e->st, name, 0, &got);
    assert_non_null(all);
    assert_true(got >= size);
    assert_memory_equal(all, model, size);
    free(all);
}

/* ---- the call itself ---------------------------------------------------------- */

static void call_decoding(void **state)
{
    struct dt_env *e = *state;
    struct tv_disk_create_args a = create_rec("MEM:/a.vhd", 3);
    memcpy(e->mem + (DT_REC - DT_BASE), &a, sizeof a);
    uint64_t out = 0x1234;
    /* Types DISK_START does not start: not a disk type, the recovery type,
     * out of range (also past 32 bits). */
    uint64_t bad_types[] = { TV_TASK_TYPE_TEST, TV_TASK_TYPE_VM_STARTUP, TV_TASK_TYPE_DISK_RECOVER,
                             TV_TASK_TYPE_COUNT, 1ull << 32 | TV_TASK_TYPE_DISK_CREATE_DYNAMIC };
    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++)
        assert_int_equal(dt_call(e, TV_HC_DISK_START, bad_types[i], DT_REC, sizeof a, 0, 0, &out),
                         TV_E_INVALID_ARGUMENT);
    uint32_t t = TV_TASK_TYPE_DISK_CREATE_DYNAMIC;
    assert_int_equal(dt_call(e, TV_HC_DISK_START, t, DT_REC, sizeof a - 1, 0, 0, &out), TV_E_INVALID_ARGUMENT);
    assert_int_equal(dt_call(e, TV_HC_DISK_START, t, DT_REC, sizeof a + 8, 0, 0, &out), TV_E_INVALID_ARGUMENT);
    /* the record of another type's size */
    assert_int_equal(dt_call(e, TV_HC_DISK_START, t, DT_REC, sizeof(struct tv_disk_copy_args), 0, 0, &out),
                     TV_E_INVALID_ARGUMENT);
    assert_int_equal(dt_call(e, TV_HC_DISK_START, t, DT_REC + 4, sizeof a, 0, 0, &out), TV_E_INVALID_ARGUMENT);
    assert_int_equal(dt_call(e, TV_HC_DISK_START, t, 0, sizeof a, 0, 0, &out), TV_E_INVALID_ARGUMENT);
    assert_int_equal(dt_call(e, TV_HC_DISK_START, t, DT_BASE + DT_SIZE - 8, sizeof a, 0, 0, &out),
                     TV_E_INVALID_ARGUMENT); /* record runs past the caller's RAM */
    assert_int_equal(dt_call(e, TV_HC_DISK_START, t, DT_REC, sizeof a, 1, 0, &out), TV_E_INVALID_ARGUMENT);
    assert_int_equal(dt_call(e, TV_HC_DISK_START, t, DT_REC, sizeof a, 0, 1, &out), TV_E_INVALID_ARGUMENT);
    assert_int_equal(out, sizeof a); /* no output on a refusal: RDX keeps a2 */
    assert_int_equal(task_count(e), 0);
    /* Management only. */
    e->caller.is_control = false;
    assert_int_equal(dt_call(e, TV_HC_DISK_START, t, DT_REC, sizeof a, 0, 0, &out), TV_E_ACCESS_DENIED);
    e->caller.is_control = true;
    /* The call works for a 32-bit caller too (arguments in EBX, ECX, EDX). */
    struct hcall_regs r = { .rax = TV_HC_DISK_START, .rbx = t, .rcx = DT_REC, .rdx = sizeof a };
    struct hcall_env env = { &e->table, NULL, NULL };
    e->caller.wide = false;
    assert_int_equal(hcall_dispatch(&env, &e->caller, &r), HCALL_ADVANCE);
    e->caller.wide = true;
    assert_int_equal(r.rax, TV_OK);
    assert_int_equal(r.rdx, 1); /* the new task's id */
}

static void paths(void **state)
{
    (void)state;
    char f[TV_DISK_PATH_MAX];
    struct { const char *p; bool vhd; tv_status_t want; } cases[] = {
        { "MEM:/a.vhd", true, TV_OK },
        { "USB stick:/vms/Disk 1.VHD", true, TV_OK },
        { "MEM:/d/\xc3\xa9t\xc3\xa9.vhd", true, TV_OK },
        { "MEM:/a.img", false, TV_OK },
        { "", true, TV_E_BAD_PATH },
        { "MEM:/a.img", true, TV_E_BAD_PATH },      /* a new image must end in .vhd */
        { "MEM:/.vhd", true, TV_E_BAD_PATH },
        { "/a.vhd", true, TV_E_BAD_PATH },          /* no volume */
        { ":/a.vhd", true, TV_E_BAD_PATH },
        { "MEM:a.vhd", true, TV_E_BAD_PATH },       /* relative */
        { "MEM:/", false, TV_E_BAD_PATH },
        { "MEM:/d//a.vhd", true, TV_E_BAD_PATH },
        { "MEM:/d/../a.vhd", true, TV_E_BAD_PATH },
        { "MEM:/./a.vhd", true, TV_E_BAD_PATH },
        { "MEM:/d/", false, TV_E_BAD_PATH },
        { "MEM:/a?.vhd", true, TV_E_BAD_PATH },
        { "MEM:/a:b.vhd", true, TV_E_BAD_PATH },
        { "MEM:/a\\b.vhd", true, TV_E_BAD_PATH },
        { "MEM:/a\x01.vhd", true, TV_E_BAD_PATH },
        { "MEM:/\xc0\xaf.vhd", true, TV_E_BAD_PATH }, /* overlong '/' */
        { "MEM:/\xed\xa0\x80.vhd", true, TV_E_BAD_PATH }, /* surrogate */
        { "MEM:/\xe9.vhd", true, TV_E_BAD_PATH },     /* Latin-1, not UTF-8 */
        { "M/EM:/a.vhd", true, TV_E_BAD_PATH },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(f, 0, sizeof f);
        strcpy(f, cases[i].p);
        if (disk_path_check(f, cases[i].vhd) != cases[i].want)
            fail_msg("path '%s': got %d, want %d", cases[i].p, disk_path_check(f, cases[i].vhd), cases[i].want);
    }
    /* Length: 259 characters pass, 260 do not (MAX_PATH); multi-byte
     * characters count once. */
    memset(f, 0, sizeof f);
    strcpy(f, "MEM:/");
    memset(f + 5, 'a', 259 - 5 - 4);
    strcat(f, ".vhd");
    assert_int_equal(strlen(f), 259);
    assert_int_equal(disk_path_check(f, true), TV_OK);
    memset(f, 0, sizeof f);
    strcpy(f, "MEM:/");
    memset(f + 5, 'a', 260 - 5 - 4);
    strcat(f, ".vhd");
    assert_int_equal(disk_path_check(f, true), TV_E_BAD_PATH);
    memset(f, 0, sizeof f);
    strcpy(f, "MEM:/");
    for (int i = 0; i < 250; i++)
        strcat(f, "\xc3\xa9"); /* 250 characters, 500 bytes */
    f[5 + 500 - 4] = 0;
    strcat(f, ".vhd");
    assert_int_equal(disk_path_check(f, true), TV_OK);
    /* No NUL in the field, or bytes after it. */
    memset(f, 'a', sizeof f);
    assert_int_equal(disk_path_check(f, false), TV_E_BAD_PATH);
    memset(f, 0, sizeof f);
    strcpy(f, "MEM:/a.vhd");
    f[100] = 'x';
    assert_int_equal(disk_path_check(f, true), TV_E_BAD_PATH);
}

/* ---- create ------------------------------------------------------------------------- */

static void create_fixed_and_dynamic(void **state)
{
    struct dt_env *e = *state;
    struct tv_disk_create_args a = create_rec("MEM:/f.vhd", 5);
    uint64_t id;
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_CREATE_FIXED, &a, sizeof a, &id), TV_OK);
    struct tv_task_info info;
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.type, TV_TASK_TYPE_DISK_CREATE_FIXED);
    assert_int_equal(info.state, TV_TASK_QUEUED);
    assert_int_equal(info.target.kind, TV_TASK_TARGET_DISK);
    assert_string_equal(info.description, "create fixed MEM:/f.vhd (5 MB)");
    assert_false(mem_fs_exists(e->fs, "/f.vhd")); /* nothing before the job runs */
    info = run_task(e, id);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_COMMITTED);
    assert_int_equal(info.percent, 100);
    assert_true(info.total >= 5 * MB); /* zero-filled, progress in bytes */
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&e->st, "/f.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_kind(v), TV_VHD_FIXED);
    assert_true(tv_vhd_size(v) >= 5 * MB);
    tv_vhd_close(v);

    a = create_rec("MEM:/d.vhd", 2088960);
    a.block_size = 512 * 1024;
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_CREATE_DYNAMIC, &a, sizeof a, &id), TV_OK);
    info = run_task(e, id);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(tv_vhd_open(&e->st, "/d.vhd", 0, &v), TV_OK);
    assert_int_equal(tv_vhd_kind(v), TV_VHD_DYNAMIC);
    assert_int_equal(tv_vhd_block_size(v), 512 * 1024);
    assert_true(tv_vhd_size(v) >= 2088960ull * MB);
    tv_vhd_close(v);
}

static void create_refusals(void **state)
{
    struct dt_env *e = *state;
    uint32_t fixed = TV_TASK_TYPE_DISK_CREATE_FIXED, dyn = TV_TASK_TYPE_DISK_CREATE_DYNAMIC;
    struct tv_disk_create_args a = create_rec("MEM:/x.vhd", 0);
    assert_int_equal(start_create(e, fixed, &a), TV_E_INVALID_ARGUMENT);
    a.size_mb = 2;
    assert_int_equal(start_create(e, fixed, &a), TV_E_SIZE_TOO_SMALL);
    a.size_mb = 2088961;
    assert_int_equal(start_create(e, dyn, &a), TV_E_SIZE_TOO_LARGE);
    a.size_mb = 1ull << 63;
    assert_int_equal(start_create(e, dyn, &a), TV_E_SIZE_TOO_LARGE);
    a = create_rec("MEM:/x.vhd", 3);
    a.reserved[1] = 1;
    assert_int_equal(start_create(e, dyn, &a), TV_E_INVALID_ARGUMENT);
    a = create_rec("MEM:/x.vhd", 3);
    a.reserved0 = 1;
    assert_int_equal(start_create(e, dyn, &a), TV_E_INVALID_ARGUMENT);
    a = create_rec("MEM:/x.vhd", 3);
    a.block_size = 4096;
    assert_int_equal(start_create(e, fixed, &a), TV_E_INVALID_ARGUMENT); /* fixed has no blocks */
    a.block_size = 3000;
    assert_int_equal(start_create(e, dyn, &a), TV_E_INVALID_ARGUMENT);
    a = create_rec("MEM:/x.img", 3);
    assert_int_equal(start_create(e, dyn, &a), TV_E_BAD_PATH);
    a = create_rec("NOPE:/x.vhd", 3);
    assert_int_equal(start_create(e, dyn, &a), TV_E_NOT_FOUND);
    a = create_rec("RO:/x.vhd", 3);
    assert_int_equal(start_create(e, dyn, &a), TV_E_READ_ONLY);
    /* FAT32's 4 GiB per file: for a dynamic disk, what it can grow to. */
    a = create_rec("FAT:/x.vhd", 4096);
    assert_int_equal(start_create(e, dyn, &a), TV_E_FILE_TOO_LARGE);
    a.size_mb = 4000;
    uint64_t id;
    assert_int_equal(dt_start(e, dyn, &a, sizeof a, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    /* The target exists now (the same volume seen as MEM). */
    a = create_rec("MEM:/x.vhd", 3);
    assert_int_equal(start_create(e, fixed, &a), TV_E_EXISTS);
    /* Room: at least 8 MB free to create anything, the whole file for a fixed disk. */
    a = create_rec("SMALL:/y.vhd", 3);
    assert_int_equal(start_create(e, dyn, &a), TV_E_NO_SPACE);
    e->vol[4].facts.free_bytes = 50 * MB;
    assert_int_equal(dt_start(e, dyn, &a, sizeof a, &id), TV_OK);
    a = create_rec("SMALL:/z.vhd", 100);
    assert_int_equal(start_create(e, fixed, &a), TV_E_NO_SPACE);
    /* No resolver: every path is unknown. */
    disk_ops_set_resolver(&e->ops, NULL, NULL);
    a = create_rec("MEM:/q.vhd", 3);
    assert_int_equal(start_create(e, dyn, &a), TV_E_NOT_FOUND);
}

static void create_differencing(void **state)
{
    struct dt_env *e = *state;
    uint8_t *model = make_chain(e);
    uint32_t t = TV_TASK_TYPE_DISK_CREATE_DIFF;
    struct tv_disk_create_diff_args a = diff_rec("MEM:/vms/c2.vhd", "MEM:/child.vhd");
    uint64_t id;
    /* Its folder must exist before a task is made (the seam has folders). */
    size_t none = task_count(e);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_NOT_FOUND);
    assert_int_equal(task_count(e), none);
    assert_int_equal(e->st.mkdir(e->st.ctx, "/vms"), TV_OK);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    assert_reads(e, "/vms/c2.vhd", model, 8 * MB); /* reads through child and base */
    size_t before = task_count(e);
    a = diff_rec("MEM:/c3.vhd", "MEM:/missing.vhd");
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_PARENT_MISSING);
    a = diff_rec("MEM:/c3.vhd", "OTHER:/base.vhd");
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_CROSS_VOLUME);
    a = diff_rec("MEM:/c3.vhd", "NOPE:/base.vhd");
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_PARENT_MISSING);
    a = diff_rec("MEM:/child.vhd", "MEM:/base.vhd");
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_EXISTS);
    a = diff_rec("MEM:/c3", "MEM:/base.vhd");
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_BAD_PATH);
    a = diff_rec("RO:/c3.vhd", "RO:/base.vhd");
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_READ_ONLY);
    a = diff_rec("MEM:/c3.vhd", "MEM:/base.vhd");
    a.reserved[3] = 7;
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_INVALID_ARGUMENT);
    /* A parent whose own parent changed (base replaced by another disk). */
    mem_fs_t *keep = mem_fs_new();
    mem_fs_copy(keep, e->fs);
    assert_int_equal(e->st.remove(e->st.ctx, "/base.vhd"), TV_OK);
    assert_int_equal(tu_create(&e->st, "/base.vhd", TV_VHD_DYNAMIC, 8 * MB, 0, NULL), TV_OK);
    a = diff_rec("MEM:/c3.vhd", "MEM:/child.vhd");
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_PARENT_MODIFIED);
    assert_int_equal(task_count(e), before);
    mem_fs_free(keep);
    free(model);
}

/* ---- merge ---------------------------------------------------------------------------- */

static void merge(void **state)
{
    struct dt_env *e = *state;
    uint8_t *model = make_chain(e);
    uint32_t t = TV_TASK_TYPE_DISK_MERGE;
    struct tv_disk_image_args a = image_rec("MEM:/child.vhd", 0);
    uint64_t id;
    size_t before = task_count(e);
    struct tv_disk_image_args b = image_rec("MEM:/base.vhd", 0);
    assert_int_equal(dt_start(e, t, &b, sizeof b, &id), TV_E_WRONG_TYPE);
    b = image_rec("MEM:/none.vhd", 0);
    assert_int_equal(dt_start(e, t, &b, sizeof b, &id), TV_E_NOT_FOUND);
    b = image_rec("MEM:/child.vhd", 1);
    assert_int_equal(dt_start(e, t, &b, sizeof b, &id), TV_E_INVALID_ARGUMENT);
    b = image_rec("RO:/child.vhd", 0);
    assert_int_equal(dt_start(e, t, &b, sizeof b, &id), TV_E_READ_ONLY);
    /* In use: someone reads the parent, or writes the child. */
    tv_sfile_t *f;
    assert_int_equal(e->st.open(e->st.ctx, "/base.vhd", TV_ST_SHARED, &f), TV_OK);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_BUSY);
    e->st.close(f);
    assert_int_equal(e->st.open(e->st.ctx, "/child.vhd", TV_ST_WRITE | TV_ST_EXCLUSIVE, &f), TV_OK);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_BUSY);
    e->st.close(f);
    assert_int_equal(task_count(e), before);

    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    struct tv_task_info info = run_task(e, id);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_COMMITTED);
    assert_string_equal(info.description, "merge MEM:/child.vhd into its parent");
    assert_false(mem_fs_exists(e->fs, "/child.vhd"));
    assert_reads(e, "/base.vhd", model, 8 * MB);
    free(model);
}

static void merge_parent_problems(void **state)
{
    struct dt_env *e = *state;
    free(make_chain(e));
    uint32_t t = TV_TASK_TYPE_DISK_MERGE;
    struct tv_disk_image_args a = image_rec("MEM:/child.vhd", 0);
    uint64_t id;
    mem_fs_t *keep = mem_fs_new();
    mem_fs_copy(keep, e->fs);
    assert_int_equal(e->st.remove(e->st.ctx, "/base.vhd"), TV_OK);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_PARENT_MISSING);
    assert_int_equal(tu_create(&e->st, "/base.vhd", TV_VHD_DYNAMIC, 8 * MB, 0, NULL), TV_OK);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_PARENT_MODIFIED);
    assert_int_equal(task_count(e), 0);
    mem_fs_free(keep);
}

/* ---- merge-to, convert, compact, check -------------------------------------------------- */

static void merge_to(void **state)
{
    struct dt_env *e = *state;
    uint8_t *model = make_chain(e);
    uint32_t t = TV_TASK_TYPE_DISK_MERGE_TO;
    uint64_t id;
    struct tv_disk_copy_args a = copy_rec("MEM:/child.vhd", "MEM:/flat.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    assert_reads(e, "/flat.vhd", model, 8 * MB);
    a = copy_rec("MEM:/child.vhd", "MEM:/flat2.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    assert_reads(e, "/flat2.vhd", model, 8 * MB);
    size_t before = task_count(e);
    a = copy_rec("MEM:/base.vhd", "MEM:/n.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_WRONG_TYPE); /* not differencing */
    a = copy_rec("MEM:/child.vhd", "MEM:/n.vhd", TV_DISK_KIND_DIFFERENCING);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_WRONG_TYPE); /* bad target type */
    a = copy_rec("MEM:/child.vhd", "MEM:/n.vhd", 0);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_WRONG_TYPE);
    a = copy_rec("MEM:/child.vhd", "MEM:/flat.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_EXISTS);
    a = copy_rec("MEM:/child.vhd", "OTHER:/n.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_CROSS_VOLUME);
    a = copy_rec("MEM:/child.vhd", "MEM:/n", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_BAD_PATH);
    a = copy_rec("MEM:/nochild.vhd", "MEM:/n.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_NOT_FOUND);
    a = copy_rec("MEM:/child.vhd", "MEM:/n.vhd", TV_DISK_KIND_FIXED);
    a.reserved[2] = 1;
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_INVALID_ARGUMENT);
    a = copy_rec("SMALL:/child.vhd", "SMALL:/n.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_NO_SPACE); /* 8 MiB fixed, 4 MiB free */
    assert_int_equal(task_count(e), before);
    free(model);
}

/* A base, its child and a fixed copy of base (to convert back). */
static uint8_t *make_chain_and_fixed(struct dt_env *e)
{
    uint8_t *model = make_chain(e);
    uint64_t id;
    struct tv_disk_copy_args c = copy_rec("MEM:/base.vhd", "MEM:/fixed.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_CONVERT, &c, sizeof c, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    return model;
}

/* DISK_START refuses, before a task exists, a target whose folder is
 * missing (NOT_FOUND, also when a file has the folder's name). */
static void new_image_folders(void **state)
{
    struct dt_env *e = *state;
    uint8_t *model = make_chain_and_fixed(e);
    uint64_t id;
    uint32_t fixed = TV_TASK_TYPE_DISK_CREATE_FIXED, dyn = TV_TASK_TYPE_DISK_CREATE_DYNAMIC;
    uint32_t conv = TV_TASK_TYPE_DISK_CONVERT, mto = TV_TASK_TYPE_DISK_MERGE_TO;
    size_t before = task_count(e);
    struct tv_disk_copy_args c;
    struct tv_disk_create_args a = create_rec("MEM:/vms/new.vhd", 3);
    assert_int_equal(start_create(e, dyn, &a), TV_E_NOT_FOUND);
    a = create_rec("MEM:/base.vhd/new.vhd", 3); /* a file, not a folder */
    assert_int_equal(start_create(e, fixed, &a), TV_E_NOT_FOUND);
    c = copy_rec("MEM:/child.vhd", "MEM:/vms/flat.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, mto, &c, sizeof c, &id), TV_E_NOT_FOUND);
    c = copy_rec("MEM:/fixed.vhd", "MEM:/vms/d/dyn.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, conv, &c, sizeof c, &id), TV_E_NOT_FOUND);
    assert_int_equal(e->st.mkdir(e->st.ctx, "/vms/d"), TV_E_NOT_FOUND); /* parent first */
    assert_int_equal(e->st.mkdir(e->st.ctx, "/vms"), TV_OK);
    assert_int_equal(e->st.mkdir(e->st.ctx, "/vms"), TV_E_EXISTS);
    assert_int_equal(e->st.mkdir(e->st.ctx, "/base.vhd"), TV_E_EXISTS);
    assert_int_equal(e->st.mkdir(e->st.ctx, "/vms/d"), TV_OK);
    /* A folder is no target either. */
    a = create_rec("MEM:/vms/d", 3);
    assert_int_equal(start_create(e, dyn, &a), TV_E_BAD_PATH); /* no .vhd */
    assert_int_equal(task_count(e), before);
    c = copy_rec("MEM:/fixed.vhd", "MEM:/vms/d/dyn.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, conv, &c, sizeof c, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    assert_reads(e, "/vms/d/dyn.vhd", model, 2 * MB); /* base alone: the child rewrote 2-5 MiB */
    free(model);
}

/* A volume too full for the target is refused before a task exists: fixed
 * targets need the whole file, sparse ones their metadata, at least 8 MB. */
static void room_refusals(void **state)
{
    struct dt_env *e = *state;
    uint8_t *model = make_chain_and_fixed(e);
    uint64_t id;
    uint32_t fixed = TV_TASK_TYPE_DISK_CREATE_FIXED, dyn = TV_TASK_TYPE_DISK_CREATE_DYNAMIC;
    uint32_t conv = TV_TASK_TYPE_DISK_CONVERT, mto = TV_TASK_TYPE_DISK_MERGE_TO;
    size_t before = task_count(e);
    struct tv_disk_copy_args c;
    struct tv_disk_create_args a;
    /* SMALL: 4 MiB free.  Sparse targets: 8 MB at least. */
    c = copy_rec("SMALL:/fixed.vhd", "SMALL:/d2.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, conv, &c, sizeof c, &id), TV_E_NO_SPACE);
    c = copy_rec("SMALL:/child.vhd", "SMALL:/m2.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, mto, &c, sizeof c, &id), TV_E_NO_SPACE);
    struct tv_disk_create_diff_args d = diff_rec("SMALL:/c9.vhd", "SMALL:/base.vhd");
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_CREATE_DIFF, &d, sizeof d, &id), TV_E_NO_SPACE);
    /* 9 MiB: enough for a sparse target of an 8 MiB disk, not for a fixed one. */
    e->vol[4].facts.free_bytes = 9 * MB;
    c = copy_rec("SMALL:/base.vhd", "SMALL:/f2.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, conv, &c, sizeof c, &id), TV_E_NO_SPACE);
    c = copy_rec("SMALL:/child.vhd", "SMALL:/f3.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, mto, &c, sizeof c, &id), TV_E_NO_SPACE);
    a = create_rec("SMALL:/f4.vhd", 8);
    assert_int_equal(start_create(e, fixed, &a), TV_E_NO_SPACE);
    /* The metadata of a big sparse disk: 2,000,000 MB in 512-byte blocks
     * has a BAT of 15.6 GiB; in 2 MiB blocks, of 3.8 MiB. */
    e->vol[4].facts.free_bytes = 64 * MB;
    a = create_rec("SMALL:/big.vhd", 2000000);
    a.block_size = 512;
    assert_int_equal(start_create(e, dyn, &a), TV_E_NO_SPACE);
    assert_int_equal(task_count(e), before);
    /* The same requests with room: accepted (and run). */
    e->vol[4].facts.free_bytes = 9 * MB;
    c = copy_rec("SMALL:/fixed.vhd", "SMALL:/d2.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, conv, &c, sizeof c, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    c = copy_rec("SMALL:/child.vhd", "SMALL:/m2.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, mto, &c, sizeof c, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    assert_reads(e, "/m2.vhd", model, 8 * MB);
    e->vol[4].facts.free_bytes = 8 * MB + 16 * 255 * 512 + 4 * MB + 8 * MB / 4096;
    c = copy_rec("SMALL:/base.vhd", "SMALL:/f2.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, conv, &c, sizeof c, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    free(model);
}

static void convert(void **state)
{
    struct dt_env *e = *state;
    uint8_t *model = make_chain(e);
    uint32_t t = TV_TASK_TYPE_DISK_CONVERT;
    uint64_t id;
    struct tv_disk_copy_args a = copy_rec("MEM:/base.vhd", "MEM:/fixed.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    struct tv_task_info info = run_task(e, id);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_string_equal(info.description, "convert MEM:/base.vhd to fixed MEM:/fixed.vhd");
    a = copy_rec("MEM:/fixed.vhd", "MEM:/dyn.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    uint64_t size = 0;
    uint8_t *base = tu_read_all(&e->st, "/base.vhd", TV_VHD_OPEN_NO_PARENT, &size);
    assert_non_null(base);
    assert_reads(e, "/fixed.vhd", base, 8 * MB);
    assert_reads(e, "/dyn.vhd", base, 8 * MB);
    free(base);
    size_t before = task_count(e);
    a = copy_rec("MEM:/base.vhd", "MEM:/dyn2.vhd", TV_DISK_KIND_DYNAMIC);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_WRONG_TYPE); /* already dynamic */
    a = copy_rec("MEM:/child.vhd", "MEM:/f2.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_WRONG_TYPE); /* differencing: merge-to */
    a = copy_rec("MEM:/base.vhd", "MEM:/dyn.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_EXISTS);
    a = copy_rec("MEM:/base.vhd", "OTHER:/f3.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_CROSS_VOLUME);
    a = copy_rec("RO:/base.vhd", "RO:/f3.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_READ_ONLY);
    /* A writer holds the source. */
    tv_sfile_t *f;
    assert_int_equal(e->st.open(e->st.ctx, "/base.vhd", TV_ST_WRITE | TV_ST_EXCLUSIVE, &f), TV_OK);
    a = copy_rec("MEM:/base.vhd", "MEM:/f3.vhd", TV_DISK_KIND_FIXED);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_BUSY);
    e->st.close(f);
    assert_int_equal(task_count(e), before);
    free(model);
}

static void compact_and_check(void **state)
{
    struct dt_env *e = *state;
    uint8_t *model = make_chain(e);
    uint64_t id;
    uint32_t t = TV_TASK_TYPE_DISK_COMPACT;
    struct tv_disk_image_args a = image_rec("MEM:/base.vhd", 0);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    assert_int_equal(run_task(e, id).state, TV_TASK_COMPLETED);
    assert_reads(e, "/child.vhd", model, 8 * MB); /* the child still opens: unique id kept */
    assert_int_equal(tu_create(&e->st, "/fx.vhd", TV_VHD_FIXED, 4 * MB, 0, NULL), TV_OK);
    a = image_rec("MEM:/fx.vhd", 0);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_WRONG_TYPE);
    a = image_rec("RO:/base.vhd", 0);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_READ_ONLY);
    a = image_rec("MEM:/base.vhd", TV_DISK_CHECK_REPAIR);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_INVALID_ARGUMENT);
    tv_sfile_t *f;
    assert_int_equal(e->st.open(e->st.ctx, "/base.vhd", TV_ST_SHARED, &f), TV_OK);
    a = image_rec("MEM:/base.vhd", 0);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_BUSY);
    /* A check only reads: it runs beside a reader, not beside a writer. */
    t = TV_TASK_TYPE_DISK_CHECK;
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    struct tv_task_info info = run_task(e, id);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_string_equal(info.description, "check MEM:/base.vhd");
    a = image_rec("MEM:/base.vhd", TV_DISK_CHECK_REPAIR);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_BUSY);
    e->st.close(f);
    a = image_rec("RO:/base.vhd", TV_DISK_CHECK_REPAIR);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_READ_ONLY);
    a = image_rec("MEM:/none.vhd", 0);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_NOT_FOUND);
    a = image_rec("MEM:/base.vhd", 2);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_E_INVALID_ARGUMENT);
    /* A damaged image: a dynamic disk's end footer overwritten.  Check
     * fails (DISK, nothing written); check with repair restores it from
     * the copy at offset 0. */
    assert_int_equal(tu_create(&e->st, "/dmg.vhd", TV_VHD_DYNAMIC, 4 * MB, 0, NULL), TV_OK);
    uint8_t *img;
    size_t len;
    assert_true(mem_fs_get(e->fs, "/dmg.vhd", &img, &len));
    memset(img + len - 512, 0xee, 512);
    mem_fs_put(e->fs, "/dmg.vhd", img, len);
    a = image_rec("MEM:/dmg.vhd", 0);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    info = run_task(e, id);
    assert_int_equal(info.state, TV_TASK_FAILED);
    assert_int_equal(info.result, TV_TASK_RESULT_DISK);
    assert_int_equal(info.error, TV_E_CORRUPT);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_UNTOUCHED);
    uint8_t *after;
    size_t alen;
    assert_true(mem_fs_get(e->fs, "/dmg.vhd", &after, &alen));
    assert_int_equal(alen, len);
    assert_memory_equal(after, img, len);
    free(after);
    a = image_rec("MEM:/dmg.vhd", TV_DISK_CHECK_REPAIR);
    assert_int_equal(dt_start(e, t, &a, sizeof a, &id), TV_OK);
    info = run_task(e, id);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_COMMITTED);
    assert_string_equal(info.description, "check and repair MEM:/dmg.vhd");
    assert_int_equal(tu_check_errors(&e->st, "/dmg.vhd"), 0);
    free(img);
    free(model);
}

/* ---- the task verbs on disk tasks --------------------------------------------------------- */

struct hook_act {
    struct dt_env *e;
    const char *call;     /* "open" or "create" */
    const char *suffix;   /* of the name */
    uint32_t code;        /* the task hypercall to make */
    uint64_t id;
    tv_status_t status;   /* what it answered */
    int fired;
};

static void hook_fn(void *ctx, const char *call, const char *name)
{
    struct hook_act *h = ctx;
    size_t n = strlen(name), m = strlen(h->suffix);
    if (h->fired || strcmp(call, h->call) != 0 || n < m || strcmp(name + n - m, h->suffix) != 0)
        return;
    /* On a worker thread the id may not be known yet: wait for it. */
    uint64_t id;
    while ((id = __atomic_load_n(&h->id, __ATOMIC_SEQ_CST)) == 0)
        ;
    h->status = dt_call(h->e, h->code, id, 0, 0, 0, 0, NULL);
    __atomic_store_n(&h->fired, 1, __ATOMIC_SEQ_CST);
}

static void cancel_mid_merge(void **state)
{
    struct dt_env *e = *state;
    uint8_t *model = make_chain(e);
    mem_fs_t *before = mem_fs_new();
    mem_fs_copy(before, e->fs);
    struct tv_disk_image_args a = image_rec("HOOK:/child.vhd", 0);
    uint64_t id;
    /* Before the commit point: the cancel is taken at the next checkpoint
     * and nothing changed. */
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_MERGE, &a, sizeof a, &id), TV_OK);
    struct hook_act h = { e, "open", "/base.vhd", TV_HC_TASK_CANCEL, id, -1, 0 };
    e->hook.fn = hook_fn;
    e->hook.ctx = &h;
    struct tv_task_info info = run_task(e, id);
    assert_int_equal(h.fired, 1);
    assert_int_equal(h.status, TV_OK);
    assert_int_equal(info.state, TV_TASK_CANCELLED);
    assert_int_equal(info.result, TV_TASK_RESULT_CANCELLED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_UNTOUCHED);
    for (size_t i = 0; mem_fs_name(before, i); i++) {
        const char *n = mem_fs_name(before, i);
        uint8_t *x, *y;
        size_t xl, yl;
        assert_true(mem_fs_get(before, n, &x, &xl));
        assert_true(mem_fs_get(e->fs, n, &y, &yl));
        assert_int_equal(xl, yl);
        assert_memory_equal(x, y, xl);
        free(x);
        free(y);
    }
    assert_false(mem_fs_exists(e->fs, "/base.vhd.tvjournal"));
    /* At the journal (the point of no return): the cancel is refused
     * (IVMTask::Cancel's E_FAIL) and the merge completes. */
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_MERGE, &a, sizeof a, &id), TV_OK);
    h = (struct hook_act){ e, "create", ".tvjournal", TV_HC_TASK_CANCEL, id, -1, 0 };
    info = run_task(e, id);
    assert_int_equal(h.fired, 1);
    assert_int_equal(h.status, TV_E_NOT_CANCELABLE);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_COMMITTED);
    assert_reads(e, "/base.vhd", model, 8 * MB);
    e->hook.fn = NULL;
    mem_fs_free(before);
    free(model);
}

static void pause_resume_convert(void **state)
{
    struct dt_env *e = *state; /* one worker thread */
    free(make_chain(e));
    uint64_t size = 0;
    uint8_t *base = tu_read_all(&e->st, "/base.vhd", 0, &size);
    struct tv_disk_copy_args a = copy_rec("HOOK:/base.vhd", "HOOK:/f.vhd", TV_DISK_KIND_FIXED);
    uint64_t id;
    /* The pause comes from inside the job's first step (the target's
     * temporary being created), so the job is certainly running. */
    struct hook_act h = { e, "create", "/f.vhd.tvtmp", TV_HC_TASK_PAUSE, 0, -1, 0 };
    e->hook.fn = hook_fn;
    e->hook.ctx = &h;
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_CONVERT, &a, sizeof a, &id), TV_OK);
    __atomic_store_n(&h.id, id, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&h.fired, __ATOMIC_SEQ_CST))
        ;
    assert_int_equal(h.status, TV_OK);
    assert_int_equal(dt_call(e, TV_HC_TASK_WAIT, id, 100, 0, 0, 0, NULL), TV_E_TIMEOUT);
    struct tv_task_info info;
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
        if (info.flags & TV_TASK_FLAG_HELD)
            break;
        tp_sleep_ns(1000000);
    }
    assert_int_equal(info.state, TV_TASK_PAUSED);
    assert_true(info.flags & TV_TASK_FLAG_HELD); /* stopped at its pause point */
    assert_true(info.percent < 100);
    assert_false(mem_fs_exists(e->fs, "/f.vhd"));
    assert_int_equal(dt_call(e, TV_HC_TASK_RESUME, id, 0, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(dt_call(e, TV_HC_TASK_WAIT, id, 60000, 0, 0, 0, NULL), TV_OK);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    assert_int_equal(info.state, TV_TASK_COMPLETED);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_COMMITTED);
    e->hook.fn = NULL;
    assert_reads(e, "/f.vhd", base, 8 * MB);
    free(base);
}

static void failure_disk_result(void **state)
{
    struct dt_env *e = *state;
    free(make_chain(e));
    /* The volume fills up under the job (the resolver did not know). */
    mem_fs_set_space(e->fs, 0);
    uint64_t used = 0;
    for (size_t i = 0; mem_fs_name(e->fs, i); i++) {
        uint8_t *x;
        size_t xl;
        assert_true(mem_fs_get(e->fs, mem_fs_name(e->fs, i), &x, &xl));
        used += xl;
        free(x);
    }
    mem_fs_set_space(e->fs, used + 2 * MB);
    struct tv_disk_copy_args a = copy_rec("MEM:/base.vhd", "MEM:/f.vhd", TV_DISK_KIND_FIXED);
    uint64_t id;
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_CONVERT, &a, sizeof a, &id), TV_OK);
    struct tv_task_info info = run_task(e, id);
    assert_int_equal(info.state, TV_TASK_FAILED);
    assert_int_equal(info.result, TV_TASK_RESULT_DISK);
    assert_int_equal(info.error, TV_E_NO_SPACE);
    assert_true(info.outcome == TV_TASK_OUTCOME_ROLLED_BACK || info.outcome == TV_TASK_OUTCOME_UNTOUCHED);
    assert_false(mem_fs_exists(e->fs, "/f.vhd"));
    assert_false(mem_fs_exists(e->fs, "/f.vhd.tvtmp"));
}

/* ---- recovery at mount ------------------------------------------------------------------------ */

static void recovery_after_power_cut(void **state)
{
    struct dt_env *e = *state; /* one worker: the recovery waits for its tasks */
    uint8_t *model = make_chain(e);
    assert_int_equal(tu_create(&e->st, "/solo.vhd", TV_VHD_DYNAMIC, 8 * MB, 0, NULL), TV_OK);
    assert_int_equal(tu_write(&e->st, "/solo.vhd", MB, 2 * MB, 3, NULL), TV_OK);

    struct tv_task_info info;
    /* A convert cut off before its rename: a stale temporary. */
    mem_fs_set_crash(e->fs, 4); /* counts mutating calls from here */
    struct tv_disk_copy_args c = copy_rec("MEM:/solo.vhd", "MEM:/conv.vhd", TV_DISK_KIND_FIXED);
    uint64_t id;
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_CONVERT, &c, sizeof c, &id), TV_OK);
    assert_int_equal(task_wait(e->mgr, id, 60000), TV_OK);
    assert_int_equal(task_query(e->mgr, id, &info), TV_OK);
    if (!mem_fs_crashed(e->fs))
        fail_msg("convert: no crash (%llu events, state %u, error %d)",
                 (unsigned long long)mem_fs_events(e->fs), info.state, info.error);
    mem_fs_power_cycle(e->fs, MEM_KEEP_RANDOM, 11);
    assert_true(mem_fs_exists(e->fs, "/conv.vhd.tvtmp"));

    /* A merge cut off after its commit point: how many mutating events the
     * whole merge makes, on a copy, then a cut halfway. */
    mem_fs_t *dry = mem_fs_new();
    mem_fs_copy(dry, e->fs);
    tv_storage_t dst;
    mem_fs_storage(dry, &dst);
    uint64_t ev0 = mem_fs_events(dry);
    tv_vhd_op_t *op;
    assert_int_equal(tv_vhd_op_merge(&dst, "/child.vhd", &op), TV_OK);
    assert_int_equal(tu_run(&dst, op), TV_OK);
    uint64_t total = mem_fs_events(dry) - ev0;
    mem_fs_free(dry);
    assert_true(total > 8);
    mem_fs_set_crash(e->fs, total / 2);
    struct tv_disk_image_args m = image_rec("MEM:/child.vhd", 0);
    uint64_t merge_id;
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_MERGE, &m, sizeof m, &merge_id), TV_OK);
    assert_int_equal(task_wait(e->mgr, merge_id, 60000), TV_OK);
    assert_int_equal(task_query(e->mgr, merge_id, &info), TV_OK);
    assert_int_equal(info.state, TV_TASK_FAILED);
    assert_int_equal(info.result, TV_TASK_RESULT_DISK);
    assert_int_equal(info.outcome, TV_TASK_OUTCOME_NEEDS_RECOVERY);
    mem_fs_power_cycle(e->fs, MEM_KEEP_RANDOM, 12);
    assert_true(mem_fs_exists(e->fs, "/base.vhd.tvjournal"));
    /* Until recovered, the parent alone does not open. */
    tv_vhd_t *v;
    assert_int_equal(tv_vhd_open(&e->st, "/base.vhd", 0, &v), TV_E_INVALID_STATE);

    /* The mount's recovery: one task each, waited for. */
    struct disk_recover_result res;
    assert_int_equal(disk_recover_volume(&e->types, e->mgr, "MEM", &e->st, dt_list, e, true, &res), TV_OK);
    assert_int_equal(res.found, 2);
    assert_int_equal(res.started, 2);
    assert_int_equal(res.failed, 0);
    assert_int_equal(res.last_id, res.first_id + 1);
    bool saw_merge = false, saw_temp = false;
    for (uint64_t t = res.first_id; t <= res.last_id; t++) {
        assert_int_equal(task_query(e->mgr, t, &info), TV_OK);
        assert_int_equal(info.type, TV_TASK_TYPE_DISK_RECOVER);
        assert_int_equal(info.state, TV_TASK_COMPLETED);
        assert_int_equal(info.result, TV_TASK_RESULT_SUCCESS);
        if (strcmp(info.description, "recover MEM:/base.vhd: finish interrupted merge") == 0)
            saw_merge = true;
        if (strcmp(info.description, "recover MEM:/conv.vhd.tvtmp: roll back interrupted output") == 0)
            saw_temp = true;
    }
    assert_true(saw_merge);
    assert_true(saw_temp);
    /* The images: the merge finished (base holds the child's data, child
     * and journal gone), the convert rolled back (no output). */
    assert_false(mem_fs_exists(e->fs, "/base.vhd.tvjournal"));
    assert_false(mem_fs_exists(e->fs, "/child.vhd"));
    assert_false(mem_fs_exists(e->fs, "/conv.vhd.tvtmp"));
    assert_false(mem_fs_exists(e->fs, "/conv.vhd"));
    assert_reads(e, "/base.vhd", model, 8 * MB);
    assert_int_equal(tu_check_errors(&e->st, "/base.vhd"), 0);
    /* Nothing left: a second mount recovers nothing. */
    assert_int_equal(disk_recover_volume(&e->types, e->mgr, "MEM", &e->st, dt_list, e, true, &res), TV_OK);
    assert_int_equal(res.found, 0);
    /* The recovery type is the mount's own: DISK_START refuses it. */
    struct disk_recover_args ra = { 0 };
    assert_int_equal(dt_start(e, TV_TASK_TYPE_DISK_RECOVER, &ra, sizeof ra, &id), TV_E_INVALID_ARGUMENT);
    free(model);
}

/* More marks than one mount handles: the first DISK_RECOVER_MAX are
 * recovered, the call says LIMIT, the next mount takes the rest.  (The
 * memory store holds 64 files: the listing is synthetic, of temporaries
 * 0..n-1 of which those still present are real.) */
struct synth {
    struct dt_env *e;
    unsigned n;
};

static tv_status_t synth_list(void *ctx, const char *volume, bool (*fn)(void *fctx, const char *name), void *fctx)
{
    struct synth *sy = ctx;
    (void)volume;
    char name[64];
    for (unsigned i = 0; i < sy->n; i++) {
        snprintf(name, sizeof name, "/t%u.vhd.tvtmp", i);
        if (!fn(fctx, name))
            break;
    }
    return TV_OK;
}

static void recovery_limit(void **state)
{
    struct dt_env *e = *state; /* one worker */
    char name[64];
    for (unsigned i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "/t%u.vhd.tvtmp", i);
        mem_fs_put(e->fs, name, "x", 1);
    }
    struct synth sy = { e, DISK_RECOVER_MAX + 3 };
    struct disk_recover_result res;
    assert_int_equal(disk_recover_volume(&e->types, e->mgr, "MEM", &e->st, synth_list, &sy, true, &res),
                     TV_E_LIMIT);
    assert_int_equal(res.found, DISK_RECOVER_MAX);
    assert_int_equal(res.started, DISK_RECOVER_MAX);
    assert_int_equal(res.failed, 0);
    assert_null(mem_fs_name(e->fs, 0)); /* every temporary removed */
    sy.n = 3;
    assert_int_equal(disk_recover_volume(&e->types, e->mgr, "MEM", &e->st, synth_list, &sy, true, &res), TV_OK);
    assert_int_equal(res.found, 3);
    /* Bad calls. */
    assert_int_equal(disk_recover_volume(&e->types, e->mgr, "MEM", NULL, dt_list, e, true, &res),
                     TV_E_INVALID_ARGUMENT);
    char longname[80];
    memset(longname, 'v', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(disk_recover_volume(&e->types, e->mgr, longname, &e->st, dt_list, e, true, &res),
                     TV_E_INVALID_ARGUMENT);
}

/* ---- libtaskvisor's disk functions over the same dispatcher -------------------------------------- */

static tv_status_t t_call(void *ctx, uint32_t code, const uint64_t args[5], uint64_t *out)
{
    return dt_call(ctx, code, args[0], args[1], args[2], args[3], args[4], out);
}

static void *t_alloc(void *ctx, size_t size, size_t align, uint64_t *gpa)
{
    struct dt_env *e = ctx;
    (void)align;
    assert_true(size <= 0x8000);
    *gpa = DT_BASE + 0x8000; /* one client, one scratch page */
    memset(e->mem + 0x8000, 0, size);
    return e->mem + 0x8000;
}

static void client_functions(void **state)
{
    struct dt_env *e = *state;
    uint8_t *model = make_chain(e);
    struct tv_transport tr = { e, t_call, t_alloc, NULL, NULL };
    struct tv_client c;
    assert_int_equal(tv_client_init(&c, &tr), TV_OK);
    struct tv_task t;
    struct tv_task_info info;
    assert_int_equal(tv_disk_create_fixed(&c, "MEM:/f.vhd", 3, &t), TV_OK);
    assert_int_equal(run_task(e, t.id).type, TV_TASK_TYPE_DISK_CREATE_FIXED);
    assert_int_equal(tv_disk_create_dynamic(&c, "MEM:/d.vhd", 10, 0, &t), TV_OK);
    assert_int_equal(run_task(e, t.id).state, TV_TASK_COMPLETED);
    assert_int_equal(tv_disk_create_differencing(&c, "MEM:/c2.vhd", "MEM:/d.vhd", &t), TV_OK);
    assert_int_equal(run_task(e, t.id).state, TV_TASK_COMPLETED);
    assert_int_equal(tv_disk_merge(&c, "MEM:/c2.vhd", &t), TV_OK);
    assert_int_equal(run_task(e, t.id).state, TV_TASK_COMPLETED);
    assert_int_equal(tv_disk_merge_to(&c, "MEM:/child.vhd", "MEM:/flat.vhd", TV_DISK_KIND_DYNAMIC, &t), TV_OK);
    assert_int_equal(run_task(e, t.id).state, TV_TASK_COMPLETED);
    assert_reads(e, "/flat.vhd", model, 8 * MB);
    assert_int_equal(tv_disk_compact(&c, "MEM:/flat.vhd", &t), TV_OK);
    assert_int_equal(run_task(e, t.id).state, TV_TASK_COMPLETED);
    assert_int_equal(tv_disk_convert(&c, "MEM:/flat.vhd", "MEM:/fixed.vhd", TV_DISK_KIND_FIXED, &t), TV_OK);
    assert_int_equal(run_task(e, t.id).state, TV_TASK_COMPLETED);
    assert_reads(e, "/fixed.vhd", model, 8 * MB);
    assert_int_equal(tv_disk_check(&c, "MEM:/fixed.vhd", true, &t), TV_OK);
    assert_int_equal(tv_task_query(t, &info), TV_OK);
    assert_int_equal(info.type, TV_TASK_TYPE_DISK_CHECK);
    assert_string_equal(info.description, "check and repair MEM:/fixed.vhd");
    assert_int_equal(run_task(e, t.id).state, TV_TASK_COMPLETED);
    /* Refusals pass through; a path longer than the field stops here. */
    assert_int_equal(tv_disk_create_fixed(&c, "MEM:/g.vhd", 2, &t), TV_E_SIZE_TOO_SMALL);
    assert_int_equal(tv_disk_merge(&c, "MEM:/fixed.vhd", &t), TV_E_WRONG_TYPE);
    char longp[TV_DISK_PATH_MAX + 8];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    assert_int_equal(tv_disk_compact(&c, longp, &t), TV_E_BAD_PATH);
    /* The task verbs work on the handle as on any task. */
    assert_int_equal(tv_disk_convert(&c, "MEM:/fixed.vhd", "MEM:/d2.vhd", TV_DISK_KIND_DYNAMIC, &t), TV_OK);
    assert_int_equal(tv_task_cancel(t), TV_OK);
    (void)task_mgr_run_next(e->mgr); /* a queued task cancelled is already finished */
    enum tv_task_result res;
    assert_int_equal(tv_task_result(t, &res), TV_OK);
    assert_int_equal(res, TV_TASK_RESULT_CANCELLED);
    assert_false(mem_fs_exists(e->fs, "/d2.vhd"));
    tv_client_fini(&c);
    free(model);
}

int main(void)
{
    tp_hosted_clock_real();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(call_decoding, setup0, teardown),
        cmocka_unit_test(paths),
        cmocka_unit_test_setup_teardown(create_fixed_and_dynamic, setup0, teardown),
        cmocka_unit_test_setup_teardown(create_refusals, setup0, teardown),
        cmocka_unit_test_setup_teardown(create_differencing, setup0, teardown),
        cmocka_unit_test_setup_teardown(merge, setup0, teardown),
        cmocka_unit_test_setup_teardown(merge_parent_problems, setup0, teardown),
        cmocka_unit_test_setup_teardown(merge_to, setup0, teardown),
        cmocka_unit_test_setup_teardown(convert, setup0, teardown),
        cmocka_unit_test_setup_teardown(new_image_folders, setup0, teardown),
        cmocka_unit_test_setup_teardown(room_refusals, setup0, teardown),
        cmocka_unit_test_setup_teardown(compact_and_check, setup0, teardown),
        cmocka_unit_test_setup_teardown(cancel_mid_merge, setup0, teardown),
        cmocka_unit_test_setup_teardown(pause_resume_convert, setup1, teardown),
        cmocka_unit_test_setup_teardown(failure_disk_result, setup0, teardown),
        cmocka_unit_test_setup_teardown(recovery_after_power_cut, setup1, teardown),
        cmocka_unit_test_setup_teardown(recovery_limit, setup1, teardown),
        cmocka_unit_test_setup_teardown(client_functions, setup0, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
