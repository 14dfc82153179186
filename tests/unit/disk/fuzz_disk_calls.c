/* libFuzzer target: DISK_START's argument decoding and every disk type's
 * prepare (vmm/services/disk_calls.c, disk_ops.c, disk_path.c) under the
 * one dispatcher, over memory volumes holding a dynamic disk, a
 * differencing child and a fixed disk.  Inputs choose the call code, the
 * type, the record's address and size, and mutate a valid record of the
 * type (paths, sizes, kinds, flags, reserved fields, bytes after the NUL).
 * Checks: every answer is a known status; RDX changes only on success; a
 * refusal creates no task; a success creates exactly one task of the type
 * asked for, queued, with a NUL-terminated description.  Started tasks are
 * cancelled before they run, so the volumes never change. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disk_test_env.h"
#include "taskvisor/disk.h"
#include "taskvisor/hypercall.h"
#include "../common/fuzz_reader.h"
#include "vhd_test_util.h"

static struct dt_env *env;

static void setup(void)
{
    env = dt_env_new(0);
    if (tu_create(&env->st, "/base.vhd", TV_VHD_DYNAMIC, 4u << 20, 0, NULL) != TV_OK ||
        tu_create(&env->st, "/child.vhd", TV_VHD_DIFF, 0, 0, "/base.vhd") != TV_OK ||
        tu_create(&env->st, "/fixed.vhd", TV_VHD_FIXED, 4u << 20, 0, NULL) != TV_OK ||
        tu_create(&env->st_other, "/other.vhd", TV_VHD_DYNAMIC, 4u << 20, 0, NULL) != TV_OK)
        abort();
}

static const char *const paths[] = {
    "MEM:/base.vhd", "MEM:/child.vhd", "MEM:/fixed.vhd", "MEM:/new.vhd", "OTHER:/other.vhd",
    "OTHER:/n.vhd", "RO:/base.vhd", "FAT:/n.vhd", "SMALL:/n.vhd", "NOPE:/x.vhd", "MEM:/d/../x.vhd",
    "MEM:/x.img", "MEM:x.vhd", "",
};

static void put_path(struct reader *r, char *field)
{
    memset(field, 0, TV_DISK_PATH_MAX);
    strcpy(field, paths[take(r, 1) % (sizeof paths / sizeof paths[0])]);
}

static const uint32_t types[] = {
    TV_TASK_TYPE_DISK_CREATE_FIXED, TV_TASK_TYPE_DISK_CREATE_DYNAMIC, TV_TASK_TYPE_DISK_CREATE_DIFF,
    TV_TASK_TYPE_DISK_MERGE, TV_TASK_TYPE_DISK_MERGE_TO, TV_TASK_TYPE_DISK_COMPACT,
    TV_TASK_TYPE_DISK_CONVERT, TV_TASK_TYPE_DISK_CHECK, TV_TASK_TYPE_DISK_RECOVER,
    TV_TASK_TYPE_TEST, TV_TASK_TYPE_VM_SAVE,
};

/* A plausible record for the type, then a few raw byte changes. */
static size_t build_record(struct reader *r, uint32_t type, uint8_t *rec)
{
    size_t size;
    memset(rec, 0, 2048);
    switch (type) {
    case TV_TASK_TYPE_DISK_CREATE_FIXED:
    case TV_TASK_TYPE_DISK_CREATE_DYNAMIC: {
        struct tv_disk_create_args *a = (void *)rec;
        put_path(r, a->path);
        a->size_mb = take(r, 1) & 1 ? take(r, 1) : take(r, 8);
        a->block_size = take(r, 1) & 1 ? 0 : 1u << (take(r, 1) % 32);
        size = sizeof *a;
        break;
    }
    case TV_TASK_TYPE_DISK_CREATE_DIFF: {
        struct tv_disk_create_diff_args *a = (void *)rec;
        put_path(r, a->path);
        put_path(r, a->parent);
        size = sizeof *a;
        break;
    }
    case TV_TASK_TYPE_DISK_MERGE_TO:
    case TV_TASK_TYPE_DISK_CONVERT: {
        struct tv_disk_copy_args *a = (void *)rec;
        put_path(r, a->path);
        put_path(r, a->target);
        a->target_kind = (uint32_t)take(r, 1) % 6;
        size = sizeof *a;
        break;
    }
    default: {
        struct tv_disk_image_args *a = (void *)rec;
        put_path(r, a->path);
        a->flags = (uint32_t)take(r, 1) % 4;
        size = sizeof *a;
        break;
    }
    }
    unsigned pokes = (unsigned)take(r, 1) % 4;
    for (unsigned i = 0; i < pokes; i++) {
        size_t at = (size_t)take(r, 2) % size;
        rec[at] = (uint8_t)take(r, 1);
    }
    return size;
}

static size_t task_count(void)
{
    struct tv_task_event ev[8];
    size_t n = 0;
    if (task_list(env->mgr, 0, 0, ev, 8, &n) != TV_OK)
        abort();
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!env)
        setup();
    struct reader r = { data, size };
    for (int call = 0; call < 8 && r.n; call++) {
        uint32_t code = take(&r, 1) % 8 == 0 ? 0x210 + (uint32_t)take(&r, 1) % 16 : TV_HC_DISK_START;
        uint64_t type = take(&r, 1) % 16 == 0 ? take(&r, 8) : types[take(&r, 1) % (sizeof types / sizeof types[0])];
        uint8_t rec[2048];
        size_t rsize = build_record(&r, (uint32_t)type, rec);
        memcpy(env->mem + (DT_REC - DT_BASE), rec, rsize);
        uint64_t gpa = DT_REC, len = rsize;
        switch (take(&r, 1) % 8) {
        case 0: gpa = take(&r, 8); break;
        case 1: gpa = DT_REC + 1 + take(&r, 1) % 7; break;
        case 2: len = take(&r, 2); break;
        case 3: gpa = DT_BASE + DT_SIZE - (take(&r, 2) % 2048); break;
        default: break;
        }
        uint64_t a3 = take(&r, 1) % 16 == 0 ? take(&r, 8) : 0;
        uint64_t a4 = take(&r, 1) % 16 == 0 ? take(&r, 8) : 0;
        env->caller.is_control = take(&r, 1) % 16 != 0;
        size_t before = task_count();
        struct hcall_regs in = { .rax = code, .rdi = type, .rsi = gpa, .rdx = len, .r10 = a3, .r8 = a4 };
        struct hcall_regs out = in;
        struct hcall_env henv = { &env->table, NULL, NULL };
        enum hcall_action act = hcall_dispatch(&henv, &env->caller, &out);
        env->caller.is_control = true;
        if (act != HCALL_ADVANCE)
            abort(); /* DISK_START never continues, never #UD at CPL 0 */
        tv_status_t st = (tv_status_t)out.rax;
        if (st < 0 || st >= TV_STATUS_COUNT || st == TV_E_CONTINUE)
            abort();
        if (out.rdi != in.rdi || out.rsi != in.rsi || out.r10 != in.r10 || out.r8 != in.r8 ||
            out.rbx != in.rbx || out.rcx != in.rcx)
            abort(); /* only RAX and RDX are outputs */
        size_t after = task_count();
        if (st != TV_OK) {
            if (out.rdx != in.rdx || after != before)
                abort();
            continue;
        }
        if (code != TV_HC_DISK_START || after != before + 1 || type == TV_TASK_TYPE_DISK_RECOVER)
            abort();
        struct tv_task_info info;
        if (task_query(env->mgr, out.rdx, &info) != TV_OK || info.type != type ||
            info.state != TV_TASK_QUEUED || info.description_len >= TV_TASK_DESC_MAX ||
            info.description[info.description_len] != '\0')
            abort();
        /* Cancelled before it ran: cleaned up, nothing written. */
        if (task_cancel(env->mgr, out.rdx) != TV_OK)
            abort();
        while (task_mgr_run_next(env->mgr) == TV_OK)
            ;
        if (task_query(env->mgr, out.rdx, &info) != TV_OK || info.state != TV_TASK_CANCELLED ||
            task_dismiss(env->mgr, out.rdx) != TV_OK)
            abort();
    }
    return 0;
}
