/* The hand-off record from a boot path (UEFI loader, later Multiboot2) to the
 * monitor.  Versioned: the monitor refuses a magic/version/size it does not know.
 * All addresses are physical; the loader leaves memory identity-mapped. */
#ifndef TV_BOOT_INFO_H
#define TV_BOOT_INFO_H

#include <stdint.h>

#define TV_BOOT_INFO_MAGIC    0x4f464e4954425654ull /* "TVBTINFO" little-endian */
#define TV_BOOT_INFO_VERSION  3   /* 2: initrd per partition; 3: virtual disks */

#define TV_BOOT_MAX_MEM         512
#define TV_BOOT_MAX_PARTITIONS  8
#define TV_BOOT_NAME_LEN        32
#define TV_BOOT_CMDLINE_LEN     256
#define TV_BOOT_PATH_LEN        128
#define TV_BOOT_MAX_DISKS       4   /* virtual disks per VM */

/* Memory region types.  Only TV_MEM_USABLE may be handed out by the monitor's
 * page allocator; everything else is kept away from the monitor and guests. */
enum tv_mem_type {
    TV_MEM_USABLE       = 1, /* free RAM (conventional, boot-services code/data after exit) */
    TV_MEM_RESERVED     = 2, /* reserved / unusable / unknown */
    TV_MEM_ACPI_RECLAIM = 3, /* ACPI tables */
    TV_MEM_ACPI_NVS     = 4,
    TV_MEM_FW_RUNTIME   = 5, /* UEFI runtime services code/data */
    TV_MEM_LOADED       = 6, /* monitor image, partition images, boot_info, loader data */
    TV_MEM_BAD          = 7,
    TV_MEM_MMIO         = 8,
    TV_MEM_PERSISTENT   = 9,
};

struct tv_boot_mem_region {
    uint64_t base;
    uint64_t length;
    uint32_t type;      /* enum tv_mem_type */
    uint32_t reserved;
};

#define TV_PART_CONTROL  (1u << 0)  /* the control partition (at most one) */
/* "autostart = no": a VM definition only; the control partition starts it
 * (VM_STARTUP).  Clear (the default) starts it at boot, as before. */
#define TV_PART_NO_AUTOSTART (1u << 1)

/* How a VM uses a virtual disk ("disk = VOLUME:/path.vhd"): the hook for
 * undo disks (a differencing child made at Startup, kept, discarded or
 * merged at TurnOff).  Only NORMAL exists so far: the image itself is
 * opened for writing for the run. */
enum tv_disk_mode {
    TV_DISK_MODE_NORMAL = 0,
};

struct tv_boot_disk {
    char path[TV_BOOT_PATH_LEN];          /* "VOLUME:/path.vhd" in the image store */
    uint32_t mode;                        /* enum tv_disk_mode */
    uint32_t line;                        /* config line, for messages */
};

struct tv_boot_partition {
    char name[TV_BOOT_NAME_LEN];          /* NUL-terminated */
    char image_path[TV_BOOT_PATH_LEN];    /* as written in the config, for messages */
    uint64_t image_phys;                  /* image file bytes, loaded as-is */
    uint64_t image_size;
    uint64_t memory_bytes;                /* guest RAM size */
    uint32_t flags;                       /* TV_PART_* */
    uint32_t vcpus;                       /* 1 for now */
    char cmdline[TV_BOOT_CMDLINE_LEN];    /* NUL-terminated */
    char initrd_path[TV_BOOT_PATH_LEN];   /* "" when none */
    uint64_t initrd_phys;                 /* initial ramdisk file bytes (0 when none) */
    uint64_t initrd_size;
    uint32_t disk_count;                  /* virtio-blk disks, in PCI slot order */
    uint32_t reserved;
    struct tv_boot_disk disks[TV_BOOT_MAX_DISKS];
};

enum tv_log_level {
    TV_LOG_ERROR = 0,
    TV_LOG_WARN  = 1,
    TV_LOG_INFO  = 2,
    TV_LOG_DEBUG = 3,
    TV_LOG_TRACE = 4,
};

enum tv_boot_path {
    TV_BOOT_PATH_UEFI       = 1,
    TV_BOOT_PATH_MULTIBOOT2 = 2,
};

struct tv_boot_framebuffer {
    uint64_t base;      /* 0 when none */
    uint64_t size;
    uint32_t width, height;
    uint32_t pitch;     /* pixels per scan line */
    uint32_t format;    /* EFI_GRAPHICS_PIXEL_FORMAT value */
};

struct tv_boot_info {
    uint64_t magic;                 /* TV_BOOT_INFO_MAGIC */
    uint32_t version;               /* TV_BOOT_INFO_VERSION */
    uint32_t size;                  /* sizeof(struct tv_boot_info) */
    uint32_t boot_path;             /* enum tv_boot_path */
    uint32_t log_level;             /* enum tv_log_level */
    uint64_t monitor_phys;          /* where the monitor image was placed */
    uint64_t monitor_size;          /* bytes of the loaded image incl. bss */
    uint64_t acpi_rsdp;             /* physical address, 0 if not found */
    struct tv_boot_framebuffer fb;
    uint32_t mem_count;
    uint32_t partition_count;
    struct tv_boot_mem_region mem[TV_BOOT_MAX_MEM];        /* sorted by base, no overlaps */
    struct tv_boot_partition partitions[TV_BOOT_MAX_PARTITIONS];
    char options[TV_BOOT_CMDLINE_LEN]; /* monitor options from the config, key=value ... */
};

#endif
