#include "drivers/serial.h"
#include "arch/x86/cpu.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_RBR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

static unsigned tx_fifo = 1;

void serial_init(void)
{
    /* Let what the loader wrote leave the UART first: clearing the FIFO
     * below would drop its last bytes (the loader's closing newline, so
     * the monitor's first line would not start a line).  Bounded: a
     * missing UART reads all ones and passes at once. */
    for (int spins = 0; spins < 1000000; spins++)
        if (inb(COM1 + UART_LSR) & 0x40)    /* LSR.TEMT: transmitter empty */
            break;
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, 0x80);     /* DLAB on */
    outb(COM1 + 0, 0x01);            /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + UART_LCR, 0x03);     /* 8N1 */
    outb(COM1 + UART_FCR, 0xc7);     /* FIFO on, cleared */
    outb(COM1 + UART_MCR, 0x03);     /* DTR, RTS; no OUT2: polled */
    /* IIR bits 7:6 read 11 when the FIFOs are on (16550A); an 8250 or
     * 16450 has none, and a missing UART reads all ones, which would claim
     * FIFOs: LSR of a missing UART also reads 0xff, so require a sane LSR. */
    uint8_t iir = inb(COM1 + UART_IIR), lsr = inb(COM1 + UART_LSR);
    tx_fifo = ((iir & 0xc0) == 0xc0 && lsr != 0xff) ? 16 : 1;
}

bool serial_tx_ready(void)
{
    return inb(COM1 + UART_LSR) & LSR_THR_EMPTY;
}

unsigned serial_tx_fifo(void)
{
    return tx_fifo;
}

void serial_tx_put(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        outb(COM1 + UART_THR, (uint8_t)s[i]);
}

static void put_byte(char c)
{
    /* Bounded wait: a missing or stuck UART must not hang the monitor. */
    for (int spins = 0; spins < 100000; spins++)
        if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
            break;
    outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            put_byte('\r');
        put_byte(s[i]);
    }
}

int serial_try_read(void)
{
    if (inb(COM1 + UART_LSR) & LSR_DATA_READY)
        return inb(COM1 + UART_RBR);
    return -1;
}
