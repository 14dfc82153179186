/* triple_fault: prints one line, then loads an empty IDT and raises an
 * exception: #BP cannot be delivered -> #GP -> #DF -> triple fault (shutdown).
 * The monitor must stop this partition and nothing else. */
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    guest_printf("triple_fault: about to triple-fault\n");
    cpu_cli();
    guest_idt_load_empty();
    __asm__ volatile("int3" ::: "memory");
    guest_printf("triple_fault: STILL RUNNING after the triple fault (failure)\n");
    report("triple fault stopped the partition", false);
    guest_exit_summary();
}
