/* C side of the boot: parses the boot protocol's information into struct
 * guest_boot, brings up the CPU tables and devices the library offers, then
 * runs guest_main(). */
#include "guest.h"
#include "guest_internal.h"
#include "tv_string.h"

#define MB1_BOOT_MAGIC  0x2BADB002u
#define PVH_START_MAGIC 0x336ec578u

/* Multiboot1 information (the fields we use). */
#define MB1_INFO_MEM     (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MMAP    (1u << 6)
struct mb1_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;   /* KiB below 1 MiB / above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));
struct mb1_mmap_entry {
    uint32_t size;                   /* of the rest of the entry */
    uint64_t addr, len;
    uint32_t type;
} __attribute__((packed));

/* struct hvm_start_info (Xen public/arch-x86/hvm/start_info.h), version 1. */
struct pvh_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
    uint64_t memmap_paddr;           /* version >= 1 */
    uint32_t memmap_entries, reserved;
};
struct pvh_memmap_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
};
#define E820_RAM 1

static struct guest_boot boot;

const struct guest_boot *guest_boot_info_get(void) { return &boot; }

const char *guest_boot_protocol_name(enum guest_boot_protocol p)
{
    switch (p) {
    case GUEST_BOOT_MULTIBOOT1: return "multiboot1";
    case GUEST_BOOT_PVH: return "pvh";
    default: return "unknown";
    }
}

static void copy_cmdline(uint64_t gpa)
{
    if (gpa == 0 || gpa >= (4ull << 30) - GUEST_CMDLINE_MAX)
        return;   /* outside our identity map: ignore rather than fault */
    tv_strlcpy(boot.cmdline, (const char *)(uintptr_t)gpa, sizeof(boot.cmdline));
}

static void ram_range(uint64_t addr, uint64_t len, uint32_t type)
{
    if (type != E820_RAM || len == 0)
        return;
    uint64_t end = addr + len;
    if (end < addr)
        return;   /* wraps: malformed */
    if (end > boot.mem_bytes)
        boot.mem_bytes = end;
    if (boot.ram_count < GUEST_MAX_RAM_RANGES) {
        boot.ram[boot.ram_count].base = addr;
        boot.ram[boot.ram_count].len = len;
        boot.ram_count++;
    }
}

static void parse_multiboot1(uint32_t info_gpa)
{
    const struct mb1_info *mbi = (const struct mb1_info *)(uintptr_t)info_gpa;
    if (mbi->flags & MB1_INFO_CMDLINE)
        copy_cmdline(mbi->cmdline);
    if (mbi->flags & MB1_INFO_MMAP) {
        uint32_t off = 0;
        while (off + sizeof(struct mb1_mmap_entry) <= mbi->mmap_length) {
            const struct mb1_mmap_entry *e =
                (const struct mb1_mmap_entry *)(uintptr_t)(mbi->mmap_addr + off);
            ram_range(e->addr, e->len, e->type);
            if (e->size == 0)
                break;
            off += e->size + 4;
        }
    }
    if (boot.mem_bytes == 0 && (mbi->flags & MB1_INFO_MEM)) {
        ram_range(0, (uint64_t)mbi->mem_lower * 1024, E820_RAM);
        ram_range(1ull << 20, (uint64_t)mbi->mem_upper * 1024, E820_RAM);
    }
}

static void parse_pvh(uint32_t info_gpa)
{
    const struct pvh_start_info *si = (const struct pvh_start_info *)(uintptr_t)info_gpa;
    copy_cmdline(si->cmdline_paddr);
    if (si->version >= 1 && si->memmap_paddr != 0) {
        const struct pvh_memmap_entry *map =
            (const struct pvh_memmap_entry *)(uintptr_t)si->memmap_paddr;
        for (uint32_t i = 0; i < si->memmap_entries && i < 128; i++)
            ram_range(map[i].addr, map[i].size, map[i].type);
    }
}

/* Firmware leaves the 8259 PICs delivering IRQ 0-7 on vectors 8-15, where
 * a timer tick would look like a #DF.  Move them to 0x20-0x2f and mask them
 * all.  Only on bare hardware/emulators: Taskvisor gives its guests no PIC,
 * and ports it does not model are not ours to poke. */
static void legacy_pic_quiesce(void)
{
    static const uint16_t cmd[2] = { 0x20, 0xA0 }, data[2] = { 0x21, 0xA1 };
    static const uint8_t base[2] = { 0x20, 0x28 }, cascade[2] = { 0x04, 0x02 };
    for (int i = 0; i < 2; i++) {
        outb(cmd[i], 0x11);          /* ICW1: init, ICW4 follows */
        outb(data[i], base[i]);      /* ICW2: vector base */
        outb(data[i], cascade[i]);   /* ICW3: cascade wiring */
        outb(data[i], 0x01);         /* ICW4: 8086 mode */
        outb(data[i], 0xFF);         /* mask every line */
    }
}

void guest_lib_start(uint32_t magic, uint32_t info_gpa)
{
    serial_init();
    gdt_tss_init();
    traps_init();
    hypercall_init();
    if (!guest_on_taskvisor())
        legacy_pic_quiesce();

    boot.info_gpa = info_gpa;
    if (magic == MB1_BOOT_MAGIC) {
        boot.protocol = GUEST_BOOT_MULTIBOOT1;
        parse_multiboot1(info_gpa);
    } else if (info_gpa != 0 && *(const volatile uint32_t *)(uintptr_t)info_gpa == PVH_START_MAGIC) {
        boot.protocol = GUEST_BOOT_PVH;
        parse_pvh(info_gpa);
    } else {
        boot.protocol = GUEST_BOOT_UNKNOWN;
    }

    int rc = guest_main(&boot);
    guest_exit((uint32_t)rc);
}

__attribute__((noreturn)) void guest_exit(uint32_t code)
{
    outl(TV_GUEST_EXIT_PORT, code);
    /* Still here: no exit device.  Park the CPU. */
    for (;;) {
        cpu_cli();
        cpu_hlt();
    }
}

bool guest_on_taskvisor(void)
{
    if (!(cpuid(1, 0).ecx & (1u << 31)))
        return false;
    struct cpuid_regs r = cpuid(TV_CPUID_BASE, 0);
    return r.ebx == TV_CPUID_SIGNATURE_EBX && r.ecx == TV_CPUID_SIGNATURE_ECX &&
           r.edx == TV_CPUID_SIGNATURE_EDX;
}
