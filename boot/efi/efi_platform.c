/* Platform facts for the monitor: the ACPI RSDP and the GOP framebuffer. */
#include "efi_loader.h"

#include "tv_string.h"

static int rsdp_signature_ok(const void *p)
{
    return p && tv_memcmp(p, "RSD PTR ", 8) == 0;
}

static void find_rsdp(struct tv_boot_info *bi)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
    EFI_GUID acpi10 = ACPI_TABLE_GUID;
    UINT64 found10 = 0;
    for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
        /* GUID first: other tables' pointers need not point at memory. */
        int is20 = tv_memcmp(&t->VendorGuid, &acpi20, sizeof acpi20) == 0;
        int is10 = tv_memcmp(&t->VendorGuid, &acpi10, sizeof acpi10) == 0;
        if ((!is20 && !is10) || !rsdp_signature_ok(t->VendorTable))
            continue;
        if (is20) {
            bi->acpi_rsdp = (UINT64)(UINTN)t->VendorTable;  /* preferred */
            return;
        }
        if (!found10)
            found10 = (UINT64)(UINTN)t->VendorTable;
    }
    bi->acpi_rsdp = found10;
}

static void find_framebuffer(struct tv_boot_info *bi)
{
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
    EFI_STATUS st = uefi_call_wrapper(BS->LocateProtocol, 3, &GraphicsOutputProtocol, NULL,
                                      (void **)&gop);
    if (EFI_ERROR(st) || !gop || !gop->Mode || !gop->Mode->Info)
        return;
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
    if (info->PixelFormat == PixelBltOnly || gop->Mode->FrameBufferBase == 0)
        return;
    bi->fb.base = gop->Mode->FrameBufferBase;
    bi->fb.size = gop->Mode->FrameBufferSize;
    bi->fb.width = info->HorizontalResolution;
    bi->fb.height = info->VerticalResolution;
    bi->fb.pitch = info->PixelsPerScanLine;
    bi->fb.format = (UINT32)info->PixelFormat;
}

void tv_find_platform_info(struct tv_boot_info *bi)
{
    find_rsdp(bi);
    find_framebuffer(bi);
}
