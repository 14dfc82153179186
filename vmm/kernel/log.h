/* The monitor's log: levels, timestamps, one whole line at a time, queued
 * in a ring and written to the UART by a drain timer (log.c). */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#include <stdarg.h>
#include "boot/common/boot_info.h"
#include "taskvisor/status.h"

void log_set_level(int level);
int log_get_level(void);
void log_msg(int level, const char *source, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(int level, const char *source, const char *fmt, va_list ap);
/* Emits one already-formed line from a source (guest consoles). */
void log_line(const char *source, const char *text, int len);
/* Bytes straight to the console (a raw-mode guest console), under the log
 * lock so they never tear a log line. */
void log_raw_bytes(const char *s, int len);
/* Raw write for the panic path: flushes what is queued first; no lock, no
 * timestamp. */
void log_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes every queued byte now, polled (the panic and exit paths: call with
 * interrupts off; takes no lock). */
void log_flush(void);
/* From now on the UART is written by the drain timer (called once the
 * software timers work). */
void log_start_async(void);
/* Lines dropped because the ring was full, since boot. */
uint64_t log_dropped_lines(void);

#define log_err(...)   log_msg(TV_LOG_ERROR, "mon", __VA_ARGS__)
#define log_warn(...)  log_msg(TV_LOG_WARN, "mon", __VA_ARGS__)
#define log_info(...)  log_msg(TV_LOG_INFO, "mon", __VA_ARGS__)
#define log_debug(...) log_msg(TV_LOG_DEBUG, "mon", __VA_ARGS__)

#endif
