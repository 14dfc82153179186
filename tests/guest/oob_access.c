/* oob_access: reads the guest-physical address just past the end of its RAM.
 * The monitor must stop the partition on that access: any line after the
 * "reading" line means failure. */
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
    if (boot->mem_bytes == 0) {
        report("memory size known from the boot information", false);
        guest_exit_summary();
    }
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)boot->mem_bytes;
    guest_printf("oob_access: reading gpa 0x%lx (RAM is %lu KiB)\n", (unsigned long)boot->mem_bytes,
                 (unsigned long)(boot->mem_bytes >> 10));
    uint64_t v = *p;
    guest_printf("oob_access: read returned 0x%lx: the monitor did not stop the guest\n",
                 (unsigned long)v);
    report("access beyond RAM stopped the partition", false);
    guest_exit_summary();
}
