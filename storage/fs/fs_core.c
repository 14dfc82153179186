/* The cluster layer shared by FAT12/16/32 and exFAT: a small write-back cache for
 * metadata sectors, the FAT, chains, and growing/shrinking allocations in
 * the crash order of docs/storage.md. */
#include "storage/fs/fs_internal.h"

#include "tv_string.h"

void *fs_alloc(fs_volume_t *v, size_t n) { return v->env.alloc(v->env.ctx, n); }
void fs_free(fs_volume_t *v, void *p) { if (p) v->env.free(v->env.ctx, p); }

static tv_status_t dev_read(fs_volume_t *v, uint64_t off, void *buf, uint32_t n)
{
    return v->dev->read(v->dev->ctx, off / v->dsec, n, buf);
}

static tv_status_t dev_write(fs_volume_t *v, uint64_t off, const void *buf, uint32_t n)
{
    if (!v->writable)
        return TV_E_READ_ONLY;
    return v->dev->write(v->dev->ctx, off / v->dsec, n, buf);
}

static tv_status_t slot_clean(fs_volume_t *v, struct cache_slot *s)
{
    if (!s->valid || !s->dirty)
        return TV_OK;
    tv_status_t st = dev_write(v, s->off, s->data, 1);
    if (st == TV_OK)
        s->dirty = false;
    return st;
}

tv_status_t fs_sync_cache(fs_volume_t *v)
{
    for (int i = 0; i < FS_CACHE_SLOTS; i++) {
        tv_status_t st = slot_clean(v, &v->cache[i]);
        if (st != TV_OK)
            return st;
    }
    return TV_OK;
}

tv_status_t fs_barrier(fs_volume_t *v)
{
    tv_status_t st = fs_sync_cache(v);
    if (st != TV_OK)
        return st;
    return v->dev->flush(v->dev->ctx);
}

/* The cached copy of the device sector at off (aligned), loaded on a miss.
 * Evicting a dirty slot writes it: it belongs to the current ordering step,
 * whose writes are unordered among themselves anyway. */
static tv_status_t slot_get(fs_volume_t *v, uint64_t off, struct cache_slot **out)
{
    struct cache_slot *victim = NULL;
    for (int i = 0; i < FS_CACHE_SLOTS; i++) {
        struct cache_slot *s = &v->cache[i];
        if (s->valid && s->off == off) {
            s->use = ++v->use_clock;
            *out = s;
            return TV_OK;
        }
        if (!victim || !s->valid || (victim->valid && s->use < victim->use))
            victim = s;
    }
    tv_status_t st = slot_clean(v, victim);
    if (st != TV_OK)
        return st;
    victim->valid = false;
    st = dev_read(v, off, victim->data, 1);
    if (st != TV_OK)
        return st;
    victim->valid = true;
    victim->dirty = false;
    victim->off = off;
    victim->use = ++v->use_clock;
    *out = victim;
    return TV_OK;
}

static bool in_device(const fs_volume_t *v, uint64_t off, uint64_t len)
{
    uint64_t total = v->dev->sectors * v->dsec;
    return off <= total && len <= total - off;
}

tv_status_t fs_meta_read(fs_volume_t *v, uint64_t off, void *buf, size_t len)
{
    if (!in_device(v, off, len))
        return TV_E_CORRUPT;
    uint8_t *p = buf;
    while (len) {
        uint64_t base = off - off % v->dsec;
        size_t in = (size_t)(off - base), n = v->dsec - in;
        if (n > len)
            n = len;
        struct cache_slot *s;
        tv_status_t st = slot_get(v, base, &s);
        if (st != TV_OK)
            return st;
        tv_memcpy(p, s->data + in, n);
        p += n; off += n; len -= n;
    }
    return TV_OK;
}

tv_status_t fs_meta_write(fs_volume_t *v, uint64_t off, const void *buf, size_t len)
{
    if (!v->writable)
        return TV_E_READ_ONLY;
    if (v->dry)
        return in_device(v, off, len) ? TV_OK : TV_E_CORRUPT;
    if (!in_device(v, off, len))
        return TV_E_CORRUPT;
    const uint8_t *p = buf;
    while (len) {
        uint64_t base = off - off % v->dsec;
        size_t in = (size_t)(off - base), n = v->dsec - in;
        if (n > len)
            n = len;
        struct cache_slot *s;
        tv_status_t st = slot_get(v, base, &s);
        if (st != TV_OK)
            return st;
        tv_memcpy(s->data + in, p, n);
        s->dirty = true;
        p += n; off += n; len -= n;
    }
    return TV_OK;
}

/* Cached sectors inside [off, off+len): reads see dirty copies, writes
 * refresh them (the device then holds the same bytes). */
static void cache_overlay(fs_volume_t *v, uint64_t off, uint8_t *buf, uint64_t len, bool write)
{
    for (int i = 0; i < FS_CACHE_SLOTS; i++) {
        struct cache_slot *s = &v->cache[i];
        if (!s->valid || s->off < off || s->off >= off + len)
            continue;
        if (write) {
            tv_memcpy(s->data, buf + (s->off - off), v->dsec);
            s->dirty = false;
        } else if (s->dirty) {
            tv_memcpy(buf + (s->off - off), s->data, v->dsec);
        }
    }
}

/* Bulk I/O: whole device sectors go straight to the device, edges through
 * the cache. */
static tv_status_t data_io(fs_volume_t *v, uint64_t off, uint8_t *buf, size_t len, bool write)
{
    if (!in_device(v, off, len))
        return TV_E_CORRUPT;
    while (len) {
        if (off % v->dsec || len < v->dsec) {
            size_t n = v->dsec - (size_t)(off % v->dsec);
            if (n > len)
                n = len;
            tv_status_t st = write ? fs_meta_write(v, off, buf, n) : fs_meta_read(v, off, buf, n);
            if (st != TV_OK)
                return st;
            off += n; buf += n; len -= n;
            continue;
        }
        uint64_t n = len - len % v->dsec;
        if (n > (1u << 20))
            n = 1u << 20;
        tv_status_t st = write ? dev_write(v, off, buf, (uint32_t)(n / v->dsec))
                               : dev_read(v, off, buf, (uint32_t)(n / v->dsec));
        if (st != TV_OK)
            return st;
        cache_overlay(v, off, buf, n, write);
        off += n; buf += n; len -= (size_t)n;
    }
    return TV_OK;
}

tv_status_t fs_data_read(fs_volume_t *v, uint64_t off, void *buf, size_t len)
{
    return data_io(v, off, buf, len, false);
}

tv_status_t fs_data_write(fs_volume_t *v, uint64_t off, const void *buf, size_t len)
{
    if (!v->writable)
        return TV_E_READ_ONLY;
    if (v->dry)
        return in_device(v, off, len) ? TV_OK : TV_E_CORRUPT;
    return data_io(v, off, (uint8_t *)(uintptr_t)buf, len, true);
}

/* Zeroing is most of the work of growing a file (a new fixed VHD is all of
 * it): 256 KiB a call, so the block layer keeps several of the devices'
 * requests in flight (with 4 KiB calls, creating a 64 MiB fixed VHD in the
 * monitor took 12 times as long as the raw write of the same bytes in the
 * disk bench, docs/bench.md).  Never written: it stays in .bss. */
static uint8_t zeros[256u << 10];

tv_status_t fs_zero(fs_volume_t *v, uint64_t off, uint64_t len)
{
    while (len) {
        size_t n = len > sizeof zeros ? sizeof zeros : (size_t)len;
        tv_status_t st = fs_data_write(v, off, zeros, n);
        if (st != TV_OK)
            return st;
        off += n; len -= n;
    }
    return TV_OK;
}

/* ---- FAT ---- */

/* Byte offset of cluster c's entry inside a FAT (FAT12: 1.5 bytes each). */
static uint64_t fat_entry_off(const fs_volume_t *v, uint32_t c)
{
    if (v->fat_bits == 12)
        return c + c / 2;
    return v->fat_bits == 16 ? 2ull * c : 4ull * c;
}

tv_status_t fs_fat_get(fs_volume_t *v, uint32_t c, uint32_t *next)
{
    if (!fs_cluster_ok(v, c))
        return TV_E_CORRUPT;
    uint8_t b[4];
    uint32_t w = v->fat_bits == 12 || v->fat_bits == 16 ? 2 : 4;
    tv_status_t st = fs_meta_read(v, v->fat_off + fat_entry_off(v, c), b, w);
    if (st != TV_OK)
        return st;
    uint32_t x = w == 2 ? fs_le16(b) : fs_le32(b);
    if (v->fat_bits == 12)
        x = (c & 1) ? x >> 4 : x & 0xFFF;
    if (!v->exfat) {
        /* The same reserved values at the top of every width (fatgen103):
         * ...7 bad, ...8-...F end of chain. */
        uint32_t mask = v->fat_bits == 32 ? 0x0FFFFFFF : (1u << v->fat_bits) - 1;
        x &= mask;
        if (x >= mask - 8)
            x = x == mask - 8 ? FS_FAT_BAD : FS_EOC;
    }
    *next = x;
    return TV_OK;
}

tv_status_t fs_fat_set(fs_volume_t *v, uint32_t c, uint32_t next)
{
    if (!fs_cluster_ok(v, c))
        return TV_E_CORRUPT;
    v->walk_first = 0;
    uint32_t w = v->fat_bits == 12 || v->fat_bits == 16 ? 2 : 4;
    for (uint32_t i = 0; i < v->nfats; i++) {
        uint64_t at = v->fat_off + i * v->fat_bytes + fat_entry_off(v, c);
        uint8_t b[4];
        uint32_t x = next;
        if (!v->exfat) {
            tv_status_t st = fs_meta_read(v, at, b, w);
            if (st != TV_OK)
                return st;
            uint32_t mask = v->fat_bits == 32 ? 0x0FFFFFFF : (1u << v->fat_bits) - 1;
            uint32_t val = next == FS_EOC ? mask : next & mask;
            if (v->fat_bits == 32) /* fatgen103: the top 4 bits are reserved and kept */
                x = (fs_le32(b) & 0xF0000000u) | val;
            else if (v->fat_bits == 16)
                x = val;
            else /* FAT12: the neighbour's nibble in the shared byte is kept */
                x = (c & 1) ? (fs_le16(b) & 0x000F) | val << 4 : (fs_le16(b) & 0xF000) | val;
        }
        if (w == 2)
            fs_put16(b, (uint16_t)x);
        else
            fs_put32(b, x);
        tv_status_t st = fs_meta_write(v, at, b, w);
        if (st != TV_OK)
            return st;
    }
    return TV_OK;
}

tv_status_t fs_node_cluster(fs_volume_t *v, const fs_node_t *n, uint32_t k, uint32_t *c,
                            uint32_t *cache_k, uint32_t *cache_c)
{
    if (!n->first)
        return TV_E_CORRUPT;
    if (n->contig) {
        if (k >= v->clusters || !fs_cluster_ok(v, n->first + k))
            return TV_E_CORRUPT;
        *c = n->first + k;
        return TV_OK;
    }
    uint32_t at = 0, cur = n->first;
    uint32_t vk = v->walk_k, vc = v->walk_c;
    if (!cache_k || !cache_c) {
        /* No caller cache: the volume's (valid while no FAT entry changes). */
        cache_k = &vk;
        cache_c = &vc;
        if (v->walk_first != n->first)
            vc = 0;
    }
    if (*cache_c && *cache_k <= k) {
        at = *cache_k;
        cur = *cache_c;
    }
    while (at < k) {
        uint32_t next;
        tv_status_t st = fs_fat_get(v, cur, &next);
        if (st != TV_OK)
            return st;
        if (!fs_cluster_ok(v, next))
            return TV_E_CORRUPT;
        cur = next;
        at++;
    }
    *cache_k = k;
    *cache_c = cur;
    if (cache_k == &vk) {
        v->walk_first = n->first;
        v->walk_k = vk;
        v->walk_c = vc;
    }
    *c = cur;
    return TV_OK;
}

tv_status_t fs_chain_length(fs_volume_t *v, const fs_node_t *n, uint32_t *len, uint32_t *last)
{
    *len = 0;
    *last = 0;
    if (!n->first)
        return TV_OK;
    if (n->contig) {
        uint64_t k = (n->size + v->csize - 1) / v->csize;
        if (k > v->clusters || n->first - 2 + k > v->clusters)
            return TV_E_CORRUPT;
        *len = (uint32_t)k;
        *last = k ? n->first + (uint32_t)k - 1 : 0;
        return TV_OK;
    }
    uint32_t cur = n->first, count = 0;
    for (;;) {
        if (!fs_cluster_ok(v, cur) || ++count > v->clusters)
            return TV_E_CORRUPT;
        uint32_t next;
        tv_status_t st = fs_fat_get(v, cur, &next);
        if (st != TV_OK)
            return st;
        if (next == FS_EOC)
            break;
        cur = next;
    }
    *len = count;
    *last = cur;
    return TV_OK;
}

/* Finds a free cluster from the hint on, not one in the pending list. */
static tv_status_t find_free(fs_volume_t *v, uint32_t *out)
{
    uint32_t start = v->next_free;
    if (!fs_cluster_ok(v, start))
        start = 2;
    uint32_t c = start;
    for (uint32_t i = 0; i < v->clusters; i++) {
        bool free_ = false;
        tv_status_t st = fs_cluster_usable(v, c) ? v->fmt->is_free(v, c, &free_) : TV_OK;
        if (st != TV_OK)
            return st;
        if (free_) {
            *out = c;
            v->next_free = fs_cluster_ok(v, c + 1) ? c + 1 : 2;
            return TV_OK;
        }
        c = fs_cluster_ok(v, c + 1) ? c + 1 : 2;
    }
    return TV_E_NO_SPACE;
}

/* True when the add clusters from `from` on exist and are free. */
static bool run_free(fs_volume_t *v, uint32_t from, uint32_t add)
{
    if (!fs_cluster_ok(v, from) || add > v->clusters - (from - 2))
        return false;
    for (uint32_t i = 0; i < add; i++) {
        bool f;
        if (v->fmt->is_free(v, from + i, &f) != TV_OK || !f)
            return false;
    }
    return true;
}

/* The first run of add free clusters from the hint on (wrapping once). */
static tv_status_t find_run(fs_volume_t *v, uint32_t add, uint32_t *out)
{
    uint32_t start = fs_cluster_ok(v, v->next_free) ? v->next_free : 2;
    uint32_t run = 0, run_start = 0, c = start;
    for (uint64_t i = 0; i < (uint64_t)v->clusters + add; i++) {
        if (c == 2)
            run = 0; /* a run does not wrap past the end */
        bool f;
        tv_status_t st = v->fmt->is_free(v, c, &f);
        if (st != TV_OK)
            return st;
        if (!f) {
            run = 0;
        } else {
            if (!run)
                run_start = c;
            if (++run == add) {
                *out = run_start;
                v->next_free = fs_cluster_ok(v, c + 1) ? c + 1 : 2;
                return TV_OK;
            }
        }
        c = fs_cluster_ok(v, c + 1) ? c + 1 : 2;
    }
    return TV_E_NO_SPACE;
}

/* An exFAT contiguous allocation gets its FAT chain written so that it can
 * grow anywhere (NoFatChain is cleared with the next entry update). */
static tv_status_t make_chain(fs_volume_t *v, fs_node_t *n, uint32_t have)
{
    for (uint32_t i = 0; i + 1 < have; i++) {
        tv_status_t st = fs_fat_set(v, n->first + i, n->first + i + 1);
        if (st != TV_OK)
            return st;
    }
    if (have) {
        tv_status_t st = fs_fat_set(v, n->first + have - 1, FS_EOC);
        if (st != TV_OK)
            return st;
    }
    n->contig = false;
    return TV_OK;
}

tv_status_t fs_resize_chain(fs_volume_t *v, fs_node_t *n, uint32_t want)
{
    uint32_t have, last;
    tv_status_t st = fs_chain_length(v, n, &have, &last);
    if (st != TV_OK)
        return st;
    if (want <= have)
        return TV_OK; /* shrinking: the caller writes the entry, then fs_free_tail */
    uint32_t add = want - have;
    if (add > v->free_count)
        return TV_E_NO_SPACE;
    if (v->exfat && (have == 0 || n->contig)) {
        /* exFAT: keep the file contiguous (NoFatChain, no FAT writes) while
         * the clusters behind it are free; a new file takes the first run
         * long enough. */
        uint32_t start = 0;
        if ((st = have ? (run_free(v, last + 1, add) ? TV_OK : TV_E_NO_SPACE) : find_run(v, add, &start)) == TV_OK) {
            uint32_t from = have ? last + 1 : start;
            for (uint32_t i = 0; i < add; i++)
                if ((st = v->fmt->mark(v, from + i, true)) != TV_OK)
                    return st;
            v->free_count -= add;
            if ((st = fs_zero(v, fs_cluster_off(v, from), (uint64_t)add * v->csize)) != TV_OK ||
                (st = fs_barrier(v)) != TV_OK)
                return st;
            if (!have)
                n->first = start;
            n->contig = true;
            return TV_OK;
        }
        if (st != TV_E_NO_SPACE)
            return st;
    }
    /* Not contiguous any more: the clusters it has get a FAT chain. */
    if (n->contig && (st = make_chain(v, n, have)) != TV_OK)
        return st;
    /* Step 1: take and zero the new clusters and write their chain; none of
     * it is reachable yet, so a crash leaves at most lost clusters. */
    uint32_t head = 0, prev = 0;
    for (uint32_t i = 0; i < add; i++) {
        uint32_t c;
        if ((st = find_free(v, &c)) != TV_OK)
            return st;
        if ((st = v->fmt->mark(v, c, true)) != TV_OK || (st = fs_fat_set(v, c, FS_EOC)) != TV_OK)
            return st;
        v->free_count--;
        if ((st = fs_zero(v, fs_cluster_off(v, c), v->csize)) != TV_OK)
            return st;
        if (prev && (st = fs_fat_set(v, prev, c)) != TV_OK)
            return st;
        if (!head)
            head = c;
        prev = c;
    }
    if ((st = fs_barrier(v)) != TV_OK)
        return st;
    /* Step 2: link (one FAT entry, or the entry's first cluster which the
     * caller writes after the data). */
    if (have == 0)
        n->first = head;
    else if ((st = fs_fat_set(v, last, head)) != TV_OK)
        return st;
    return TV_OK;
}

tv_status_t fs_free_tail(fs_volume_t *v, fs_node_t *n, uint32_t keep)
{
    uint32_t have, last;
    tv_status_t st = fs_chain_length(v, n, &have, &last);
    if (st != TV_OK)
        return st;
    if (keep >= have)
        return TV_OK;
    if (n->contig) {
        for (uint32_t i = keep; i < have; i++) {
            if ((st = v->fmt->mark(v, n->first + i, false)) != TV_OK)
                return st;
            v->free_count++;
        }
        return fs_sync_cache(v);
    }
    uint32_t cur;
    if (keep) {
        uint32_t k_last;
        if ((st = fs_node_cluster(v, n, keep - 1, &k_last, NULL, NULL)) != TV_OK)
            return st;
        if ((st = fs_fat_get(v, k_last, &cur)) != TV_OK)
            return st;
        /* Cut first, durable before any cluster behind it is freed, so the
         * kept chain never runs into a free cluster. */
        if ((st = fs_fat_set(v, k_last, FS_EOC)) != TV_OK || (st = fs_barrier(v)) != TV_OK)
            return st;
    } else {
        cur = n->first;
    }
    for (uint32_t i = keep; i < have && fs_cluster_ok(v, cur); i++) {
        uint32_t next;
        if ((st = fs_fat_get(v, cur, &next)) != TV_OK)
            return st;
        if ((st = v->fmt->mark(v, cur, false)) != TV_OK)
            return st;
        v->free_count += fs_cluster_usable(v, cur);
        if (v->next_free > cur)
            v->next_free = cur;
        cur = next;
    }
    return fs_sync_cache(v);
}

tv_status_t fs_dir_bytes(fs_volume_t *v, const fs_node_t *dir, uint64_t *bytes)
{
    if (fs_fixed_root(v, dir)) {
        *bytes = v->root_bytes;
        return TV_OK;
    }
    if (dir->contig || (v->exfat && !dir->root)) {
        *bytes = dir->size;
        return TV_OK;
    }
    uint32_t len, last;
    tv_status_t st = fs_chain_length(v, dir, &len, &last);
    *bytes = (uint64_t)len * v->csize;
    return st;
}

tv_status_t fs_node_io(fs_volume_t *v, const fs_node_t *n, uint64_t off, void *buf, size_t len, bool write)
{
    uint8_t *p = buf;
    if (fs_fixed_root(v, n)) {
        if (off > v->root_bytes || len > v->root_bytes - off)
            return TV_E_CORRUPT;
        return write ? fs_meta_write(v, v->root_off + off, buf, len) : fs_meta_read(v, v->root_off + off, buf, len);
    }
    while (len) {
        uint32_t k = (uint32_t)(off / v->csize), c;
        uint32_t in = (uint32_t)(off % v->csize);
        tv_status_t st = fs_node_cluster(v, n, k, &c, NULL, NULL);
        if (st != TV_OK)
            return st;
        size_t m = v->csize - in;
        if (m > len)
            m = len;
        uint64_t at = fs_cluster_off(v, c) + in;
        st = write ? fs_meta_write(v, at, p, m) : fs_meta_read(v, at, p, m);
        if (st != TV_OK)
            return st;
        p += m; off += m; len -= m;
    }
    return TV_OK;
}

tv_status_t fs_dir_grow(fs_volume_t *v, fs_node_t *dir)
{
    uint64_t bytes;
    if (fs_fixed_root(v, dir))
        return TV_E_LIMIT; /* FAT12/16: the root's entry count is fixed at format time */
    tv_status_t st = fs_dir_bytes(v, dir, &bytes);
    if (st != TV_OK)
        return st;
    uint32_t have = (uint32_t)(bytes / v->csize);
    if ((uint64_t)have * v->csize >= 256ull << 20)
        return TV_E_LIMIT; /* exFAT's directory limit; FAT32 dirs hold 65536 slots */
    bool had_first = dir->first != 0;
    if ((st = fs_resize_chain(v, dir, have + 1)) != TV_OK)
        return st;
    if (v->exfat && !dir->root) {
        dir->size = (uint64_t)(have + 1) * v->csize;
        if ((st = fs_barrier(v)) != TV_OK)
            return st;
        st = v->fmt->update(v, dir);
    } else if (!had_first && !dir->root) {
        st = v->fmt->update(v, dir);
    }
    if (st != TV_OK)
        return st;
    return fs_barrier(v);
}

struct find_ctx {
    const fs_volume_t *v;
    const fs_name_t *name;
    fs_node_t *out;
    bool found;
};

static bool find_one(void *ctx, const fs_name_t *name, const fs_node_t *n)
{
    struct find_ctx *f = ctx;
    if (!fs_name_equal(f->v, name, f->name))
        return true;
    *f->out = *n;
    f->found = true;
    return false;
}

tv_status_t fs_find_by_name(fs_volume_t *v, const fs_node_t *dir, const fs_name_t *name,
                            fs_node_t *out)
{
    struct find_ctx f = { v, name, out, false };
    tv_status_t st = v->fmt->iterate(v, dir, find_one, &f);
    if (st != TV_OK)
        return st;
    return f.found ? TV_OK : TV_E_NOT_FOUND;
}
