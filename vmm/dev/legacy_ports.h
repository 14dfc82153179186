/* Legacy PC ports an OS probes at boot, answered so that probing ends at
 * once instead of spinning (portable, no state):
 *   0x40-0x43  8254 PIT: read 0.  No counter runs: the platform's clocks are
 *              the TSC and the local APIC timer.  A counter that reads 0
 *              makes Linux's quick PIT calibration give up in a few reads
 *              (all ones would make it retry 50,000 times).
 *   0x61       system control port B: reads 0x20, timer 2 output high (the
 *              count it was given has "expired": nothing counts), so loops
 *              that wait for that output end (Linux's pit_calibrate_tsc
 *              would wait forever for a 0 to become 1).  Writes dropped.
 * Everything else keeps the rule for unknown ports (reads all ones, writes
 * dropped): among them the i8042 (0x60/0x64: all ones = no controller) and
 * the POST port 0x80. */
#ifndef VMM_LEGACY_PORTS_H
#define VMM_LEGACY_PORTS_H

#include <stdbool.h>
#include <stdint.h>

/* True when port is one of the above; *value then holds the answer.
 * Writes to these ports need nothing: they are dropped like unknown ones. */
bool legacy_port_read(uint16_t port, unsigned size, uint32_t *value);

#endif
