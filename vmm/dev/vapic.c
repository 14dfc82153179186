#include "dev/vapic.h"
#include "arch/x86/cpu.h"
#include "kernel/time.h"
#include "vm/vcpu.h"
#include "vm/partition.h"
#include "kernel/log.h"
#include "tv_string.h"

#define X2APIC_BASE_MSR  0x800u
#define REG_ID       0x802u
#define REG_VERSION  0x803u
#define REG_TPR      0x808u
#define REG_PPR      0x80au
#define REG_EOI      0x80bu
#define REG_LDR      0x80du
#define REG_SVR      0x80fu
#define REG_ISR0     0x810u
#define REG_TMR0     0x818u
#define REG_IRR0     0x820u
#define REG_ESR      0x828u
#define REG_ICR      0x830u
#define REG_LVT_TIMER 0x832u
#define REG_LVT_THERMAL 0x833u
#define REG_LVT_PMC  0x834u
#define REG_LVT_LINT0 0x835u
#define REG_LVT_LINT1 0x836u
#define REG_LVT_ERROR 0x837u
#define REG_TIMER_INIT 0x838u
#define REG_TIMER_CUR 0x839u
#define REG_TIMER_DIV 0x83eu
#define REG_SELF_IPI 0x83fu

#define LVT_MASKED (1u << 16)
#define TIMER_MODE(lvt) (((lvt) >> 17) & 3u)
#define MODE_ONESHOT 0u
#define MODE_PERIODIC 1u
#define MODE_DEADLINE 2u
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_BSP (1ull << 8)

static void timer_expired(struct timer *t)
{
    struct vapic *a = t->arg;
    a->timer_fired = true;
    vcpu_post_request(a->vcpu, VCPU_REQ_KICK);
}

void vapic_init(struct vapic *a, struct vcpu *v, uint32_t id)
{
    tv_memset(a, 0, sizeof *a);
    a->vcpu = v;
    a->id = id;
    a->apic_base = 0xfee00000ull | APIC_BASE_ENABLE | APIC_BASE_X2APIC | (id == 0 ? APIC_BASE_BSP : 0);
    a->svr = 0xff;
    a->lvt_timer = LVT_MASKED;
    a->lvt_error = a->lvt_lint0 = a->lvt_lint1 = LVT_MASKED;
    timer_init(&a->timer, timer_expired, a);
}

void vapic_destroy(struct vapic *a)
{
    timer_cancel(&a->timer);
}

bool vapic_handles_msr(uint32_t msr)
{
    return (msr >= 0x800 && msr <= 0x8ff) || msr == MSR_APIC_BASE || msr == MSR_TSC_DEADLINE;
}

static bool enabled(const struct vapic *a)
{
    return (a->apic_base & APIC_BASE_ENABLE) &&
           ((a->apic_base & APIC_BASE_X2APIC) || a->xapic_access);
}

static uint32_t divide_value(uint32_t cfg)
{
    /* SDM 10.5.4: bits 0,1,3 encode 2,4,8,16,32,64,128,1. */
    uint32_t v = (cfg & 3) | ((cfg >> 1) & 4);
    return v == 7 ? 1 : 2u << v;
}

static uint64_t count_to_ns(const struct vapic *a, uint64_t count)
{
    /* 100 MHz input: 10 ns per input clock. */
    return count * divide_value(a->divide_config) * (1000000ull / VAPIC_TIMER_KHZ);
}

static void disarm(struct vapic *a)
{
    timer_cancel(&a->timer);
    a->timer_deadline_ns = 0;
    a->timer_fired = false;
}

static void arm_count(struct vapic *a)
{
    disarm(a);
    if (a->initial_count == 0 || TIMER_MODE(a->lvt_timer) == MODE_DEADLINE)
        return;
    uint64_t period = count_to_ns(a, a->initial_count);
    if (period < VAPIC_MIN_PERIOD_NS)
        period = VAPIC_MIN_PERIOD_NS;
    a->timer_start_ns = time_now_ns();
    a->timer_period_ns = period;
    a->timer_deadline_ns = a->timer_start_ns + period;
    timer_arm(&a->timer, a->timer_deadline_ns);
}

static void arm_deadline(struct vapic *a)
{
    disarm(a);
    if (TIMER_MODE(a->lvt_timer) != MODE_DEADLINE || a->tsc_deadline == 0)
        return;
    uint64_t now_tsc = rdtsc();
    uint64_t now = time_now_ns();
    /* Guest TSC = host TSC (no offset), so the deadline converts directly.
     * Round up so the interrupt is never early. */
    uint64_t delta = a->tsc_deadline > now_tsc ? a->tsc_deadline - now_tsc : 0;
    uint64_t ns = time_tsc_to_ns(delta) + 1;
    a->timer_deadline_ns = now + ns;
    timer_arm(&a->timer, a->timer_deadline_ns);
}

static uint32_t current_count(const struct vapic *a)
{
    if (!a->timer_deadline_ns || TIMER_MODE(a->lvt_timer) == MODE_DEADLINE || !a->initial_count)
        return 0;
    uint64_t now = time_now_ns();
    if (now >= a->timer_deadline_ns)
        return 0;
    uint64_t left_ns = a->timer_deadline_ns - now;
    uint64_t per_count = count_to_ns(a, 1);
    uint64_t left = per_count ? left_ns / per_count : 0;
    return left > a->initial_count ? a->initial_count : (uint32_t)left;
}

void vapic_set_irr(struct vapic *a, int vector)
{
    if (vector < 16 || vector > 255)
        return; /* vectors 0-15 are illegal for fixed delivery */
    a->irr[vector / 64] |= 1ull << (vector % 64);
}

static int highest(const uint64_t *bits)
{
    for (int w = 3; w >= 0; w--)
        if (bits[w])
            return w * 64 + 63 - __builtin_clzll(bits[w]);
    return -1;
}

int vapic_pending_vector(const struct vapic *a)
{
    if (!(a->apic_base & APIC_BASE_ENABLE) || !(a->svr & 0x100))   /* xAPIC or x2APIC */
        return -1;
    int v = highest(a->irr);
    if (v < 0)
        return -1;
    int in_service = highest(a->isr);
    uint32_t ppr_class = a->tpr >> 4;
    if (in_service >= 0 && (uint32_t)(in_service >> 4) > ppr_class)
        ppr_class = (uint32_t)in_service >> 4;
    if ((uint32_t)(v >> 4) <= ppr_class)
        return -1;
    return v;
}

void vapic_ack(struct vapic *a, int vector)
{
    a->irr[vector / 64] &= ~(1ull << (vector % 64));
    a->isr[vector / 64] |= 1ull << (vector % 64);
    a->interrupts_delivered++;
}

void vapic_poll(struct vapic *a)
{
    if (!a->timer_fired)
        return;
    a->timer_fired = false;
    uint32_t mode = TIMER_MODE(a->lvt_timer);
    if (!(a->lvt_timer & LVT_MASKED))
        vapic_set_irr(a, (int)(a->lvt_timer & 0xff));
    if (mode == MODE_PERIODIC && a->initial_count) {
        /* Next period from the previous deadline, so periods do not drift. */
        uint64_t now = time_now_ns();
        uint64_t next = a->timer_deadline_ns + a->timer_period_ns;
        if (next <= now)
            next = now + a->timer_period_ns;
        a->timer_deadline_ns = next;
        timer_arm(&a->timer, next);
    } else if (mode == MODE_DEADLINE) {
        a->tsc_deadline = 0;
        a->timer_deadline_ns = 0;
    } else {
        a->timer_deadline_ns = 0;
    }
}

tv_status_t vapic_read_msr(struct vapic *a, uint32_t msr, uint64_t *value)
{
    if (msr == MSR_APIC_BASE) {
        *value = a->apic_base;
        return TV_OK;
    }
    if (msr == MSR_TSC_DEADLINE) {
        *value = TIMER_MODE(a->lvt_timer) == MODE_DEADLINE ? a->tsc_deadline : 0;
        return TV_OK;
    }
    if (!enabled(a))
        return TV_E_INVALID_ARGUMENT;
    switch (msr) {
    case REG_ID: *value = a->id; return TV_OK;
    case REG_VERSION: *value = 0x50014; return TV_OK; /* 6 LVTs, version 0x14 */
    case REG_TPR: *value = a->tpr; return TV_OK;
    case REG_PPR: {
        int isr = highest(a->isr);
        uint32_t ppr = a->tpr;
        if (isr >= 0 && ((uint32_t)isr & 0xf0) > (ppr & 0xf0))
            ppr = (uint32_t)isr & 0xf0;
        *value = ppr;
        return TV_OK;
    }
    case REG_LDR: *value = ((a->id >> 4) << 16) | (1u << (a->id & 0xf)); return TV_OK;
    case REG_SVR: *value = a->svr; return TV_OK;
    case REG_ESR: *value = 0; return TV_OK;
    case REG_ICR: *value = 0; return TV_OK;
    case REG_LVT_TIMER: *value = a->lvt_timer; return TV_OK;
    case REG_LVT_THERMAL: case REG_LVT_PMC: *value = LVT_MASKED; return TV_OK;
    case REG_LVT_LINT0: *value = a->lvt_lint0; return TV_OK;
    case REG_LVT_LINT1: *value = a->lvt_lint1; return TV_OK;
    case REG_LVT_ERROR: *value = a->lvt_error; return TV_OK;
    case REG_TIMER_INIT: *value = a->initial_count; return TV_OK;
    case REG_TIMER_CUR: *value = current_count(a); return TV_OK;
    case REG_TIMER_DIV: *value = a->divide_config; return TV_OK;
    default:
        break;
    }
    if (msr >= REG_ISR0 && msr < REG_ISR0 + 8) {
        unsigned i = msr - REG_ISR0;
        *value = (uint32_t)(a->isr[i / 2] >> (32 * (i % 2)));
        return TV_OK;
    }
    if (msr >= REG_TMR0 && msr < REG_TMR0 + 8) {
        *value = 0;
        return TV_OK;
    }
    if (msr >= REG_IRR0 && msr < REG_IRR0 + 8) {
        unsigned i = msr - REG_IRR0;
        *value = (uint32_t)(a->irr[i / 2] >> (32 * (i % 2)));
        return TV_OK;
    }
    return TV_E_INVALID_ARGUMENT; /* reserved or write-only: #GP */
}

/* ICR (SDM 10.6.1): a partition has one vCPU, so only self-delivery
 * exists (shorthand self, all-including-self, or our own ID); the other
 * destinations name nobody, and an IPI to nobody is dropped as on hardware.
 * Fixed and lowest-priority deliver the vector, NMI sets the NMI pending.
 * SMI, INIT, SIPI and the reserved modes are refused: logged once per mode
 * and ignored (an APIC accepts the write; there is no SMM and no other
 * processor to start). */
static void icr_write(struct vapic *a, uint64_t value)
{
    unsigned shorthand = (value >> 18) & 3, mode = (value >> 8) & 7;
    bool to_self = shorthand == 1 || shorthand == 2 || (shorthand == 0 && (value >> 32) == a->id);
    if (!to_self)
        return;
    switch (mode) {
    case 0: case 1:
        vapic_set_irr(a, (int)(value & 0xff));
        return;
    case 4:
        a->nmi_pending = true;
        return;
    default:
        if (!(a->icr_refused_logged & (1u << mode))) {
            static const char *const names[8] = { "fixed", "lowest priority", "SMI", "reserved (3)",
                                                  "NMI", "INIT", "start-up", "reserved (7)" };
            a->icr_refused_logged |= 1u << mode;
            log_msg(TV_LOG_WARN, a->vcpu && a->vcpu->part ? a->vcpu->part->name : "vapic",
                    "ICR delivery mode %s is not offered: IPI ignored (ICR %#llx)", names[mode],
                    (unsigned long long)value);
        }
        return;
    }
}

tv_status_t vapic_write_msr(struct vapic *a, uint32_t msr, uint64_t value)
{
    if (msr == MSR_APIC_BASE) {
        /* Only x2APIC mode is offered: keep it enabled, base fixed. */
        uint64_t fixed = a->apic_base & ~(APIC_BASE_ENABLE | APIC_BASE_X2APIC);
        if ((value & ~(APIC_BASE_ENABLE | APIC_BASE_X2APIC)) != fixed)
            return TV_E_INVALID_ARGUMENT;
        if ((value & APIC_BASE_X2APIC) && !(value & APIC_BASE_ENABLE))
            return TV_E_INVALID_ARGUMENT;
        a->apic_base = value;
        return TV_OK;
    }
    if (msr == MSR_TSC_DEADLINE) {
        if (TIMER_MODE(a->lvt_timer) == MODE_DEADLINE) {
            a->tsc_deadline = value;
            arm_deadline(a);
        }
        return TV_OK;
    }
    if (!enabled(a))
        return TV_E_INVALID_ARGUMENT;
    if (value >> 32 && msr != REG_ICR)
        return TV_E_INVALID_ARGUMENT;
    uint32_t v = (uint32_t)value;
    switch (msr) {
    case REG_TPR: a->tpr = v & 0xff; return TV_OK;
    case REG_EOI: {
        if (v)
            return TV_E_INVALID_ARGUMENT;
        int isr = highest(a->isr);
        if (isr >= 0)
            a->isr[isr / 64] &= ~(1ull << (isr % 64));
        return TV_OK;
    }
    case REG_SVR: a->svr = v & 0x13ff; return TV_OK;
    case REG_ESR: return TV_OK;
    case REG_LVT_TIMER: {
        uint32_t old_mode = TIMER_MODE(a->lvt_timer);
        a->lvt_timer = v & (0xff | LVT_MASKED | (3u << 17));
        if (TIMER_MODE(a->lvt_timer) == 3)
            a->lvt_timer &= ~(3u << 17); /* reserved mode: treat as one-shot */
        if (TIMER_MODE(a->lvt_timer) != old_mode) {
            disarm(a);
            a->initial_count = 0;
            a->tsc_deadline = 0;
        }
        return TV_OK;
    }
    case REG_LVT_THERMAL: case REG_LVT_PMC: return TV_OK;
    case REG_LVT_LINT0: a->lvt_lint0 = v & 0x1ffff; return TV_OK;
    case REG_LVT_LINT1: a->lvt_lint1 = v & 0x1ffff; return TV_OK;
    case REG_LVT_ERROR: a->lvt_error = v & 0x100ff; return TV_OK;
    case REG_TIMER_INIT:
        a->initial_count = v;
        arm_count(a);
        return TV_OK;
    case REG_TIMER_DIV: a->divide_config = v & 0xb; return TV_OK;
    case REG_SELF_IPI:
        if ((v & 0xff) < 16)
            return TV_OK; /* illegal vector: dropped (an APIC error on hardware) */
        vapic_set_irr(a, (int)(v & 0xff));
        return TV_OK;
    case REG_ICR:
        icr_write(a, value);
        return TV_OK;
    default:
        return TV_E_INVALID_ARGUMENT;
    }
}
