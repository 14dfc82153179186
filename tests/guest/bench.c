/* bench: RDTSC cycles per NOP hypercall, per GET_VERSION, per CPUID leaf 0.
 * Prints "BENCH name cycles=N iterations=M" lines, then a TAP summary.
 * Command line "iterations=N" (default 10000).  Under QEMU, run with -icount
 * so the figures repeat from run to run. */
#include "guest.h"

static uint64_t per_op(uint64_t start, uint64_t end, uint64_t n)
{
    return n ? (end - start) / n : 0;
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    uint64_t n = 10000;
    char num[24];
    if (guest_cmdline_value("iterations", num, sizeof(num)) && (!guest_parse_u64(num, &n) || n == 0))
        n = 10000;

    tv_status_t worst = TV_OK;
    uint64_t t0 = rdtsc();
    for (uint64_t i = 0; i < n; i++) {
        tv_status_t st = tv_hypercall(TV_HC_NOP, 0, 0, 0, 0, 0, NULL);
        if (st != TV_OK)
            worst = st;
    }
    uint64_t t1 = rdtsc();
    guest_printf("BENCH hypercall_nop cycles=%lu iterations=%lu\n",
                 (unsigned long)per_op(t0, t1, n), (unsigned long)n);
    reportf(worst == TV_OK, "every NOP returned OK (last error %d)", worst);

    worst = TV_OK;
    t0 = rdtsc();
    for (uint64_t i = 0; i < n; i++) {
        uint32_t version;
        tv_status_t st = tv_get_version(&version, NULL);
        if (st != TV_OK)
            worst = st;
    }
    t1 = rdtsc();
    guest_printf("BENCH hypercall_get_version cycles=%lu iterations=%lu\n",
                 (unsigned long)per_op(t0, t1, n), (unsigned long)n);
    reportf(worst == TV_OK, "every GET_VERSION returned OK (last error %d)", worst);

    t0 = rdtsc();
    for (uint64_t i = 0; i < n; i++)
        (void)cpuid(0, 0);
    t1 = rdtsc();
    guest_printf("BENCH cpuid_leaf0 cycles=%lu iterations=%lu\n",
                 (unsigned long)per_op(t0, t1, n), (unsigned long)n);

    /* The loop overhead alone, to read the figures above against. */
    t0 = rdtsc();
    for (uint64_t i = 0; i < n; i++)
        __asm__ volatile("" ::: "memory");
    t1 = rdtsc();
    guest_printf("BENCH empty_loop cycles=%lu iterations=%lu\n",
                 (unsigned long)per_op(t0, t1, n), (unsigned long)n);
    guest_exit_summary();
}
