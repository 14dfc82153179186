#include "dev/vuart.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "tv_string.h"

#define LSR_DR   0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_RDA  0x01
#define IER_THRE 0x02
#define IIR_NONE 0x01
#define IIR_THRE 0x02
#define IIR_RDA  0x04
#define IIR_FIFO 0xc0       /* FIFOs enabled: the guest sees a 16550A */
#define MCR_OUT2 0x08

static bool rx_ready(const struct vuart *u)
{
    return __atomic_load_n(&u->rx_head, __ATOMIC_ACQUIRE) != u->rx_tail;
}

/* The highest-priority pending interrupt (line status and modem status
 * interrupts never occur: no errors, fixed modem lines). */
static uint8_t pending_id(const struct vuart *u)
{
    if ((u->ier & IER_RDA) && rx_ready(u))
        return IIR_RDA;
    if ((u->ier & IER_THRE) && u->thre_pending)
        return IIR_THRE;
    return IIR_NONE;
}

static void update_irq(struct vuart *u)
{
    bool line = pending_id(u) != IIR_NONE && (u->mcr & MCR_OUT2);
    if (line == u->irq_line)
        return;
    u->irq_line = line;
    if (u->irq)
        u->irq(u->irq_ctx, line);
}

void vuart_set_irq(struct vuart *u, void *ctx, void (*irq)(void *ctx, bool level),
                   void (*rx_kick)(void *ctx))
{
    u->irq_ctx = ctx;
    u->irq = irq;
    u->rx_kick = rx_kick;
}

void vuart_init(struct vuart *u, const char *owner, bool has_input)
{
    tv_memset(u, 0, sizeof *u);
    u->owner = owner;
    u->has_input = has_input;
    u->lcr = 0x03;
    u->budget = VUART_BURST_BYTES;
    u->budget_ns = time_now_ns();
}

bool vuart_handles_port(uint16_t port)
{
    return port >= VUART_BASE && port < VUART_BASE + 8;
}

#define NS_PER_BYTE (1000000000ull / VUART_RATE_BPS)

/* Logs one line if the partition's budget allows; otherwise counts it.  The
 * first line that fits again is preceded by how many were dropped. */
static void emit_line(struct vuart *u)
{
    uint64_t now = time_now_ns();
    uint64_t earned = (now - u->budget_ns) / NS_PER_BYTE;
    if (earned >= VUART_BURST_BYTES - u->budget) {
        u->budget = VUART_BURST_BYTES;
        u->budget_ns = now;
    } else {
        u->budget += (uint32_t)earned;
        u->budget_ns += earned * NS_PER_BYTE;
    }
    uint32_t cost = (uint32_t)u->line_len + 1;
    if (u->budget < cost) {
        u->dropped++;
        u->dropped_total++;
        return;
    }
    u->budget -= cost;
    if (u->dropped) {
        log_msg(TV_LOG_WARN, u->owner, "console rate limit (%u bytes/s): %u lines dropped",
                VUART_RATE_BPS, (unsigned)u->dropped);
        u->dropped = 0;
    }
    log_line(u->owner, u->line, u->line_len);
}

void vuart_flush(struct vuart *u)
{
    if (u->line_len) {
        emit_line(u);
        u->line_len = 0;
    }
    /* The partition stops: say what its rate limit dropped at the end. */
    if (u->dropped) {
        log_msg(TV_LOG_WARN, u->owner, "console rate limit (%u bytes/s): %u lines dropped",
                VUART_RATE_BPS, (unsigned)u->dropped);
        u->dropped = 0;
    }
}

static void put(struct vuart *u, char c)
{
    if (u->raw) {
        log_raw_bytes(&c, 1);
        return;
    }
    if (c == '\r')
        return;
    if (c == '\n') {
        emit_line(u);
        u->line_len = 0;
        return;
    }
    if (u->line_len == (int)sizeof u->line) {
        emit_line(u); /* an over-long line is split (within the budget) */
        u->line_len = 0;
    }
    u->line[u->line_len++] = c;
}

void vuart_push_input(struct vuart *u, uint8_t c)
{
    uint32_t next = (u->rx_head + 1) % VUART_RX_SIZE;
    if (next == u->rx_tail)
        return; /* full: drop, as a real FIFO overruns */
    u->rx[u->rx_head] = c;
    __atomic_store_n(&u->rx_head, next, __ATOMIC_RELEASE);
    if (u->rx_kick && (u->ier & IER_RDA) && (u->mcr & MCR_OUT2))
        u->rx_kick(u->irq_ctx);
}

static uint32_t read_reg(struct vuart *u, uint16_t port)
{
    bool dlab = u->lcr & 0x80;
    bool data = rx_ready(u);
    switch (port - VUART_BASE) {
    case 0:
        if (dlab)
            return u->dll;
        if (data) {
            uint8_t c = u->rx[u->rx_tail];
            u->rx_tail = (u->rx_tail + 1) % VUART_RX_SIZE;
            return c;
        }
        return 0;
    case 1: return dlab ? u->dlm : u->ier;
    case 2: {
        uint8_t id = pending_id(u);
        if (id == IIR_THRE)
            u->thre_pending = false;     /* reading IIR clears a THRE interrupt */
        return IIR_FIFO | id;
    }
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: return LSR_THRE | LSR_TEMT | (data ? LSR_DR : 0);
    case 6: return 0xb0;                 /* DCD, DSR, CTS */
    default: return u->scr;
    }
}

uint32_t vuart_read(struct vuart *u, uint16_t port)
{
    uint32_t v = read_reg(u, port);
    update_irq(u);
    return v;
}

void vuart_write(struct vuart *u, uint16_t port, uint32_t value)
{
    bool dlab = u->lcr & 0x80;
    uint8_t v = (uint8_t)value;
    switch (port - VUART_BASE) {
    case 0:
        if (dlab) {
            u->dll = v;
        } else {
            put(u, (char)v);
            u->thre_pending = true;      /* sent at once: the holding register is empty again */
        }
        break;
    case 1:
        if (dlab) {
            u->dlm = v;
        } else {
            /* Enabling THRE interrupts with the register empty raises one. */
            if (!(u->ier & IER_THRE) && (v & IER_THRE))
                u->thre_pending = true;
            u->ier = v & 0x0f;
        }
        break;
    case 3: u->lcr = v; break;
    case 4: u->mcr = v & 0x1f; break;
    case 7: u->scr = v; break;
    default: break;
    }
    update_irq(u);
}
