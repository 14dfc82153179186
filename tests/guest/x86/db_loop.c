/* The benign #DB loop: #DB goes through an IST stack, and a data breakpoint
 * covers the first slot the delivery writes there (the pushed SS).  Each
 * delivery then raises another #DB before the handler's first instruction,
 * at the same address, forever: on a CPU that does not exit on #DB the
 * guest holds it with no exit at all.  The monitor intercepts #DB, so each
 * round exits and the neighbours keep running; the scenario expects this
 * partition still looping when they are done.  If the CPU (an emulator)
 * does not loop, the handler runs and the guest says so. */
#include "guest.h"

volatile uint64_t db_handled;
__asm__(".text\n.globl db_loop_handler\ndb_loop_handler:\n"
        "    incq db_handled(%rip)\n"
        "    andq $~0x100, 16(%rsp)\n"
        "    iretq\n");
extern char db_loop_handler[];

struct gate { uint16_t lo, sel; uint8_t ist, attr; uint16_t mid; uint32_t hi, res; } __attribute__((packed));
static uint8_t ist_stack[4096] __attribute__((aligned(4096)));

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;
    uint16_t tr;
    __asm__ volatile("sgdt %0; sidt %1; str %2" : "=m"(gdtr), "=m"(idtr), "=r"(tr));
    const uint8_t *d = (const uint8_t *)(uintptr_t)(gdtr.base + (tr & ~7u));
    uint64_t tss = (uint64_t)d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 |
                   (uint64_t)d[7] << 24 | (uint64_t)*(const uint32_t *)(d + 8) << 32;
    uint64_t top = (uint64_t)(uintptr_t)(ist_stack + sizeof ist_stack);
    *(volatile uint64_t *)(uintptr_t)(tss + 0x24) = top;          /* IST1 */
    struct gate *g = (struct gate *)(uintptr_t)idtr.base + 1;
    uint64_t h = (uint64_t)(uintptr_t)db_loop_handler;
    g->lo = (uint16_t)h; g->mid = (uint16_t)(h >> 16); g->hi = (uint32_t)(h >> 32);
    g->ist = 1;
    /* DR0: the 8 bytes below the IST top (where delivery pushes SS); RW0 = 01
     * (data writes), LEN0 = 11 (8 bytes), L0. */
    uint64_t dr7 = 0x400 | 1 | (1ull << 16) | (3ull << 18);
    __asm__ volatile("mov %0, %%dr0; mov %1, %%dr7" :: "r"(top - 8), "r"(dr7));
    guest_printf("db_loop: loop armed, single-stepping one instruction\n");
    __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq; nop" ::: "memory");
    guest_printf("db_loop: no #DB loop on this CPU (the handler ran %llu times)\n",
                 (unsigned long long)db_handled);
    for (;;)
        cpu_pause();
}
