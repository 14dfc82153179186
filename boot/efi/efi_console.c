/* Loader messages.  Before ExitBootServices they go to ConOut; on firmware
 * whose ConOut does not include a serial terminal (OVMF's does) they are also
 * written to COM1 directly, so a headless machine always shows them.  After
 * ExitBootServices only COM1 is left. */
#include "efi_loader.h"

#include "device_path.h"
#include "tv_fmt.h"

#define COM1 0x3f8

static int use_conout = 1;
static int use_com1 = 0;

static inline void outb(UINT16 port, UINT8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline UINT8 inb(UINT16 port)
{
    UINT8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void com1_init(void)
{
    outb(COM1 + 1, 0x00);   /* no interrupts */
    outb(COM1 + 3, 0x80);   /* DLAB */
    outb(COM1 + 0, 0x01);   /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1 */
    outb(COM1 + 2, 0xc7);   /* FIFO on, cleared */
    outb(COM1 + 4, 0x03);   /* DTR, RTS */
}

static void com1_putc(char c)
{
    for (int spin = 0; spin < 100000 && !(inb(COM1 + 5) & 0x20); spin++)
        ;
    outb(COM1, (UINT8)c);
}

static void com1_write(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            com1_putc('\r');
        com1_putc(*s);
    }
}

static void conout_write(const char *s)
{
    CHAR16 buf[130];
    size_t n = 0;
    for (;; s++) {
        if (*s == 0 || n >= sizeof buf / sizeof buf[0] - 3) {
            buf[n] = 0;
            uefi_call_wrapper(ST->ConOut->OutputString, 2, ST->ConOut, buf);
            n = 0;
            if (*s == 0)
                break;
        }
        if (*s == '\n')
            buf[n++] = L'\r';
        buf[n++] = (CHAR16)(unsigned char)*s;
    }
}

/* True when the "ConOut" variable (a multi-instance device path) names a UART. */
static int conout_has_uart(void)
{
    UINTN size = 0;
    void *dp = LibGetVariableAndSize(L"ConOut", &EfiGlobalVariable, &size);
    if (!dp)
        return 0;
    int found = tv_device_path_has_uart(dp, size);
    FreePool(dp);
    return found;
}

void tv_console_init(void)
{
    use_conout = ST->ConOut != NULL;
    use_com1 = !use_conout || !conout_has_uart();
    if (use_com1)
        com1_init();
}

void tv_console_after_exit(void)
{
    if (!use_com1)
        com1_init();
    use_conout = 0;
    use_com1 = 1;
}

static void write_all(const char *s)
{
    if (use_conout)
        conout_write(s);
    if (use_com1)
        com1_write(s);
}

void tv_print(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    tv_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    write_all(buf);
}

void tv_error(const char *fmt, ...)
{
    char buf[512];
    int n = tv_snprintf(buf, sizeof buf, "taskvisor: error: ");
    va_list ap;
    va_start(ap, fmt);
    tv_vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    va_end(ap);
    write_all(buf);
}

const char *tv_efi_status_name(EFI_STATUS st)
{
    switch (st) {
    case EFI_SUCCESS:           return "EFI_SUCCESS";
    case EFI_LOAD_ERROR:        return "EFI_LOAD_ERROR";
    case EFI_INVALID_PARAMETER: return "EFI_INVALID_PARAMETER";
    case EFI_UNSUPPORTED:       return "EFI_UNSUPPORTED";
    case EFI_BUFFER_TOO_SMALL:  return "EFI_BUFFER_TOO_SMALL";
    case EFI_DEVICE_ERROR:      return "EFI_DEVICE_ERROR";
    case EFI_VOLUME_CORRUPTED:  return "EFI_VOLUME_CORRUPTED";
    case EFI_OUT_OF_RESOURCES:  return "EFI_OUT_OF_RESOURCES";
    case EFI_NOT_FOUND:         return "EFI_NOT_FOUND";
    case EFI_ACCESS_DENIED:     return "EFI_ACCESS_DENIED";
    case EFI_NO_MEDIA:          return "EFI_NO_MEDIA";
    case EFI_MEDIA_CHANGED:     return "EFI_MEDIA_CHANGED";
    case EFI_BAD_BUFFER_SIZE:   return "EFI_BAD_BUFFER_SIZE";
    case EFI_ABORTED:           return "EFI_ABORTED";
    case EFI_COMPROMISED_DATA:  return "EFI_COMPROMISED_DATA";
    default:                    return "EFI error";
    }
}
