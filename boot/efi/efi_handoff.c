/* The hand-off: final memory map, ExitBootServices, jump to the monitor.
 * Between the last GetMemoryMap and ExitBootServices nothing may allocate or
 * print (either could change the map key), so the map buffer is sized with
 * room to spare beforehand and messages wait until it is over. */
#include "efi_loader.h"

#include "../common/mem_map.h"

typedef void (*tv_monitor_entry_t)(struct tv_boot_info *bi) __attribute__((sysv_abi));

struct map_buf {
    void *data;
    UINTN capacity;
    UINTN size;
    UINTN key;
    UINTN desc_size;
    UINT32 desc_version;
};

static EFI_STATUS get_map(struct map_buf *m)
{
    m->size = m->capacity;
    return uefi_call_wrapper(BS->GetMemoryMap, 5, &m->size, (EFI_MEMORY_DESCRIPTOR *)m->data,
                             &m->key, &m->desc_size, &m->desc_version);
}

/* Grows the buffer to the current map plus room for the descriptors that
 * this allocation and later ones add.  A memory allocation service, so it is
 * allowed even after a failed ExitBootServices. */
static EFI_STATUS grow(struct map_buf *m)
{
    if (m->data)
        FreePool(m->data);
    UINTN desc = m->desc_size ? m->desc_size : sizeof(EFI_MEMORY_DESCRIPTOR) + 8;
    m->capacity = m->size + 32 * desc;
    m->data = AllocatePool(m->capacity);
    return m->data ? EFI_SUCCESS : EFI_OUT_OF_RESOURCES;
}

static void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

EFI_STATUS tv_exit_and_enter(EFI_HANDLE image, struct tv_boot_info *bi, UINT64 entry)
{
    struct map_buf m = { 0 };
    EFI_STATUS st = get_map(&m);
    if (st != EFI_BUFFER_TOO_SMALL) {
        tv_error("GetMemoryMap did not report its size: %s\n", tv_efi_status_name(st));
        return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
    }
    st = grow(&m);
    if (!EFI_ERROR(st))
        st = get_map(&m);
    if (EFI_ERROR(st)) {
        tv_error("cannot read the memory map: %s\n", tv_efi_status_name(st));
        return st;
    }
    if (m.desc_size < sizeof(struct tv_efi_mem_desc)) {
        tv_error("the firmware reports %llu-byte memory descriptors\n",
                 (unsigned long long)m.desc_size);
        FreePool(m.data);
        return EFI_UNSUPPORTED;
    }
    /* Dry run while messages are still possible: a map the monitor could not
     * take is reported here, not after the firmware is gone. */
    uint32_t count = 0;
    tv_status_t ts = tv_mem_map_convert(m.data, m.size / m.desc_size, m.desc_size,
                                        bi->mem, TV_BOOT_MAX_MEM, &count);
    if (ts != TV_OK) {
        tv_error("the firmware memory map (%llu descriptors) does not fit in %d regions\n",
                 (unsigned long long)(m.size / m.desc_size), TV_BOOT_MAX_MEM);
        FreePool(m.data);
        return EFI_BUFFER_TOO_SMALL;
    }
    if (bi->log_level >= TV_LOG_INFO)
        tv_print("taskvisor: %u memory regions, ACPI RSDP 0x%llx, framebuffer 0x%llx; "
                 "exiting boot services\n", (unsigned)count, (unsigned long long)bi->acpi_rsdp,
                 (unsigned long long)bi->fb.base);

    for (int attempt = 0; attempt < 8; attempt++) {
        st = get_map(&m);
        if (st == EFI_BUFFER_TOO_SMALL) {
            st = grow(&m);
            if (!EFI_ERROR(st))
                continue;
        }
        if (EFI_ERROR(st))
            break;
        st = uefi_call_wrapper(BS->ExitBootServices, 2, image, m.key);
        if (st != EFI_INVALID_PARAMETER)
            break;      /* success, or a failure a retry will not fix */
    }
    if (EFI_ERROR(st)) {
        tv_error("ExitBootServices failed: %s\n", tv_efi_status_name(st));
        return st;
    }

    /* The firmware is gone: interrupts stay off until the monitor owns the IDT. */
    __asm__ volatile("cli");
    tv_console_after_exit();
    ts = tv_mem_map_convert(m.data, m.size / m.desc_size, m.desc_size, bi->mem,
                            TV_BOOT_MAX_MEM, &bi->mem_count);
    if (ts != TV_OK) {
        tv_error("the final memory map does not fit in %d regions; halting\n", TV_BOOT_MAX_MEM);
        halt_forever();
    }
    tv_monitor_entry_t enter = (tv_monitor_entry_t)(UINTN)entry;
    enter(bi);
    tv_error("the monitor returned to the loader; halting\n");
    halt_forever();
    return EFI_ABORTED;
}
