/* The monitor's own 16550 UART (COM1), polled.
 *
 * Two ways to write: serial_write() waits for the transmitter before every
 * byte (the panic and exit paths, and the log before its drain timer runs);
 * serial_tx_ready() + serial_tx_put() never wait: when the transmitter is
 * empty, up to serial_tx_fifo() bytes fit at once (16 with the 16550A's
 * FIFO, 1 without), which is how the log drains with a bounded cost. */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

void serial_init(void);
/* Polled write of n bytes; '\n' becomes "\r\n". */
void serial_write(const char *s, size_t n);
/* True when the transmitter (and its FIFO) is empty. */
bool serial_tx_ready(void);
/* Bytes that may be written without waiting once serial_tx_ready(). */
unsigned serial_tx_fifo(void);
/* Writes n bytes as they are (no newline translation, no waiting); the
 * caller checked serial_tx_ready() and n <= serial_tx_fifo(). */
void serial_tx_put(const char *s, size_t n);
/* Returns a received byte, or -1 when none is waiting. */
int serial_try_read(void);

#endif
