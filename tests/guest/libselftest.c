/* Self-test of the guest library, meant for bare QEMU (no hypervisor) as
 * well as under Taskvisor: boot path, printf, exceptions with recovery,
 * CPL 3 round trips, software and APIC interrupts.  Checks the environment
 * cannot do are reported as skipped, never as passed. */
#include "guest.h"
#include "tv_fmt.h"
#include "tv_string.h"

#define MSR_EFER 0xC0000080u
#define EFER_LMA (1ull << 10)

extern char selftest_ud2_rip[], selftest_int3_after[], selftest_expect_ud2[], selftest_expect_resume[];

static void check_long_mode(const struct guest_boot *boot)
{
    uint64_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    report("long mode active (EFER.LMA, CR0.PG, 64-bit CS)",
           (rdmsr(MSR_EFER) & EFER_LMA) && (cr0 >> 31) && read_cs() == 0x08);
    reportf(boot->protocol != GUEST_BOOT_UNKNOWN, "boot protocol recognised (%s)",
            guest_boot_protocol_name(boot->protocol));
    reportf(boot->mem_bytes >= (16ull << 20) && boot->mem_bytes <= (1ull << 40),
            "memory size from boot info (%lu KiB)", (unsigned long)(boot->mem_bytes >> 10));
    char v[32] = "";
    bool has = guest_cmdline_value("selftest-arg", v, sizeof(v));
    reportf(has && tv_strcmp(v, "42") == 0 && guest_cmdline_has("flag-word") &&
                !guest_cmdline_has("flag"),
            "command line parsed (selftest-arg=%s)", has ? v : "<missing>");
    /* 4 GiB identity map: the last 2 MiB page below 4 GiB is mapped. */
    uint64_t *pml4;
    __asm__ volatile("mov %%cr3, %0" : "=r"(pml4));
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & ~0xFFFull);
    uint64_t *pd3 = (uint64_t *)(uintptr_t)(pdpt[3] & ~0xFFFull);
    report("identity map covers 4 GiB with 2 MiB pages",
           (pd3[511] & ~0xFFFull) == 0xFFE00000ull && (pd3[511] & 0x81) == 0x81);
}

static void check_printf(void)
{
    char buf[64];
    int n = tv_snprintf(buf, sizeof(buf), "%d|%5u|%-3x|%s|%c|%08lx", -7, 42u, 0xau, "hi", 'z',
                        0xbeefUL);
    report("tv_snprintf formats integers, strings, widths",
           n == 26 && tv_strcmp(buf, "-7|   42|a  |hi|z|0000beef") == 0);
    int m = guest_printf("# printf check: %d 0x%x %s\n", 42, 42, "hello");
    report("guest_printf returns the printed length", m == 30);
}

static int try_counter;

static void do_ud2(void *arg)
{
    (void)arg;
    try_counter++;
    __asm__ volatile(".globl selftest_ud2_rip\nselftest_ud2_rip: ud2");
    try_counter += 100;   /* must not run */
}

static void do_int3(void *arg)
{
    (void)arg;
    __asm__ volatile("int3\n.globl selftest_int3_after\nselftest_int3_after:");
}

static void do_nothing(void *arg)
{
    *(int *)arg = 7;
}

static void do_page_fault(void *arg)
{
    (void)arg;
    /* Beyond the 4 GiB identity map: not present. */
    (void)*(volatile uint64_t *)(uintptr_t)0x140000000ull;
}

static void do_divide_error(void *arg)
{
    volatile unsigned zero = *(unsigned *)arg;
    volatile unsigned r = 10u / zero;
    (void)r;
}

static void check_exceptions(void)
{
    struct guest_trap t;
    try_counter = 0;
    int v = guest_try(do_ud2, NULL, &t);
    reportf(v == VEC_UD && t.rip == (uint64_t)(uintptr_t)selftest_ud2_rip && try_counter == 1,
            "ud2 raises #UD, recorded at its RIP and recovered (vector %d rip 0x%lx)", v,
            (unsigned long)t.rip);
    report("execution continues normally after a recovered trap", try_counter == 1);

    v = guest_try(do_int3, NULL, &t);
    reportf(v == VEC_BP && t.rip == (uint64_t)(uintptr_t)selftest_int3_after && t.cpl == 0,
            "int3 handled as #BP with RIP after the instruction (vector %d)", v);

    int out = 0;
    v = guest_try(do_nothing, &out, &t);
    report("guest_try without a trap returns GUEST_NO_TRAP", v == GUEST_NO_TRAP && out == 7 &&
                                                                 t.vector == GUEST_NO_TRAP);

    v = guest_try(do_page_fault, NULL, &t);
    reportf(v == VEC_PF && t.cr2 == 0x140000000ull && (t.error_code & 1) == 0,
            "read beyond the identity map raises #PF with CR2 (err 0x%lx)",
            (unsigned long)t.error_code);

    unsigned zero = 0;
    v = guest_try(do_divide_error, &zero, &t);
    report("division by zero raises #DE", v == VEC_DE);

    /* Per-test recovery RIP: resume right after the faulting instruction. */
    guest_expect_trap(VEC_UD, selftest_expect_resume);
    __asm__ volatile(".globl selftest_expect_ud2\nselftest_expect_ud2: ud2\n"
                     ".globl selftest_expect_resume\nselftest_expect_resume:" ::: "memory");
    bool taken = guest_expect_taken(&t);
    reportf(taken && t.vector == VEC_UD && t.rip == (uint64_t)(uintptr_t)selftest_expect_ud2,
            "expected #UD resumes at the recovery RIP after the instruction");
    guest_expect_trap(VEC_UD, selftest_expect_resume);
    report("an armed expectation that is not met reports no trap", !guest_expect_taken(&t) &&
                                                                  t.vector == GUEST_NO_TRAP);
}

static long user_get_cpl(void *arg)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    return (long)(cs & 3) + *(long *)arg;
}

static long user_cli(void *arg)
{
    (void)arg;
    __asm__ volatile("cli");
    return 0;
}

static long user_vmmcall(void *arg)
{
    (void)arg;
    return (long)tv_vmmcall_raw(TV_HC_NOP);
}

static void check_user_mode(void)
{
    long base = 1000, result = -1;
    struct guest_trap t;
    int v = guest_run_user(user_get_cpl, &base, &result, &t);
    reportf(v == GUEST_NO_TRAP && result == 1003, "CPL 3 round trip (returned %ld)", result);

    v = guest_run_user(user_cli, NULL, &result, &t);
    reportf(v == VEC_GP && t.cpl == 3, "CLI at CPL 3 raises #GP from CPL 3 (vector %d cpl %u)",
            v, t.cpl);

    v = guest_run_user(user_get_cpl, &base, &result, &t);
    report("CPL 3 still works after a CPL 3 fault", v == GUEST_NO_TRAP && result == 1003);

    v = guest_run_user(user_vmmcall, NULL, &result, &t);
    reportf(v == VEC_UD && t.cpl == 3, "VMMCALL at CPL 3 raises #UD (vector %d)", v);
}

static volatile unsigned soft_hits;
static void *soft_ctx_seen;

static void soft_handler(struct trap_frame *f, void *ctx)
{
    if (f->vector == 0x40)
        soft_hits++;
    soft_ctx_seen = ctx;
}

static void check_soft_interrupt(void)
{
    static int marker;
    guest_irq_register(0x40, soft_handler, &marker, false);
    __asm__ volatile("int $0x40" ::: "memory");
    __asm__ volatile("int $0x40" ::: "memory");
    report("INT 0x40 reaches its callback with its context",
           soft_hits == 2 && soft_ctx_seen == &marker && guest_irq_count(0x40) == 2);
    guest_irq_unregister(0x40);
}

#define TIMER_VEC 0x41
#define IPI_VEC 0x42
static volatile unsigned timer_hits, ipi_hits;
static void timer_handler(struct trap_frame *f, void *ctx) { (void)f; (void)ctx; timer_hits++; }
static void ipi_handler(struct trap_frame *f, void *ctx) { (void)f; (void)ctx; ipi_hits++; }

/* Waits with interrupts on for *counter to reach target or the TSC budget to
 * run out. */
static bool wait_for(volatile unsigned *counter, unsigned target, uint64_t budget)
{
    uint64_t start = rdtsc();
    /* Interrupts stay on for the whole wait: an emulator may only look for
     * them between translated blocks, so a short sti/cli window can miss. */
    cpu_sti();
    while (*counter < target && rdtsc() - start < budget)
        cpu_pause();
    cpu_cli();
    return *counter >= target;
}

static void check_apic(void)
{
    bool x2 = apic_has_x2apic();
    enum apic_mode m = apic_enable(true);
    if (!x2)
        report_skip("x2APIC mode", "this CPU does not offer x2APIC (QEMU TCG without a hypervisor)");
    if (m == APIC_NONE) {
        report_skip("local APIC timer", "no local APIC");
        return;
    }
    reportf(m == (x2 ? APIC_X2APIC : APIC_XAPIC), "local APIC enabled in %s mode",
            m == APIC_X2APIC ? "x2APIC" : "xAPIC");
    uint32_t ver = apic_read(X2APIC_VERSION);
    reportf((ver & 0xFF) >= 0x10 && ((ver >> 16) & 0xFF) >= 3,
            "APIC version register readable (0x%x)", ver);

    guest_irq_register(TIMER_VEC, timer_handler, NULL, true);
    guest_irq_register(IPI_VEC, ipi_handler, NULL, true);
    const uint64_t budget = 2000000000ull;   /* TSC cycles: seconds under TCG */

    timer_hits = 0;
    apic_timer_oneshot(TIMER_VEC, 100000);
    bool fired = wait_for(&timer_hits, 1, budget);
    report("one-shot timer interrupt delivered and acknowledged", fired && timer_hits == 1);

    timer_hits = 0;
    apic_timer_periodic(TIMER_VEC, 100000);
    fired = wait_for(&timer_hits, 3, budget);
    apic_timer_stop();
    reportf(fired, "periodic timer fires repeatedly (%u interrupts)", timer_hits);

    ipi_hits = 0;
    apic_self_ipi(IPI_VEC);
    report("self-IPI delivered", wait_for(&ipi_hits, 1, budget));

    if (m == APIC_X2APIC && apic_has_tsc_deadline()) {
        timer_hits = 0;
        apic_timer_tsc_deadline(TIMER_VEC, rdtsc() + 100000);
        report("TSC-deadline timer interrupt delivered", wait_for(&timer_hits, 1, budget));
        apic_timer_stop();
    } else {
        report_skip("TSC-deadline timer", "needs x2APIC and CPUID.1:ECX.TSC_DEADLINE");
    }
    guest_irq_unregister(TIMER_VEC);
    guest_irq_unregister(IPI_VEC);
}

static void check_hypervisor(void)
{
    if (!guest_on_taskvisor()) {
        report_skip("hypercalls", "not running under Taskvisor");
        return;
    }
    uint32_t version = 0;
    tv_status_t st = tv_get_version(&version, NULL);
    reportf(st == TV_OK && version == ((TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR),
            "GET_VERSION (status %d version 0x%x)", st, version);
}

int guest_main(const struct guest_boot *boot)
{
    guest_printf("# libselftest: booted via %s, %lu MiB, cmdline \"%s\"\n",
                 guest_boot_protocol_name(boot->protocol), (unsigned long)(boot->mem_bytes >> 20),
                 boot->cmdline);
    check_long_mode(boot);
    check_printf();
    check_exceptions();
    check_user_mode();
    check_soft_interrupt();
    check_apic();
    check_hypervisor();
    if (guest_cmdline_has("unexpected-trap")) {
        /* Proves the failure path: an exception no test expects must end
         * the guest with "not ok" and GUEST_EXIT_UNEXPECTED_TRAP. */
        guest_printf("# raising an unexpected #UD on purpose\n");
        __asm__ volatile("ud2");
    }
    guest_exit_summary();
}
