#include "arch/x86/lapic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "kernel/log.h"
#include "kernel/time.h"

#define APIC_ID      0x020
#define APIC_VERSION 0x030
#define APIC_TPR     0x080
#define APIC_EOI     0x0b0
#define APIC_SVR     0x0f0
#define APIC_ISR0    0x100   /* 8 registers, 0x10 apart */
#define APIC_IRR0    0x200
#define APIC_ICR_LO  0x300
#define APIC_ICR_HI  0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR  0x390
#define APIC_TIMER_DIV  0x3e0
#define LVT_MASKED (1u << 16)
#define LVT_DELIVERY_NMI (4u << 8)

static uint64_t apic_base;
static uint64_t timer_khz;

static inline uint32_t rd(uint32_t reg) { return mmio_read32(apic_base + reg); }
static inline void wr(uint32_t reg, uint32_t v) { mmio_write32(apic_base + reg, v); }

void lapic_init(void)
{
    /* The monitor takes interrupts only through the local APIC: mask both
     * 8259 PICs, which a BIOS may leave delivering the PIT on vector 8. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    uint64_t msr = rdmsr(MSR_APIC_BASE);
    apic_base = msr & 0xfffff000ull;
    wrmsr(MSR_APIC_BASE, msr | (1ull << 11)); /* globally enabled, xAPIC mode */
    wr(APIC_TPR, 0);
    wr(APIC_SVR, 0x100 | VEC_SPURIOUS);       /* software enable */
    wr(APIC_LVT_LINT0, LVT_MASKED);
    /* LINT1 delivers NMIs, as firmware sets it up (SDM 10.5.1; MP spec
     * virtual-wire mode): an NMI button or QEMU's "nmi" reaches us. */
    wr(APIC_LVT_LINT1, LVT_DELIVERY_NMI);
    wr(APIC_LVT_ERROR, LVT_MASKED);
    wr(APIC_TIMER_DIV, 0x3);                  /* divide by 16 */
    wr(APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);

    /* Calibrate once: the input clock from CPUID when time_init found it
     * there, else one 1 ms pass against the (calibrated) TSC. */
    uint64_t khz = time_apic_input_khz() / 16u;
    const char *how = "CPUID";
    if (khz == 0) {
        wr(APIC_TIMER_INIT, 0xffffffffu);
        uint64_t start = rdtsc();
        uint64_t span = time_ns_to_tsc(1000000ull); /* 1 ms */
        while (rdtsc() - start < span)
            cpu_pause();
        khz = 0xffffffffu - rd(APIC_TIMER_CUR);
        wr(APIC_TIMER_INIT, 0);
        how = "measured against the TSC";
    }
    timer_khz = khz ? khz : 1000; /* never divide by zero later */
    log_info("local APIC at %#llx id %u version %#x, timer %llu kHz (xAPIC, divide 16, %s)",
             (unsigned long long)apic_base, lapic_id(), rd(APIC_VERSION) & 0xff,
             (unsigned long long)timer_khz, how);
}

uint32_t lapic_id(void) { return rd(APIC_ID) >> 24; }
void lapic_eoi(void) { wr(APIC_EOI, 0); }
uint64_t lapic_timer_khz(void) { return timer_khz; }

void lapic_timer_oneshot_ns(uint64_t ns)
{
    uint64_t count = ns * timer_khz / 1000000ull;
    if (ns > 1000000000000ull)
        count = 0xffffffffu;
    if (count == 0)
        count = 1;
    if (count > 0xffffffffu)
        count = 0xffffffffu;
    wr(APIC_LVT_TIMER, VEC_TIMER);            /* one-shot, unmasked */
    wr(APIC_TIMER_INIT, (uint32_t)count);
}

void lapic_timer_stop(void)
{
    wr(APIC_TIMER_INIT, 0);
}

void lapic_self_ipi(uint8_t vector)
{
    wr(APIC_ICR_HI, 0);
    wr(APIC_ICR_LO, (1u << 18) | vector); /* destination shorthand: self, fixed */
}

void lapic_vector_state(uint8_t vector, struct lapic_vector_state *out)
{
    uint32_t reg = (uint32_t)(vector / 32) * 0x10, bit = 1u << (vector % 32);
    out->irr = rd(APIC_IRR0 + reg) & bit;
    out->isr = rd(APIC_ISR0 + reg) & bit;
    out->tpr = rd(APIC_TPR);
}

void lapic_nudge(void)
{
    wr(APIC_TPR, rd(APIC_TPR));
}

#ifdef TV_TEST_BUILD
void lapic_test_set_tpr(uint32_t tpr)
{
    wr(APIC_TPR, tpr);
}
#endif
