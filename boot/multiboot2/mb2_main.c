/* The Multiboot2 boot path: GRUB loads this loader plus the modules named in
 * grub.cfg (the config as "taskvisor.cfg", the monitor and every partition
 * image under the path the config uses).  We build the same struct
 * tv_boot_info as the UEFI loader and enter the monitor.  Errors print one
 * line on COM1 and stop. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "boot/common/boot_info.h"
#include "boot/common/boot_config.h"
#include "boot/common/mem_map.h"
#include "boot/common/monitor_elf.h"
#include "mb2_info.h"
#include "tv_fmt.h"
#include "tv_string.h"

#define CONFIG_MODULE "taskvisor.cfg"
#define COM1 0x3f8
#define PAGE 4096ull

void mb2_main(uint32_t magic, uint32_t info_pa);
void mb2_enter_monitor(uint64_t entry, struct tv_boot_info *bi);
extern char __mb2_image_start[], __mb2_image_end[];

static struct tv_boot_info boot_info;
static struct tv_boot_config config;
static struct tv_mb2_info mb2;
/* MB2 map + loaded regions, as EFI descriptors for tv_mem_map_convert. */
static struct tv_efi_mem_desc descs[2 * TV_MB2_MAX_MMAP + 2 * TV_MB2_MAX_MODULES + 8];

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void serial_init(void)
{
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x01);   /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1 */
    outb(COM1 + 2, 0xc7);
    outb(COM1 + 4, 0x03);
}

static void serial_puts(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n') {
            while (!(inb(COM1 + 5) & 0x20)) {}
            outb(COM1, '\r');
        }
        while (!(inb(COM1 + 5) & 0x20)) {}
        outb(COM1, (uint8_t)*s);
    }
}

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    tv_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    serial_puts(buf);
}

__attribute__((noreturn, format(printf, 1, 2)))
static void fail(const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    tv_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    serial_puts("taskvisor (multiboot2): ");
    serial_puts(buf);
    serial_puts("\ntaskvisor (multiboot2): cannot start\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Module strings may carry a leading '/' (grub.cfg habits); config paths may
 * use '\\' as on the ESP.  Compare them as the same path. */
static bool same_path(const char *module, const char *cfg)
{
    while (*module == '/')
        module++;
    while (*cfg == '/' || *cfg == '\\')
        cfg++;
    for (; *module && *cfg; module++, cfg++) {
        char a = *module == '\\' ? '/' : *module, b = *cfg == '\\' ? '/' : *cfg;
        if (a != b)
            return false;
    }
    return *module == 0 && *cfg == 0;
}

static const struct tv_mb2_module *find_module(const char *path)
{
    for (uint32_t i = 0; i < mb2.module_count; i++)
        if (same_path(mb2.modules[i].string, path))
            return &mb2.modules[i];
    return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static uint32_t desc_count;
static void add_desc(uint32_t efi_type, uint64_t start, uint64_t end)
{
    if (end <= start || desc_count == sizeof descs / sizeof descs[0])
        return;
    struct tv_efi_mem_desc *d = &descs[desc_count++];
    d->type = efi_type;
    d->phys_start = start;
    d->pages = (end - start) / PAGE;
}

/* EFI memory types the converter understands (UEFI spec table 7.10). */
enum { EFI_RESERVED = 0, EFI_CONVENTIONAL = 7, EFI_UNUSABLE = 8, EFI_ACPI_RECLAIM = 9,
       EFI_ACPI_NVS = 10 };

static uint64_t kept_start[TV_MB2_MAX_MODULES + 3], kept_end[TV_MB2_MAX_MODULES + 3];
static uint32_t kept_count;
static void keep(uint64_t start, uint64_t end)
{
    kept_start[kept_count] = start & ~(PAGE - 1);
    kept_end[kept_count] = align_up(end, PAGE);
    add_desc(TV_EFI_MEMTYPE_LOADED, kept_start[kept_count], kept_end[kept_count]);
    kept_count++;
}

/* Free RAM [s, e) minus every kept range (the converter drops free memory
 * that overlaps anything, so cut the kept ranges out here). */
static void add_free(uint64_t s, uint64_t e)
{
    for (uint32_t i = 0; i < kept_count && s < e; i++) {
        if (kept_end[i] <= s || kept_start[i] >= e)
            continue;
        add_free(s, kept_start[i] > s ? kept_start[i] : s);
        s = kept_end[i];
    }
    if (s < e)
        add_desc(EFI_CONVENTIONAL, s, e);
}

static void build_memory_map(uint64_t mon_base, uint64_t mon_span, uint64_t info_pa)
{
    /* What the monitor keeps: this loader (it holds boot_info), the
     * modules (partition images), the monitor, the boot information. */
    keep((uint64_t)(uintptr_t)__mb2_image_start, (uint64_t)(uintptr_t)__mb2_image_end);
    for (uint32_t i = 0; i < mb2.module_count; i++)
        keep(mb2.modules[i].start, mb2.modules[i].end);
    keep(mon_base, mon_base + mon_span);
    keep(info_pa, info_pa + mb2.total_size);
    for (uint32_t i = 0; i < mb2.mmap_count; i++) {
        const struct tv_mb2_mmap_entry *m = &mb2.mmap[i];
        uint64_t end = m->base + m->length;
        if (end < m->base)
            end = ~0ull & ~(PAGE - 1);
        if (m->type == TV_MB2_MEM_AVAILABLE) {
            /* Free RAM shrinks to whole pages, and the first MiB (BIOS data,
             * EBDA, option ROMs) stays with the firmware. */
            uint64_t s = align_up(m->base, PAGE), e = end & ~(PAGE - 1);
            if (s < 0x100000)
                s = 0x100000;
            add_free(s, e);
        } else {
            uint32_t t = m->type == TV_MB2_MEM_ACPI ? EFI_ACPI_RECLAIM :
                         m->type == TV_MB2_MEM_NVS ? EFI_ACPI_NVS :
                         m->type == TV_MB2_MEM_BAD ? EFI_UNUSABLE : EFI_RESERVED;
            add_desc(t, m->base & ~(PAGE - 1), align_up(end, PAGE));
        }
    }
    uint32_t count;
    tv_status_t st = tv_mem_map_convert(descs, desc_count, sizeof descs[0], boot_info.mem,
                                        TV_BOOT_MAX_MEM, &count);
    if (st != TV_OK)
        fail("cannot convert the memory map (status %d)", st);
    boot_info.mem_count = count;
}

/* The monitor goes above everything GRUB placed, inside one free region. */
static uint64_t place_monitor(const struct tv_elf_image *img, uint64_t info_pa)
{
    uint64_t floor = (uint64_t)(uintptr_t)__mb2_image_end;
    for (uint32_t i = 0; i < mb2.module_count; i++)
        if (mb2.modules[i].end > floor)
            floor = mb2.modules[i].end;
    if (info_pa + mb2.total_size > floor)
        floor = info_pa + mb2.total_size;
    uint64_t base = align_up(floor, img->align);
    for (uint32_t i = 0; i < mb2.mmap_count; i++) {
        const struct tv_mb2_mmap_entry *m = &mb2.mmap[i];
        if (m->type != TV_MB2_MEM_AVAILABLE)
            continue;
        uint64_t s = base > m->base ? base : align_up(m->base, img->align);
        if (s + img->span <= m->base + m->length && s + img->span <= 0x100000000ull)
            return s;
    }
    fail("no free memory for the monitor (%llu KiB) above %#llx",
         (unsigned long long)(img->span >> 10), (unsigned long long)base);
}

static uint64_t find_rsdp(void)
{
    /* ACPI spec 5.2.5.1: the EBDA's first KiB, then 0xE0000-0xFFFFF. */
    uint16_t seg;
    uintptr_t bda = 0x40e;   /* kept opaque: GCC warns about constant addresses */
    __asm__("" : "+r"(bda));
    tv_memcpy(&seg, (const void *)bda, sizeof seg);
    uint64_t ebda = (uint64_t)seg << 4;
    uint64_t ranges[2][2] = { { ebda, ebda + 1024 }, { 0xe0000, 0x100000 } };
    for (int r = 0; r < 2; r++) {
        if (ranges[r][0] < 0x400 || ranges[r][1] > 0x100000)
            continue;
        for (uint64_t a = ranges[r][0]; a + 20 <= ranges[r][1]; a += 16) {
            const uint8_t *p = (const uint8_t *)(uintptr_t)a;
            if (tv_memcmp(p, "RSD PTR ", 8) != 0)
                continue;
            uint8_t sum = 0;
            for (int i = 0; i < 20; i++)
                sum += p[i];
            if (sum == 0)
                return a;
        }
    }
    return 0;
}

void mb2_main(uint32_t magic, uint32_t info_pa)
{
    char why[200];
    serial_init();
    if (magic != TV_MB2_BOOT_MAGIC)
        fail("not started by a Multiboot2 loader (EAX %#x)", magic);
    /* The information lies below 4 GiB; its size is its first word. */
    const void *info = (const void *)(uintptr_t)info_pa;
    tv_status_t st = tv_mb2_parse(info, 1u << 20, &mb2, why, sizeof why);
    if (st != TV_OK)
        fail("boot information: %s", why);

    const struct tv_mb2_module *cfg_mod = find_module(CONFIG_MODULE);
    if (!cfg_mod)
        fail("no module named '%s' (grub.cfg: module2 <file> %s)", CONFIG_MODULE, CONFIG_MODULE);
    struct tv_config_error err;
    st = tv_boot_config_parse((const char *)(uintptr_t)cfg_mod->start,
                              cfg_mod->end - cfg_mod->start, &config, &err);
    if (st != TV_OK) {
        tv_boot_config_format_error(why, sizeof why, CONFIG_MODULE, &err);
        fail("%s", why);
    }
    const struct tv_mb2_module *mon_mod = find_module(config.monitor_path);
    if (!mon_mod)
        fail("%s:%u: monitor '%s': no module of that name", CONFIG_MODULE,
             (unsigned)config.monitor_line, config.monitor_path);

    struct tv_boot_info *bi = &boot_info;
    tv_memset(bi, 0, sizeof *bi);
    bi->magic = TV_BOOT_INFO_MAGIC;
    bi->version = TV_BOOT_INFO_VERSION;
    bi->size = sizeof *bi;
    bi->boot_path = TV_BOOT_PATH_MULTIBOOT2;
    bi->log_level = config.log_level;
    tv_strlcpy(bi->options, config.options, sizeof bi->options);
    for (uint32_t i = 0; i < config.partition_count; i++) {
        const struct tv_config_partition *cp = &config.partitions[i];
        struct tv_boot_partition *bp = &bi->partitions[i];
        const struct tv_mb2_module *m = find_module(cp->image_path);
        if (!m)
            fail("%s:%u: partition '%s': image '%s': no module of that name", CONFIG_MODULE,
                 (unsigned)cp->image_line, cp->name, cp->image_path);
        uint64_t size = m->end - m->start;
        if (size == 0)
            fail("%s:%u: partition '%s': image '%s': file is empty", CONFIG_MODULE,
                 (unsigned)cp->image_line, cp->name, cp->image_path);
        if (size > cp->memory_bytes)
            fail("%s:%u: partition '%s': image '%s': the file (%llu bytes) is larger than the "
                 "partition's memory", CONFIG_MODULE, (unsigned)cp->image_line, cp->name,
                 cp->image_path, (unsigned long long)size);
        tv_strlcpy(bp->name, cp->name, sizeof bp->name);
        tv_strlcpy(bp->image_path, cp->image_path, sizeof bp->image_path);
        tv_strlcpy(bp->cmdline, cp->cmdline, sizeof bp->cmdline);
        bp->image_phys = m->start;
        bp->image_size = size;
        bp->memory_bytes = cp->memory_bytes;
        bp->flags = cp->flags;
        bp->vcpus = 1;
        /* Virtual disks are opened by the monitor, in its image store. */
        bp->disk_count = cp->disk_count;
        tv_memcpy(bp->disks, cp->disks, sizeof bp->disks);
        if (cp->initrd_path[0]) {
            const struct tv_mb2_module *r = find_module(cp->initrd_path);
            if (!r)
                fail("%s:%u: partition '%s': initrd '%s': no module of that name", CONFIG_MODULE,
                     (unsigned)cp->initrd_line, cp->name, cp->initrd_path);
            uint64_t rsize = r->end - r->start;
            if (rsize == 0 || rsize > cp->memory_bytes)
                fail("%s:%u: partition '%s': initrd '%s': the file (%llu bytes) is empty or "
                     "larger than the partition's memory", CONFIG_MODULE,
                     (unsigned)cp->initrd_line, cp->name, cp->initrd_path,
                     (unsigned long long)rsize);
            tv_strlcpy(bp->initrd_path, cp->initrd_path, sizeof bp->initrd_path);
            bp->initrd_phys = r->start;
            bp->initrd_size = rsize;
        }
        bi->partition_count = i + 1;
    }

    const void *file = (const void *)(uintptr_t)mon_mod->start;
    size_t file_size = (size_t)(mon_mod->end - mon_mod->start);
    struct tv_elf_image img;
    st = tv_elf_inspect(file, file_size, &img, why, sizeof why);
    if (st != TV_OK)
        fail("monitor '%s': %s", config.monitor_path, why);
    uint64_t base = place_monitor(&img, info_pa);
    st = tv_elf_load(file, file_size, &img, (void *)(uintptr_t)base, base, why, sizeof why);
    if (st != TV_OK)
        fail("monitor '%s': %s", config.monitor_path, why);
    bi->monitor_phys = base;
    bi->monitor_size = img.span;
    bi->acpi_rsdp = find_rsdp();
    build_memory_map(base, img.span, info_pa);
    if (config.log_level >= TV_LOG_INFO)
        say("taskvisor (multiboot2): monitor at %#llx (%llu KiB), %u partitions, %u memory "
            "regions\n", (unsigned long long)base, (unsigned long long)(img.span >> 10),
            (unsigned)bi->partition_count, (unsigned)bi->mem_count);
    if (config.log_level >= TV_LOG_DEBUG)
        for (uint32_t i = 0; i < bi->mem_count; i++)
            say("taskvisor (multiboot2): memory %#llx-%#llx type %u\n",
                (unsigned long long)bi->mem[i].base,
                (unsigned long long)(bi->mem[i].base + bi->mem[i].length), bi->mem[i].type);
    /* The BIOS leaves the 8259 PICs delivering the PIT on vector 8 (the
     * #DF vector); UEFI leaves them masked, and the monitor expects that. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    mb2_enter_monitor(base + img.entry, bi);
}
