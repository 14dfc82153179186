/* Per-vCPU FPU/SSE state: two partitions run this with different seeds;
 * each keeps its own values in XMM0-XMM3 and the x87 control word while
 * the monitor switches between them many times. */
#include "guest.h"

static void load(uint64_t seed)
{
    uint64_t v[8];
    for (int i = 0; i < 8; i++)
        v[i] = seed * 0x9e3779b97f4a7c15ull + (uint64_t)i;
    __asm__ volatile("movdqu 0(%0), %%xmm0\n\tmovdqu 16(%0), %%xmm1\n\t"
                     "movdqu 32(%0), %%xmm2\n\tmovdqu 48(%0), %%xmm3" :: "r"(v) : "memory");
    uint16_t cw = (uint16_t)(0x27f | ((seed & 1) << 10)); /* precision/rounding differ */
    __asm__ volatile("fldcw %0" :: "m"(cw));
}

static bool check(uint64_t seed)
{
    uint64_t v[8];
    __asm__ volatile("movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm1, 16(%0)\n\t"
                     "movdqu %%xmm2, 32(%0)\n\tmovdqu %%xmm3, 48(%0)" :: "r"(v) : "memory");
    bool ok = true;
    for (int i = 0; i < 8; i++)
        ok &= v[i] == seed * 0x9e3779b97f4a7c15ull + (uint64_t)i;
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return ok && cw == (uint16_t)(0x27f | ((seed & 1) << 10));
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    char num[24];
    uint64_t seed = 1, rounds = 200;
    if (guest_cmdline_value("seed", num, sizeof num))
        guest_parse_u64(num, &seed);
    uint64_t cr0, cr4;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" :: "r"((cr0 & ~(1ull << 2 | 1ull << 3)) | (1ull << 1)));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | (1ull << 9) | (1ull << 10)));
    __asm__ volatile("fninit");
    load(seed);
    uint64_t bad = 0, switches_seen = 0;
    for (uint64_t r = 0; r < rounds; r++) {
        /* Spin about 0.3 ms of guest time so the other partition runs. */
        uint64_t t0 = rdtsc(), last = t0;
        while (rdtsc() - t0 < 300000) {
            uint64_t now = rdtsc();
            if (now - last > 50000)
                switches_seen++;   /* a gap: we were descheduled */
            last = now;
        }
        if (!check(seed))
            bad++;
    }
    reportf(bad == 0, "XMM0-3 and the x87 control word survived %llu rounds (%llu bad)",
            (unsigned long long)rounds, (unsigned long long)bad);
    report_info("descheduled about %llu times", (unsigned long long)switches_seen);
    guest_exit_summary();
    return 0;
}
