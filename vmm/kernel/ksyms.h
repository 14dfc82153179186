/* Symbol lookup for crash reports, from a table generated at link time. */
#ifndef VMM_KSYMS_H
#define VMM_KSYMS_H

#include <stddef.h>
#include <stdint.h>

/* Writes "symbol+0xoff" (or the raw address) into buf. */
void ksyms_describe(uint64_t addr, char *buf, size_t size);
/* Prints a frame-pointer backtrace starting at rbp (bounded). */
void ksyms_backtrace(uint64_t rbp);

#endif
