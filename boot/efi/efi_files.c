/* Reading whole files from the ESP the loader was started from, and the
 * page allocator for everything the monitor keeps. */
#include "efi_loader.h"

#include "../common/mem_map.h"
#include "tv_fmt.h"
#include "tv_string.h"

#define BELOW_4G 0xffffffffull

EFI_STATUS tv_volume_open(EFI_HANDLE image, struct tv_efi_volume *vol)
{
    EFI_LOADED_IMAGE *li = NULL;
    EFI_STATUS st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
                                      (void **)&li);
    if (EFI_ERROR(st))
        return st;
    vol->root = LibOpenRoot(li->DeviceHandle);
    return vol->root ? EFI_SUCCESS : EFI_NOT_FOUND;
}

void tv_volume_close(struct tv_efi_volume *vol)
{
    if (vol->root)
        uefi_call_wrapper(vol->root->Close, 1, vol->root);
    vol->root = NULL;
}

void tv_esp_path(const char *config_path, char *ascii, size_t size)
{
    int absolute = config_path[0] == '\\' || config_path[0] == '/';
    tv_snprintf(ascii, size, "%s%s", absolute ? "" : TV_DEFAULT_DIR, config_path);
    for (char *p = ascii; *p; p++) {
        if (*p == '/')
            *p = '\\';
    }
}

EFI_STATUS tv_alloc_loaded(UINT64 bytes, UINT64 align, UINT64 *phys)
{
    UINT64 pages = (bytes + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE;
    UINT64 extra = align > EFI_PAGE_SIZE ? align / EFI_PAGE_SIZE - 1 : 0;
    if (pages == 0)
        pages = 1;
    EFI_PHYSICAL_ADDRESS addr = BELOW_4G;
    EFI_STATUS st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress,
                                      (EFI_MEMORY_TYPE)TV_EFI_MEMTYPE_LOADED, pages + extra, &addr);
    if (EFI_ERROR(st))
        return st;
    UINT64 aligned = (addr + align - 1) & ~(align - 1);
    UINT64 head = (aligned - addr) / EFI_PAGE_SIZE;
    if (head)
        uefi_call_wrapper(BS->FreePages, 2, addr, head);
    if (extra - head)
        uefi_call_wrapper(BS->FreePages, 2, aligned + pages * EFI_PAGE_SIZE, extra - head);
    *phys = aligned;
    return EFI_SUCCESS;
}

static EFI_STATUS open_file(struct tv_efi_volume *vol, const char *esp_path, EFI_FILE_HANDLE *fh)
{
    CHAR16 wide[TV_BOOT_PATH_LEN + 16];
    size_t i = 0;
    for (; esp_path[i] && i < sizeof wide / sizeof wide[0] - 1; i++)
        wide[i] = (CHAR16)(unsigned char)esp_path[i];
    wide[i] = 0;
    return uefi_call_wrapper(vol->root->Open, 5, vol->root, fh, wide, EFI_FILE_MODE_READ, 0ull);
}

EFI_STATUS tv_read_file(struct tv_efi_volume *vol, const char *esp_path, UINT32 memtype,
                        UINT64 max_size, struct tv_file_data *out, char *why, size_t ws)
{
    EFI_FILE_HANDLE fh = NULL;
    tv_memset(out, 0, sizeof *out);
    EFI_STATUS st = open_file(vol, esp_path, &fh);
    if (st == EFI_NOT_FOUND) {
        tv_snprintf(why, ws, "file not found");
        return st;
    }
    if (EFI_ERROR(st)) {
        tv_snprintf(why, ws, "cannot open the file (%s)", tv_efi_status_name(st));
        return st;
    }
    EFI_FILE_INFO *info = LibFileInfo(fh);
    if (!info) {
        tv_snprintf(why, ws, "cannot read the file's size");
        st = EFI_DEVICE_ERROR;
        goto out;
    }
    UINT64 size = info->FileSize;
    UINT64 attr = info->Attribute;
    FreePool(info);
    if (attr & EFI_FILE_DIRECTORY) {
        tv_snprintf(why, ws, "is a directory, not a file");
        st = EFI_INVALID_PARAMETER;
        goto out;
    }
    if (size > max_size) {
        out->size = size;   /* for the caller's message */
        tv_snprintf(why, ws, "file is too large (%llu bytes, at most %llu)",
                    (unsigned long long)size, (unsigned long long)max_size);
        st = EFI_BAD_BUFFER_SIZE;
        goto out;
    }
    if (memtype == EfiLoaderData) {
        out->data = AllocatePool(size ? size : 1);
        if (!out->data)
            st = EFI_OUT_OF_RESOURCES;
    } else {
        UINT64 phys = 0;
        st = tv_alloc_loaded(size, EFI_PAGE_SIZE, &phys);
        if (!EFI_ERROR(st)) {
            out->data = (void *)(UINTN)phys;
            out->pages = size ? (size + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE : 1;
            tv_memset(out->data, 0, out->pages * EFI_PAGE_SIZE);
        }
    }
    if (EFI_ERROR(st)) {
        tv_snprintf(why, ws, "no memory for %llu bytes (%s)", (unsigned long long)size,
                    tv_efi_status_name(st));
        goto out;
    }
    UINT64 done = 0;
    while (done < size) {
        UINTN chunk = size - done > (1u << 20) ? (1u << 20) : (UINTN)(size - done);
        st = uefi_call_wrapper(fh->Read, 3, fh, &chunk, (UINT8 *)out->data + done);
        if (EFI_ERROR(st) || chunk == 0) {
            tv_snprintf(why, ws, "read failed after %llu of %llu bytes (%s)",
                        (unsigned long long)done, (unsigned long long)size,
                        EFI_ERROR(st) ? tv_efi_status_name(st) : "short file");
            if (!EFI_ERROR(st))
                st = EFI_VOLUME_CORRUPTED;
            tv_free_file(out);
            goto out;
        }
        done += chunk;
    }
    out->size = size;
    st = EFI_SUCCESS;
out:
    uefi_call_wrapper(fh->Close, 1, fh);
    return st;
}

void tv_free_file(struct tv_file_data *f)
{
    if (f->data && f->pages)
        uefi_call_wrapper(BS->FreePages, 2, (EFI_PHYSICAL_ADDRESS)(UINTN)f->data, f->pages);
    else if (f->data)
        FreePool(f->data);
    f->data = NULL;
    f->size = 0;
    f->pages = 0;
}
