/* Local APIC: x2APIC through MSRs 0x800+, or the xAPIC MMIO page as a
 * fallback for CPUs without x2APIC (QEMU TCG on bare metal). */
#include "guest.h"

#define APIC_BASE_BSP   (1ull << 8)
#define APIC_BASE_EXTD  (1ull << 10)
#define APIC_BASE_EN    (1ull << 11)
#define APIC_BASE_ADDR_MASK 0x000FFFFFFFFFF000ull

static enum apic_mode mode;
static volatile uint32_t *xapic_mmio;

bool apic_has_x2apic(void) { return (cpuid(1, 0).ecx >> 21) & 1; }
bool apic_has_tsc_deadline(void) { return (cpuid(1, 0).ecx >> 24) & 1; }
enum apic_mode apic_mode(void) { return mode; }

enum apic_mode apic_enable(bool allow_xapic)
{
    uint64_t base = rdmsr(APIC_MSR_BASE);
    if (apic_has_x2apic()) {
        /* xAPIC first, then x2APIC: going straight from disabled to x2APIC
         * is allowed too, but this order is valid from every state. */
        if (!(base & APIC_BASE_EN))
            wrmsr(APIC_MSR_BASE, base | APIC_BASE_EN);
        wrmsr(APIC_MSR_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
        mode = APIC_X2APIC;
    } else if (allow_xapic && ((cpuid(1, 0).edx >> 9) & 1)) {
        wrmsr(APIC_MSR_BASE, (base & ~APIC_BASE_EXTD) | APIC_BASE_EN);
        /* Identity map covers the first 4 GiB, where the APIC page lives. */
        xapic_mmio = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
        mode = APIC_XAPIC;
    } else {
        mode = APIC_NONE;
        return mode;
    }
    apic_write(X2APIC_TPR, 0);
    apic_write(X2APIC_SVR, 0x100 | APIC_SPURIOUS_VECTOR);   /* software enable */
    return mode;
}

uint32_t apic_read(uint32_t msr)
{
    if (mode == APIC_X2APIC)
        return (uint32_t)rdmsr(msr);
    if (mode == APIC_XAPIC)
        return xapic_mmio[((msr - 0x800) << 4) / 4];
    return 0;
}

void apic_write(uint32_t msr, uint32_t value)
{
    if (mode == APIC_X2APIC)
        wrmsr(msr, value);
    else if (mode == APIC_XAPIC)
        xapic_mmio[((msr - 0x800) << 4) / 4] = value;
}

void apic_eoi(void) { apic_write(X2APIC_EOI, 0); }

void apic_timer_stop(void)
{
    apic_write(X2APIC_LVT_TIMER, APIC_LVT_MASKED);
    apic_write(X2APIC_TIMER_INIT, 0);
    if (mode == APIC_X2APIC && apic_has_tsc_deadline())
        wrmsr(MSR_TSC_DEADLINE, 0);
}

void apic_timer_oneshot(uint8_t vector, uint32_t count)
{
    apic_write(X2APIC_TIMER_DIV, APIC_DIV_1);
    apic_write(X2APIC_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | vector);
    apic_write(X2APIC_TIMER_INIT, count);
}

void apic_timer_periodic(uint8_t vector, uint32_t count)
{
    apic_write(X2APIC_TIMER_DIV, APIC_DIV_1);
    apic_write(X2APIC_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | vector);
    apic_write(X2APIC_TIMER_INIT, count);
}

void apic_timer_tsc_deadline(uint8_t vector, uint64_t tsc_deadline)
{
    apic_write(X2APIC_LVT_TIMER, APIC_LVT_TIMER_DEADLINE | vector);
    /* The SDM asks for a fence between the LVT write and the deadline MSR
     * so the mode change is seen first. */
    __asm__ volatile("mfence" ::: "memory");
    wrmsr(MSR_TSC_DEADLINE, tsc_deadline);
}

void apic_self_ipi(uint8_t vector)
{
    if (mode == APIC_X2APIC)
        wrmsr(X2APIC_SELF_IPI, vector);
    else if (mode == APIC_XAPIC) {
        /* xAPIC has no self-IPI register: ICR with the "self" shorthand. */
        xapic_mmio[0x300 / 4] = (1u << 18) | vector;
    }
}
