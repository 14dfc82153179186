/* A tiny monitor used only by the loader's integration tests: it checks the
 * boot_info it is handed, prints what arrived on COM1 and ends QEMU through
 * isa-debug-exit (port 0xf4): 0x10 -> exit status 33 (pass), 0x11 -> 35 (fail). */
#include <stdint.h>

#include "../../common/boot_info.h"
#include "tv_fmt.h"
#include "tv_string.h"

#define COM1       0x3f8
#define EXIT_PORT  0xf4
#define EXIT_PASS  0x10
#define EXIT_FAIL  0x11

void testmon_main(struct tv_boot_info *bi, uint64_t rflags, uint64_t loader_rsp);

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void putc_com1(char c)
{
    for (int spin = 0; spin < 100000 && !(inb(COM1 + 5) & 0x20); spin++)
        ;
    outb(COM1, (uint8_t)c);
}

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    tv_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (const char *s = buf; *s; s++) {
        if (*s == '\n')
            putc_com1('\r');
        putc_com1(*s);
    }
}

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        say("TESTMON: FAIL %s\n", what);
        failures++;
    }
}

/* The map region of type LOADED that covers [base, base+len), if any. */
static int covered_by_loaded(const struct tv_boot_info *bi, uint64_t base, uint64_t len)
{
    for (uint32_t i = 0; i < bi->mem_count && i < TV_BOOT_MAX_MEM; i++) {
        const struct tv_boot_mem_region *r = &bi->mem[i];
        if (r->type == TV_MEM_LOADED && base >= r->base && base + len <= r->base + r->length)
            return 1;
    }
    return 0;
}

/* A pointer stored in data: correct only if the loader applied RELATIVE
 * relocations (volatile so the compiler cannot fold the comparison). */
static const char reloc_target[] = "relocated";
static const char *volatile reloc_pointer = reloc_target;

/* The first line of an image, printable characters only. */
static void image_head(const struct tv_boot_partition *p, char *out, size_t size)
{
    const char *img = (const char *)(uintptr_t)p->image_phys;
    size_t n = 0;
    for (uint64_t i = 0; i < p->image_size && n + 1 < size; i++) {
        char c = img[i];
        if (c == '\n')
            break;
        out[n++] = (c >= 0x20 && c < 0x7f) ? c : '.';
    }
    out[n] = 0;
}

void testmon_main(struct tv_boot_info *bi, uint64_t rflags, uint64_t loader_rsp)
{
    outb(COM1 + 1, 0x00);
    say("\nTESTMON: entered, boot_info at 0x%llx, loader stack 0x%llx\n",
        (unsigned long long)(uintptr_t)bi, (unsigned long long)loader_rsp);
    check(bi->magic == TV_BOOT_INFO_MAGIC, "magic");
    check(bi->version == TV_BOOT_INFO_VERSION, "version");
    check(bi->size == sizeof *bi, "size");
    if (failures) {
        outb(EXIT_PORT, EXIT_FAIL);
        return;
    }
    check(bi->boot_path == TV_BOOT_PATH_UEFI, "boot path");
    check(!(rflags & 0x200), "interrupts enabled at entry");
    check(reloc_pointer == reloc_target, "relocations not applied");
    uint64_t self = (uint64_t)(uintptr_t)&testmon_main;
    check(self >= bi->monitor_phys && self < bi->monitor_phys + bi->monitor_size,
          "entry outside monitor_phys/monitor_size");
    check(bi->mem_count > 0 && bi->mem_count <= TV_BOOT_MAX_MEM, "mem_count");
    check(bi->partition_count > 0 && bi->partition_count <= TV_BOOT_MAX_PARTITIONS,
          "partition_count");
    if (failures) {
        outb(EXIT_PORT, EXIT_FAIL);
        return;
    }

    uint64_t usable = 0, loaded = 0;
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct tv_boot_mem_region *r = &bi->mem[i];
        check(r->length > 0 && r->type >= TV_MEM_USABLE && r->type <= TV_MEM_PERSISTENT,
              "memory region type/length");
        if (i)
            check(r->base >= bi->mem[i - 1].base + bi->mem[i - 1].length, "map not sorted");
        if (i && r->base == bi->mem[i - 1].base + bi->mem[i - 1].length)
            check(r->type != bi->mem[i - 1].type, "adjacent regions of one type not merged");
        if (r->type == TV_MEM_USABLE)
            usable += r->length;
        if (r->type == TV_MEM_LOADED)
            loaded += r->length;
    }
    check(covered_by_loaded(bi, bi->monitor_phys, bi->monitor_size), "monitor not in LOADED memory");
    check(covered_by_loaded(bi, (uintptr_t)bi, sizeof *bi), "boot_info not in LOADED memory");

    int controls = 0;
    for (uint32_t i = 0; i < bi->partition_count; i++) {
        const struct tv_boot_partition *p = &bi->partitions[i];
        char head[48];
        check(covered_by_loaded(bi, p->image_phys, p->image_size), "image not in LOADED memory");
        check(tv_strnlen(p->name, TV_BOOT_NAME_LEN) < TV_BOOT_NAME_LEN, "name not terminated");
        image_head(p, head, sizeof head);
        controls += (p->flags & TV_PART_CONTROL) != 0;
        say("TESTMON: partition %u name=%s control=%d memory=%lluK image=%s size=%llu "
            "cmdline='%s' head='%s'\n", (unsigned)i, p->name, (p->flags & TV_PART_CONTROL) != 0,
            (unsigned long long)(p->memory_bytes >> 10), p->image_path,
            (unsigned long long)p->image_size, p->cmdline, head);
    }
    check(controls <= 1, "more than one control partition");

    say("TESTMON: boot_info v%u partitions=%u first=%s mem_count=%u usable=%lluM loaded=%lluK "
        "rsdp=%s log_level=%u options='%s' reloc=%s\n",
        (unsigned)bi->version, (unsigned)bi->partition_count, bi->partitions[0].name,
        (unsigned)bi->mem_count, (unsigned long long)(usable >> 20),
        (unsigned long long)(loaded >> 10), bi->acpi_rsdp ? "found" : "none",
        (unsigned)bi->log_level, bi->options, reloc_pointer);
    if (bi->fb.base) {
        check(bi->fb.width && bi->fb.height && bi->fb.pitch >= bi->fb.width &&
              bi->fb.size >= (uint64_t)bi->fb.pitch * bi->fb.height * 4, "framebuffer geometry");
        say("TESTMON: framebuffer %ux%u pitch %u format %u at 0x%llx\n", (unsigned)bi->fb.width,
            (unsigned)bi->fb.height, (unsigned)bi->fb.pitch, (unsigned)bi->fb.format,
            (unsigned long long)bi->fb.base);
    } else {
        say("TESTMON: no framebuffer\n");
    }
    if (bi->acpi_rsdp)
        check(tv_memcmp((const void *)(uintptr_t)bi->acpi_rsdp, "RSD PTR ", 8) == 0, "RSDP signature");
    say("TESTMON: %s\n", failures ? "FAILED" : "PASS");
    outb(EXIT_PORT, failures ? EXIT_FAIL : EXIT_PASS);
}
