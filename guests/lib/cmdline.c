/* Command line lookups: words separated by spaces, "key=value" pairs. */
#include "guest.h"
#include "tv_string.h"

/* Finds the next word in *p; returns its length (0 at the end). */
static size_t next_word(const char **p)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    *p = s;
    size_t n = 0;
    while (s[n] && s[n] != ' ' && s[n] != '\t')
        n++;
    return n;
}

bool guest_cmdline_has(const char *word)
{
    const char *p = guest_boot_info_get()->cmdline;
    size_t wl = tv_strlen(word);
    for (size_t n; (n = next_word(&p)) != 0; p += n)
        if (n == wl && tv_memcmp(p, word, n) == 0)
            return true;
    return false;
}

bool guest_cmdline_value(const char *key, char *buf, size_t size)
{
    const char *p = guest_boot_info_get()->cmdline;
    size_t kl = tv_strlen(key);
    for (size_t n; (n = next_word(&p)) != 0; p += n) {
        if (n > kl && p[kl] == '=' && tv_memcmp(p, key, kl) == 0) {
            size_t vl = n - kl - 1;
            if (size == 0)
                return true;
            if (vl >= size)
                vl = size - 1;
            tv_memcpy(buf, p + kl + 1, vl);
            buf[vl] = '\0';
            return true;
        }
    }
    return false;
}

bool guest_parse_u64(const char *s, uint64_t *out)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (d >= base || v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}
