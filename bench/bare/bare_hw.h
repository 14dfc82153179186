/* What the bare reference monitor (bare.c) and the timer-loss reproducer
 * (timerloss.c) both need: port and MSR access, polled COM1 output, the
 * register block bench/bare/entry.asm saves, and the SVM set-up both use
 * (host EFER.SVME + host save area, a guest in 32-bit flat protected mode).
 * Header only: each program has its own pages; nothing of vmm/. */
#ifndef BENCH_BARE_HW_H
#define BENCH_BARE_HW_H

#include <stdint.h>

/* The guest registers entry.asm swaps around VMRUN / VMLAUNCH. */
struct gregs { uint64_t rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rax; };

extern uint64_t bare_pml4[512];  /* entry.asm's identity map, also the nested page table */
void bare_svm_run(uint64_t vmcb_pa, struct gregs *g);

/* ---- hardware access ---- */
static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint64_t rdmsr(uint32_t m)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t m, uint64_t v)
{
    __asm__ volatile("wrmsr" :: "c"(m), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* ---- serial output (COM1, polled) ---- */
static inline void putc_(char c)
{
    for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
        ;
    outb(0x3f8, (uint8_t)c);
}
static inline void puts_(const char *s) { while (*s) { if (*s == '\n') putc_('\r'); putc_(*s++); } }

/* ---- SVM (APM vol. 2, appendix B: VMCB layout) ---- */
#define VMCB_AT(vmcb, off, type) (*(volatile type *)((vmcb) + (off)))

/* EFER.SVME, and the host save area VMRUN uses (MSR VM_HSAVE_PA). */
static inline void svm_enable(uint8_t *hsave)
{
    wrmsr(0xc0000080, rdmsr(0xc0000080) | (1u << 12));
    wrmsr(0xc0010117, (uint64_t)(uintptr_t)hsave);
}

/* One segment of the VMCB's state-save area: selector, attributes, limit,
 * base 0. */
static inline void svm_seg(uint8_t *vmcb, uint32_t off, uint16_t sel, uint16_t attr, uint32_t limit)
{
    VMCB_AT(vmcb, off, uint16_t) = sel;
    VMCB_AT(vmcb, off + 2, uint16_t) = attr;
    VMCB_AT(vmcb, off + 4, uint32_t) = limit;
    VMCB_AT(vmcb, off + 8, uint64_t) = 0;
}

/* The guest's state at entry: 32-bit flat protected mode (CS 0x08, data
 * 0x10, 4 GiB segments), paging off, IF=0, RIP = entry. */
static inline void svm_guest_flat32(uint8_t *vmcb, uint32_t entry)
{
    svm_seg(vmcb, 0x400, 0x10, 0xc93, 0xffffffff);   /* ES */
    svm_seg(vmcb, 0x410, 0x08, 0xc9b, 0xffffffff);   /* CS */
    svm_seg(vmcb, 0x420, 0x10, 0xc93, 0xffffffff);   /* SS */
    svm_seg(vmcb, 0x430, 0x10, 0xc93, 0xffffffff);   /* DS */
    svm_seg(vmcb, 0x440, 0x10, 0xc93, 0xffffffff);   /* FS */
    svm_seg(vmcb, 0x450, 0x10, 0xc93, 0xffffffff);   /* GS */
    svm_seg(vmcb, 0x460, 0, 0, 0xffff);              /* GDTR */
    svm_seg(vmcb, 0x470, 0, 0x82, 0xffff);           /* LDTR */
    svm_seg(vmcb, 0x480, 0, 0, 0xffff);              /* IDTR */
    svm_seg(vmcb, 0x490, 0, 0x8b, 0x67);             /* TR */
    VMCB_AT(vmcb, 0x4d0, uint64_t) = 1u << 12;       /* EFER: SVME */
    VMCB_AT(vmcb, 0x558, uint64_t) = 0x11;           /* CR0: PE | ET */
    VMCB_AT(vmcb, 0x560, uint64_t) = 0x400;          /* DR7 */
    VMCB_AT(vmcb, 0x568, uint64_t) = 0xffff0ff0;     /* DR6 */
    VMCB_AT(vmcb, 0x570, uint64_t) = 2;              /* RFLAGS: IF=0 */
    VMCB_AT(vmcb, 0x578, uint64_t) = entry;          /* RIP */
    VMCB_AT(vmcb, 0x668, uint64_t) = 0x0007040600070406ull; /* guest PAT: the reset value */
}

#endif
