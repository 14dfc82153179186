/* UTF-8 text for task descriptions: sanitised and truncated on character
 * boundaries, because descriptions may carry guest-supplied names. */
#include "task_internal.h"

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid.
 * Rejects overlong forms, surrogates and values above U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2; min = 0x80; cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3; min = 0x800; cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4; min = 0x10000; cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

uint32_t task_text_copy_n(char *dst, size_t cap, const char *src, size_t src_len)
{
    size_t out = 0, in = 0;
    if (cap == 0)
        return 0;
    while (src && in < src_len && src[in] != '\0') {
        size_t len = utf8_seq_len((const unsigned char *)src + in, src_len - in);
        if (len == 0) {
            if (out + 1 > cap - 1)
                break;
            dst[out++] = '?';
            in++;
            continue;
        }
        if (out + len > cap - 1)
            break;
        for (size_t i = 0; i < len; i++)
            dst[out++] = src[in + i];
        in += len;
    }
    dst[out] = '\0';
    return (uint32_t)out;
}

uint32_t task_text_copy(char *dst, size_t cap, const char *src)
{
    return task_text_copy_n(dst, cap, src, SIZE_MAX);
}
