/* FAT12/16/32 repair after an unclean writable session: what our crash order can
 * leave behind is lost clusters, chains longer than their file and FAT
 * copies out of step.  The tree is walked from the root, every reachable
 * cluster marked, over-long chains cut to their file's size, then every
 * unreachable allocated cluster freed and FAT 1 copied to the others.
 * Anything worse (cross links, chains into free clusters) is CORRUPT and the
 * volume is not written. */
#include "storage/fs/fs_internal.h"

#include "tv_string.h"

struct rec {
    fs_volume_t *v;
    uint8_t *seen;
    tv_status_t st;
    int depth;
};

static bool seen_set(struct rec *r, uint32_t c)
{
    uint32_t i = c - 2;
    if (r->seen[i / 8] & (1u << (i % 8)))
        return false;
    r->seen[i / 8] |= (uint8_t)(1u << (i % 8));
    return true;
}

/* Marks the node's chain; cuts a file's chain to its size. */
static tv_status_t mark_chain(struct rec *r, fs_node_t *n)
{
    fs_volume_t *v = r->v;
    if (!n->first)
        return TV_OK;
    uint64_t need = n->dir ? UINT64_MAX : (n->size + v->csize - 1) / v->csize;
    if (need == 0) {
        /* An empty file holding clusters: the entry lets go of them. */
        n->first = 0;
        return v->fmt->update(v, n);
    }
    uint32_t cur = n->first;
    for (uint64_t k = 1;; k++) {
        if (!fs_cluster_ok(v, cur) || !seen_set(r, cur))
            return TV_E_CORRUPT;
        uint32_t next;
        tv_status_t st = fs_fat_get(v, cur, &next);
        if (st != TV_OK)
            return st;
        if (next == FS_EOC)
            return k < need && !n->dir ? TV_E_CORRUPT : TV_OK;
        if (k == need)
            return fs_fat_set(v, cur, FS_EOC);
        if (next == 0)
            return TV_E_CORRUPT;
        cur = next;
    }
}

static tv_status_t walk_dir(struct rec *r, const fs_node_t *dir);

static bool visit(void *ctx, const fs_name_t *name, const fs_node_t *n)
{
    (void)name;
    struct rec *r = ctx;
    fs_node_t m = *n;
    r->st = mark_chain(r, &m);
    if (r->st == TV_OK && m.dir && m.first)
        r->st = walk_dir(r, &m);
    return r->st == TV_OK;
}

static tv_status_t walk_dir(struct rec *r, const fs_node_t *dir)
{
    if (++r->depth > 32)
        return TV_E_LIMIT;
    tv_status_t st = r->v->fmt->iterate(r->v, dir, visit, r);
    r->depth--;
    if (st != TV_OK)
        return st;
    return r->st;
}

tv_status_t fs_fat32_recover(fs_volume_t *v)
{
    struct rec r = { v, fs_alloc(v, v->clusters / 8 + 1), TV_OK, 0 };
    if (!r.seen)
        return TV_E_NO_MEMORY;
    tv_memset(r.seen, 0, v->clusters / 8 + 1);
    fs_node_t root = { .first = v->root, .dir = true, .root = true };
    tv_status_t st = mark_chain(&r, &root);
    if (st == TV_OK)
        st = walk_dir(&r, &root);
    for (uint32_t c = 2; st == TV_OK && c - 2 < v->clusters; c++) {
        uint32_t x;
        if ((st = fs_fat_get(v, c, &x)) != TV_OK)
            break;
        bool reach = r.seen[(c - 2) / 8] & (1u << ((c - 2) % 8));
        if (x != 0 && x != FS_FAT_BAD && !reach)
            st = fs_fat_set(v, c, 0);
    }
    fs_free(v, r.seen);
    if (st != TV_OK)
        return st;
    /* The other FATs follow FAT 1 (fs_fat_set already wrote them for every
     * entry changed above; this covers entries a crash left unequal). */
    uint8_t a[512], b[512];
    for (uint32_t i = 1; i < v->nfats; i++)
        for (uint64_t off = 0; off < v->fat_bytes; off += sizeof a) {
            if ((st = fs_meta_read(v, v->fat_off + off, a, sizeof a)) != TV_OK ||
                (st = fs_meta_read(v, v->fat_off + i * v->fat_bytes + off, b, sizeof b)) != TV_OK)
                return st;
            if (tv_memcmp(a, b, sizeof a) != 0 &&
                (st = fs_meta_write(v, v->fat_off + i * v->fat_bytes + off, a, sizeof a)) != TV_OK)
                return st;
        }
    v->free_count = 0;
    for (uint32_t c = 2; c - 2 < v->clusters; c++) {
        uint32_t x;
        if ((st = fs_fat_get(v, c, &x)) != TV_OK)
            return st;
        v->free_count += x == 0 && fs_cluster_usable(v, c);
    }
    return fs_barrier(v);
}
