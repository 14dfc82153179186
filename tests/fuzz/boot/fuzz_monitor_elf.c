/* libFuzzer target: the monitor ELF loader (boot/common/monitor_elf.c).  An
 * accepted image is also loaded and relocated into a buffer of exactly its
 * span, so ASan catches any write the validation failed to bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../../boot/common/monitor_elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy: the loader must not depend on the input's alignment. */
    uint8_t *file = malloc(size ? size : 1);
    memcpy(file, data, size);
    struct tv_elf_image img;
    char why[200];
    tv_status_t st = tv_elf_inspect(file, size, &img, why, sizeof why);
    if (st == TV_OK) {
        if (img.span == 0 || img.span > TV_ELF_MAX_SPAN || img.span % TV_ELF_PAGE ||
            img.entry >= img.span || (img.align & (img.align - 1)) || img.align < TV_ELF_PAGE)
            abort();
        if (img.span <= (4u << 20)) {
            uint8_t *dest = malloc(img.span);
            tv_elf_load(file, size, &img, dest, 0x40000000ull, why, sizeof why);
            free(dest);
        }
    } else if (why[0] == 0) {
        abort();
    }
    free(file);
    return 0;
}
