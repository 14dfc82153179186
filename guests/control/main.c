/* The default control partition: an interactive console on its serial line,
 * or, with "selftest" on the command line, a TAP self-test for the
 * integration tests. */
#include "console.h"
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    if (guest_cmdline_has("selftest"))
        control_selftest();
    console_run();
}
