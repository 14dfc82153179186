#include "exfat_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ck {
    const uint8_t *img;
    size_t len;
    uint64_t heap, fat;
    uint32_t csize, count;
    uint8_t *seen;
    uint16_t up[65536];
    unsigned res;
    char *text;
    size_t cap, used;
};

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void say(struct ck *c, unsigned what, const char *fmt, ...)
{
    c->res |= what;
    if (!c->text || c->used + 2 >= c->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->text + c->used, c->cap - c->used - 1, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->used += (size_t)n < c->cap - c->used - 1 ? (size_t)n : c->cap - c->used - 1;
    c->text[c->used++] = '\n';
    c->text[c->used] = 0;
}

static bool ok_cluster(struct ck *c, uint32_t x) { return x >= 2 && x - 2 < c->count; }
static const uint8_t *cl(struct ck *c, uint32_t x) { return c->img + c->heap + (uint64_t)(x - 2) * c->csize; }
static uint32_t fat(struct ck *c, uint32_t x) { return rd32(c->img + c->fat + 4ull * x); }

static void use(struct ck *c, uint32_t x, const char *what)
{
    uint32_t i = x - 2;
    if (c->seen[i / 8] & (1u << (i % 8)))
        say(c, EXC_FATAL, "cluster %u used twice (%s)", x, what);
    c->seen[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* The clusters of an allocation; list (when not NULL) receives them. */
static uint32_t *clusters(struct ck *c, uint32_t first, uint64_t bytes, bool nofat, bool whole_chain,
                          const char *what, uint32_t *n_out)
{
    uint64_t need = (bytes + c->csize - 1) / c->csize;
    *n_out = 0;
    if (!first)
        return NULL;
    if (!whole_chain && need > c->count) {
        say(c, EXC_FATAL, "%s: size beyond the volume", what);
        return NULL;
    }
    uint32_t *list = malloc(sizeof *list * (whole_chain ? c->count : need) + 4);
    uint32_t n = 0, x = first;
    if (nofat) {
        for (uint64_t k = 0; k < need; k++) {
            if (!ok_cluster(c, first + (uint32_t)k)) {
                say(c, EXC_FATAL, "%s: extent past the heap", what);
                break;
            }
            list[n++] = first + (uint32_t)k;
        }
    } else {
        for (;;) {
            if (!ok_cluster(c, x) || n >= c->count) {
                say(c, EXC_FATAL, "%s: bad chain (cluster %u)", what, x);
                break;
            }
            if (!whole_chain && n == need) {
                say(c, EXC_LONG_CHAIN, "%s: chain longer than its %llu bytes", what, (unsigned long long)bytes);
                break;
            }
            list[n++] = x;
            uint32_t nx = fat(c, x);
            if (nx == 0xFFFFFFFFu)
                break;
            x = nx;
        }
        if (!whole_chain && n < need)
            say(c, EXC_FATAL, "%s: chain of %u clusters for %llu bytes", what, n, (unsigned long long)bytes);
    }
    for (uint32_t i = 0; i < n; i++)
        use(c, list[i], what);
    *n_out = n;
    return list;
}

static uint16_t sum16(const uint8_t *p, size_t n, bool skip)
{
    uint16_t s = 0;
    for (size_t i = 0; i < n; i++)
        if (!skip || (i != 2 && i != 3))
            s = (uint16_t)(((s & 1) ? 0x8000 : 0) + (s >> 1) + p[i]);
    return s;
}

static void dir_walk(struct ck *c, const uint8_t *d, size_t bytes, bool root, int depth);

static void walk_clusters(struct ck *c, uint32_t *list, uint32_t n, bool root, int depth)
{
    uint8_t *buf = malloc((size_t)n * c->csize + 1);
    for (uint32_t i = 0; i < n; i++)
        memcpy(buf + (size_t)i * c->csize, cl(c, list[i]), c->csize);
    dir_walk(c, buf, (size_t)n * c->csize, root, depth);
    free(buf);
}

static void dir_walk(struct ck *c, const uint8_t *d, size_t bytes, bool root, int depth)
{
    if (depth > 16) {
        say(c, EXC_FATAL, "too deep");
        return;
    }
    for (size_t off = 0; off < bytes; off += 32) {
        const uint8_t *e = d + off;
        if (e[0] == 0)
            break;
        if (!(e[0] & 0x80))
            continue;
        if (e[0] == 0x81 || e[0] == 0x82 || e[0] == 0x83 || e[0] == 0xA0) {
            if (!root)
                say(c, EXC_FATAL, "entry 0x%02x outside the root", e[0]);
            continue;
        }
        if (e[0] != 0x85) {
            say(c, EXC_FATAL, "stray entry 0x%02x at %zu", e[0], off);
            continue;
        }
        uint32_t sec = e[1];
        if (sec < 2 || sec > 18 || off + 32ull * (sec + 1) > bytes) {
            say(c, EXC_FATAL, "bad SecondaryCount %u", sec);
            continue;
        }
        const uint8_t *x = e + 32;
        char name[256 * 3] = "";
        uint32_t nlen = x[3];
        uint16_t h = 0;
        if (x[0] != 0xC0 || nlen == 0 || (nlen + 14) / 15 > sec - 1) {
            say(c, EXC_FATAL, "bad stream entry at %zu", off);
            off += 32ull * sec;
            continue;
        }
        for (uint32_t i = 0; i < nlen; i++) {
            const uint8_t *ne = e + 64 + 32 * (i / 15);
            if (ne[0] != 0xC1)
                say(c, EXC_FATAL, "missing name entry at %zu", off);
            uint16_t u = rd16(ne + 2 + 2 * (i % 15));
            if (i < 250)
                name[i] = u < 0x80 ? (char)u : '?';
            name[i + 1 < 250 ? i + 1 : 250] = 0;
            uint16_t U = c->up[u];
            h = (uint16_t)(((h & 1) ? 0x8000 : 0) + (h >> 1) + (U & 0xFF));
            h = (uint16_t)(((h & 1) ? 0x8000 : 0) + (h >> 1) + (U >> 8));
        }
        if (sum16(e, 32ull * (sec + 1), true) != rd16(e + 2))
            say(c, EXC_FATAL, "%s: SetChecksum wrong", name);
        if (h != rd16(x + 4))
            say(c, EXC_FATAL, "%s: NameHash wrong", name);
        uint32_t first = rd32(x + 20);
        uint64_t size = rd64(x + 24), valid = rd64(x + 8);
        bool alloc = x[1] & 1, nofat = x[1] & 2, isdir = rd16(e + 4) & 0x10;
        if (valid > size)
            say(c, EXC_FATAL, "%s: ValidDataLength past DataLength", name);
        if (!alloc && (first || size))
            say(c, EXC_FATAL, "%s: not allocated but has clusters or size", name);
        if (alloc && (!first) != (!size))
            say(c, EXC_FATAL, "%s: size and first cluster disagree", name);
        uint32_t n;
        uint32_t *list = clusters(c, alloc ? first : 0, size, nofat, false, name, &n);
        if (isdir && list) {
            if (size % c->csize)
                say(c, EXC_FATAL, "%s: directory size not a cluster multiple", name);
            walk_clusters(c, list, n, false, depth + 1);
        }
        free(list);
        off += 32ull * sec;
    }
}

unsigned exfat_check(const uint8_t *img, size_t len, char *text, size_t cap)
{
    struct ck *c = calloc(1, sizeof *c);
    c->img = img;
    c->len = len;
    c->text = text;
    c->cap = cap;
    if (text && cap)
        text[0] = 0;
    const uint8_t *b = img;
    if (len < 24 * 512 || memcmp(b + 3, "EXFAT   ", 8) != 0 || b[108] < 9 || b[108] > 12) {
        say(c, EXC_FATAL, "not exFAT");
        goto out;
    }
    uint32_t bps = 1u << b[108];
    uint32_t s = 0;
    for (size_t i = 0; i < 11ull * bps; i++)
        if (i != 106 && i != 107 && i != 112)
            s = ((s & 1) ? 0x80000000u : 0) + (s >> 1) + b[i];
    for (size_t i = 0; i < bps; i += 4)
        if (rd32(b + 11ull * bps + i) != s) {
            say(c, EXC_FATAL, "boot checksum wrong");
            break;
        }
    if (rd16(b + 106) & 2)
        say(c, EXC_DIRTY, "VolumeDirty set");
    c->fat = (uint64_t)rd32(b + 80) * bps;
    c->heap = (uint64_t)rd32(b + 88) * bps;
    c->count = rd32(b + 92);
    c->csize = bps << b[109];
    if (c->heap + (uint64_t)c->count * c->csize > len) {
        say(c, EXC_FATAL, "heap past the image");
        goto out;
    }
    c->seen = calloc(c->count / 8 + 1, 1);
    uint32_t n;
    uint32_t *root = clusters(c, rd32(b + 96), 0, false, true, "root", &n);
    if (!root)
        goto out;
    /* Bitmap and up-case table first (the hash needs the table). */
    uint8_t *rb = malloc((size_t)n * c->csize);
    for (uint32_t i = 0; i < n; i++)
        memcpy(rb + (size_t)i * c->csize, cl(c, root[i]), c->csize);
    const uint8_t *bitmap = NULL;
    uint32_t *bml = NULL, bmn = 0;
    for (int i = 0; i < 65536; i++)
        c->up[i] = (uint16_t)i;
    for (size_t off = 0; off < (size_t)n * c->csize && rb[off]; off += 32) {
        const uint8_t *e = rb + off;
        uint32_t first = rd32(e + 20);
        uint64_t l = rd64(e + 24);
        if (e[0] == 0x81) {
            bml = clusters(c, first, l, false, false, "bitmap", &bmn);
            if (bmn && l * 8 >= c->count) {
                uint8_t *copy = malloc((size_t)bmn * c->csize);
                for (uint32_t k = 0; k < bmn; k++)
                    memcpy(copy + (size_t)k * c->csize, cl(c, bml[k]), c->csize);
                bitmap = copy;
            }
        } else if (e[0] == 0x82) {
            uint32_t un;
            uint32_t *ul = clusters(c, first, l, false, false, "upcase", &un);
            uint8_t *t = malloc((size_t)un * c->csize + 2);
            for (uint32_t k = 0; k < un; k++)
                memcpy(t + (size_t)k * c->csize, cl(c, ul[k]), c->csize);
            uint32_t ts = 0;
            for (uint64_t k = 0; k < l && k < (uint64_t)un * c->csize; k++)
                ts = ((ts & 1) ? 0x80000000u : 0) + (ts >> 1) + t[k];
            if (ts != rd32(e + 4))
                say(c, EXC_FATAL, "up-case table checksum wrong");
            uint32_t at = 0;
            for (uint64_t k = 0; k + 1 < l && at < 65536; k += 2) {
                uint16_t v = rd16(t + k);
                if (v == 0xFFFF && k + 3 < l) {
                    at += rd16(t + k + 2);
                    k += 2;
                } else {
                    c->up[at++] = v;
                }
            }
            free(t);
            free(ul);
        }
    }
    if (!bitmap)
        say(c, EXC_FATAL, "no allocation bitmap");
    dir_walk(c, rb, (size_t)n * c->csize, true, 0);
    free(rb);
    free(root);
    free(bml);
    if (bitmap) {
        uint32_t leaks = 0;
        for (uint32_t i = 0; i < c->count; i++) {
            bool used = c->seen[i / 8] >> (i % 8) & 1, marked = bitmap[i / 8] >> (i % 8) & 1;
            if (used && !marked)
                say(c, EXC_FATAL, "cluster %u in use but free in the bitmap", i + 2);
            leaks += marked && !used;
        }
        if (leaks)
            say(c, EXC_LEAK, "%u clusters marked in the bitmap that nothing uses", leaks);
        free((void *)bitmap);
    }
out:
    free(c->seen);
    unsigned r = c->res;
    free(c);
    return r;
}
