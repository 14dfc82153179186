/* Freestanding, integer-only formatted printing (no floating point).
 * Supports %d %i %u %x %X %o %c %s %p %% with flags '-', '0', width,
 * precision (also '*'), and length modifiers hh h l ll z j t. */
#ifndef TV_FMT_H
#define TV_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Returns the length the full output would have (like C99 vsnprintf);
 * the buffer is always terminated when size > 0. */
int tv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int tv_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
