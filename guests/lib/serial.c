/* 16550 UART at COM1 (0x3F8), polled, and printf on top of it. */
#include "guest.h"
#include "tv_fmt.h"
#include "tv_string.h"

#define COM1 0x3F8
#define UART_THR 0   /* transmit holding (write) / receive buffer (read) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY (1u << 0)
#define LSR_THR_EMPTY  (1u << 5)

void serial_init(void)
{
    outb(COM1 + UART_IER, 0x00);   /* no interrupts: we poll */
    outb(COM1 + UART_LCR, 0x80);   /* DLAB on */
    outb(COM1 + UART_THR, 0x01);   /* divisor 1: 115200 baud */
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, 0x03);   /* 8N1, DLAB off */
    outb(COM1 + UART_FCR, 0xC7);   /* FIFOs on and cleared */
    outb(COM1 + UART_MCR, 0x03);   /* DTR | RTS */
}

void serial_putc(char c)
{
    /* Bounded wait: a missing UART must not hang the guest forever. */
    for (unsigned i = 0; i < 1000000 && !(inb(COM1 + UART_LSR) & LSR_THR_EMPTY); i++)
        cpu_pause();
    outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        serial_putc(s[i]);
}

void guest_puts(const char *s)
{
    serial_write(s, tv_strlen(s));
}

bool serial_rx_ready(void)
{
    return (inb(COM1 + UART_LSR) & LSR_DATA_READY) != 0;
}

int serial_getc_nonblock(void)
{
    if (!serial_rx_ready())
        return -1;
    return inb(COM1 + UART_THR);
}

char serial_getc(void)
{
    int c;
    while ((c = serial_getc_nonblock()) < 0)
        cpu_pause();
    return (char)c;
}

int guest_vprintf(const char *fmt, va_list ap)
{
    char buf[512];
    va_list copy;
    va_copy(copy, ap);
    int n = tv_vsnprintf(buf, sizeof(buf), fmt, copy);
    va_end(copy);
    if (n < 0)
        return n;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    serial_write(buf, len);
    if ((size_t)n >= sizeof(buf))
        guest_puts("...[truncated]\n");
    return n;
}

int guest_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = guest_vprintf(fmt, ap);
    va_end(ap);
    return n;
}
