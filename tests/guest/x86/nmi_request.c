/* Asks for host NMIs while partitions run: each "qemu-nmi-request" line
 * makes scripts/run-qemu.sh send QEMU's "nmi" command (LINT1 on the host
 * CPU).  The monitor must count the NMI and go on, and none of them may
 * reach this guest (its own NMI gate counts any that do). */
#include "guest.h"

volatile uint64_t nmi_seen;
__asm__(".text\n.globl nmi_req_handler\nnmi_req_handler:\n"
        "    incq nmi_seen(%rip)\n    iretq\n");
extern char nmi_req_handler[];

struct gate { uint16_t lo, sel; uint8_t ist, attr; uint16_t mid; uint32_t hi, res; } __attribute__((packed));

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    struct gate *g = (struct gate *)(uintptr_t)idtr.base + 2;
    uint64_t h = (uint64_t)(uintptr_t)nmi_req_handler;
    g->lo = (uint16_t)h; g->mid = (uint16_t)(h >> 16); g->hi = (uint32_t)(h >> 32);

    const unsigned requests = 8;
    uint64_t spins = 0;
    for (unsigned i = 0; i < requests; i++) {
        guest_printf("nmi_request: qemu-nmi-request %u\n", i + 1);
        /* About a second of TSC time (the runner polls the log every 0.2 s;
         * longer after the last request, for a loaded machine) so the request is served while the
         * partitions keep switching. */
        uint64_t t0 = rdtsc(), span = i + 1 < requests ? 3000000000ull : 12000000000ull;
        while (rdtsc() - t0 < span) {
            cpu_pause();
            spins++;
        }
    }
    reportf(spins > 0, "%u NMI requests made while running", requests);
    reportf(nmi_seen == 0, "no host NMI reached the guest (%llu seen)", (unsigned long long)nmi_seen);
    guest_exit_summary();
}
