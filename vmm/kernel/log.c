/* The monitor's log.
 *
 * Lines are formatted outside any lock, then copied into a ring buffer
 * under the log lock (interrupts off for a copy of at most one line).  The
 * UART is written by a drain timer: each run writes what the transmitter
 * takes without waiting (its FIFO, 16 bytes on a 16550A) and at most
 * LOG_DRAIN_BUDGET bytes, then re-arms itself while bytes are queued.  So
 * no path of the running system keeps interrupts off while a polled UART
 * sends a line (about 87 us per byte at 115200 baud); see
 * docs/architecture.md, "Log", for the bound.
 *
 * When the ring is full, lines are dropped and counted; the next line that
 * fits is preceded by "N lines dropped".  Before the drain timer exists
 * (early boot), or when it has not run for LOG_STALE_NS while bytes wait
 * (interrupts off for that long: a hang worth seeing), lines are written
 * synchronously as before.  The panic and exit paths call log_flush(). */
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "drivers/serial.h"
#include "tv_fmt.h"
#include "tv_status.h"

#define LOG_RING_SIZE (64u * 1024u)          /* a power of two */
#define LOG_DRAIN_PERIOD_NS 1000000ull       /* 16 bytes at 115200 baud take 1.4 ms */
#define LOG_DRAIN_BUDGET 64u                 /* bytes per drain run */
#define LOG_STALE_NS 100000000ull

static spinlock_t log_lock = SPINLOCK_INIT;
static int log_level = TV_LOG_INFO;
static const char *const level_tag[] = { "ERR", "WRN", "INF", "DBG", "TRC" };

/* Protected by log_lock.  head and tail run freely; head - tail bytes are
 * queued at ring[tail % size]. */
static char ring[LOG_RING_SIZE];
static uint32_t ring_head, ring_tail;
static uint64_t dropped_pending;   /* lines dropped since the last marker */
static uint64_t dropped_total;
static bool async;                 /* the drain timer writes the UART */
static struct timer drain_timer;
static uint64_t drain_due_ns;      /* when the armed drain timer should run */

void log_set_level(int level)
{
    if (level < TV_LOG_ERROR)
        level = TV_LOG_ERROR;
    if (level > TV_LOG_TRACE)
        level = TV_LOG_TRACE;
    log_level = level;
}

int log_get_level(void)
{
    return log_level;
}

static uint32_t ring_used(void)
{
    return ring_head - ring_tail;
}

static void ring_put(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ring[(ring_head + i) & (LOG_RING_SIZE - 1)] = s[i];
    ring_head += n;
}

/* Lock held.  Writes up to `max` queued bytes without waiting. */
static void drain_some(uint32_t max)
{
    char buf[LOG_DRAIN_BUDGET];
    uint32_t fifo = serial_tx_fifo();
    while (max && ring_used() && serial_tx_ready()) {
        uint32_t k = ring_used();
        if (k > fifo)
            k = fifo;
        if (k > max)
            k = max;
        if (k > sizeof buf)
            k = sizeof buf;
        for (uint32_t i = 0; i < k; i++)
            buf[i] = ring[(ring_tail + i) & (LOG_RING_SIZE - 1)];
        serial_tx_put(buf, k);
        ring_tail += k;
        max -= k;
    }
}

/* Lock held or interrupts off on the only CPU: everything, polled. */
static void drain_all_polled(void)
{
    while (ring_used()) {
        char c = ring[ring_tail & (LOG_RING_SIZE - 1)];
        ring_tail++;
        /* Newlines are stored as "\r\n" already: write the bytes as they
         * are, one polled byte at a time. */
        for (int spins = 0; spins < 100000 && !serial_tx_ready(); spins++)
            ;
        serial_tx_put(&c, 1);
    }
}

static void arm_drain(uint64_t at)
{
    drain_due_ns = at;
    timer_arm(&drain_timer, at);
}

/* Interrupt context, interrupts off: a bounded piece of work. */
static void drain_tick(struct timer *t)
{
    (void)t;
    bool irq = spin_lock_irqsave(&log_lock);
    drain_some(LOG_DRAIN_BUDGET);
    if (ring_used())
        arm_drain(time_now_ns() + LOG_DRAIN_PERIOD_NS);
    spin_unlock_irqrestore(&log_lock, irq);
}

void log_start_async(void)
{
    bool irq = spin_lock_irqsave(&log_lock);
    timer_init(&drain_timer, drain_tick, 0);
    async = true;
    if (ring_used())
        arm_drain(time_now_ns());
    spin_unlock_irqrestore(&log_lock, irq);
}

/* Lock held: after queueing, start the drain or, without one, write now. */
static void kick(void)
{
    if (!async) {
        drain_all_polled();
        return;
    }
    if (!drain_timer.armed) {
        arm_drain(time_now_ns());
    } else if (time_now_ns() > drain_due_ns + LOG_STALE_NS) {
        /* The drain timer is overdue by far: interrupts have been off that
         * long.  Write synchronously so a hang still shows its log. */
        drain_all_polled();
    }
}

/* Lock held.  Queues n bytes, or counts the line as dropped. */
static void queue_line(const char *s, uint32_t n)
{
    if (dropped_pending) {
        char mark[96];
        uint64_t ns = time_now_ns();
        int m = tv_snprintf(mark, sizeof mark, "[%5llu.%06llu] WRN log: %llu lines dropped\r\n",
                            (unsigned long long)(ns / 1000000000ull),
                            (unsigned long long)(ns / 1000ull % 1000000ull),
                            (unsigned long long)dropped_pending);
        if (m < 0 || m >= (int)sizeof mark || LOG_RING_SIZE - ring_used() < (uint32_t)m + n) {
            dropped_pending++;
            dropped_total++;
            return;
        }
        ring_put(mark, (uint32_t)m);
        dropped_pending = 0;
    }
    if (LOG_RING_SIZE - ring_used() < n) {
        dropped_pending++;
        dropped_total++;
        return;
    }
    ring_put(s, n);
}

static void emit(const char *tag, const char *source, const char *text, int len)
{
    char line[384];
    uint64_t ns = time_now_ns();
    int n = tv_snprintf(line, sizeof line, "[%5llu.%06llu] %s %s: ",
                        (unsigned long long)(ns / 1000000000ull),
                        (unsigned long long)(ns / 1000ull % 1000000ull), tag, source);
    if (n < 0 || n >= (int)sizeof line)
        n = (int)sizeof line - 1;
    int room = (int)sizeof line - 3 - n;
    if (len > room)
        len = room;
    for (int i = 0; i < len; i++) {
        char c = text[i];
        line[n++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '.';
    }
    line[n++] = '\r';
    line[n++] = '\n';
    bool irq = spin_lock_irqsave(&log_lock);
    queue_line(line, (uint32_t)n);
    kick();
    spin_unlock_irqrestore(&log_lock, irq);
}

void log_vmsg(int level, const char *source, const char *fmt, va_list ap)
{
    if (level > log_level)
        return;
    char text[320];
    int n = tv_vsnprintf(text, sizeof text, fmt, ap);
    if (n >= (int)sizeof text)
        n = (int)sizeof text - 1;
    emit(level_tag[level < 0 ? 0 : level > 4 ? 4 : level], source, text, n);
}

void log_msg(int level, const char *source, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, source, fmt, ap);
    va_end(ap);
}

void log_line(const char *source, const char *text, int len)
{
    emit("OUT", source, text, len);
}

void log_raw_bytes(const char *s, int len)
{
    /* A raw console's bytes; '\n' goes out as "\r\n" like every line. */
    char buf[2 * 128];
    uint32_t n = 0;
    for (int i = 0; i < len && i < 128; i++) {
        if (s[i] == '\n')
            buf[n++] = '\r';
        buf[n++] = s[i];
    }
    if (!n)
        return;
    bool irq = spin_lock_irqsave(&log_lock);
    queue_line(buf, n);
    kick();
    spin_unlock_irqrestore(&log_lock, irq);
}

uint64_t log_dropped_lines(void)
{
    bool irq = spin_lock_irqsave(&log_lock);
    uint64_t n = dropped_total;
    spin_unlock_irqrestore(&log_lock, irq);
    return n;
}

void log_flush(void)
{
    /* Panic and exit paths: interrupts are off on the only CPU, and the
     * interrupted code may hold the lock, so take none. */
    drain_all_polled();
    if (dropped_pending) {
        char mark[64];
        int m = tv_snprintf(mark, sizeof mark, "log: %llu lines dropped\n",
                            (unsigned long long)dropped_pending);
        dropped_pending = 0;
        if (m > 0 && m < (int)sizeof mark)
            serial_write(mark, (size_t)m);
    }
}

void log_raw(const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    int n = tv_vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof text)
        n = (int)sizeof text - 1;
    log_flush();
    serial_write(text, (size_t)n);
}
