#include "kernel/percpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"

static struct percpu cpus[MAX_CPUS];

void percpu_init_bsp(void)
{
    struct percpu *cpu = &cpus[0];
    cpu->self = cpu;
    cpu->cpu_id = 0;
    gdt_init(cpu);
    /* gdt_load cleared GS; point GS base at this CPU's block. */
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)cpu);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}
