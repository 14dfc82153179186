#ifndef VMM_X86_TRAP_H
#define VMM_X86_TRAP_H

#include <stdint.h>
#include "taskvisor/status.h"

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

/* Host NMIs (an NMI button, a watchdog, QEMU's "nmi", LINT1): counted and
 * the monitor goes on.  trap_host_nmi is the handler body, safe in NMI
 * context (no locks, no log); VMX calls it directly for an NMI that exited
 * a guest.  trap_nmi_report logs the NMIs counted since its last call, from
 * an ordinary thread context. */
void trap_host_nmi(void);
uint64_t trap_nmi_count(void);
/* Both handlers also count into trap_report_events, so that the exit
 * path's call costs one compare while there is nothing to log. */
extern volatile uint64_t trap_report_events;
extern uint64_t trap_report_seen;
void trap_report_slow(void);
static inline void trap_nmi_report(void)
{
    if (__atomic_load_n(&trap_report_events, __ATOMIC_RELAXED) != trap_report_seen)
        trap_report_slow();
}
void irq_register(uint8_t vector, irq_handler_t handler);

/* Device interrupts (MSI/MSI-X): a free vector from IRQ_DYN_FIRST..LAST
 * bound to fn(ctx), which runs with interrupts off; the dispatcher sends the
 * local APIC's EOI after it.  TV_E_LIMIT when every vector is taken. */
#define IRQ_DYN_FIRST 0x40
#define IRQ_DYN_LAST  0xdf
typedef void (*irq_device_fn)(void *ctx);
tv_status_t irq_alloc_vector(irq_device_fn fn, void *ctx, uint8_t *vector);

#endif
