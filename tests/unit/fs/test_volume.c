/* Partition tables made by sgdisk (GPT) and sfdisk (MBR with logical
 * partitions), whole-disk volumes, the ESP, volume names, the GPT backup
 * header standing in for a damaged primary, and malformed tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_test_util.h"
#include "mem_blockdev.h"
#include "storage/fs/fs.h"
#include "storage/volume/volume.h"

static char out[65536];

static const char *img_path(const char *name)
{
    static char p[2][400];
    static int k;
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", fs_test_dir(), name);
    return p[k];
}

static void sh_ok(const char *cmd)
{
    int rc = fs_test_sh(out, sizeof out, "cd %s && %s", fs_test_dir(), cmd);
    if (rc)
        fprintf(stderr, "# %s\n%s", cmd, out);
    assert_int_equal(rc, 0);
}

/* Mounts part p of the disk and returns its name. */
static void mount_name(mem_bdev_t *m, const vol_table_t *t, const vol_part_t *p, uint32_t disk, int kind, char *name)
{
    fs_slice_t s;
    assert_true(fs_slice_init(&s, mem_bdev_dev(m), p->first, p->count));
    fs_volume_t *v;
    assert_int_equal(fs_mount(&s.dev, &fs_test_env, false, &v), TV_OK);
    assert_int_equal(fs_kind(v), kind);
    vol_name(t, p, fs_label(v), disk, name, VOL_NAME_MAX);
    assert_int_equal(fs_unmount(v), TV_OK);
}

static void make_gpt(void)
{
    sh_ok("rm -f g.img && truncate -s 16M g.img && "
          "sgdisk -n 1:2048:+3M -t 1:ef00 -c 1:EFI -n 2:8192:+4M -t 2:0700 -c 2:data "
          "-n 3:16384:+4M -t 3:0700 -u 3:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee g.img >/dev/null && "
          "rm -f p1 p2 p3 && truncate -s 3M p1 && truncate -s 4M p2 p3 && mkfs.vfat -F 32 -n ESP p1 >/dev/null && "
          "mkfs.exfat -L DATA p2 >/dev/null && mkfs.exfat p3 >/dev/null && "
          "dd if=p1 of=g.img bs=512 seek=2048 conv=notrunc status=none && "
          "dd if=p2 of=g.img bs=512 seek=8192 conv=notrunc status=none && "
          "dd if=p3 of=g.img bs=512 seek=16384 conv=notrunc status=none");
}

static void check_gpt(mem_bdev_t *m, bool backup)
{
    vol_table_t t;
    assert_int_equal(vol_scan(mem_bdev_dev(m), &fs_test_env, &t), TV_OK);
    assert_int_equal(t.scheme, VOL_GPT);
    assert_int_equal(t.gpt_backup_used, backup);
    assert_int_equal(t.count, 3);
    assert_int_equal(t.part[0].first, 2048);
    assert_int_equal(t.part[0].count, 6144);
    assert_true(t.part[0].esp);
    assert_false(t.part[1].esp);
    assert_int_equal(t.part[2].index, 3);
    char name[VOL_NAME_MAX];
    mount_name(m, &t, &t.part[0], 0, FS_KIND_FAT32, name);
    assert_string_equal(name, "ESP");
    mount_name(m, &t, &t.part[1], 0, FS_KIND_EXFAT, name);
    assert_string_equal(name, "DATA");
    mount_name(m, &t, &t.part[2], 0, FS_KIND_EXFAT, name);
    assert_string_equal(name, "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE");
}

static void test_gpt(void **state)
{
    (void)state;
    make_gpt();
    mem_bdev_t *m = mem_bdev_from_file(img_path("g.img"), 512);
    check_gpt(m, false);
    uint8_t *d = mem_bdev_data(m);
    uint64_t last = mem_bdev_size(m) - 512;
    /* A damaged primary header, then a damaged primary array: the backup. */
    d[512 + 40] ^= 1;
    check_gpt(m, true);
    d[512 + 40] ^= 1;
    check_gpt(m, false);
    d[1024 + 130] ^= 1;
    check_gpt(m, true);
    /* Both bad: refused. */
    d[last + 8] ^= 1;
    vol_table_t t;
    assert_int_equal(vol_scan(mem_bdev_dev(m), &fs_test_env, &t), TV_E_CORRUPT);
    assert_int_equal(t.count, 0);
    mem_bdev_free(m);
}

static void test_mbr_and_whole_disk(void **state)
{
    (void)state;
    sh_ok("rm -f m.img && truncate -s 16M m.img && printf 'label: dos\\n"
          "start=2048, size=6144, type=c\\nstart=8192, size=4096, type=ef\\nstart=12288, type=5\\n"
          "start=14336, size=4096, type=7\\nstart=20480, size=4096, type=7\\n' | sfdisk -q m.img && "
          "rm -f q1 q5 && truncate -s 3M q1 && truncate -s 2M q5 && mkfs.vfat -F 32 -n MBRFAT q1 >/dev/null && "
          "mkfs.exfat -b 4K q5 >/dev/null && dd if=q1 of=m.img bs=512 seek=2048 conv=notrunc status=none && "
          "dd if=q5 of=m.img bs=512 seek=14336 conv=notrunc status=none");
    mem_bdev_t *m = mem_bdev_from_file(img_path("m.img"), 512);
    vol_table_t t;
    assert_int_equal(vol_scan(mem_bdev_dev(m), &fs_test_env, &t), TV_OK);
    assert_int_equal(t.scheme, VOL_MBR);
    assert_int_equal(t.count, 4);
    assert_int_equal(t.part[0].index, 1);
    assert_int_equal(t.part[1].index, 2);
    assert_true(t.part[1].esp);
    assert_int_equal(t.part[2].index, 5);
    assert_int_equal(t.part[2].first, 14336);
    assert_int_equal(t.part[3].index, 6);
    assert_int_equal(t.part[3].first, 20480);
    char name[VOL_NAME_MAX];
    mount_name(m, &t, &t.part[0], 1, FS_KIND_FAT32, name);
    assert_string_equal(name, "MBRFAT");
    mount_name(m, &t, &t.part[2], 1, FS_KIND_EXFAT, name);
    assert_string_equal(name, "disk1-p5");
    /* An EBR chain that points back at itself is refused, not followed. */
    uint8_t *d = mem_bdev_data(m);
    uint64_t ebr2 = 0;
    for (uint64_t s = 14336 + 4096; s < 20480 && !ebr2; s++) {
        uint32_t rel;
        memcpy(&rel, d + s * 512 + 446 + 8, 4);
        if (d[s * 512 + 510] == 0x55 && d[s * 512 + 511] == 0xAA && s + rel == 20480)
            ebr2 = s; /* the second logical partition's EBR */
    }
    assert_true(ebr2 != 0);
    uint8_t save[16];
    memcpy(save, d + ebr2 * 512 + 462, 16);
    d[ebr2 * 512 + 462 + 4] = 5;
    uint32_t back = 0; /* relative to the extended partition: its own first EBR */
    memcpy(d + ebr2 * 512 + 462 + 8, &back, 4);
    d[ebr2 * 512 + 462 + 12] = 1;
    assert_int_equal(vol_scan(mem_bdev_dev(m), &fs_test_env, &t), TV_E_CORRUPT);
    memcpy(d + ebr2 * 512 + 462, save, 16);
    /* Overlapping primaries are refused. */
    uint32_t over = 4000;
    memcpy(d + 446 + 16 + 8, &over, 4);
    assert_int_equal(vol_scan(mem_bdev_dev(m), &fs_test_env, &t), TV_E_CORRUPT);
    mem_bdev_free(m);

    /* A file system on the whole disk. */
    sh_ok("rm -f w.img && truncate -s 8M w.img && mkfs.exfat w.img >/dev/null && "
          "rm -f w2.img && truncate -s 8M w2.img && mkfs.vfat -F 32 -n WHOLE w2.img >/dev/null");
    m = mem_bdev_from_file(img_path("w.img"), 512);
    assert_int_equal(vol_scan(mem_bdev_dev(m), &fs_test_env, &t), TV_OK);
    assert_int_equal(t.scheme, VOL_WHOLE);
    assert_int_equal(t.count, 1);
    mount_name(m, &t, &t.part[0], 3, FS_KIND_EXFAT, name);
    assert_string_equal(name, "disk3");
    mem_bdev_free(m);
    m = mem_bdev_from_file(img_path("w2.img"), 512);
    assert_int_equal(vol_scan(mem_bdev_dev(m), &fs_test_env, &t), TV_OK);
    assert_int_equal(t.scheme, VOL_WHOLE);
    mount_name(m, &t, &t.part[0], 3, FS_KIND_FAT32, name);
    assert_string_equal(name, "WHOLE");
    /* No signature at all. */
    memset(mem_bdev_data(m), 0, 512);
    assert_int_equal(vol_scan(mem_bdev_dev(m), &fs_test_env, &t), TV_E_WRONG_TYPE);
    mem_bdev_free(m);
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(vol_crc32(0, "123456789", 9), 0xCBF43926u); /* the standard check value */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_gpt),
        cmocka_unit_test(test_mbr_and_whole_disk),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char c[300];
    snprintf(c, sizeof c, "rm -rf %s", fs_test_dir());
    if (system(c) != 0)
        rc = 1;
    return rc;
}
