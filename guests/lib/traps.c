/* IDT, the trap dispatcher, resumable calls (guest_try / guest_run_user) and
 * interrupt callbacks. */
#include "guest.h"
#include "guest_internal.h"
#include "tv_string.h"

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));

struct idt_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern const uint64_t guest_isr_table[256];
static struct idt_gate idt[256] __attribute__((aligned(16)));

/* Resumable contexts, innermost last.  A trap resumes the innermost one. */
enum ctx_kind { CTX_TRY, CTX_USER };
struct resume_ctx {
    enum ctx_kind kind;
    uint64_t saved_rsp;
    uint64_t rflags;
    struct guest_trap trap;
    bool trapped;
};
#define MAX_CTX 4
static struct resume_ctx *ctx_stack[MAX_CTX];
static unsigned ctx_depth;

struct irq_slot {
    guest_irq_fn fn;
    void *ctx;
    bool eoi;
};
static struct irq_slot irq_slots[256];

/* guest_expect_trap() state. */
static struct {
    bool armed, taken;
    int vector;
    uint64_t resume_rip;
    struct guest_trap trap;
} expect;
static volatile uint64_t irq_counts[256];

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "res15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    "res22", "res23", "res24", "res25", "res26", "res27", "#HV", "#VC", "#SX", "res31",
};

const char *guest_vector_name(int vector)
{
    if (vector >= 0 && vector < 32)
        return exc_names[vector];
    return vector < 0 ? "none" : "irq";
}

static void set_gate(unsigned v, uint64_t handler, unsigned dpl)
{
    idt[v].offset_lo = (uint16_t)handler;
    idt[v].selector = SEL_KCODE64;
    idt[v].ist = 0;
    /* Interrupt gate (IF cleared on entry), present. */
    idt[v].type_attr = (uint8_t)(0x8E | (dpl << 5));
    idt[v].offset_mid = (uint16_t)(handler >> 16);
    idt[v].offset_hi = (uint32_t)(handler >> 32);
    idt[v].reserved = 0;
}

void traps_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, guest_isr_table[v], v == GUEST_USER_RETURN_VECTOR ? 3 : 0);
    struct idt_ptr p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" :: "m"(p) : "memory");
}

void guest_idt_load_empty(void)
{
    struct idt_ptr p = { 0, 0 };
    __asm__ volatile("lidt %0" :: "m"(p) : "memory");
}

/* Rewrites the frame so that the iretq returns from guest_ctx_call with
 * value, at CPL 0, on the stack the context was created on. */
static void resume(struct trap_frame *f, struct resume_ctx *c, uint64_t value)
{
    ctx_depth--;
    f->rip = (uint64_t)(uintptr_t)guest_ctx_resume;
    f->cs = SEL_KCODE64;
    f->rsp = c->saved_rsp;
    f->ss = SEL_KDATA;
    f->rflags = c->rflags;
    f->rax = value;
}

static __attribute__((noreturn)) void unexpected(const struct trap_frame *f)
{
    guest_printf("not ok - unexpected exception %lu (%s) err=0x%lx rip=0x%lx cs=0x%lx "
                 "rsp=0x%lx cr2=0x%lx\n",
                 f->vector, guest_vector_name((int)f->vector), f->error_code, f->rip, f->cs,
                 f->rsp, read_cr2());
    guest_printf("GUEST SUMMARY: %u passed, %u failed\n", report_passed(), report_failed() + 1);
    guest_exit(GUEST_EXIT_UNEXPECTED_TRAP);
}

void trap_dispatch(struct trap_frame *f)
{
    unsigned v = (unsigned)f->vector;
    unsigned cpl = (unsigned)(f->cs & 3);
    irq_counts[v]++;

    if (v == GUEST_USER_RETURN_VECTOR && cpl == 3) {
        if (ctx_depth && ctx_stack[ctx_depth - 1]->kind == CTX_USER) {
            struct resume_ctx *c = ctx_stack[ctx_depth - 1];
            c->trapped = false;
            resume(f, c, f->rdi);
            return;
        }
        unexpected(f);
    }

    if (v < 32 && expect.armed && cpl == 0 && (expect.vector < 0 || expect.vector == (int)v)) {
        expect.armed = false;
        expect.taken = true;
        expect.trap.vector = (int)v;
        expect.trap.error_code = f->error_code;
        expect.trap.rip = f->rip;
        expect.trap.cr2 = v == VEC_PF ? read_cr2() : 0;
        expect.trap.cpl = cpl;
        f->rip = expect.resume_rip;
        return;
    }

    if (v < 32) {
        if (ctx_depth == 0)
            unexpected(f);
        struct resume_ctx *c = ctx_stack[ctx_depth - 1];
        c->trapped = true;
        c->trap.vector = (int)v;
        c->trap.error_code = f->error_code;
        c->trap.rip = f->rip;
        c->trap.cr2 = v == VEC_PF ? read_cr2() : 0;
        c->trap.cpl = cpl;
        resume(f, c, 0);
        return;
    }

    struct irq_slot *s = &irq_slots[v];
    if (s->fn)
        s->fn(f, s->ctx);
    if (v == APIC_SPURIOUS_VECTOR)
        return;   /* spurious interrupts take no EOI */
    if (s->eoi)
        apic_eoi();
}

static int run_ctx(struct resume_ctx *c, long (*fn)(void *), void *arg, long *result,
                   struct guest_trap *trap)
{
    if (ctx_depth >= MAX_CTX) {
        guest_printf("not ok - guest_try/guest_run_user nested too deeply\n");
        guest_exit(GUEST_EXIT_UNEXPECTED_TRAP);
    }
    c->saved_rsp = 0;
    c->rflags = read_rflags();
    c->trapped = false;
    c->trap.vector = GUEST_NO_TRAP;
    ctx_stack[ctx_depth++] = c;
    long r = guest_ctx_call(&c->saved_rsp, fn, arg);
    /* A trap already popped the context in resume(); a plain return did not. */
    if (ctx_depth && ctx_stack[ctx_depth - 1] == c)
        ctx_depth--;
    if (trap)
        *trap = c->trap;
    if (c->trapped)
        return c->trap.vector;
    if (result)
        *result = r;
    return GUEST_NO_TRAP;
}

struct try_call {
    void (*fn)(void *);
    void *arg;
};

static long try_shim(void *p)
{
    struct try_call *t = p;
    t->fn(t->arg);
    return 0;
}

int guest_try(void (*fn)(void *arg), void *arg, struct guest_trap *trap)
{
    struct resume_ctx c = { .kind = CTX_TRY };
    struct try_call t = { fn, arg };
    return run_ctx(&c, try_shim, &t, NULL, trap);
}

static uint8_t user_stack[16384] __attribute__((aligned(16)));

struct user_call {
    long (*fn)(void *);
    void *arg;
};

static long user_shim(void *p)
{
    struct user_call *u = p;
    return guest_user_enter((void *)u->fn, u->arg,
                            (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack)));
}

int guest_run_user(long (*fn)(void *arg), void *arg, long *result, struct guest_trap *trap)
{
    struct resume_ctx c = { .kind = CTX_USER };
    struct user_call u = { fn, arg };
    return run_ctx(&c, user_shim, &u, result, trap);
}

void guest_expect_trap(int vector, const void *resume_rip)
{
    expect.vector = vector;
    expect.resume_rip = (uint64_t)(uintptr_t)resume_rip;
    expect.taken = false;
    expect.trap.vector = GUEST_NO_TRAP;
    __atomic_store_n(&expect.armed, true, __ATOMIC_SEQ_CST);
}

bool guest_expect_taken(struct guest_trap *trap)
{
    __atomic_store_n(&expect.armed, false, __ATOMIC_SEQ_CST);
    if (trap)
        *trap = expect.trap;
    return expect.taken;
}

bool guest_irq_register(uint8_t vector, guest_irq_fn fn, void *ctx, bool eoi)
{
    if (vector < 32 || vector == GUEST_USER_RETURN_VECTOR)
        return false;
    irq_slots[vector].fn = NULL;
    irq_slots[vector].ctx = ctx;
    irq_slots[vector].eoi = eoi;
    __atomic_store_n(&irq_slots[vector].fn, fn, __ATOMIC_RELEASE);
    return true;
}

void guest_irq_unregister(uint8_t vector)
{
    if (vector < 32 || vector == GUEST_USER_RETURN_VECTOR)
        return;
    __atomic_store_n(&irq_slots[vector].fn, NULL, __ATOMIC_RELEASE);
    irq_slots[vector].eoi = false;
}

uint64_t guest_irq_count(uint8_t vector)
{
    return irq_counts[vector];
}
