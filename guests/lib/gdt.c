/* GDT and 64-bit TSS.  The GDT is used from the very first instruction
 * (entry.asm loads it through its 32-bit pointer guest_gdt_ptr32), so it is
 * static data; the TSS descriptor is filled in at run time. */
#include "guest.h"
#include "guest_internal.h"

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iopb_offset;
} __attribute__((packed));

/* Access byte | flags nibble for each flat segment. */
#define SEG(access, flags) (((uint64_t)(flags) << 52) | ((uint64_t)(access) << 40) | \
                            0x000F00000000FFFFull)

uint64_t guest_gdt[8] __attribute__((aligned(16))) = {
    [0] = 0,
    [SEL_KCODE64 / 8] = SEG(0x9A, 0x2),   /* present, DPL0, code; L = 1 */
    [SEL_KDATA / 8]   = SEG(0x92, 0xC),   /* present, DPL0, data; 4 KiB granular, 32-bit */
    [SEL_KCODE32 / 8] = SEG(0x9A, 0xC),   /* 32-bit code for the boot path */
    [SEL_UDATA / 8]   = SEG(0xF2, 0xC),   /* DPL3 data */
    [SEL_UCODE64 / 8] = SEG(0xFA, 0x2),   /* DPL3 64-bit code */
    /* [6], [7]: 16-byte TSS descriptor, written by gdt_tss_init() */
};

static struct tss64 tss __attribute__((aligned(16)));
/* Stack used when a trap arrives from CPL 3 (TSS.RSP0). */
static uint8_t ring0_stack[16384] __attribute__((aligned(16)));

void gdt_tss_init(void)
{
    uint64_t base = (uint64_t)(uintptr_t)&tss;
    uint64_t limit = sizeof(tss) - 1;
    tss.rsp[0] = (uint64_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.iopb_offset = sizeof(tss);   /* no I/O bitmap: CPL 3 port access faults */
    guest_gdt[SEL_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
                             (0x89ull << 40) |              /* present, 64-bit TSS available */
                             (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    guest_gdt[SEL_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" :: "r"((uint16_t)SEL_TSS) : "memory");
}
