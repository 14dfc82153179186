/* Per-CPU data, reached through GS base.  After every #VMEXIT the host's GS
 * base is restored (VMLOAD) before this is read (AMD APM vol. 2 15.5.2). */
#ifndef VMM_PERCPU_H
#define VMM_PERCPU_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/timer.h"

struct thread;
struct vcpu;

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct percpu {
    struct percpu *self;          /* at offset 0: read through %gs:0 */
    uint32_t cpu_id;
    struct thread *current;
    struct thread *idle;
    volatile bool need_resched;
    uint64_t gdt[7];
    struct tss64 tss;
    uint64_t hsave_pa;            /* SVM host save area */
    uint64_t host_vmcb_pa;        /* VMSAVE/VMLOAD area for host state */
    struct vcpu *fpu_owner;       /* whose extended state the FPU holds */
    uint64_t ticks;               /* scheduler ticks taken */
    /* Scheduler run state of this CPU (vmm/kernel/sched.c). */
    struct thread *rq_head[2], *rq_tail[2];
    uint32_t rq_len[2];
    uint64_t class_vtime[2];
    struct timer slice_timer;
    struct thread *dead_thread;
    /* Software timers of this CPU, sorted by deadline (vmm/kernel/timer.c). */
    struct timer *timer_list;
    /* Before this TSC value the watchdog has nothing to look at (timer.c);
     * 0 until the first timer is armed: always look. */
};

#define MAX_CPUS 1

void percpu_init_bsp(void);

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

#endif
