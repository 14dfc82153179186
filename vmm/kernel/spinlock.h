/* Spinlocks that also disable interrupts on the local CPU, so an interrupt
 * handler never spins on a lock its own CPU holds. */
#ifndef VMM_SPINLOCK_H
#define VMM_SPINLOCK_H

#include <stdbool.h>
#include "arch/x86/cpu.h"

typedef struct {
    volatile int locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline bool spin_lock_irqsave(spinlock_t *l)
{
    bool irq = irq_save();
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            cpu_pause();
    return irq;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, bool irq)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    irq_restore(irq);
}

#endif
