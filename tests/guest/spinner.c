/* spinner: the noisy neighbour.  Prints one line, then spins forever with
 * interrupts off; only the monitor's preemption gets the CPU back. */
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    guest_printf("spinner: spinning with interrupts off\n");
    __asm__ volatile("cli\n1: jmp 1b" ::: "memory");
    __builtin_unreachable();
}
