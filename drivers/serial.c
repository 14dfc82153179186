#include "drivers/serial.h"
#include "arch/x86/cpu.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_RBR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

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
