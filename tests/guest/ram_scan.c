/* ram_scan: reads every aligned 64-bit word of its guest-physical RAM outside
 * its own image (code, data, bss with stack and page tables) and the boot
 * information page, and reports every word that is not zero.  The monitor
 * zeroes guest RAM lazily (a 2 MiB chunk on first use, vm/partition.c);
 * test builds poison the chunks beforehand (the "MEMNOISP" pattern), so a
 * chunk shown to a guest before it was zeroed is found here.  Run with
 * 512 MiB (tests/integration/scenarios/ram_scan_512m.cfg). */
#include "guest.h"

extern char __image_start[], __bss_end[];

int guest_main(const struct guest_boot *boot)
{
    uint64_t img0 = (uint64_t)(uintptr_t)__image_start, img1 = (uint64_t)(uintptr_t)__bss_end;
    uint64_t info0 = boot->info_gpa & ~0xfffull, info1 = info0 + 0x2000;
    uint64_t words = 0, nonzero = 0, poison = 0;
    /* The pattern is built at run time so this image never holds it. */
    volatile uint64_t seed = 0x5053494f4e4d454cull;
    const uint64_t pattern = seed + 1;
    for (unsigned r = 0; r < boot->ram_count; r++) {
        uint64_t base = (boot->ram[r].base + 7) & ~7ull;
        uint64_t end = (boot->ram[r].base + boot->ram[r].len) & ~7ull;
        if (end > (4ull << 30))
            end = 4ull << 30;
        guest_printf("ram_scan: scanning RAM 0x%lx-0x%lx\n", (unsigned long)base, (unsigned long)end);
        for (uint64_t gpa = base; gpa < end; gpa += 8) {
            if ((gpa >= img0 && gpa < img1) || (gpa >= info0 && gpa < info1))
                continue;
            words++;
            uint64_t v = *(volatile const uint64_t *)(uintptr_t)gpa;
            if (v != 0) {
                if (nonzero < 8)
                    guest_printf("ram_scan: word 0x%lx at gpa 0x%lx\n", (unsigned long)v,
                                 (unsigned long)gpa);
                nonzero++;
                if (v == pattern)
                    poison++;
            }
        }
    }
    reportf(words * 8 + (img1 - img0) + (info1 - info0) + (1ull << 20) >= boot->mem_bytes,
            "scanned %lu KiB of %lu KiB", (unsigned long)(words >> 7),
            (unsigned long)(boot->mem_bytes >> 10));
    reportf(nonzero == 0, "every byte it did not write reads zero (%lu words not, %lu of them poison)",
            (unsigned long)nonzero, (unsigned long)poison);
    guest_exit_summary();
}
