/* Internal interfaces of the UEFI loader (BOOTX64.EFI).  Only the files of
 * boot/efi/ named efi_*.c include GNU-EFI; the portable parts (config
 * parser, monitor ELF loader, memory map conversion) know nothing of it. */
#ifndef TV_EFI_LOADER_H
#define TV_EFI_LOADER_H

#include <efi.h>
#include <efilib.h>

#include "../common/boot_info.h"
#include "../common/boot_config.h"
#include "taskvisor/status.h"

#define TV_CONFIG_PATH   "\\taskvisor\\taskvisor.cfg"
#define TV_DEFAULT_DIR   "\\taskvisor\\"

/* --- efi_console.c: messages on the firmware console and the serial port --- */
/* Decides whether ConOut already reaches a serial port (then nothing is
 * written twice); otherwise messages are also written to COM1 directly. */
void tv_console_init(void);
/* After ExitBootServices: only COM1 by port I/O remains. */
void tv_console_after_exit(void);
void tv_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "taskvisor: error: ..." */
void tv_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Short name of an EFI status ("EFI_NOT_FOUND"). */
const char *tv_efi_status_name(EFI_STATUS st);

/* --- efi_files.c: reading files from the ESP the loader came from --- */
struct tv_efi_volume {
    EFI_FILE_HANDLE root;
};

EFI_STATUS tv_volume_open(EFI_HANDLE image, struct tv_efi_volume *vol);
void tv_volume_close(struct tv_efi_volume *vol);
/* ESP path from a config path: relative paths are under \taskvisor\, '/'
 * becomes '\'.  ascii receives the result (for messages). */
void tv_esp_path(const char *config_path, char *ascii, size_t size);
/* Reads a whole file.  With memtype EfiLoaderData the buffer comes from the
 * pool; otherwise from pages of that type below 4 GiB.  max_size bounds
 * the file (EFI_BAD_BUFFER_SIZE, with out->size set to the file's size).
 * On failure why holds a sentence. */
struct tv_file_data {
    void *data;
    UINT64 size;
    UINT64 pages;   /* 0 for pool memory */
};
EFI_STATUS tv_read_file(struct tv_efi_volume *vol, const char *esp_path, UINT32 memtype,
                        UINT64 max_size, struct tv_file_data *out, char *why, size_t why_size);
void tv_free_file(struct tv_file_data *f);

/* Pages of the loader's OS-defined memory type (TV_MEM_LOADED in the final
 * map), below 4 GiB (the monitor starts with only the low 4 GiB mapped),
 * aligned to align (a power of two). */
EFI_STATUS tv_alloc_loaded(UINT64 bytes, UINT64 align, UINT64 *phys);

/* --- efi_load.c: the monitor and the partition images --- */
EFI_STATUS tv_load_monitor(struct tv_efi_volume *vol, const struct tv_boot_config *cfg,
                           struct tv_boot_info *bi, UINT64 *entry);
EFI_STATUS tv_load_partitions(struct tv_efi_volume *vol, const struct tv_boot_config *cfg,
                              struct tv_boot_info *bi);

/* --- efi_platform.c: ACPI and the framebuffer --- */
void tv_find_platform_info(struct tv_boot_info *bi);

/* --- efi_handoff.c: memory map, ExitBootServices, jump --- */
/* Returns only on failure before ExitBootServices succeeded. */
EFI_STATUS tv_exit_and_enter(EFI_HANDLE image, struct tv_boot_info *bi, UINT64 entry);

#endif
