/* The monitor's own 16550 UART (COM1), polled. */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

void serial_init(void);
void serial_write(const char *s, size_t n);
/* Returns a received byte, or -1 when none is waiting. */
int serial_try_read(void);

#endif
