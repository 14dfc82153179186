/* libFuzzer target over partition tables: MBR (with an EBR chain), GPT
 * (headers, CRCs, backup), whole-disk volumes; each volume found is then
 * mounted and walked like the file-system targets do. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_fs_dev.h"
#include "storage/volume/volume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    fuzz_dev_t d;
    fuzz_dev_init(&d, data, size, 0);
    vol_table_t *t = malloc(sizeof *t);
    if (vol_scan(&d.dev, &fuzz_env, t) == TV_OK) {
        for (uint32_t i = 0; i < t->count; i++) {
            const vol_part_t *p = &t->part[i];
            if (p->first > d.dev.sectors || p->count > d.dev.sectors - p->first)
                abort(); /* the table promised a partition inside the disk */
            char name[VOL_NAME_MAX];
            vol_name(t, p, "", 0, name, sizeof name);
            fs_slice_t s;
            if (fs_slice_init(&s, &d.dev, p->first, p->count)) {
                fuzz_exercise_volume(&s.dev, &d);
                d.writes_forbidden = 0;
            }
        }
    }
    free(t);
    fuzz_dev_free(&d);
    return 0;
}
