/* Names: UTF-8 paths to UTF-16 names and back, case folding. */
#include "storage/fs/fs_internal.h"

tv_status_t fs_name_from_utf8(const char *s, size_t len, fs_name_t *out)
{
    out->len = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t c = (uint8_t)s[i], need;
        if (c < 0x80) need = 0;
        else if ((c & 0xE0) == 0xC0) { c &= 0x1F; need = 1; }
        else if ((c & 0xF0) == 0xE0) { c &= 0x0F; need = 2; }
        else if ((c & 0xF8) == 0xF0) { c &= 0x07; need = 3; }
        else return TV_E_INVALID_ARGUMENT;
        if (len - i - 1 < need)
            return TV_E_INVALID_ARGUMENT;
        for (uint32_t k = 1; k <= need; k++) {
            uint8_t b = (uint8_t)s[i + k];
            if ((b & 0xC0) != 0x80)
                return TV_E_INVALID_ARGUMENT;
            c = c << 6 | (b & 0x3F);
        }
        static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
        if (c < min[need] || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000))
            return TV_E_INVALID_ARGUMENT;
        i += need + 1;
        /* Characters no FAT or exFAT name may hold. */
        if (c < 0x20 || c == '"' || c == '*' || c == '/' || c == ':' || c == '<' || c == '>' ||
            c == '?' || c == '\\' || c == '|')
            return TV_E_INVALID_ARGUMENT;
        if (c >= 0x10000) {
            if (out->len + 2 > FS_NAME_MAX)
                return TV_E_INVALID_ARGUMENT;
            c -= 0x10000;
            out->u[out->len++] = (uint16_t)(0xD800 | c >> 10);
            out->u[out->len++] = (uint16_t)(0xDC00 | (c & 0x3FF));
        } else {
            if (out->len + 1 > FS_NAME_MAX)
                return TV_E_INVALID_ARGUMENT;
            out->u[out->len++] = (uint16_t)c;
        }
    }
    if (out->len == 0)
        return TV_E_INVALID_ARGUMENT;
    /* "." and ".." are not names; trailing dots and spaces are dropped by
     * Windows, so refuse them rather than create names it cannot open. */
    uint16_t last = out->u[out->len - 1];
    if (last == '.' || last == ' ')
        return TV_E_INVALID_ARGUMENT;
    return TV_OK;
}

void fs_name_to_utf8(const fs_name_t *n, char *out, size_t cap)
{
    size_t o = 0;
    for (uint32_t i = 0; i < n->len; i++) {
        uint32_t c = n->u[i];
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < n->len && n->u[i + 1] >= 0xDC00 && n->u[i + 1] < 0xE000) {
            c = 0x10000 + ((c - 0xD800) << 10) + (n->u[i + 1] - 0xDC00);
            i++;
        } else if (c >= 0xD800 && c < 0xE000) {
            c = 0xFFFD; /* a lone surrogate from the disk */
        }
        uint8_t b[4];
        size_t k;
        if (c < 0x80) { b[0] = (uint8_t)c; k = 1; }
        else if (c < 0x800) { b[0] = (uint8_t)(0xC0 | c >> 6); b[1] = (uint8_t)(0x80 | (c & 0x3F)); k = 2; }
        else if (c < 0x10000) { b[0] = (uint8_t)(0xE0 | c >> 12); b[1] = (uint8_t)(0x80 | (c >> 6 & 0x3F)); b[2] = (uint8_t)(0x80 | (c & 0x3F)); k = 3; }
        else { b[0] = (uint8_t)(0xF0 | c >> 18); b[1] = (uint8_t)(0x80 | (c >> 12 & 0x3F)); b[2] = (uint8_t)(0x80 | (c >> 6 & 0x3F)); b[3] = (uint8_t)(0x80 | (c & 0x3F)); k = 4; }
        if (o + k >= cap)
            break;
        for (size_t j = 0; j < k; j++)
            out[o++] = (char)b[j];
    }
    if (cap)
        out[o] = 0;
}

uint16_t fs_upcase(const fs_volume_t *v, uint16_t c)
{
    if (v->upcase)
        return v->upcase[c];
    return c >= 'a' && c <= 'z' ? (uint16_t)(c - 32) : c;
}

bool fs_name_equal(const fs_volume_t *v, const fs_name_t *a, const fs_name_t *b)
{
    if (a->len != b->len)
        return false;
    for (uint32_t i = 0; i < a->len; i++)
        if (fs_upcase(v, a->u[i]) != fs_upcase(v, b->u[i]))
            return false;
    return true;
}
