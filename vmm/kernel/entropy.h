/* Unpredictable bytes for the monitor (VHD unique ids, exFAT volume
 * serials of files it creates): the CPU's RDSEED, else RDRAND, else a
 * documented fallback (TSC jitter mixed with the wall clock). */
#ifndef KERNEL_ENTROPY_H
#define KERNEL_ENTROPY_H

#include <stddef.h>

/* Checks CPUID once and logs the source (after wallclock_init). */
void entropy_init(void);
void entropy_fill(void *buf, size_t len);
/* "rdseed", "rdrand" or "tsc-jitter". */
const char *entropy_source(void);

#endif
