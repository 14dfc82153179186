#ifndef VMM_X86_TRAP_H
#define VMM_X86_TRAP_H

#include <stdint.h>

/* Layout pushed by entry.asm's trap stubs. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Interrupt vectors the monitor uses. */
#define VEC_TIMER    0xf0
#define VEC_WAKEUP   0xf1   /* self-IPI to reschedule */
#define VEC_SPURIOUS 0xff

typedef void (*irq_handler_t)(struct trap_frame *tf);

void idt_init(void);
void irq_register(uint8_t vector, irq_handler_t handler);

#endif
