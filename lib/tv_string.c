#include "tv_string.h"

void *tv_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, s, 8); /* inlined as a plain move, no call */
        __builtin_memcpy(d, &v, 8);
        d += 8; s += 8; n -= 8;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *tv_memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d == s || n == 0)
        return dst;
    if (d < s || d >= s + n)
        return tv_memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *tv_memset(void *dst, int value, size_t n)
{
    uint8_t *d = dst;
    uint64_t pattern = (uint8_t)value * 0x0101010101010101ull;
    while (n >= 8) {
        __builtin_memcpy(d, &pattern, 8);
        d += 8; n -= 8;
    }
    while (n--)
        *d++ = (uint8_t)value;
    return dst;
}

int tv_memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t tv_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t tv_strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int tv_strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++; b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int tv_strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return (unsigned char)a[i] - (unsigned char)b[i];
        if (!a[i])
            return 0;
    }
    return 0;
}

size_t tv_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = tv_strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        tv_memcpy(dst, src, n);
        dst[n] = 0;
    }
    return len;
}

int tv_all_zero(const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n && ((uintptr_t)p & 7)) {
        if (*p++)
            return 0;
        n--;
    }
    while (n >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, p, 8);
        if (v)
            return 0;
        p += 8; n -= 8;
    }
    while (n--)
        if (*p++)
            return 0;
    return 1;
}
