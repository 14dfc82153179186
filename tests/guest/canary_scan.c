/* canary_scan: reads every aligned 64-bit word of its guest-physical RAM (the
 * RAM ranges of its memory map) and
 * reports any monitor canary (lib/canary.h) it finds.  The canaries exist
 * here only inverted, and each word is inverted before the comparison, so the
 * canary value itself is never in this guest's registers or stack during the
 * scan (the scan must not find its own copy). */
#include "guest.h"
#include "canary.h"

static volatile uint64_t canary_inverted[2] = { ~TV_CANARY_A, ~TV_CANARY_B };

int guest_main(const struct guest_boot *boot)
{
    if (boot->mem_bytes < (1ull << 20)) {
        report("memory size known from the boot information", false);
        guest_exit_summary();
    }
    const uint64_t inv_a = canary_inverted[0], inv_b = canary_inverted[1];
    unsigned found = 0;
    uint64_t words = 0, expected_words = 0;
    for (unsigned r = 0; r < boot->ram_count; r++) {
        uint64_t base = (boot->ram[r].base + 7) & ~7ull;
        uint64_t end = (boot->ram[r].base + boot->ram[r].len) & ~7ull;
        if (end > (4ull << 30))
            end = 4ull << 30;   /* beyond the identity map */
        guest_printf("canary_scan: scanning RAM 0x%lx-0x%lx\n", (unsigned long)base,
                     (unsigned long)end);
        expected_words += end > base ? (end - base) / 8 : 0;
        for (uint64_t gpa = base; gpa < end; gpa += 8, words++) {
            uint64_t nv = ~*(volatile const uint64_t *)(uintptr_t)gpa;
            /* Opaque to the optimiser: keeps it from rewriting the test as
             * v == ~inv_a, which would hold the canary in a register. */
            __asm__("" : "+r"(nv));
            if (nv == inv_a || nv == inv_b) {
                if (found < 16)
                    guest_printf("canary_scan: canary %s at gpa 0x%lx\n",
                                 nv == inv_a ? "A" : "B", (unsigned long)gpa);
                found++;
            }
        }
    }
    /* Nearly all of the RAM up to the end must have been covered (the map
     * may leave out the legacy hole below 1 MiB). */
    reportf(words == expected_words && words * 8 >= boot->mem_bytes - (1ull << 20),
            "scanned %lu words (%lu KiB of %lu KiB) in %u RAM ranges", (unsigned long)words,
            (unsigned long)(words >> 7), (unsigned long)(boot->mem_bytes >> 10), boot->ram_count);
    reportf(found == 0, "no monitor canary in guest RAM (%u found)", found);

    /* Self-check that the scan would see a canary: plant one in our own
     * memory, scan just that page, then wipe it. */
    static volatile uint64_t probe[512] __attribute__((aligned(4096)));
    probe[100] = ~inv_a;
    unsigned seen = 0;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t nv = ~probe[i];
        __asm__("" : "+r"(nv));
        if (nv == inv_a)
            seen++;
    }
    probe[100] = 0;
    report("the scan detects a planted canary", seen == 1);
    guest_exit_summary();
}
