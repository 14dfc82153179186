/* exFAT repair at a writable mount that finds VolumeDirty set (a session
 * that did not unmount cleanly).  Our crash order allocates (bitmap, FAT
 * chain) before an entry covers the clusters and lets go of them only after
 * the entry no longer does, so what a power cut can leave is clusters marked
 * in the bitmap that nothing reaches and FAT chains longer than their file.
 * The tree is walked, every reachable cluster noted (root chain, bitmap,
 * up-case table, files and directories, contiguous or chained), long chains
 * cut, and the bitmap rewritten to exactly the reachable set.  A cluster
 * reached twice, or reached but free in the bitmap, is CORRUPT and the
 * volume is not written. */
#include "storage/fs/fs_internal.h"

#include "tv_string.h"

struct rec {
    fs_volume_t *v;
    uint8_t *seen;
    tv_status_t st;
    int depth;
};

static tv_status_t note(struct rec *r, uint32_t c)
{
    if (!fs_cluster_ok(r->v, c))
        return TV_E_CORRUPT;
    uint32_t i = c - 2;
    if (r->seen[i / 8] & (1u << (i % 8)))
        return TV_E_CORRUPT; /* cross link */
    r->seen[i / 8] |= (uint8_t)(1u << (i % 8));
    return TV_OK;
}

/* Notes the clusters of a node: `bytes` worth (0 = the whole chain). */
static tv_status_t note_node(struct rec *r, const fs_node_t *n, uint64_t bytes, bool trim)
{
    fs_volume_t *v = r->v;
    if (!n->first)
        return TV_OK;
    uint64_t need = bytes ? (bytes + v->csize - 1) / v->csize : UINT64_MAX;
    tv_status_t st;
    if (n->contig) {
        if (need > v->clusters || n->first - 2 + need > v->clusters)
            return TV_E_CORRUPT;
        for (uint64_t k = 0; k < need; k++)
            if ((st = note(r, n->first + (uint32_t)k)) != TV_OK)
                return st;
        return TV_OK;
    }
    uint32_t cur = n->first;
    for (uint64_t k = 1;; k++) {
        if ((st = note(r, cur)) != TV_OK)
            return st;
        uint32_t next;
        if ((st = fs_fat_get(v, cur, &next)) != TV_OK)
            return st;
        if (next == FS_EOC)
            return k < need && bytes ? TV_E_CORRUPT : TV_OK;
        if (k == need)
            return trim ? fs_fat_set(v, cur, FS_EOC) : TV_OK;
        cur = next;
    }
}

static tv_status_t walk_dir(struct rec *r, const fs_node_t *dir);

static bool visit(void *ctx, const fs_name_t *name, const fs_node_t *n)
{
    (void)name;
    struct rec *r = ctx;
    r->st = note_node(r, n, n->size, true);
    if (r->st == TV_OK && n->dir && n->first) {
        fs_node_t d = *n;
        d.root = false;
        r->st = walk_dir(r, &d);
    }
    return r->st == TV_OK;
}

static tv_status_t walk_dir(struct rec *r, const fs_node_t *dir)
{
    if (++r->depth > 32)
        return TV_E_LIMIT;
    tv_status_t st = r->v->fmt->iterate(r->v, dir, visit, r);
    r->depth--;
    return st != TV_OK ? st : r->st;
}

tv_status_t fs_exfat_recover(fs_volume_t *v)
{
    uint32_t nbytes = v->clusters / 8 + 1;
    struct rec r = { v, fs_alloc(v, nbytes), TV_OK, 0 };
    if (!r.seen)
        return TV_E_NO_MEMORY;
    tv_memset(r.seen, 0, nbytes);
    fs_node_t root = { .first = v->root, .dir = true, .root = true };
    fs_node_t bm, up = { .first = v->upcase_first, .size = v->upcase_bytes };
    fs_exfat_bitmap_node(v, &bm);
    tv_status_t st = note_node(&r, &root, 0, false);
    if (st == TV_OK)
        st = note_node(&r, &bm, bm.size, false);
    if (st == TV_OK)
        st = note_node(&r, &up, up.size, false);
    if (st == TV_OK)
        st = walk_dir(&r, &root);
    /* Every reached cluster must be allocated already; then the bitmap
     * becomes exactly the reached set (byte by byte, so the bits past the
     * last cluster stay as they are). */
    uint8_t *cur = NULL;
    if (st == TV_OK && !(cur = fs_alloc(v, nbytes)))
        st = TV_E_NO_MEMORY;
    if (st == TV_OK)
        st = fs_node_io(v, &bm, 0, cur, v->clusters / 8 + (v->clusters % 8 != 0), false);
    v->free_count = 0;
    for (uint32_t i = 0; st == TV_OK && i < v->clusters; i += 8) {
        uint8_t want = r.seen[i / 8], have = cur[i / 8];
        uint32_t bits = v->clusters - i < 8 ? v->clusters - i : 8;
        uint8_t mask = (uint8_t)(bits == 8 ? 0xFF : (1u << bits) - 1);
        if (want & ~have & mask) {
            st = TV_E_CORRUPT;
            break;
        }
        uint8_t nb = (uint8_t)((have & ~mask) | (want & mask));
        for (uint32_t b = 0; b < bits; b++)
            v->free_count += !(nb >> b & 1);
        if (nb != have)
            st = fs_node_io(v, &bm, i / 8, &nb, 1, true);
    }
    fs_free(v, cur);
    fs_free(v, r.seen);
    if (st != TV_OK)
        return st;
    return fs_barrier(v);
}
