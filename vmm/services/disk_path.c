/* Checks of the "VOLUME:/path" strings of the disk calls (disk_ops.h).
 * Virtual PC refused empty, relative, over-long (MAX_PATH) names, names with
 * a forbidden character and new images not ending in .vhd; so do we, with
 * one status (TV_E_BAD_PATH), before anything is resolved. */
#include "services/disk_ops.h"
#include "tv_string.h"

/* Length of the UTF-8 sequence starting with b, 0 if b cannot start one. */
static unsigned utf8_len(uint8_t b)
{
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        return 2;
    if (b >= 0xe0 && b <= 0xef)
        return 3;
    if (b >= 0xf0 && b <= 0xf4)
        return 4;
    return 0;
}

/* Valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF);
 * *chars = number of code points. */
static bool utf8_ok(const uint8_t *s, size_t n, size_t *chars)
{
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        unsigned len = utf8_len(s[i]);
        if (len == 0 || len > n - i)
            return false;
        for (unsigned k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        if (len == 3 && s[i] == 0xe0 && s[i + 1] < 0xa0)
            return false; /* overlong */
        if (len == 3 && s[i] == 0xed && s[i + 1] >= 0xa0)
            return false; /* surrogate */
        if (len == 4 && s[i] == 0xf0 && s[i + 1] < 0x90)
            return false; /* overlong */
        if (len == 4 && s[i] == 0xf4 && s[i + 1] >= 0x90)
            return false; /* past U+10FFFF */
        i += len;
        count++;
    }
    *chars = count;
    return true;
}

static bool forbidden(char c)
{
    return (unsigned char)c < 0x20 || c == 0x7f || c == '\\' || c == ':' || c == '*' || c == '?' ||
           c == '"' || c == '<' || c == '>' || c == '|';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

tv_status_t disk_path_check(const char *field, bool new_vhd)
{
    size_t n = tv_strnlen(field, TV_DISK_PATH_MAX);
    if (n == 0 || n == TV_DISK_PATH_MAX || !tv_all_zero(field + n, TV_DISK_PATH_MAX - n))
        return TV_E_BAD_PATH;
    size_t chars;
    if (!utf8_ok((const uint8_t *)field, n, &chars) || chars >= TV_DISK_PATH_CHARS)
        return TV_E_BAD_PATH;
    /* The volume: a non-empty name before the first ':' with no '/'. */
    size_t colon = 0;
    while (colon < n && field[colon] != ':') {
        if (field[colon] == '/' || (unsigned char)field[colon] < 0x20)
            return TV_E_BAD_PATH;
        colon++;
    }
    if (colon == 0 || colon + 1 >= n || field[colon + 1] != '/')
        return TV_E_BAD_PATH;
    /* The path: '/'-separated components, none empty, "." or "..". */
    const char *p = field + colon + 1;
    while (*p == '/') {
        const char *c = ++p;
        while (*p && *p != '/') {
            if (forbidden(*p))
                return TV_E_BAD_PATH;
            p++;
        }
        size_t len = (size_t)(p - c);
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            return TV_E_BAD_PATH;
    }
    if (new_vhd) {
        static const char ext[] = ".vhd";
        size_t last = 0; /* length of the last component */
        while (last < n && field[n - 1 - last] != '/')
            last++;
        if (last <= 4)
            return TV_E_BAD_PATH; /* ".vhd" alone is no name */
        for (size_t i = 0; i < 4; i++)
            if (lower(field[n - 4 + i]) != ext[i])
                return TV_E_BAD_PATH;
    }
    return TV_OK;
}
