/* exit_port: the rule for the guest exit port (TV_GUEST_EXIT_PORT, 0xF4):
 * only a 32-bit OUT stops the partition, with the whole 32-bit value as its
 * code.  8- and 16-bit OUTs and a byte-wide OUTSB are dropped like writes to
 * an unknown port: the guest keeps running after each of them.
 *
 * The guest ends with a 32-bit OUT of EXIT_CODE, whose low byte and low word
 * differ from the values written before; the scenario expects exactly that
 * code (expect.exit_port=exit:...), so a narrow write that stopped the
 * partition, or a code truncated to 8 or 16 bits, fails the scenario. */
#include "guest.h"

#define EXIT_CODE 0x5a5a0001u

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port));
}

static void outsb_one(uint16_t port, const uint8_t *p)
{
    uint64_t n = 1;
    __asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(port) : "memory");
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    volatile unsigned alive = 0;
    outb(TV_GUEST_EXIT_PORT, 0x05);
    alive++;
    report("8-bit OUT to the exit port is dropped (still running)", alive == 1);
    outw(TV_GUEST_EXIT_PORT, 0x0006);
    alive++;
    report("16-bit OUT to the exit port is dropped (still running)", alive == 2);
    static const uint8_t byte = 0x07;
    outsb_one(TV_GUEST_EXIT_PORT, &byte);
    alive++;
    report("OUTSB to the exit port is dropped (still running)", alive == 3);
    guest_printf("GUEST SUMMARY: %u passed, %u failed\n", report_passed(), report_failed());
    /* Exit with EXIT_CODE only when every check passed: any other code (or
     * an earlier stop) fails the scenario's expectation. */
    guest_exit(report_failed() == 0 && report_passed() == 3 ? EXIT_CODE : GUEST_EXIT_TESTS_FAILED);
}
