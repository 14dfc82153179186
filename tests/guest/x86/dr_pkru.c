/* Debug registers and PKRU belong to each partition: two partitions run
 * this with different seeds, each keeps its own DR0-DR3, DR6, DR7 (with
 * breakpoints armed on addresses it never touches) and, when the CPU offers
 * protection keys, its own PKRU, while the monitor switches between them.
 * A neighbour's value seen even once fails the check.  Then a heartbeat:
 * 20 one-shot virtual APIC timer interrupts slept for with STI;HLT, which
 * need the monitor's own timer, so a neighbour that masked the physical
 * APIC (CR8 = 15 reaching the real TPR) stops this check. */
#include "guest.h"

static inline uint64_t rd_dr(int n)
{
    uint64_t v = 0;
    switch (n) {
    case 0: __asm__ volatile("mov %%dr0, %0" : "=r"(v)); break;
    case 1: __asm__ volatile("mov %%dr1, %0" : "=r"(v)); break;
    case 2: __asm__ volatile("mov %%dr2, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("mov %%dr3, %0" : "=r"(v)); break;
    case 6: __asm__ volatile("mov %%dr6, %0" : "=r"(v)); break;
    case 7: __asm__ volatile("mov %%dr7, %0" : "=r"(v)); break;
    }
    return v;
}
static inline void wr_dr(int n, uint64_t v)
{
    switch (n) {
    case 0: __asm__ volatile("mov %0, %%dr0" :: "r"(v)); break;
    case 1: __asm__ volatile("mov %0, %%dr1" :: "r"(v)); break;
    case 2: __asm__ volatile("mov %0, %%dr2" :: "r"(v)); break;
    case 3: __asm__ volatile("mov %0, %%dr3" :: "r"(v)); break;
    case 6: __asm__ volatile("mov %0, %%dr6" :: "r"(v)); break;
    case 7: __asm__ volatile("mov %0, %%dr7" :: "r"(v)); break;
    }
}
static inline uint32_t rdpkru(void)
{
    uint32_t a, d;
    __asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(a), "=d"(d) : "c"(0));
    return a;
}
static inline void wrpkru(uint32_t v) { __asm__ volatile(".byte 0x0f, 0x01, 0xef" :: "a"(v), "c"(0), "d"(0)); }

/* Breakpoint addresses nobody executes or touches: high, canonical, per seed. */
static uint64_t dr_value(uint64_t seed, int i) { return 0x00007f0000000000ull + (seed << 20) + (uint64_t)i * 8; }

static volatile uint64_t ticks;
static void tick(struct trap_frame *f, void *ctx) { (void)f; (void)ctx; ticks++; }

static bool heartbeat(unsigned beats)
{
    if (apic_enable(false) != APIC_X2APIC)
        return false;
    guest_irq_register(0x50, tick, 0, true);
    for (unsigned i = 0; i < beats; i++) {
        uint64_t want = ticks + 1;
        apic_timer_oneshot(0x50, 100000);     /* 1 ms at the 100 MHz input */
        cpu_cli();
        while (ticks < want) {
            cpu_sti_hlt();
            cpu_cli();
        }
    }
    cpu_sti();
    return ticks == beats;
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    char num[24];
    uint64_t seed = 1, rounds = 150;
    if (guest_cmdline_value("seed", num, sizeof num))
        guest_parse_u64(num, &seed);
    /* L0-L3, each a 1-byte execute breakpoint (RW=00, LEN=00); bit 10 set. */
    uint64_t dr7 = 0x400 | 0x55;
    uint64_t dr6 = 0xffff0ff0ull | (seed & 0xf);      /* B0-B3 are writable */
    for (int i = 0; i < 4; i++)
        wr_dr(i, dr_value(seed, i));
    wr_dr(6, dr6);
    wr_dr(7, dr7);
    bool pku = cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ecx & (1u << 3));
    uint32_t pkru = (uint32_t)(0x55555554u ^ (seed << 2));
    if (pku) {
        uint64_t cr4;
        __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
        __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | (1ull << 22)));
        wrpkru(pkru);
    }
    uint64_t bad_dr = 0, bad_pkru = 0, first_bad = 0;
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t t0 = rdtsc();
        while (rdtsc() - t0 < 300000)
            cpu_pause();
        for (int i = 0; i < 4; i++)
            if (rd_dr(i) != dr_value(seed, i)) {
                if (!bad_dr) first_bad = rd_dr(i);
                bad_dr++;
            }
        if ((rd_dr(6) & 0xf) != (dr6 & 0xf) || (rd_dr(7) & 0xff) != (dr7 & 0xff))
            bad_dr++;
        if (pku && rdpkru() != pkru)
            bad_pkru++;
    }
    reportf(bad_dr == 0, "DR0-DR3, DR6, DR7 kept over %llu rounds (%llu foreign reads, first %#llx)",
            (unsigned long long)rounds, (unsigned long long)bad_dr, (unsigned long long)first_bad);
    if (pku)
        reportf(bad_pkru == 0, "PKRU kept over %llu rounds (%llu foreign reads)",
                (unsigned long long)rounds, (unsigned long long)bad_pkru);
    else
        report_skip("PKRU", "the CPU offers no protection keys");
    reportf(heartbeat(20), "20 virtual APIC timer beats arrived (%llu)", (unsigned long long)ticks);
    guest_exit_summary();
}
