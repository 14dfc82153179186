/* libFuzzer target: the Multiboot2 boot information parser on any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "boot/multiboot2/mb2_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tv_mb2_info info;
    char why[200];
    if (tv_mb2_parse(data, size, &info, why, sizeof why) == TV_OK) {
        /* Every string the parser hands out must be readable to its NUL
         * inside the input. */
        size_t n = strlen(info.cmdline);
        (void)n;
        for (uint32_t i = 0; i < info.module_count; i++)
            n += strlen(info.modules[i].string);
        if (info.total_size > size)
            __builtin_trap();
    }
    return 0;
}
