/* timerloss: the smallest monitor that shows issue 9's lost host timer.
 * It shares the bare reference monitor's entry (bench/bare/entry.asm: long
 * mode, identity map that doubles as the nested page table, bare_svm_run)
 * and nothing of vmm/.  Started by QEMU's -kernel (Multiboot1) with
 * -append "virq=1 seconds=120 period_us=20", it
 *   - runs its own local APIC timer (xAPIC MMIO, one-shot, re-armed by the
 *     handler after EOI, as the monitor's vmm/kernel/timer.c does),
 *   - enters one SVM guest that keeps IF=0 and runs `rep insb` from an
 *     intercepted port for ever, with the monitor's intercepts and run loop:
 *     INTR and IOIO intercepted, V_INTR_MASKING, clgi; sti; vmrun; cli; stgi,
 *     an `sti; nop; cli` window after every exit,
 *   - with virq=1, keeps a virtual interrupt pending in the VMCB (V_IRQ,
 *     V_IGN_TPR, priority 15, VINTR intercept) that the guest never takes,
 *     as vmm/arch/x86/svm/svm.c does for a guest with IF=0 and an interrupt
 *     queued; with virq=0 it does not,
 *   - counts its timer interrupts and, when none came for stall_ms (TSC,
 *     calibrated against PIT channel 2), looks at the APIC and then opens
 *     interrupt windows for 1 ms: the timer vector in IRR before and after,
 *     ISR empty, TPR 0, IF=1 and GIF=1 in the windows, yet not taken, is a
 *     "stranded" event (impossible on a CPU
 *     that follows the SDM 10.8.3-10.8.4 / APM 16.6 rules); it then rewrites
 *     TPR with its own value, which makes the emulated APIC re-raise its
 *     request, and counts whether that let the interrupt in.
 * Prints "TIMERLOSS: ..." lines and ends with
 *   TIMERLOSS SUMMARY: virq=V seconds=S irqs=N exits=E stranded=K late=L
 * then writes 0x10 (no stranded event) or 0x12 to isa-debug-exit 0xf4.
 * The cause (docs/testing.md, "QEMU's lost timer interrupt"): QEMU 7.2's
 * VMRUN helper sets the CPU's virtual-interrupt request with an unlocked
 * read-modify-write of the interrupt-request word, racing the I/O thread
 * that sets the hard interrupt request for the APIC timer. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bare_hw.h"

void bare_main(uint32_t magic, uint32_t info);

#define VEC_TIMER    240
#define VEC_SPURIOUS 255
#define APIC_BASE    0xfee00000ull
#define APIC_TPR     0x080
#define APIC_EOI     0x0b0
#define APIC_SVR     0x0f0
#define APIC_ISR0    0x100
#define APIC_IRR0    0x200
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_DIV  0x3e0

static struct gregs g;
static uint8_t page_vmcb[4096] __attribute__((aligned(4096)));
static uint8_t page_hsave[4096] __attribute__((aligned(4096)));
static uint8_t iopm[3 * 4096] __attribute__((aligned(4096)));
static uint8_t guest_code[64] __attribute__((aligned(16)));
static uint8_t guest_buf[256];
static uint64_t idt[256][2] __attribute__((aligned(16)));

static volatile uint64_t irqs;
static uint32_t timer_count;

/* ---- hardware access (outb, inb, rdmsr, wrmsr: bare_hw.h) ---- */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline uint32_t apic_rd(uint32_t r) { return *(volatile uint32_t *)(uintptr_t)(APIC_BASE + r); }
static inline void apic_wr(uint32_t r, uint32_t v) { *(volatile uint32_t *)(uintptr_t)(APIC_BASE + r) = v; }
static inline void irq_window(void) { __asm__ volatile("sti; nop; cli" ::: "memory"); }

/* ---- serial output (putc_, puts_: bare_hw.h) ---- */
static void putu(uint64_t v)
{
    char b[24];
    int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n)
        putc_(b[--n]);
}
static void kv(const char *k, uint64_t v) { puts_(" "); puts_(k); puts_("="); putu(v); }

static __attribute__((noreturn)) void finish(uint8_t code)
{
    outb(0xf4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- command line: "key=decimal" words ---- */
static uint64_t opt(const char *cmd, const char *key, uint64_t dflt)
{
    if (!cmd)
        return dflt;
    for (const char *p = cmd; *p; p++) {
        if (p != cmd && p[-1] != ' ')
            continue;
        const char *k = key, *q = p;
        while (*k && *q == *k) { k++; q++; }
        if (*k || *q != '=')
            continue;
        uint64_t v = 0;
        for (q++; *q >= '0' && *q <= '9'; q++)
            v = v * 10 + (uint64_t)(*q - '0');
        return v;
    }
    return dflt;
}

/* ---- interrupts ---- */
struct iframe;
__attribute__((interrupt)) static void timer_isr(struct iframe *f)
{
    (void)f;
    irqs++;
    apic_wr(APIC_EOI, 0);
    apic_wr(APIC_TIMER_INIT, timer_count);    /* one-shot again */
}
__attribute__((interrupt)) static void spurious_isr(struct iframe *f) { (void)f; }
__attribute__((interrupt)) static void other_isr(struct iframe *f)
{
    (void)f;
    puts_("TIMERLOSS: unexpected interrupt or exception\n");
    finish(0x11);
}

static void idt_set(int v, void *fn)
{
    uint64_t a = (uint64_t)(uintptr_t)fn;
    idt[v][0] = (a & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | (((a >> 16) & 0xffff) << 48);
    idt[v][1] = a >> 32;
}

static void idt_init(void)
{
    for (int v = 0; v < 256; v++)
        idt_set(v, other_isr);
    idt_set(VEC_TIMER, timer_isr);
    idt_set(VEC_SPURIOUS, spurious_isr);
    struct __attribute__((packed)) { uint16_t lim; uint64_t base; } idtr = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" :: "m"(idtr));
}

/* TSC ticks per millisecond, from one 50 ms PIT channel 2 countdown. */
static uint64_t tsc_per_ms(void)
{
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));   /* gate on, speaker off */
    outb(0x43, 0xb0);                                   /* ch 2, lo/hi, mode 0 */
    outb(0x42, 59659 & 0xff);                           /* 50 ms at 1.193182 MHz */
    outb(0x42, 59659 >> 8);
    uint64_t t0 = rdtsc();
    while (!(inb(0x61) & 0x20))
        ;
    return (rdtsc() - t0) / 50;
}

static void apic_init(uint32_t period_us)
{
    outb(0x21, 0xff);                                   /* both 8259s masked */
    outb(0xa1, 0xff);
    wrmsr(0x1b, rdmsr(0x1b) | (1u << 11));
    apic_wr(APIC_TPR, 0);
    apic_wr(APIC_SVR, 0x100 | VEC_SPURIOUS);
    apic_wr(APIC_LVT_LINT0, 1u << 16);
    apic_wr(APIC_LVT_LINT1, 1u << 16);
    apic_wr(APIC_LVT_ERROR, 1u << 16);
    apic_wr(APIC_TIMER_DIV, 0xb);                       /* divide by 1 */
    /* QEMU's APIC timer counts its 1 GHz bus clock: 1000 counts a us. */
    timer_count = period_us * 1000u;
    apic_wr(APIC_LVT_TIMER, VEC_TIMER);                 /* one-shot */
    apic_wr(APIC_TIMER_INIT, timer_count);
}

struct vstate { bool irr, isr; uint32_t tpr; };
static void vector_state(struct vstate *s)
{
    uint32_t reg = (VEC_TIMER / 32) * 0x10, bit = 1u << (VEC_TIMER % 32);
    s->irr = apic_rd(APIC_IRR0 + reg) & bit;
    s->isr = apic_rd(APIC_ISR0 + reg) & bit;
    s->tpr = apic_rd(APIC_TPR);
}

/* ---- SVM (APM vol. 2, appendix B: VMCB layout) ---- */
#define VMCB(off, type) VMCB_AT(page_vmcb, off, type)

/* The guest, 32-bit flat, IF=0 for ever:
 *   top: mov ecx, 16; mov edi, guest_buf; mov dx, 0x80; rep insb; jmp top */
static uint32_t guest_setup(void)
{
    uint32_t buf = (uint32_t)(uintptr_t)guest_buf;
    uint8_t code[] = { 0xb9, 16, 0, 0, 0,
                       0xbf, (uint8_t)buf, (uint8_t)(buf >> 8), (uint8_t)(buf >> 16), (uint8_t)(buf >> 24),
                       0x66, 0xba, 0x80, 0x00,
                       0xf3, 0x6c,
                       0xeb, 0 };
    code[sizeof code - 1] = (uint8_t)-(int)sizeof code;
    for (unsigned i = 0; i < sizeof code; i++)
        guest_code[i] = code[i];
    return (uint32_t)(uintptr_t)guest_code;
}

static void svm_setup(bool virq)
{
    uint32_t entry = guest_setup();
    for (unsigned i = 0; i < sizeof iopm; i++)
        iopm[i] = 0xff;                                 /* every port exits */
    svm_enable(page_hsave);
    /* INTR, IOIO, HLT, SHUTDOWN; VINTR with the pending virtual interrupt. */
    VMCB(0x00c, uint32_t) = (1u << 0) | (1u << 27) | (1u << 24) | (1u << 31) | (virq ? 1u << 4 : 0);
    VMCB(0x010, uint32_t) = 1u << 0;                    /* VMRUN */
    VMCB(0x040, uint64_t) = (uint64_t)(uintptr_t)iopm;
    VMCB(0x058, uint32_t) = 1;                          /* ASID */
    /* V_INTR_MASKING; with virq V_IRQ, V_IGN_TPR, V_INTR_PRIO 15, vector 0x60. */
    VMCB(0x060, uint32_t) = (1u << 24) | (virq ? (1u << 8) | (1u << 20) | (0xfu << 16) : 0);
    VMCB(0x064, uint32_t) = 0x60;
    VMCB(0x090, uint64_t) = 1;                          /* nested paging */
    VMCB(0x0b0, uint64_t) = (uint64_t)(uintptr_t)bare_pml4;
    svm_guest_flat32(page_vmcb, entry);
}

void bare_main(uint32_t magic, uint32_t info)
{
    puts_("TIMERLOSS: start\n");
    if (magic != 0x2badb002u)
        finish(0x11);
    const uint32_t *mbi = (const uint32_t *)(uintptr_t)info;
    const char *cmd = (mbi[0] & (1u << 2)) ? (const char *)(uintptr_t)mbi[4] : 0;
    bool virq = opt(cmd, "virq", 1) != 0;
    uint64_t seconds = opt(cmd, "seconds", 120);
    uint64_t period_us = opt(cmd, "period_us", 20);
    uint64_t stall_ms = opt(cmd, "stall_ms", 20);
    if (period_us == 0 || period_us > 1000000 || stall_ms == 0)
        finish(0x11);
    idt_init();
    uint64_t per_ms = tsc_per_ms();
    apic_init((uint32_t)period_us);
    svm_setup(virq);
    puts_("TIMERLOSS: config");
    kv("virq", virq);
    kv("seconds", seconds);
    kv("period_us", period_us);
    kv("stall_ms", stall_ms);
    kv("tsc_per_ms", per_ms);
    puts_("\n");

    uint64_t start = rdtsc(), last_irq_tsc = start, next_report = start + 10000 * per_ms;
    uint64_t end = start + seconds * 1000 * per_ms, stall = stall_ms * per_ms;
    uint64_t seen = irqs, exits = 0, stranded = 0, recovered = 0, late = 0, notfired = 0;
    uint64_t vmcb_pa = (uint64_t)(uintptr_t)page_vmcb;
    for (;;) {
        __asm__ volatile("clgi; sti" ::: "memory");
        bare_svm_run(vmcb_pa, &g);
        __asm__ volatile("cli; stgi" ::: "memory");
        exits++;
        uint64_t code = VMCB(0x070, uint64_t);
        if (code == 0x7b) {                             /* IOIO: rep insb of all ones */
            uint64_t i1 = VMCB(0x078, uint64_t);
            if (i1 & (1u << 2)) {
                uint32_t n = (i1 & (1u << 3)) ? (uint32_t)g.rcx : 1;
                uint32_t edi = (uint32_t)g.rdi;
                if (edi < (uint32_t)(uintptr_t)guest_buf ||
                    edi + n > (uint32_t)(uintptr_t)guest_buf + sizeof guest_buf)
                    finish(0x11);
                for (uint32_t i = 0; i < n; i++)
                    ((volatile uint8_t *)(uintptr_t)edi)[i] = 0xff;
                g.rdi = edi + n;
                if (i1 & (1u << 3))
                    g.rcx = 0;
            }
            VMCB(0x578, uint64_t) = VMCB(0x080, uint64_t); /* EXITINFO2: next RIP */
        } else if (code != 0x60) {                      /* anything but INTR ends it */
            puts_("TIMERLOSS: unexpected exit");
            kv("code", code);
            puts_("\n");
            finish(0x11);
        }
        irq_window();                                   /* the monitor's window */

        uint64_t now = rdtsc();
        if (irqs != seen) {
            seen = irqs;
            last_irq_tsc = now;
        } else if (now - last_irq_tsc > stall) {
            /* The APIC state first, then 1 ms of windows: a vector already
             * in IRR that none of them lets in is stranded; one that the
             * APIC raises during them (a late timer) is taken in them. */
            struct vstate s, s2;
            vector_state(&s);
            for (uint64_t t0 = rdtsc(); rdtsc() - t0 < per_ms && irqs == seen;)
                irq_window();
            vector_state(&s2);
            if (irqs != seen) {
                late++;
            } else if (s.irr && s2.irr && !s2.isr && s2.tpr == 0) {
                stranded++;
                apic_wr(APIC_TPR, apic_rd(APIC_TPR));   /* the watchdog's nudge */
                irq_window();
                bool ok = irqs != seen;
                recovered += ok;
                if (stranded <= 20 || !(stranded & (stranded - 1))) {
                    puts_("TIMERLOSS: stranded: vector 240 in IRR, ISR empty, TPR 0, not taken in a window");
                    kv("event", stranded);
                    kv("at_ms", (now - start) / per_ms);
                    kv("irqs", seen);
                    kv("exits", exits);
                    puts_(ok ? " ; taken after a TPR rewrite\n" : " ; still not taken after a TPR rewrite\n");
                }
            } else {
                /* Not pending: the emulated APIC timer had not fired yet
                 * (host threads descheduled), or fired and was lost in
                 * another way; re-arm it and count. */
                notfired++;
                if (notfired <= 5) {
                    puts_("TIMERLOSS: timer overdue but not in IRR");
                    kv("at_ms", (now - start) / per_ms);
                    kv("irr", s.irr);
                    kv("isr", s.isr);
                    kv("tpr", s.tpr);
                    puts_("\n");
                }
                apic_wr(APIC_TIMER_INIT, timer_count);
            }
            seen = irqs;
            last_irq_tsc = rdtsc();
        }
        if (now >= next_report || now >= end) {
            next_report += 10000 * per_ms;
            puts_(now >= end ? "TIMERLOSS SUMMARY:" : "TIMERLOSS: progress");
            kv("virq", virq);
            kv("seconds", (now - start) / per_ms / 1000);
            kv("irqs", irqs);
            kv("exits", exits);
            kv("stranded", stranded);
            kv("recovered", recovered);
            kv("late", late);
            kv("notfired", notfired);
            puts_("\n");
            if (now >= end)
                finish(stranded ? 0x12 : 0x10);
        }
    }
}
