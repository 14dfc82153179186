/* GDT and TSS with IST stacks for NMI, #DF and #MC (SDM vol. 3 7.7, 6.14.5). */
#include "arch/x86/gdt.h"
#include "arch/x86/cpu.h"
#include "kernel/percpu.h"
#include "tv_string.h"

#define IST_STACK_SIZE 8192
static uint8_t ist_stacks[MAX_CPUS][3][IST_STACK_SIZE] __attribute__((aligned(16)));

struct gdtr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

void gdt_load(void *gdtr, uint16_t code_sel, uint16_t data_sel, uint16_t tss_sel);

void gdt_init(struct percpu *cpu)
{
    uint64_t *g = cpu->gdt;
    g[0] = 0;
    g[1] = 0x00af9a000000ffffull; /* 0x08: 64-bit code, DPL0 */
    g[2] = 0x00cf92000000ffffull; /* 0x10: data, DPL0 */
    tv_memset(&cpu->tss, 0, sizeof cpu->tss);
    for (int i = 0; i < 3; i++)
        cpu->tss.ist[i] = (uint64_t)(uintptr_t)&ist_stacks[cpu->cpu_id][i][IST_STACK_SIZE];
    cpu->tss.iomap_base = sizeof cpu->tss; /* no I/O bitmap */
    uint64_t base = (uint64_t)(uintptr_t)&cpu->tss;
    uint64_t limit = sizeof cpu->tss - 1;
    g[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
           (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    g[4] = base >> 32;
    g[5] = 0;
    g[6] = 0;
    struct gdtr r = { (uint16_t)(sizeof cpu->gdt - 1), (uint64_t)(uintptr_t)g };
    gdt_load(&r, GDT_CODE, GDT_DATA, GDT_TSS);
}
