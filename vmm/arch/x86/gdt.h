#ifndef VMM_X86_GDT_H
#define VMM_X86_GDT_H

#define GDT_CODE 0x08
#define GDT_DATA 0x10
#define GDT_TSS  0x18

/* IST slots (1-based as the IDT encodes them). */
#define IST_NMI 1
#define IST_DF  2
#define IST_MC  3

struct percpu;
void gdt_init(struct percpu *cpu);

#endif
