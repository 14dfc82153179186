/* Boot-protocol structures the loaders read or write, written from the
 * public ELF, Multiboot 0.6.96 and Xen PVH (hvm_start_info) descriptions.
 * Everything is little-endian; structs are only used for layout (sizes are
 * asserted), images are read byte-wise through guestload_bytes.h. */
#ifndef VMM_GUESTLOAD_BOOT_ABI_H
#define VMM_GUESTLOAD_BOOT_ABI_H

#include <stdint.h>

/* ---- ELF ---- */
#define ELF_CLASS32     1
#define ELF_CLASS64     2
#define ELF_DATA_LSB    1
#define ELF_ET_EXEC     2
#define ELF_EM_386      3
#define ELF_EM_X86_64   62
#define ELF_PT_LOAD     1
#define ELF_PT_INTERP   3
#define ELF_PT_NOTE     4
#define ELF32_EHDR_SIZE 52u
#define ELF64_EHDR_SIZE 64u
#define ELF32_PHDR_SIZE 32u
#define ELF64_PHDR_SIZE 56u
#define ELF_PN_XNUM     0xffffu

/* ---- PVH ---- */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC          0x336ec578u
#define HVM_START_VERSION        1u

struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;      /* version >= 1 */
    uint32_t memmap_entries;
    uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");

struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;              /* E820 type */
    uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap entry layout");

#define E820_RAM       1
#define E820_RESERVED  2

/* ---- Multiboot 1 ---- */
#define MB1_HEADER_MAGIC      0x1BADB002u
#define MB1_BOOTLOADER_MAGIC  0x2BADB002u
#define MB1_SEARCH_BYTES      8192u
#define MB1_HDR_PAGE_ALIGN    (1u << 0)   /* modules page aligned: no modules, trivially met */
#define MB1_HDR_MEMORY_INFO   (1u << 1)   /* always provided */
#define MB1_HDR_VIDEO_MODE    (1u << 2)   /* not supported: refused */
#define MB1_HDR_AOUT_KLUDGE   (1u << 16)

#define MB1_INFO_MEMORY       (1u << 0)
#define MB1_INFO_CMDLINE      (1u << 2)
#define MB1_INFO_MEM_MAP      (1u << 6)
#define MB1_INFO_LOADER_NAME  (1u << 9)

struct mb1_info {
    uint32_t flags;
    uint32_t mem_lower;         /* KiB from 0 */
    uint32_t mem_upper;         /* KiB from 1 MiB to the first hole */
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe_control_info;
    uint32_t vbe_mode_info;
    uint16_t vbe_mode;
    uint16_t vbe_interface_seg;
    uint16_t vbe_interface_off;
    uint16_t vbe_interface_len;
    uint8_t framebuffer[28];    /* framebuffer_* fields: unused (flags bit 12 clear) */
};
_Static_assert(sizeof(struct mb1_info) == 116, "multiboot_info layout");

/* One mmap entry: `size` counts the bytes after itself (20). */
struct __attribute__((packed)) mb1_mmap_entry {
    uint32_t size;
    uint64_t addr;
    uint64_t len;
    uint32_t type;
};
_Static_assert(sizeof(struct mb1_mmap_entry) == 24, "multiboot mmap entry layout");

/* ---- Linux x86 boot protocol (Documentation/arch/x86/boot.rst) ----
 * Offsets in the bzImage file and in the zero page (struct boot_params);
 * the setup header sits at the same offset in both. */
#define LNX_SETUP_SECTS      0x1f1   /* u8: 512-byte setup sectors after the boot sector (0 = 4) */
#define LNX_BOOT_FLAG        0x1fe   /* u16: 0xAA55 */
#define LNX_JUMP             0x200   /* u16: jmp; byte 0x201 + 0x202 = end of the header */
#define LNX_HEADER           0x202   /* u32: "HdrS" */
#define LNX_VERSION          0x206   /* u16: protocol version */
#define LNX_TYPE_OF_LOADER   0x210   /* u8 */
#define LNX_LOADFLAGS        0x211   /* u8 */
#define LNX_CODE32_START     0x214   /* u32 */
#define LNX_RAMDISK_IMAGE    0x218   /* u32 */
#define LNX_RAMDISK_SIZE     0x21c   /* u32 */
#define LNX_CMD_LINE_PTR     0x228   /* u32 */
#define LNX_INITRD_ADDR_MAX  0x22c   /* u32 */
#define LNX_KERNEL_ALIGNMENT 0x230   /* u32 */
#define LNX_RELOCATABLE      0x234   /* u8 */
#define LNX_XLOADFLAGS       0x236   /* u16 */
#define LNX_CMDLINE_SIZE     0x238   /* u32: longest command line without the NUL */
#define LNX_PREF_ADDRESS     0x258   /* u64 */
#define LNX_INIT_SIZE        0x260   /* u32: memory from the load address the kernel needs */
#define LNX_HEADER_END_MAX   0x290   /* the zero page's setup header area ends here */

#define LNX_HDRS_MAGIC       0x53726448u   /* "HdrS" */
#define LNX_MIN_VERSION      0x020au       /* 2.10: pref_address, init_size */
#define LNX_LOADED_HIGH      0x01          /* loadflags: protected-mode code at 1 MiB or above */
#define LNX_LOADER_UNDEFINED 0xff          /* type_of_loader: a loader with no assigned id */

/* Zero page fields outside the setup header. */
#define LNX_ZP_EXT_RAMDISK_IMAGE 0x0c0     /* u32: bits 63:32 of ramdisk_image */
#define LNX_ZP_EXT_RAMDISK_SIZE  0x0c4
#define LNX_ZP_EXT_CMD_LINE_PTR  0x0c8
#define LNX_ZP_E820_ENTRIES      0x1e8     /* u8 */
#define LNX_ZP_E820_TABLE        0x2d0     /* 20-byte entries: addr u64, size u64, type u32 */
#define LNX_ZP_E820_MAX          128u
#define LNX_ZP_SIZE              0x1000u

#endif
