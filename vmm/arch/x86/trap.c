/* IDT set-up and the common trap dispatcher (SDM vol. 3 6.10-6.14). */
#include "arch/x86/trap.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/lapic.h"
#include "kernel/ksyms.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/sched.h"

struct idt_entry {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t zero;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
static irq_handler_t irq_handlers[256];
extern const uint64_t trap_stub_table[256];
static struct { irq_device_fn fn; void *ctx; } device_irqs[256];

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection",
    "reserved 22", "reserved 23", "reserved 24", "reserved 25", "reserved 26",
    "reserved 27", "#HV hypervisor injection", "#VC VMM communication", "#SX security",
    "reserved 31",
};

static void set_gate(int vec, uint64_t handler, uint8_t ist)
{
    idt[vec].offset_lo = (uint16_t)handler;
    idt[vec].selector = GDT_CODE;
    idt[vec].ist = ist;
    idt[vec].type_attr = 0x8e; /* present, DPL0, 64-bit interrupt gate */
    idt[vec].offset_mid = (uint16_t)(handler >> 16);
    idt[vec].offset_hi = (uint32_t)(handler >> 32);
    idt[vec].zero = 0;
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint8_t ist = v == 2 ? IST_NMI : v == 8 ? IST_DF : v == 18 ? IST_MC : 0;
        set_gate(v, trap_stub_table[v], ist);
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" :: "m"(idtr));
}

void irq_register(uint8_t vector, irq_handler_t handler)
{
    irq_handlers[vector] = handler;
}

tv_status_t irq_alloc_vector(irq_device_fn fn, void *ctx, uint8_t *vector)
{
    bool irq = irq_save();
    for (unsigned v = IRQ_DYN_FIRST; v <= IRQ_DYN_LAST; v++) {
        if (!irq_handlers[v] && !device_irqs[v].fn) {
            device_irqs[v].ctx = ctx;
            device_irqs[v].fn = fn;
            irq_restore(irq);
            *vector = (uint8_t)v;
            return TV_OK;
        }
    }
    irq_restore(irq);
    return TV_E_LIMIT;
}

static void dump_frame(const struct trap_frame *tf)
{
    char sym[96];
    ksyms_describe(tf->rip, sym, sizeof sym);
    log_raw("\n*** MONITOR EXCEPTION %llu (%s) error=%#llx at %s\n",
            (unsigned long long)tf->vector,
            tf->vector < 32 ? exception_names[tf->vector] : "?",
            (unsigned long long)tf->error_code, sym);
    log_raw("RIP=%016llx CS=%04llx RFLAGS=%016llx RSP=%016llx SS=%04llx\n",
            (unsigned long long)tf->rip, (unsigned long long)tf->cs,
            (unsigned long long)tf->rflags, (unsigned long long)tf->rsp,
            (unsigned long long)tf->ss);
    log_raw("RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n",
            (unsigned long long)tf->rax, (unsigned long long)tf->rbx,
            (unsigned long long)tf->rcx, (unsigned long long)tf->rdx);
    log_raw("RSI=%016llx RDI=%016llx RBP=%016llx R8 =%016llx\n",
            (unsigned long long)tf->rsi, (unsigned long long)tf->rdi,
            (unsigned long long)tf->rbp, (unsigned long long)tf->r8);
    log_raw("R9 =%016llx R10=%016llx R11=%016llx R12=%016llx\n",
            (unsigned long long)tf->r9, (unsigned long long)tf->r10,
            (unsigned long long)tf->r11, (unsigned long long)tf->r12);
    log_raw("R13=%016llx R14=%016llx R15=%016llx\n",
            (unsigned long long)tf->r13, (unsigned long long)tf->r14,
            (unsigned long long)tf->r15);
    log_raw("CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n",
            (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
            (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
    ksyms_backtrace(tf->rbp);
}

static volatile uint64_t nmi_count, db_count;
static uint64_t nmi_reported, db_reported;
volatile uint64_t trap_report_events;
uint64_t trap_report_seen;

void trap_host_nmi(void)
{
    __atomic_add_fetch(&nmi_count, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&trap_report_events, 1, __ATOMIC_RELAXED);
}

uint64_t trap_nmi_count(void) { return __atomic_load_n(&nmi_count, __ATOMIC_RELAXED); }

void trap_report_slow(void)
{
    trap_report_seen = __atomic_load_n(&trap_report_events, __ATOMIC_RELAXED);
    uint64_t n = trap_nmi_count();
    if (n != nmi_reported) {
        log_warn("host NMI received (%llu new, %llu in all); the monitor goes on",
                 (unsigned long long)(n - nmi_reported), (unsigned long long)n);
        nmi_reported = n;
    }
    uint64_t d = __atomic_load_n(&db_count, __ATOMIC_RELAXED);
    if (d != db_reported) {
        log_warn("spurious #DB in the monitor (%llu in all) ignored", (unsigned long long)d);
        db_reported = d;
    }
}

void trap_dispatch(struct trap_frame *tf);
void trap_dispatch(struct trap_frame *tf)
{
    uint64_t vec = tf->vector;
    if (vec == 2) {
        /* On its own IST stack, possibly inside any other code: count it
         * and return at once (no preemption, no locks). */
        trap_host_nmi();
        return;
    }
    if (vec == 1 && !(read_dr(7) & 0xff)) {
        /* The monitor sets no breakpoint and never single-steps: a #DB here
         * is a guest's single-step leaking through an exit (Bochs' SVM
         * delivers one after a #VMEXIT from a TF=1 guest).  Ignore it. */
        __atomic_add_fetch(&db_count, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&trap_report_events, 1, __ATOMIC_RELAXED);
        write_dr(6, 0xffff0ff0u);
        tf->rflags &= ~(1ull << 8);
        return;
    }
    if (vec < 32) {
        dump_frame(tf);
        panic_stop("unhandled exception %llu in the monitor", (unsigned long long)vec);
    }
    irq_handler_t h = irq_handlers[vec];
    if (h) {
        h(tf);
    } else if (device_irqs[vec].fn) {
        device_irqs[vec].fn(device_irqs[vec].ctx);
        lapic_eoi();
    } else if (vec != VEC_SPURIOUS)
        log_warn("unexpected interrupt vector %llu", (unsigned long long)vec);
    /* Preempt on the way out of an interrupt that asked for it.  The frame
     * stays on this thread's stack and is resumed when it runs again. */
    sched_preempt_point();
}
