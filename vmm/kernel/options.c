#include "kernel/options.h"
#include "tv_string.h"

bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = (unsigned)(*s - 'A' + 10);
        else return false;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

bool option_get(const char *line, const char *key, char *value, size_t size)
{
    size_t klen = tv_strlen(key);
    const char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t tlen = (size_t)(p - tok);
        if (tlen > klen && tok[klen] == '=' && tv_strncmp(tok, key, klen) == 0) {
            size_t vlen = tlen - klen - 1;
            if (size == 0)
                return true;
            if (vlen >= size)
                vlen = size - 1;
            tv_memcpy(value, tok + klen + 1, vlen);
            value[vlen] = 0;
            return true;
        }
        if (tlen == klen && tv_strncmp(tok, key, klen) == 0) {
            if (size)
                tv_strlcpy(value, "1", size);
            return true;
        }
    }
    return false;
}

uint64_t option_get_u64(const char *line, const char *key, uint64_t def)
{
    char buf[32];
    uint64_t v;
    if (!option_get(line, key, buf, sizeof buf) || !parse_u64(buf, &v))
        return def;
    return v;
}
