/* xAPIC MMIO register mapping (see vapic_mmio.h). */
#include "dev/vapic_mmio.h"

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ADDR   0x000ffffffffff000ull

#define OFF_ID       0x020u
#define OFF_EOI      0x0b0u
#define OFF_LDR      0x0d0u
#define OFF_DFR      0x0e0u
#define OFF_ICR_LOW  0x300u
#define OFF_ICR_HIGH 0x310u
#define OFF_SELF_IPI 0x3f0u
#define MSR_OF(off)  (0x800u + (uint32_t)((off) >> 4))

void xapic_regs_init(struct xapic_regs *x)
{
    x->ldr = 0;
    x->dfr = 0xffffffffu;      /* flat model at reset (10.6.2.2) */
    x->icr_low = 0;
    x->icr_high = 0;
}

bool vapic_mmio_active(const struct vapic *a)
{
    return (a->apic_base & APIC_BASE_ENABLE) && !(a->apic_base & APIC_BASE_X2APIC) &&
           (a->apic_base & APIC_BASE_ADDR) == XAPIC_BASE_GPA;
}

static bool plain(uint64_t off, unsigned size)
{
    return size == 4 && (off & 0xf) == 0 && off < XAPIC_MMIO_SIZE;
}

uint64_t vapic_mmio_read(struct vapic *a, struct xapic_regs *x, uint64_t off, unsigned size)
{
    uint64_t ones = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
    if (!plain(off, size))
        return ones;
    uint64_t v = 0;
    switch (off) {
    case OFF_ID:
        return (uint64_t)(a->id & 0xff) << 24;
    case OFF_LDR: return x->ldr;
    case OFF_DFR: return x->dfr;
    case OFF_ICR_LOW: return x->icr_low & ~(1u << 12);   /* delivery status: idle */
    case OFF_ICR_HIGH: return x->icr_high;
    case OFF_SELF_IPI: return 0;
    default:
        break;
    }
    a->xapic_access = true;
    tv_status_t st = vapic_read_msr(a, MSR_OF(off), &v);
    a->xapic_access = false;
    /* Reserved and write-only registers read 0 here (the x2APIC would #GP). */
    return st == TV_OK ? (uint32_t)v : 0;
}

void vapic_mmio_write(struct vapic *a, struct xapic_regs *x, uint64_t off, unsigned size,
                      uint64_t value)
{
    if (!plain(off, size))
        return;
    uint32_t v = (uint32_t)value;
    uint64_t msr_value = v;
    switch (off) {
    case OFF_ID: return;                      /* read-only in this model */
    case OFF_LDR: x->ldr = v & 0xff000000u; return;
    case OFF_DFR: x->dfr = v | 0x0fffffffu; return;
    case OFF_ICR_HIGH: x->icr_high = v & 0xff000000u; return;
    case OFF_SELF_IPI: return;                /* x2APIC only */
    case OFF_ICR_LOW:
        x->icr_low = v;
        msr_value = (uint64_t)(x->icr_high >> 24) << 32 | v;
        break;
    case OFF_EOI:
        msr_value = 0;                        /* any value signals EOI in xAPIC mode */
        break;
    default:
        break;
    }
    a->xapic_access = true;
    (void)vapic_write_msr(a, MSR_OF(off), msr_value);   /* invalid writes are ignored */
    a->xapic_access = false;
}
