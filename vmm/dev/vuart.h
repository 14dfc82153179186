/* The 16550 UART each guest sees at 0x3F8.  Output goes to the monitor log,
 * a line at a time, prefixed with the partition name, within a per-partition
 * rate limit; the control partition's UART also receives the console's input.
 *
 * Interrupts (ISA IRQ 4): receive data available (IER bit 0) and transmitter
 * holding register empty (IER bit 1), identified in IIR with the 16550's
 * priorities; the IRQ line is gated by MCR OUT2 as on PCs.  Transmission is
 * instant, so THRE is pending again right after each THR write; it is
 * cleared by reading IIR while it is the interrupt identified (PC16550D
 * datasheet, table 4).  The line goes to irq() on the vCPU thread.  Input
 * pushed by the console poller (another thread) calls rx_kick() instead. */
#ifndef VMM_VUART_H
#define VMM_VUART_H

#include <stdint.h>
#include <stdbool.h>

#define VUART_BASE 0x3f8
#define VUART_RX_SIZE 256

struct vuart {
    const char *owner;
    char line[200];
    int line_len;
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t rx[VUART_RX_SIZE];
    volatile uint32_t rx_head, rx_tail;   /* written by the console poller */
    bool has_input;
    bool raw;        /* console partition in raw mode: bytes straight to the console */
    /* Line output budget (token bucket, bytes): a partition that floods its
     * console loses lines beyond VUART_RATE_BPS on average (bursts up to
     * VUART_BURST_BYTES), counted and reported, so it cannot crowd the
     * other partitions' lines out of the monitor's log. */
    uint64_t budget_ns;   /* time the budget was last refilled */
    uint32_t budget;      /* bytes it may still log */
    uint32_t dropped;     /* lines dropped since the last report */
    uint64_t dropped_total;
    bool thre_pending;
    bool irq_line;
    void *irq_ctx;
    void (*irq)(void *ctx, bool level);   /* NULL: no interrupt line wired */
    void (*rx_kick)(void *ctx);           /* input arrived (any thread) */
};

#define VUART_RATE_BPS    4000u
#define VUART_BURST_BYTES 32768u

void vuart_init(struct vuart *u, const char *owner, bool has_input);
bool vuart_handles_port(uint16_t port);
uint32_t vuart_read(struct vuart *u, uint16_t port);
void vuart_write(struct vuart *u, uint16_t port, uint32_t value);
/* Feeds console input (from the monitor's console poller). */
void vuart_push_input(struct vuart *u, uint8_t c);
void vuart_flush(struct vuart *u);
/* Wires the interrupt line (call after vuart_init). */
void vuart_set_irq(struct vuart *u, void *ctx, void (*irq)(void *ctx, bool level),
                   void (*rx_kick)(void *ctx));

#endif
