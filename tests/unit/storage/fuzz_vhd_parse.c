/* libFuzzer target over VHD parsing: footer, header, BAT, bitmaps and parent
 * locators (and the merge journal).  The input is an image file (and, under a second name, a
 * candidate parent, so locators can resolve).  The engine must never crash
 * or hang and must answer every malformed input with an error status. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem_storage.h"
#include "vhd_internal.h"
#include "vhd_op.h"

static void exercise_reads(tv_vhd_t *v)
{
    uint8_t buf[8192];
    uint64_t size = tv_vhd_size(v);
    uint64_t offs[4] = { 0, size / 2, size > sizeof buf ? size - sizeof buf : 0, size / 3 };
    for (int i = 0; i < 4; i++) {
        uint64_t off = offs[i] / 512 * 512;
        size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
        tv_vhd_read(v, off, buf, n / 512 * 512);
    }
    tv_vhd_range_has_data(v, 0, size);
}

static void run_check(tv_storage_t *st, const char *name, bool repair)
{
    tv_vhd_op_t *op;
    struct tv_vhd_check_result r;
    if (tv_vhd_op_check(st, name, repair, NULL, NULL, &r, &op) != TV_OK)
        return;
    for (int i = 0; i < 100000 && tv_vhd_op_step(op) == TV_E_CONTINUE; i++)
        ;
    tv_vhd_op_destroy(op);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (4u << 20))
        return 0;
    mem_fs_t *fs = mem_fs_new();
    tv_storage_t st;
    mem_fs_storage(fs, &st);
    mem_fs_put(fs, "dir/disk.vhd", data, size);
    mem_fs_put(fs, "dir/parent.vhd", data, size);
    /* The same bytes as a merge journal of the parent (journal parsing). */
    if (size >= 2048)
        mem_fs_put(fs, "dir/parent.vhd.tvjournal", data, size);

    tv_vhd_t *v;
    if (tv_vhd_open(&st, "dir/disk.vhd", TV_VHD_OPEN_NO_PARENT | TV_VHD_OPEN_NO_RECOVER, &v) == TV_OK) {
        exercise_reads(v);
        tv_vhd_close(v);
    }
    if (tv_vhd_open(&st, "dir/disk.vhd", 0, &v) == TV_OK) {
        exercise_reads(v);
        tv_vhd_close(v);
    }
    run_check(&st, "dir/disk.vhd", false);
    run_check(&st, "dir/disk.vhd", true);
    /* After repairs the image opens writable (or is refused cleanly). */
    if (tv_vhd_open(&st, "dir/disk.vhd", TV_VHD_OPEN_WRITE | TV_VHD_OPEN_NO_PARENT, &v) == TV_OK) {
        uint8_t sec[512];
        memset(sec, 0xA5, sizeof sec);
        if (tv_vhd_size(v) >= 512 && tv_vhd_kind(v) != TV_VHD_DIFF && tv_vhd_block_size(v) <= (1u << 20))
            tv_vhd_write(v, 0, sec, sizeof sec);
        tv_vhd_close(v);
    }
    mem_fs_free(fs);
    return 0;
}
