/* The integration scenarios' verdict (test builds only; vmm/testing/ is not
 * part of monitor.elf): what each partition is expected to do (option
 * expect.NAME), and when every partition has done it, one PASS/FAIL line per
 * partition, the closing "TASKVISOR SUMMARY: N passed, M failed" line and
 * the emulator's exit (pass or failure code on the debug-exit port). */
#ifndef TESTING_VERDICT_H
#define TESTING_VERDICT_H

#include <stdint.h>
#include "taskvisor/status.h"

/* Reads the expectations of every created partition and starts watching
 * them stop.  Unknown or malformed expectations refuse the run. */
tv_status_t verdict_start(const char *options);

/* Monitor-side checks (the block self-test): verdict_hold() before they
 * start; verdict_release() adds their results and lets the summary be
 * printed once every partition is done too. */
void verdict_hold(void);
void verdict_release(uint32_t passed, uint32_t failed);

#endif
