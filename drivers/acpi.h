/* ACPI tables for the monitor's own use: find a table by signature from the
 * RSDP the loader handed over, and power the machine off (S5).  Tables come
 * from firmware: lengths and checksums are checked before anything is read. */
#ifndef DRIVERS_ACPI_H
#define DRIVERS_ACPI_H

#include <stddef.h>
#include <stdint.h>
#include "taskvisor/status.h"

/* Remembers the RSDP (physical address, 0 if none) and checks it. */
tv_status_t acpi_init(uint64_t rsdp_pa);
/* The first table with this 4-character signature (checksummed), or NULL. */
const void *acpi_find_table(const char sig[4], uint32_t *len_out);
/* Enters S5 through PM1a/PM1b control (ACPI 6.x, 4.8.3.2 and 7.4.2): returns
 * only when that is not possible, with why[] saying why. */
tv_status_t acpi_power_off(char *why, size_t len);

#endif
