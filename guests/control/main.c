/* The default control partition: an interactive console on its serial line,
 * or, with "selftest" (or "storetest", "esptest", "vmdisktest") on the command line, a
 * TAP self-test for the integration tests ("diskbench": the disk bench of make bench). */
#include "console.h"
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    if (guest_cmdline_has("selftest"))
        control_selftest();
    if (guest_cmdline_has("storetest"))
        control_storetest();
    if (guest_cmdline_has("esptest"))
        control_esptest();
    if (guest_cmdline_has("vmdisktest"))
        control_vmdisktest();
    if (guest_cmdline_has("diskbench"))
        control_diskbench();
    console_run();
}
