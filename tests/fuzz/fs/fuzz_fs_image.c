/* libFuzzer target over FAT12/16/32 or exFAT metadata (this file is built
 * twice, once per corpus: fs_fat32, which also holds the FAT12 and FAT16
 * seeds, and fs_exfat).  The input is the start of a volume (boot region,
 * FATs, fixed root directory, bitmap, up-case table, directories), padded
 * with zeros to 3 MiB (a FAT16 volume has at least 4085 clusters): mount, list, read, and on a volume that passed its
 * checks a few writes.  No crash, no hang, and no write to a volume whose
 * mount failed. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_fs_dev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    fuzz_dev_t d;
    fuzz_dev_init(&d, data, size, 3u << 20);
    fuzz_exercise_volume(&d.dev, &d);
    fuzz_dev_free(&d);
    return 0;
}
