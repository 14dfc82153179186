/* Path and text helpers for parent locators: names are '/'-separated
 * strings (the seam's names); locators hold UTF-16 Windows-style paths. */
#include "vhd_internal.h"

#include "tv_string.h"

bool vhd_path_is_absolute(const char *p)
{
    return p[0] == '/';
}

tv_status_t vhd_path_dir(const char *name, char *out, size_t size)
{
    size_t n = tv_strlen(name);
    while (n && name[n - 1] != '/')
        n--;
    if (n + 1 > size)
        return TV_E_LIMIT;
    tv_memcpy(out, name, n);
    out[n] = 0;
    return TV_OK;
}

/* Appends s (n bytes) to out at *pos. */
static tv_status_t put(char *out, size_t size, size_t *pos, const char *s, size_t n)
{
    if (*pos + n + 1 > size)
        return TV_E_LIMIT;
    tv_memcpy(out + *pos, s, n);
    *pos += n;
    out[*pos] = 0;
    return TV_OK;
}

/* Writes src to dst (size bytes) with "." and "dir/.." components and
 * repeated slashes collapsed, so seams that match names literally (the
 * monitor's image store, the tests) find the file a POSIX file system would. */
static tv_status_t normalize(const char *src, char *dst, size_t size)
{
    bool abs = src[0] == '/';
    size_t out = 0, keep; /* keep: length that ".." cannot remove */
    if (size < 2)
        return TV_E_LIMIT;
    if (abs)
        dst[out++] = '/';
    keep = out;
    const char *in = src;
    while (*in) {
        while (*in == '/')
            in++;
        const char *comp = in;
        size_t n = 0;
        while (comp[n] && comp[n] != '/')
            n++;
        in = comp + n;
        if (n == 0 || (n == 1 && comp[0] == '.'))
            continue;
        if (n == 2 && comp[0] == '.' && comp[1] == '.') {
            if (out > keep) {
                size_t k = out - 1; /* out ends with '/' */
                while (k > keep && dst[k - 1] != '/')
                    k--;
                out = k;
                continue;
            }
            if (abs)
                continue; /* "/.." is "/" */
            comp = "..";
        }
        if (out + n + 2 > size)
            return TV_E_LIMIT;
        tv_memcpy(dst + out, comp, n);
        out += n;
        dst[out++] = '/';
        if (n == 2 && comp[0] == '.' && comp[1] == '.')
            keep = out;
    }
    if (out > keep && dst[out - 1] == '/')
        out--;
    else if (out > 1 && dst[out - 1] == '/')
        out--;
    dst[out] = 0;
    return TV_OK;
}

tv_status_t vhd_path_join(const char *dir, const char *rel, char *out, size_t size)
{
    char tmp[2 * TV_VHD_NAME_MAX + 2];
    size_t pos = 0;
    tv_status_t s = TV_OK;
    tmp[0] = 0;
    if (!vhd_path_is_absolute(rel)) {
        s = put(tmp, sizeof tmp, &pos, dir, tv_strlen(dir));
        if (s == TV_OK && pos && tmp[pos - 1] != '/')
            s = put(tmp, sizeof tmp, &pos, "/", 1);
    }
    if (s == TV_OK)
        s = put(tmp, sizeof tmp, &pos, rel, tv_strlen(rel));
    if (s == TV_OK)
        s = normalize(tmp, out, size);
    return s;
}

tv_status_t vhd_path_relative(const char *from_dir, const char *to, char *out, size_t size)
{
    size_t pos = 0;
    if (size)
        out[0] = 0;
    if (!vhd_path_is_absolute(from_dir) || !vhd_path_is_absolute(to))
        return TV_E_INVALID_ARGUMENT;
    /* Longest common prefix ending at a '/'. */
    size_t common = 0;
    for (size_t i = 0; from_dir[i] && to[i] && from_dir[i] == to[i]; i++)
        if (to[i] == '/')
            common = i + 1;
    size_t dlen = tv_strlen(from_dir);
    if (dlen && from_dir[dlen - 1] != '/' && to[dlen] == '/' &&
        tv_strncmp(from_dir, to, dlen) == 0)
        common = dlen + 1;
    /* One "../" per directory left in from_dir after the common prefix. */
    for (size_t i = common; i < dlen; i++) {
        bool end_of_comp = from_dir[i] != '/' && (from_dir[i + 1] == '/' || from_dir[i + 1] == 0);
        if (end_of_comp) {
            tv_status_t s = put(out, size, &pos, "../", 3);
            if (s != TV_OK)
                return s;
        }
    }
    return put(out, size, &pos, to + common, tv_strlen(to + common));
}

tv_status_t vhd_path_relative_names(const char *from_dir, const char *to, char *out, size_t size)
{
    if (vhd_path_is_absolute(from_dir) == vhd_path_is_absolute(to)) {
        if (vhd_path_is_absolute(to))
            return vhd_path_relative(from_dir, to, out, size);
        /* Both relative to one working directory: relative to each other. */
        char a[TV_VHD_NAME_MAX + 2], b[TV_VHD_NAME_MAX + 2];
        if (vhd_path_join("/", from_dir, a, sizeof a) != TV_OK || vhd_path_join("/", to, b, sizeof b) != TV_OK)
            return TV_E_LIMIT;
        return vhd_path_relative(a, b, out, size);
    }
    return tv_strlcpy(out, to, size) < size ? TV_OK : TV_E_LIMIT;
}

tv_status_t vhd_path_suffix(const char *name, const char *suffix, char *out, size_t size)
{
    size_t pos = 0;
    tv_status_t s = put(out, size, &pos, name, tv_strlen(name));
    return s == TV_OK ? put(out, size, &pos, suffix, tv_strlen(suffix)) : s;
}

static void put_unit(uint8_t *p, uint16_t u, bool be)
{
    p[be ? 0 : 1] = (uint8_t)(u >> 8);
    p[be ? 1 : 0] = (uint8_t)u;
}

tv_status_t vhd_utf8_to_utf16(const char *in, uint8_t *out, size_t size, bool big_endian, size_t *len)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t n = 0;
    while (*s) {
        uint32_t cp;
        int extra;
        if (*s < 0x80) { cp = *s; extra = 0; }
        else if ((*s & 0xE0) == 0xC0) { cp = *s & 0x1F; extra = 1; }
        else if ((*s & 0xF0) == 0xE0) { cp = *s & 0x0F; extra = 2; }
        else if ((*s & 0xF8) == 0xF0) { cp = *s & 0x07; extra = 3; }
        else return TV_E_INVALID_ARGUMENT;
        s++;
        for (int i = 0; i < extra; i++, s++) {
            if ((*s & 0xC0) != 0x80)
                return TV_E_INVALID_ARGUMENT;
            cp = cp << 6 | (*s & 0x3F);
        }
        if (cp >= 0x10000) {
            if (n + 4 > size)
                return TV_E_LIMIT;
            cp -= 0x10000;
            put_unit(out + n, (uint16_t)(0xD800 | (cp >> 10)), big_endian);
            put_unit(out + n + 2, (uint16_t)(0xDC00 | (cp & 0x3FF)), big_endian);
            n += 4;
        } else {
            if (n + 2 > size)
                return TV_E_LIMIT;
            put_unit(out + n, (uint16_t)cp, big_endian);
            n += 2;
        }
    }
    *len = n;
    return TV_OK;
}

tv_status_t vhd_utf16_to_utf8(const uint8_t *in, size_t len, bool big_endian, char *out, size_t size)
{
    size_t n = 0;
    if (!size)
        return TV_E_LIMIT;
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint32_t cp = big_endian ? (uint32_t)(in[i] << 8 | in[i + 1]) : (uint32_t)(in[i + 1] << 8 | in[i]);
        if (cp == 0)
            break;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 3 < len) {
            uint32_t lo = big_endian ? (uint32_t)(in[i + 2] << 8 | in[i + 3])
                                     : (uint32_t)(in[i + 3] << 8 | in[i + 2]);
            if (lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        uint8_t buf[4];
        size_t k;
        if (cp < 0x80) { buf[0] = (uint8_t)cp; k = 1; }
        else if (cp < 0x800) { buf[0] = (uint8_t)(0xC0 | cp >> 6); buf[1] = (uint8_t)(0x80 | (cp & 0x3F)); k = 2; }
        else if (cp < 0x10000) {
            buf[0] = (uint8_t)(0xE0 | cp >> 12); buf[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            buf[2] = (uint8_t)(0x80 | (cp & 0x3F)); k = 3;
        } else {
            buf[0] = (uint8_t)(0xF0 | cp >> 18); buf[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            buf[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); buf[3] = (uint8_t)(0x80 | (cp & 0x3F)); k = 4;
        }
        if (n + k + 1 > size)
            return TV_E_LIMIT;
        tv_memcpy(out + n, buf, k);
        n += k;
    }
    out[n] = 0;
    return TV_OK;
}
