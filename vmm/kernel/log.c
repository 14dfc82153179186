#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "drivers/serial.h"
#include "tv_fmt.h"
#include "tv_status.h"

static spinlock_t log_lock = SPINLOCK_INIT;
static int log_level = TV_LOG_INFO;
static const char *const level_tag[] = { "ERR", "WRN", "INF", "DBG", "TRC" };

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

static void emit(const char *tag, const char *source, const char *text, int len)
{
    char line[384];
    uint64_t ns = time_now_ns();
    int n = tv_snprintf(line, sizeof line, "[%5llu.%06llu] %s %s: ",
                        (unsigned long long)(ns / 1000000000ull),
                        (unsigned long long)(ns / 1000ull % 1000000ull), tag, source);
    if (n < 0 || n >= (int)sizeof line)
        n = (int)sizeof line - 1;
    int room = (int)sizeof line - 2 - n;
    if (len > room)
        len = room;
    for (int i = 0; i < len; i++) {
        char c = text[i];
        line[n++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '.';
    }
    line[n++] = '\n';
    bool irq = spin_lock_irqsave(&log_lock);
    serial_write(line, (size_t)n);
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
    bool irq = spin_lock_irqsave(&log_lock);
    serial_write(s, (size_t)len);
    spin_unlock_irqrestore(&log_lock, irq);
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
    serial_write(text, (size_t)n);
}
