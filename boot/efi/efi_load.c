/* Loading the monitor ELF and the partition images named by the config.
 * Every failure names the config line that asked for the file. */
#include "efi_loader.h"

#include "../common/mem_map.h"
#include "../common/monitor_elf.h"
#include "tv_fmt.h"
#include "tv_string.h"

#define MONITOR_FILE_MAX  (128ull << 20)

EFI_STATUS tv_load_monitor(struct tv_efi_volume *vol, const struct tv_boot_config *cfg,
                           struct tv_boot_info *bi, UINT64 *entry)
{
    char path[TV_BOOT_PATH_LEN + 16];
    char why[200];
    struct tv_file_data file;
    tv_esp_path(cfg->monitor_path, path, sizeof path);

    EFI_STATUS st = tv_read_file(vol, path, EfiLoaderData, MONITOR_FILE_MAX, &file, why, sizeof why);
    if (EFI_ERROR(st)) {
        tv_error("%s:%u: monitor image '%s' (%s): %s\n", TV_CONFIG_PATH,
                 (unsigned)cfg->monitor_line, cfg->monitor_path, path, why);
        return st;
    }
    struct tv_elf_image img;
    tv_status_t ts = tv_elf_inspect(file.data, file.size, &img, why, sizeof why);
    if (ts != TV_OK) {
        tv_error("%s:%u: monitor image '%s' (%llu bytes) is not a loadable monitor: %s\n",
                 TV_CONFIG_PATH, (unsigned)cfg->monitor_line, path,
                 (unsigned long long)file.size, why);
        tv_free_file(&file);
        return EFI_LOAD_ERROR;
    }
    UINT64 base = 0;
    st = tv_alloc_loaded(img.span, img.align, &base);
    if (EFI_ERROR(st)) {
        tv_error("no memory for the monitor (%llu KiB): %s\n",
                 (unsigned long long)(img.span >> 10), tv_efi_status_name(st));
        tv_free_file(&file);
        return st;
    }
    ts = tv_elf_load(file.data, file.size, &img, (void *)(UINTN)base, base, why, sizeof why);
    tv_free_file(&file);
    if (ts != TV_OK) {
        tv_error("%s:%u: monitor image '%s' cannot be loaded: %s\n", TV_CONFIG_PATH,
                 (unsigned)cfg->monitor_line, path, why);
        uefi_call_wrapper(BS->FreePages, 2, base, img.span / EFI_PAGE_SIZE);
        return EFI_LOAD_ERROR;
    }
    bi->monitor_phys = base;
    bi->monitor_size = img.span;
    *entry = base + img.entry;
    if (cfg->log_level >= TV_LOG_INFO)
        tv_print("taskvisor: monitor %s: %llu KiB at 0x%llx, entry 0x%llx, %llu relocations\n",
                 path, (unsigned long long)(img.span >> 10), (unsigned long long)base,
                 (unsigned long long)*entry, (unsigned long long)img.rela_count);
    return EFI_SUCCESS;
}

EFI_STATUS tv_load_partitions(struct tv_efi_volume *vol, const struct tv_boot_config *cfg,
                              struct tv_boot_info *bi)
{
    for (uint32_t i = 0; i < cfg->partition_count; i++) {
        const struct tv_config_partition *cp = &cfg->partitions[i];
        struct tv_boot_partition *bp = &bi->partitions[i];
        char path[TV_BOOT_PATH_LEN + 16];
        char why[200];
        struct tv_file_data file;
        tv_esp_path(cp->image_path, path, sizeof path);
        /* The image is loaded into the guest's RAM, so it cannot be larger. */
        EFI_STATUS st = tv_read_file(vol, path, TV_EFI_MEMTYPE_LOADED, cp->memory_bytes,
                                     &file, why, sizeof why);
        if (st == EFI_BAD_BUFFER_SIZE)
            tv_snprintf(why, sizeof why, "the file (%llu bytes) is larger than the partition's "
                        "memory (%llu bytes)", (unsigned long long)file.size,
                        (unsigned long long)cp->memory_bytes);
        if (!EFI_ERROR(st) && file.size == 0) {
            tv_snprintf(why, sizeof why, "file is empty");
            tv_free_file(&file);
            st = EFI_LOAD_ERROR;
        }
        if (EFI_ERROR(st)) {
            tv_error("%s:%u: partition '%s': image '%s' (%s): %s\n", TV_CONFIG_PATH,
                     (unsigned)cp->image_line, cp->name, cp->image_path, path, why);
            return st;
        }
        tv_strlcpy(bp->name, cp->name, sizeof bp->name);
        tv_strlcpy(bp->image_path, cp->image_path, sizeof bp->image_path);
        tv_strlcpy(bp->cmdline, cp->cmdline, sizeof bp->cmdline);
        bp->image_phys = (UINT64)(UINTN)file.data;
        bp->image_size = file.size;
        bp->memory_bytes = cp->memory_bytes;
        bp->flags = cp->flags;
        bp->vcpus = 1;
        /* Virtual disks are opened by the monitor, in its image store. */
        bp->disk_count = cp->disk_count;
        tv_memcpy(bp->disks, cp->disks, sizeof bp->disks);
        bi->partition_count = i + 1;
        if (cfg->log_level >= TV_LOG_INFO)
            tv_print("taskvisor: partition %s%s: %s, %llu bytes at 0x%llx, %llu MiB of memory\n",
                     cp->name, (cp->flags & TV_PART_CONTROL) ? " (control)" : "", path,
                     (unsigned long long)file.size, (unsigned long long)bp->image_phys,
                     (unsigned long long)(cp->memory_bytes >> 20));
        if (cp->initrd_path[0]) {
            /* The initrd goes into the guest's RAM beside the kernel. */
            tv_esp_path(cp->initrd_path, path, sizeof path);
            st = tv_read_file(vol, path, TV_EFI_MEMTYPE_LOADED, cp->memory_bytes, &file,
                              why, sizeof why);
            if (st == EFI_BAD_BUFFER_SIZE)
                tv_snprintf(why, sizeof why, "the file (%llu bytes) is larger than the "
                            "partition's memory (%llu bytes)", (unsigned long long)file.size,
                            (unsigned long long)cp->memory_bytes);
            if (!EFI_ERROR(st) && file.size == 0) {
                tv_snprintf(why, sizeof why, "file is empty");
                tv_free_file(&file);
                st = EFI_LOAD_ERROR;
            }
            if (EFI_ERROR(st)) {
                tv_error("%s:%u: partition '%s': initrd '%s' (%s): %s\n", TV_CONFIG_PATH,
                         (unsigned)cp->initrd_line, cp->name, cp->initrd_path, path, why);
                return st;
            }
            tv_strlcpy(bp->initrd_path, cp->initrd_path, sizeof bp->initrd_path);
            bp->initrd_phys = (UINT64)(UINTN)file.data;
            bp->initrd_size = file.size;
            if (cfg->log_level >= TV_LOG_INFO)
                tv_print("taskvisor: partition %s: initrd %s, %llu bytes at 0x%llx\n", cp->name,
                         path, (unsigned long long)file.size,
                         (unsigned long long)bp->initrd_phys);
        }
    }
    return EFI_SUCCESS;
}
