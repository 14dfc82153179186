/* Freestanding memory and string helpers shared by the monitor and the
 * portable subsystems.  Hosted builds link the same code, so behaviour is
 * identical in unit tests and in the monitor. */
#ifndef TV_STRING_H
#define TV_STRING_H

#include <stddef.h>
#include <stdint.h>

void *tv_memcpy(void *dst, const void *src, size_t n);
void *tv_memmove(void *dst, const void *src, size_t n);
void *tv_memset(void *dst, int value, size_t n);
int tv_memcmp(const void *a, const void *b, size_t n);
size_t tv_strlen(const char *s);
size_t tv_strnlen(const char *s, size_t max);
int tv_strcmp(const char *a, const char *b);
int tv_strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 bytes and always terminates (when size > 0).
 * Returns strlen(src), so truncation is detectable as result >= size. */
size_t tv_strlcpy(char *dst, const char *src, size_t size);
/* True when every byte of buf is zero. */
int tv_all_zero(const void *buf, size_t n);

#endif
