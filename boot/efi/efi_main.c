/* Taskvisor UEFI loader (BOOTX64.EFI): reads \taskvisor\taskvisor.cfg, loads
 * the monitor and the partition images, gathers the platform facts into a
 * struct tv_boot_info and hands over.  Any failure before the hand-off prints
 * what went wrong (file, line, reason) and returns an error to the firmware. */
#include "efi_loader.h"

#include "tv_fmt.h"
#include "tv_string.h"

/* Seconds a failure message stays up before the firmware gets control back
 * (it may clear the screen when it moves on to the next boot option). */
#define ERROR_PAUSE_US (3u * 1000u * 1000u)

static EFI_STATUS read_config(struct tv_efi_volume *vol, struct tv_boot_config *cfg)
{
    char why[200];
    struct tv_file_data file;
    EFI_STATUS st = tv_read_file(vol, TV_CONFIG_PATH, EfiLoaderData, TV_CONFIG_MAX_BYTES,
                                 &file, why, sizeof why);
    if (EFI_ERROR(st)) {
        tv_error("%s: %s\n", TV_CONFIG_PATH, why);
        return st;
    }
    struct tv_config_error err;
    tv_status_t ts = tv_boot_config_parse(file.data, file.size, cfg, &err);
    tv_free_file(&file);
    if (ts != TV_OK) {
        char msg[300];
        tv_boot_config_format_error(msg, sizeof msg, TV_CONFIG_PATH, &err);
        tv_error("%s\n", msg);
        return EFI_INVALID_PARAMETER;
    }
    return EFI_SUCCESS;
}

static EFI_STATUS boot(EFI_HANDLE image)
{
    struct tv_efi_volume vol = { 0 };
    EFI_STATUS st = tv_volume_open(image, &vol);
    if (EFI_ERROR(st)) {
        tv_error("cannot open the volume the loader was started from: %s\n",
                 tv_efi_status_name(st));
        return st;
    }
    /* The parsed config is large: keep it off the firmware's small stack. */
    struct tv_boot_config *cfg = AllocateZeroPool(sizeof *cfg);
    UINT64 bi_phys = 0;
    if (cfg)
        st = tv_alloc_loaded(sizeof(struct tv_boot_info), EFI_PAGE_SIZE, &bi_phys);
    if (!cfg || EFI_ERROR(st)) {
        tv_error("out of memory for the boot information\n");
        tv_volume_close(&vol);
        return EFI_OUT_OF_RESOURCES;
    }
    struct tv_boot_info *bi = (struct tv_boot_info *)(UINTN)bi_phys;
    tv_memset(bi, 0, sizeof *bi);

    UINT64 entry = 0;
    st = read_config(&vol, cfg);
    if (!EFI_ERROR(st)) {
        if (cfg->log_level >= TV_LOG_INFO)
            tv_print("taskvisor: config %s: %u partition(s), log level %s\n", TV_CONFIG_PATH,
                     (unsigned)cfg->partition_count, tv_config_log_level_name(cfg->log_level));
        st = tv_load_monitor(&vol, cfg, bi, &entry);
    }
    if (!EFI_ERROR(st))
        st = tv_load_partitions(&vol, cfg, bi);
    tv_volume_close(&vol);
    if (EFI_ERROR(st)) {
        /* Partition and monitor pages are LOADED memory nobody will use:
         * the firmware reclaims nothing of an OS type, so give them back. */
        for (uint32_t i = 0; i < bi->partition_count; i++) {
            uefi_call_wrapper(BS->FreePages, 2, bi->partitions[i].image_phys,
                              (bi->partitions[i].image_size + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE);
            if (bi->partitions[i].initrd_size)
                uefi_call_wrapper(BS->FreePages, 2, bi->partitions[i].initrd_phys,
                                  (bi->partitions[i].initrd_size + EFI_PAGE_SIZE - 1) /
                                      EFI_PAGE_SIZE);
        }
        if (bi->monitor_size)
            uefi_call_wrapper(BS->FreePages, 2, bi->monitor_phys, bi->monitor_size / EFI_PAGE_SIZE);
        uefi_call_wrapper(BS->FreePages, 2, bi_phys,
                          (sizeof *bi + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE);
        FreePool(cfg);
        return st;
    }

    bi->magic = TV_BOOT_INFO_MAGIC;
    bi->version = TV_BOOT_INFO_VERSION;
    bi->size = sizeof *bi;
    bi->boot_path = TV_BOOT_PATH_UEFI;
    bi->log_level = cfg->log_level;
    tv_strlcpy(bi->options, cfg->options, sizeof bi->options);
    tv_find_platform_info(bi);
    FreePool(cfg);
    return tv_exit_and_enter(image, bi, entry);
}

/* Called by GNU-EFI's crt0 with the SysV ABI (not EFIAPI). */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    InitializeLib(image, systab);
    tv_console_init();
    tv_print("taskvisor: UEFI loader\n");
    EFI_STATUS st = boot(image);
    tv_error("boot failed (%s); returning to the firmware\n", tv_efi_status_name(st));
    uefi_call_wrapper(BS->Stall, 1, (UINTN)ERROR_PAUSE_US);
    return EFI_ERROR(st) ? st : EFI_LOAD_ERROR;
}
