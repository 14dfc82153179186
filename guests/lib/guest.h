/* Taskvisor guest library: the freestanding runtime every test guest and the
 * control partition link.  The library boots (Multiboot1 or PVH), enters long
 * mode with the first 4 GiB identity mapped, installs a GDT/TSS/IDT and calls
 *
 *     int guest_main(const struct guest_boot *boot);
 *
 * Returning from guest_main exits the partition with the returned code.
 * See docs/guests.md. */
#ifndef TV_GUEST_H
#define TV_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/agent.h"
#include "taskvisor/hypercall.h"
#include "taskvisor/status.h"

/* ---- boot -------------------------------------------------------------- */

enum guest_boot_protocol {
    GUEST_BOOT_UNKNOWN = 0,
    GUEST_BOOT_MULTIBOOT1 = 1,
    GUEST_BOOT_PVH = 2,
};

#define GUEST_CMDLINE_MAX 256
#define GUEST_MAX_RAM_RANGES 16

struct guest_ram_range {
    uint64_t base, len;
};

struct guest_boot {
    enum guest_boot_protocol protocol;
    uint32_t info_gpa;              /* multiboot_info or hvm_start_info */
    uint64_t mem_bytes;             /* end of the highest RAM range; 0 = unknown */
    /* The RAM ranges of the memory map (type 1), in the order given. */
    struct guest_ram_range ram[GUEST_MAX_RAM_RANGES];
    unsigned ram_count;
    char cmdline[GUEST_CMDLINE_MAX];/* "" when none was given */
};

int guest_main(const struct guest_boot *boot);
const struct guest_boot *guest_boot_info_get(void);
const char *guest_boot_protocol_name(enum guest_boot_protocol p);

/* Command line words are separated by spaces.  guest_cmdline_has("selftest")
 * tests a bare word; guest_cmdline_value("name", buf, n) copies the value of
 * "name=value" and returns true when present. */
bool guest_cmdline_has(const char *word);
bool guest_cmdline_value(const char *key, char *buf, size_t size);
/* Parses a decimal or 0x-prefixed number; returns false on junk. */
bool guest_parse_u64(const char *s, uint64_t *out);

/* ---- exit -------------------------------------------------------------- */

/* 32-bit OUT to TV_GUEST_EXIT_PORT: the monitor stops the partition (bare
 * QEMU's isa-debug-exit ends QEMU with status (code << 1) | 1).  Never returns. */
__attribute__((noreturn)) void guest_exit(uint32_t code);
#define GUEST_EXIT_OK              0u
#define GUEST_EXIT_TESTS_FAILED    1u
#define GUEST_EXIT_UNEXPECTED_TRAP 3u

/* ---- port I/O and CPU helpers ------------------------------------------ */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cpu_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void cpu_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* STI's one-instruction shadow makes "sti; hlt" atomic: an interrupt that is
 * already pending wakes the HLT instead of being taken before it. */
static inline void cpu_sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void cpu_pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_rflags(void) { uint64_t v; __asm__ volatile("pushfq; pop %0" : "=r"(v)); return v; }
static inline uint16_t read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }

/* True when CPUID.1:ECX bit 31 says a hypervisor is present and leaf
 * 0x40000000 carries the Taskvisor signature. */
bool guest_on_taskvisor(void);

/* ---- serial and printing ----------------------------------------------- */

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);
bool serial_rx_ready(void);
int serial_getc_nonblock(void);   /* -1 when nothing is waiting */
char serial_getc(void);            /* polls until a byte arrives */
int guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int guest_vprintf(const char *fmt, va_list ap);
void guest_puts(const char *s);    /* no newline added */

/* ---- TAP reporting ------------------------------------------------------ */

/* Prints "ok N - name" or "not ok N - name"; returns ok. */
bool report(const char *name, bool ok);
bool reportf(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A check this environment cannot do: prints "# SKIP name: why" (a TAP
 * comment, so it is counted neither as passed nor as failed). */
void report_skip(const char *name, const char *why);
void report_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* "# ..." */
unsigned report_passed(void);
unsigned report_failed(void);
/* Prints "GUEST SUMMARY: N passed, N failed" and exits with 0 iff no failure
 * (and at least one pass). */
__attribute__((noreturn)) void guest_exit_summary(void);

/* ---- traps ------------------------------------------------------------- */

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

struct guest_trap {
    int vector;          /* -1: none */
    uint64_t error_code;
    uint64_t rip;
    uint64_t cr2;        /* for #PF */
    unsigned cpl;        /* privilege level the trap came from */
};

#define GUEST_NO_TRAP (-1)
#define VEC_DE 0
#define VEC_DB 1
#define VEC_BP 3
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14

const char *guest_vector_name(int vector);

/* Runs fn(arg) and catches any exception it raises: returns GUEST_NO_TRAP
 * when fn returned, else the vector, with the details in *trap (may be NULL).
 * Execution resumes right after guest_try; state fn left behind is kept. */
int guest_try(void (*fn)(void *arg), void *arg, struct guest_trap *trap);

/* The lighter form: arm a one-shot expectation, run the instruction, then
 * collect.  The next exception with that vector (-1: any) taken at CPL 0
 * records its details and resumes at resume_rip (typically an asm label right
 * after the faulting instruction).  guest_expect_taken() disarms and returns
 * whether the exception happened.  Registers the faulting code clobbered stay
 * clobbered: prefer guest_try() unless the test controls the instructions. */
void guest_expect_trap(int vector, const void *resume_rip);
bool guest_expect_taken(struct guest_trap *trap);

/* Runs fn(arg) at CPL 3 (user code/data segments, RSP0 from the TSS) and
 * comes back through an INT 0x80 gate.  Returns GUEST_NO_TRAP and *result
 * when fn returned, else the vector of the exception that ended it. */
int guest_run_user(long (*fn)(void *arg), void *arg, long *result, struct guest_trap *trap);

/* Interrupt handlers for vectors 32..255 (0x80 is reserved for
 * guest_run_user).  When eoi is true the library writes the local APIC EOI
 * after the handler returns. */
typedef void (*guest_irq_fn)(struct trap_frame *frame, void *ctx);
bool guest_irq_register(uint8_t vector, guest_irq_fn fn, void *ctx, bool eoi);
void guest_irq_unregister(uint8_t vector);
/* Count of interrupts taken on vector (handler or not). */
uint64_t guest_irq_count(uint8_t vector);

/* Loads an IDT with limit 0, so the next exception triple-faults. */
void guest_idt_load_empty(void);

/* ---- hypercalls -------------------------------------------------------- */

struct tv_hc_out {
    uint64_t rdx;
    uint64_t rsi;
    uint64_t rdi;   /* the third output (o2) */
};

/* Issues VMMCALL (AMD) or VMCALL (Intel), picked from the CPU vendor at boot.
 * Returns the status in RAX; out (may be NULL) receives RDX and RSI. */
tv_status_t tv_hypercall(uint64_t code, uint64_t a0, uint64_t a1, uint64_t a2,
                         uint64_t a3, uint64_t a4, struct tv_hc_out *out);
/* The raw instruction, whatever the CPU: for tests of the #UD paths. */
static inline uint64_t tv_vmmcall_raw(uint64_t code)
{
    uint64_t rax = code;
    __asm__ volatile("vmmcall" : "+a"(rax) :: "rdi", "rsi", "rdx", "r10", "r8", "memory");
    return rax;
}
bool tv_hypercall_uses_vmcall(void);

/* Gets the ABI version (major << 16 | minor) and feature bits. */
tv_status_t tv_get_version(uint32_t *version, uint64_t *features);

/* ---- the guest agent (include/taskvisor/agent.h, docs/agent.md) -------- */

struct guest_agent_request {
    uint32_t seq;    /* 0: none pending */
    uint32_t kind;   /* TV_AGENT_REQ_* */
    uint32_t flags;  /* TV_AGENT_REQ_F_* */
};

/* Announces this guest's agent with caps (TV_AGENT_CAP_*).  With a vector
 * (32..255; 0 = poll), registers its handler first: the local APIC must be
 * enabled (apic_enable) and interrupts are the caller's to turn on. */
tv_status_t guest_agent_start(uint32_t caps, uint8_t vector);
tv_status_t guest_agent_poll(struct guest_agent_request *req);
tv_status_t guest_agent_answer(uint32_t seq, uint32_t answer);
tv_status_t guest_agent_depart(void);
/* Returns the next pending request: halts until the agent's vector fires
 * (sti; hlt, so no wake-up is lost), or polls every ~1 ms without one. */
tv_status_t guest_agent_wait(struct guest_agent_request *req);

/* ---- local APIC (x2APIC preferred, xAPIC MMIO fallback) ---------------- */

enum apic_mode { APIC_NONE = 0, APIC_XAPIC = 1, APIC_X2APIC = 2 };

/* x2APIC MSR numbers; the xAPIC fallback maps (msr - 0x800) << 4 onto MMIO. */
#define APIC_MSR_BASE      0x1b
#define X2APIC_ID          0x802
#define X2APIC_VERSION     0x803
#define X2APIC_TPR         0x808
#define X2APIC_EOI         0x80b
#define X2APIC_SVR         0x80f
#define X2APIC_ISR0        0x810
#define X2APIC_LVT_TIMER   0x832
#define X2APIC_TIMER_INIT  0x838
#define X2APIC_TIMER_CUR   0x839
#define X2APIC_TIMER_DIV   0x83e
#define X2APIC_SELF_IPI    0x83f
#define MSR_TSC_DEADLINE   0x6e0

#define APIC_LVT_MASKED         (1u << 16)
#define APIC_LVT_TIMER_ONESHOT  (0u << 17)
#define APIC_LVT_TIMER_PERIODIC (1u << 17)
#define APIC_LVT_TIMER_DEADLINE (2u << 17)
#define APIC_DIV_1              0xb
#define APIC_SPURIOUS_VECTOR    0xff

bool apic_has_x2apic(void);
bool apic_has_tsc_deadline(void);
/* Enables the local APIC: x2APIC when the CPU offers it (IA32_APIC_BASE
 * bits 10 and 11), else xAPIC when allow_xapic.  Software-enables it through
 * the SVR.  Returns the mode obtained (APIC_NONE on failure). */
enum apic_mode apic_enable(bool allow_xapic);
enum apic_mode apic_mode(void);
uint32_t apic_read(uint32_t msr);
void apic_write(uint32_t msr, uint32_t value);
void apic_eoi(void);
void apic_timer_stop(void);
void apic_timer_oneshot(uint8_t vector, uint32_t count);      /* divide by 1 */
void apic_timer_periodic(uint8_t vector, uint32_t count);     /* divide by 1 */
void apic_timer_tsc_deadline(uint8_t vector, uint64_t tsc_deadline);
void apic_self_ipi(uint8_t vector);

/* ---- memory helpers the compiler may call ------------------------------ */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
