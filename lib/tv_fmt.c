#include "tv_fmt.h"
#include "tv_string.h"

#include <stdint.h>

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    int alt;
    int left;
    int zero;
    int plus;
    int space;
    int width;
    int precision; /* -1: none */
};

static void put_number(struct out *o, const struct spec *sp, uint64_t value,
                       int negative, unsigned base, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = digits[value % base];
        value /= base;
    } while (value);
    int digits_len = n;
    if (sp->precision > digits_len)
        digits_len = sp->precision;
    char sign = negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
    /* '#': "0x"/"0X" before a non-zero hex value, a leading 0 for octal. */
    const char *prefix = "";
    if (sp->alt && base == 16 && n > 0 && !(n == 1 && tmp[0] == '0'))
        prefix = upper ? "0X" : "0x";
    else if (sp->alt && base == 8 && tmp[n - 1] != '0' && digits_len <= n)
        prefix = "0";
    int plen = prefix[0] ? (prefix[1] ? 2 : 1) : 0;
    int total = digits_len + (sign ? 1 : 0) + plen;
    int pad = sp->width > total ? sp->width - total : 0;
    if (!sp->left && !(sp->zero && sp->precision < 0))
        put_repeat(o, ' ', pad);
    if (sign)
        put(o, sign);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (!sp->left && sp->zero && sp->precision < 0)
        put_repeat(o, '0', pad);
    put_repeat(o, '0', digits_len - n);
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

static void put_string(struct out *o, const struct spec *sp, const char *s)
{
    if (!s)
        s = "(null)";
    size_t len = sp->precision >= 0 ? tv_strnlen(s, (size_t)sp->precision)
                                    : tv_strlen(s);
    int pad = sp->width > (int)len ? sp->width - (int)len : 0;
    if (!sp->left)
        put_repeat(o, ' ', pad);
    for (size_t i = 0; i < len; i++)
        put(o, s[i]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

int tv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        struct spec sp = { 0, 0, 0, 0, 0, 0, -1 };
        for (;; fmt++) {
            if (*fmt == '-') sp.left = 1;
            else if (*fmt == '0') sp.zero = 1;
            else if (*fmt == '+') sp.plus = 1;
            else if (*fmt == ' ') sp.space = 1;
            else if (*fmt == '#') sp.alt = 1;
            else break;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = 1;
                sp.width = -sp.width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                sp.width = sp.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            sp.precision = 0;
            if (*fmt == '*') {
                sp.precision = va_arg(ap, int);
                if (sp.precision < 0)
                    sp.precision = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    sp.precision = sp.precision * 10 + (*fmt++ - '0');
            }
        }
        int lng = 0; /* 0 int, 1 long, 2 long long/size/intmax */
        int shrt = 0;
        for (;; fmt++) {
            if (*fmt == 'l') lng++;
            else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't') lng = 2;
            else if (*fmt == 'h') shrt++;
            else break;
        }
        char conv = *fmt;
        if (!conv)
            break;
        fmt++;
        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            if (!lng && shrt == 1) v = (short)v;
            if (!lng && shrt >= 2) v = (signed char)v;
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_number(&o, &sp, mag, v < 0, 10, 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            if (!lng && shrt == 1) v = (unsigned short)v;
            if (!lng && shrt >= 2) v = (unsigned char)v;
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            put_number(&o, &sp, v, 0, base, conv == 'X');
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            put(&o, '0');
            put(&o, 'x');
            struct spec p = sp;
            p.alt = 0;
            p.width = sp.width > 2 ? sp.width - 2 : 0;
            put_number(&o, &p, v, 0, 16, 0);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            int pad = sp.width > 1 ? sp.width - 1 : 0;
            if (!sp.left) put_repeat(&o, ' ', pad);
            put(&o, c);
            if (sp.left) put_repeat(&o, ' ', pad);
            break;
        }
        case 's':
            put_string(&o, &sp, va_arg(ap, const char *));
            break;
        case '%':
            put(&o, '%');
            break;
        default:
            put(&o, '%');
            put(&o, conv);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int tv_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = tv_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
