/* savevm: the VM the save/restore scenarios Save and Start again.
 *
 * At boot it counts its boots in its data section ("savevm: boot N": a
 * restore must not boot it again), fills 4 MiB of its RAM with a pattern of
 * each word's address, loads known values into registers the loop below
 * keeps (RBX, R12-R15 and XMM0-XMM1) and starts a periodic vAPIC timer
 * whose interrupts it counts.  Then it runs forever: a counter in memory
 * goes up by one per round and a register copy of it with it; each round
 * checks the registers, the counter against its copy, a slice of the
 * pattern (all of it every 16 rounds) and that timer ticks still arrive
 * (every 2 s), and prints "savevm: round N ok" every 16 rounds.  A Save stops it anywhere in that loop;
 * the restored run goes on with the same round numbers.
 *
 * It sees a restore as a jump of the wall clock (CMOS RTC) that its TSC
 * did not see (the guest's TSC continues from where it stopped, the RTC is
 * the host's): then it checks everything at once and prints
 * "savevm: resumed after N s at round R: memory, registers, counter and
 * timer intact".  Any mismatch prints "savevm: FAIL ..." and exits with 1. */
#include "guest.h"

#define FILL_BASE  (4ull << 20)
#define FILL_BYTES (4ull << 20)
#define SLICE      (FILL_BYTES / 16)
#define TIMER_VEC  0x40

static volatile uint32_t boots __attribute__((section(".data")));
static volatile uint64_t counter;      /* rounds done */
static volatile uint64_t timer_ticks;
static uint64_t tsc_khz;

static uint64_t pattern(uint64_t gpa)
{
    return (gpa * 0x9e3779b97f4a7c15ull) ^ 0x5341564553544154ull;
}

static __attribute__((noreturn)) void fail(const char *what, uint64_t a, uint64_t b)
{
    guest_printf("savevm: FAIL %s: %lx vs %lx at round %lu\n", what, (unsigned long)a,
                 (unsigned long)b, (unsigned long)counter);
    guest_exit(1);
}

static void check_memory(uint64_t off, uint64_t len)
{
    for (uint64_t gpa = FILL_BASE + off; gpa < FILL_BASE + off + len; gpa += 8) {
        uint64_t v = *(volatile uint64_t *)(uintptr_t)gpa;
        if (v != pattern(gpa))
            fail("memory", v, pattern(gpa));
    }
}

static void on_timer(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
    timer_ticks++;
}

static unsigned bcd(uint8_t v) { return (v >> 4) * 10u + (v & 0xf); }

/* Seconds of the day from the CMOS RTC (BCD unless status B says binary). */
static uint64_t rtc_seconds(void)
{
    outb(0x70, 0x0b);
    bool binary = inb(0x71) & 4;
    uint8_t r[3];
    static const uint8_t regs[3] = { 0x04, 0x02, 0x00 };
    for (int i = 0; i < 3; i++) {
        outb(0x70, regs[i]);
        r[i] = inb(0x71);
    }
    unsigned h = binary ? r[0] : bcd(r[0]), m = binary ? r[1] : bcd(r[1]);
    unsigned s = binary ? r[2] : bcd(r[2]);
    return h * 3600ull + m * 60ull + s;
}

/* One round in registers: RBX, R14, R15 and XMM0/XMM1 hold constants, R12
 * counts up and R13 down by `spins`; the values the asm ends with say
 * whether anything changed them meanwhile. */
struct regs_out {
    uint64_t rbx, r12, r13, r14, r15;
    uint64_t xmm[4];
};

static void spin_round(uint64_t start, uint64_t spins, struct regs_out *o)
{
    static const uint64_t xin[4] __attribute__((aligned(16))) = {
        0x0123456789abcdefull, 0xfedcba9876543210ull, 0x1122334455667788ull, 0x99aabbccddeeff00ull };
    uint64_t xout[4] __attribute__((aligned(16)));
    __asm__ volatile(
        "movdqa 0(%[xin]), %%xmm0\n\t"
        "movdqa 16(%[xin]), %%xmm1\n\t"
        "mov $0x5a5a5a5a5a5a5a5a, %%rbx\n\t"
        "mov %[start], %%r12\n\t"
        "mov %[start], %%r13\n\t"
        "not %%r13\n\t"
        "mov $0x1357924680acebdf, %%r14\n\t"
        "mov $0x2468ace013579bdf, %%r15\n\t"
        "mov %[spins], %%rcx\n\t"
        "1: inc %%r12\n\t"
        "dec %%r13\n\t"
        "pause\n\t"
        "dec %%rcx\n\t"
        "jnz 1b\n\t"
        "movdqa %%xmm0, 0(%[xout])\n\t"
        "movdqa %%xmm1, 16(%[xout])\n\t"
        "mov %%rbx, 0(%[o])\n\t"
        "mov %%r12, 8(%[o])\n\t"
        "mov %%r13, 16(%[o])\n\t"
        "mov %%r14, 24(%[o])\n\t"
        "mov %%r15, 32(%[o])\n\t"
        :
        : [xin] "r"(xin), [xout] "r"(xout), [o] "r"(o), [start] "r"(start), [spins] "r"(spins)
        : "rbx", "rcx", "r12", "r13", "r14", "r15", "memory", "cc");
    /* XMM0/XMM1 are not in the clobber list: guests build with
     * -mgeneral-regs-only, so no compiled code (handlers included) uses them. */
    for (int i = 0; i < 4; i++)
        o->xmm[i] = xout[i];
}

static void check_round(uint64_t start, uint64_t spins)
{
    struct regs_out o;
    spin_round(start, spins, &o);
    if (o.rbx != 0x5a5a5a5a5a5a5a5aull) fail("rbx", o.rbx, 0x5a5a5a5a5a5a5a5aull);
    if (o.r12 != start + spins) fail("r12", o.r12, start + spins);
    if (o.r13 != ~start - spins) fail("r13", o.r13, ~start - spins);
    if (o.r14 != 0x1357924680acebdfull) fail("r14", o.r14, 0x1357924680acebdfull);
    if (o.r15 != 0x2468ace013579bdfull) fail("r15", o.r15, 0x2468ace013579bdfull);
    if (o.xmm[0] != 0x0123456789abcdefull || o.xmm[3] != 0x99aabbccddeeff00ull)
        fail("xmm", o.xmm[0], o.xmm[3]);
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    boots++;
    guest_printf("savevm: boot %u\n", (unsigned)boots);
    tsc_khz = guest_on_taskvisor() ? cpuid(TV_CPUID_LEAF_TIMING, 0).eax : 0;
    if (!tsc_khz)
        tsc_khz = 1000000;
    /* SSE for the XMM registers the rounds keep (CR4.OSFXSR, SDM 13.1). */
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | (1ull << 9) | (1ull << 10)));
    for (uint64_t gpa = FILL_BASE; gpa < FILL_BASE + FILL_BYTES; gpa += 8)
        *(volatile uint64_t *)(uintptr_t)gpa = pattern(gpa);
    if (apic_enable(true) == APIC_NONE || !guest_irq_register(TIMER_VEC, on_timer, 0, true))
        fail("apic", 0, 0);
    /* 100 ms at the 100 MHz vAPIC clock: slow enough that Bochs (4 M
     * instructions a second) is not kept busy by the interrupts alone. */
    apic_timer_periodic(TIMER_VEC, 10000000);
    cpu_sti();
    guest_printf("savevm: filled %lu MiB, running\n", (unsigned long)(FILL_BYTES >> 20));

    uint64_t spins = tsc_khz / 256 + 1000; /* a round of some 20 ms of spinning */
    uint64_t last_tsc = rdtsc(), last_rtc = rtc_seconds(), last_ticks = 0;
    uint64_t tick_check = rdtsc() + 2000 * tsc_khz;
    for (;;) {
        uint64_t n = counter;
        check_round(n * spins, spins);
        if (counter != n)
            fail("counter", counter, n);
        counter = n + 1;
        check_memory((n % 16) * SLICE, SLICE);
        uint64_t tsc = rdtsc(), rtc = rtc_seconds();
        uint64_t tsc_s = (tsc - last_tsc) / (tsc_khz * 1000);
        /* The RTC ran ahead of the TSC by 3 s or more: the VM was saved and
         * restored (or paused): everything is checked at once. */
        if (rtc >= last_rtc && rtc - last_rtc >= tsc_s + 3) {
            check_memory(0, FILL_BYTES);
            check_round(counter * spins, spins);
            uint64_t t0 = timer_ticks, until = rdtsc() + 500 * tsc_khz;
            while (timer_ticks == t0 && rdtsc() < until)
                cpu_pause();
            if (timer_ticks == t0)
                fail("timer", t0, timer_ticks);
            guest_printf("savevm: resumed after %lu s at round %lu: memory, registers, counter "
                         "and timer intact\n", (unsigned long)(rtc - last_rtc - tsc_s),
                         (unsigned long)counter);
        }
        last_tsc = tsc;
        last_rtc = rtc;
        /* Every 2 s of its own time at least one tick of the 100 ms timer. */
        if ((int64_t)(tsc - tick_check) >= 0) {
            if (timer_ticks == last_ticks)
                fail("timer ticks stopped", timer_ticks, last_ticks);
            last_ticks = timer_ticks;
            tick_check = tsc + 2000 * tsc_khz;
        }
        /* One line in 16 rounds: the UART's rate limit must not drop the
         * lines that matter. */
        if ((n % 16) == 15)
            guest_printf("savevm: round %lu ok\n", (unsigned long)counter);
    }
}
