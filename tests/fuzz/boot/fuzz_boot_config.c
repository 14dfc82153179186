/* libFuzzer target: the boot configuration parser (boot/common/).  Beyond
 * "no crash", every accepted config must satisfy the format's invariants. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../../boot/common/boot_config.h"

static struct tv_boot_config cfg;
static struct tv_config_error err;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tv_status_t st = tv_boot_config_parse((const char *)data, size, &cfg, &err);
    char msg[400];
    tv_boot_config_format_error(msg, sizeof msg, "\\taskvisor\\taskvisor.cfg", &err);
    if (st != TV_OK) {
        if (err.message[0] == 0 || strnlen(err.message, sizeof err.message) >= sizeof err.message)
            abort();
        return 0;
    }
    if (!tv_config_path_is_valid(cfg.monitor_path) || cfg.monitor_line == 0)
        abort();
    if (cfg.partition_count == 0 || cfg.partition_count > TV_BOOT_MAX_PARTITIONS)
        abort();
    if (cfg.log_level > TV_LOG_TRACE)
        abort();
    int controls = 0;
    for (uint32_t i = 0; i < cfg.partition_count; i++) {
        const struct tv_config_partition *p = &cfg.partitions[i];
        if (!tv_config_name_is_valid(p->name) || !tv_config_path_is_valid(p->image_path))
            abort();
        if (p->memory_bytes < TV_CONFIG_MIN_MEMORY || p->memory_bytes > TV_CONFIG_MAX_MEMORY ||
            p->memory_bytes % 4096)
            abort();
        if (strnlen(p->cmdline, sizeof p->cmdline) >= sizeof p->cmdline)
            abort();
        controls += (p->flags & TV_PART_CONTROL) != 0;
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(cfg.partitions[j].name, p->name) == 0)
                abort();
        }
    }
    if (controls > 1)
        abort();
    return 0;
}
