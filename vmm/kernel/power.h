/* Turning the machine off on request (the control partition's POWER_OFF). */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#include <stdint.h>
#include "taskvisor/status.h"

/* Keeps the RSDP for the power-off path. */
void power_init(uint64_t acpi_rsdp);
/* ACPI S5; where the platform has none and a debug-exit port is configured,
 * that port (an emulator run ends with the pass code).  Returns only when
 * neither works, with the reason logged. */
tv_status_t power_off(void);
/* A service's clean-up before the power goes (run by power_off, in the
 * order added, on the caller's thread, which may block). */
tv_status_t power_add_shutdown_hook(void (*fn)(void));
/* Runs the hooks (once per boot; power_off calls it, and the test build's
 * verdict before it ends the emulator run). */
void power_run_shutdown_hooks(void);

#endif
