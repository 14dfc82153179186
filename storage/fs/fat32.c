/* FAT12, FAT16 and FAT32 (Microsoft's "FAT: General Overview of On-Disk
 * Format"): the boot sector, FSInfo, directory entries with VFAT long names.
 * The three differ only in the FAT entry width (fs_core.c), the fixed root
 * directory region of FAT12/16 (fs_node_io) and FSInfo (FAT32 only). */
#include "storage/fs/fs_internal.h"
#include "storage/fs/fs_time.h"

#include "tv_string.h"

#define ATTR_RO 0x01
#define ATTR_VOLUME 0x08
#define ATTR_DIR 0x10
#define ATTR_LFN 0x0F
#define FSINFO_FREE 488
#define FSINFO_NEXT 492
#define SLOT_FREE 0xE5

static void parent_of(const fs_volume_t *v, const fs_node_t *n, fs_node_t *p)
{
    tv_memset(p, 0, sizeof *p);
    p->first = n->p_first;
    p->dir = true;
    p->root = n->p_root || n->p_first == v->root;
}

/* The FAT type from the cluster count, as fatgen103 defines it ("the count
 * of clusters decides, nothing else": not the BS_FilSysType string). */
static uint32_t fat_bits_for(uint64_t count)
{
    return count < 4085 ? 12 : count < 65525 ? 16 : 32;
}

tv_status_t fs_fat32_probe(fs_volume_t *v, const uint8_t *b)
{
    if (b[510] != 0x55 || b[511] != 0xAA || (b[0] != 0xEB && b[0] != 0xE9))
        return TV_E_WRONG_TYPE;
    uint32_t bps = fs_le16(b + 11), spc = b[13], rsvd = fs_le16(b + 14), nfats = b[16];
    uint32_t root_ents = fs_le16(b + 17), fatsz16 = fs_le16(b + 22), tot16 = fs_le16(b + 19);
    uint32_t tot = tot16 ? tot16 : fs_le32(b + 32);
    /* A FAT32 BPB has no fixed root directory and a 32-bit FAT size; a
     * FAT12/16 one has both.  Anything in between is not a FAT BPB. */
    bool f32 = fatsz16 == 0;
    uint32_t fatsz = f32 ? fs_le32(b + 36) : fatsz16;
    if (f32 ? root_ents != 0 || fatsz == 0 : root_ents == 0)
        return TV_E_WRONG_TYPE;
    if (bps < 512 || bps > 4096 || (bps & (bps - 1)) || spc == 0 || (spc & (spc - 1)) || bps * spc > 65536 ||
        rsvd == 0 || nfats == 0 || nfats > 4 || (f32 && fs_le16(b + 42) != 0))
        return TV_E_CORRUPT;
    uint32_t root_secs = (root_ents * 32 + bps - 1) / bps;
    uint64_t meta = rsvd + (uint64_t)nfats * fatsz + root_secs;
    if (tot <= meta || (uint64_t)tot * bps > v->dev->sectors * v->dsec)
        return TV_E_CORRUPT;
    uint64_t count = (tot - meta) / spc;
    /* The count names the type.  A FAT32 BPB with fewer than 65525 clusters
     * (mkfs.vfat -F 32 on a small disk) is still read as FAT32, as dosfstools
     * and Linux do: its root is a chain that no FAT12/16 reader could find.
     * A FAT12/16 BPB with a FAT32-sized count is contradictory. */
    uint32_t bits = f32 ? 32 : fat_bits_for(count);
    if (count < 1 || count > 0x0FFFFFF5 - 2 || (!f32 && bits == 32) ||
        (uint64_t)fatsz * bps * 8 / bits < count + 2)
        return TV_E_CORRUPT;
    v->fmt = &fs_fat32_fmt;
    v->fat_bits = bits;
    v->bps = bps;
    v->csize = bps * spc;
    v->clusters = (uint32_t)count;
    v->fat_off = (uint64_t)rsvd * bps;
    v->fat_bytes = (uint64_t)fatsz * bps;
    v->nfats = nfats;
    v->heap_off = meta * bps;
    if (!f32) {
        /* FAT12/16: the root directory is the region between the FATs and
         * cluster 2; its entries point at it with cluster number 0. */
        v->root_off = (rsvd + (uint64_t)nfats * fatsz) * bps;
        v->root_bytes = root_ents * 32;
        v->root = 0;
    } else {
        /* ExtFlags bit 7: only one FAT is active; we then keep just that one. */
        uint16_t ext = fs_le16(b + 40);
        if (ext & 0x80) {
            if ((ext & 0x0F) >= nfats)
                return TV_E_CORRUPT;
            v->fat_off += (ext & 0x0F) * v->fat_bytes;
            v->nfats = 1;
        }
        v->root = fs_le32(b + 44) & 0x0FFFFFFF;
        if (!fs_cluster_ok(v, v->root))
            return TV_E_CORRUPT;
        uint32_t fsinfo = fs_le16(b + 48);
        if (fsinfo && fsinfo < rsvd) {
            uint8_t s[512];
            tv_status_t st = fs_meta_read(v, (uint64_t)fsinfo * bps, s, sizeof s);
            if (st != TV_OK)
                return st;
            if (fs_le32(s) == 0x41615252 && fs_le32(s + 484) == 0x61417272 && fs_le32(s + 508) == 0xAA550000) {
                v->fsinfo_off = (uint64_t)fsinfo * bps;
                v->next_free = fs_le32(s + FSINFO_NEXT);
            }
        }
    }
    /* Label: the root's volume-label entry, else the BPB's (BS_VolLab: at
     * 71 in a FAT32 BPB, at 43 in a FAT12/16 one). */
    char lab[12];
    tv_memcpy(lab, b + (f32 ? 71 : 43), 11);
    fs_node_t r = { .first = v->root, .dir = true, .root = true };
    for (uint32_t off = 0; off < 64 * 32; off += 32) {
        uint8_t e[32];
        if (fs_fixed_root(v, &r) && off >= v->root_bytes)
            break;
        if (fs_node_io(v, &r, off, e, 32, false) != TV_OK || e[0] == 0)
            break;
        if (e[0] != SLOT_FREE && (e[11] & 0x3F) != ATTR_LFN && (e[11] & ATTR_VOLUME)) {
            tv_memcpy(lab, e, 11);
            break;
        }
    }
    int n = 11;
    while (n > 0 && lab[n - 1] == ' ')
        n--;
    if (n == 7 && tv_memcmp(lab, "NO NAME", 7) == 0)
        n = 0;
    for (int i = 0; i < n; i++)
        v->label[i] = (lab[i] >= 0x20 && lab[i] < 0x7F) ? lab[i] : '_';
    v->label[n] = 0;
    return TV_OK;
}

static tv_status_t set_dirty(fs_volume_t *v, bool dirty)
{
    /* FAT32 keeps no in-use mark that fsck accepts while set, so the mark is
     * FSInfo's free count: "unknown" (0xFFFFFFFF) while mounted for writing,
     * the true count after a clean unmount.  A volume found with an unknown
     * count (or without FSInfo) is scanned and repaired at mount.  FAT12 and
     * FAT16 have no FSInfo (and FAT16's clean-shutdown bit in FAT[1] is not
     * one fsck accepts while clear either), so every writable mount of them
     * scans; they are small (at most 65524 clusters). */
    tv_status_t st;
    if (dirty) {
        uint8_t b[4] = { 0, 0, 0, 0 };
        if (v->fsinfo_off && (st = fs_meta_read(v, v->fsinfo_off + FSINFO_FREE, b, 4)) != TV_OK)
            return st;
        if (!v->fsinfo_off || fs_le32(b) == 0xFFFFFFFF) {
            /* Checked whole before anything is written. */
            v->dry = true;
            st = fs_fat32_recover(v);
            v->dry = false;
            if (st != TV_OK || (st = fs_fat32_recover(v)) != TV_OK)
                return st;
        }
        if (!v->fsinfo_off)
            return TV_OK;
        fs_put32(b, 0xFFFFFFFF);
        if ((st = fs_meta_write(v, v->fsinfo_off + FSINFO_FREE, b, 4)) != TV_OK)
            return st;
        return fs_barrier(v);
    }
    if (!v->fsinfo_off)
        return TV_OK;
    uint8_t b[8];
    fs_put32(b, v->free_count);
    fs_put32(b + 4, v->next_free);
    if ((st = fs_meta_write(v, v->fsinfo_off + FSINFO_FREE, b, 8)) != TV_OK)
        return st;
    return fs_barrier(v);
}

static uint8_t sfn_sum(const uint8_t *n)
{
    uint8_t s = 0;
    for (int i = 0; i < 11; i++)
        s = (uint8_t)(((s & 1) << 7) + (s >> 1) + n[i]);
    return s;
}

static void sfn_to_name(const uint8_t *e, fs_name_t *out)
{
    out->len = 0;
    int bl = 8, el = 3;
    while (bl > 0 && e[bl - 1] == ' ')
        bl--;
    while (el > 0 && e[8 + el - 1] == ' ')
        el--;
    for (int i = 0; i < bl; i++) {
        uint8_t c = (i == 0 && e[0] == 0x05) ? 0xE5 : e[i];
        if ((e[12] & 0x08) && c >= 'A' && c <= 'Z')
            c += 32;
        out->u[out->len++] = c < 0x80 ? c : '_';
    }
    if (el) {
        out->u[out->len++] = '.';
        for (int i = 0; i < el; i++) {
            uint8_t c = e[8 + i];
            if ((e[12] & 0x10) && c >= 'A' && c <= 'Z')
                c += 32;
            out->u[out->len++] = c < 0x80 ? c : '_';
        }
    }
}

static void entry_to_node(const fs_volume_t *v, const fs_node_t *dir, const uint8_t *e, uint64_t off,
                          uint32_t count, fs_node_t *n)
{
    tv_memset(n, 0, sizeof *n);
    n->first = ((uint32_t)fs_le16(e + 20) << 16 | fs_le16(e + 26)) & 0x0FFFFFFF;
    n->attr = e[11];
    n->dir = (e[11] & ATTR_DIR) != 0;
    n->size = n->dir ? 0 : fs_le32(e + 28);
    n->mtime = (uint32_t)fs_le16(e + 24) << 16 | fs_le16(e + 22); /* DIR_WrtDate, DIR_WrtTime */
    n->mtime_tz = INT16_MIN;                                       /* FAT keeps no zone */
    n->p_first = dir->first;
    n->p_root = dir->root || dir->first == v->root;
    n->ent_off = off;
    n->ent_count = count;
}

/* Walks the entries of dir, assembling long names.  fn gets every live
 * entry but "." and ".." and the volume label. */
static tv_status_t iterate(fs_volume_t *v, const fs_node_t *dir,
                           bool (*fn)(void *ctx, const fs_name_t *name, const fs_node_t *n), void *ctx)
{
    uint64_t bytes;
    tv_status_t st = fs_dir_bytes(v, dir, &bytes);
    if (st != TV_OK)
        return st;
    if (bytes > (2u << 20))
        bytes = 2u << 20; /* 65536 entries at most */
    fs_name_t *lfn = fs_alloc(v, sizeof *lfn);
    if (!lfn)
        return TV_E_NO_MEMORY;
    int expect = 0, total = 0;
    uint8_t sum = 0;
    uint64_t lfn_start = 0;
    for (uint64_t off = 0; off < bytes; off += 32) {
        uint8_t e[32];
        if ((st = fs_node_io(v, dir, off, e, 32, false)) != TV_OK)
            break;
        if (e[0] == 0)
            break;
        if (e[0] == SLOT_FREE) {
            expect = 0;
            continue;
        }
        if ((e[11] & 0x3F) == ATTR_LFN) {
            int ord = e[0] & 0x1F;
            if (e[0] & 0x40) {
                if (ord == 0 || ord > 20) { expect = 0; continue; }
                total = ord;
                expect = ord;
                sum = e[13];
                lfn_start = off;
                lfn->len = (uint32_t)ord * 13;
                for (uint32_t i = 0; i < lfn->len; i++)
                    lfn->u[i] = 0xFFFF;
            } else if (ord != expect || e[13] != sum) {
                expect = 0;
                continue;
            }
            static const uint8_t pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
            for (int i = 0; i < 13; i++) {
                uint32_t at = (uint32_t)(ord - 1) * 13 + i;
                if (at < FS_NAME_MAX)
                    lfn->u[at] = fs_le16(e + pos[i]);
            }
            expect = ord - 1;
            continue;
        }
        if (e[11] & ATTR_VOLUME) {
            expect = 0;
            continue;
        }
        if (e[0] == '.' && (e[1] == ' ' || (e[1] == '.' && e[2] == ' '))) {
            expect = 0;
            continue;
        }
        fs_name_t *name = lfn;
        fs_name_t sname;
        uint32_t count = 1;
        uint64_t start = off;
        if (expect == 0 && total && sum == sfn_sum(e)) {
            uint32_t len = 0;
            while (len < lfn->len && len < FS_NAME_MAX && lfn->u[len] != 0 && lfn->u[len] != 0xFFFF)
                len++;
            lfn->len = len;
            count = (uint32_t)total + 1;
            start = lfn_start;
        } else {
            sfn_to_name(e, &sname);
            name = &sname;
        }
        total = 0;
        expect = 0;
        if (name->len == 0)
            continue;
        fs_node_t n;
        entry_to_node(v, dir, e, start, count, &n);
        if (!fn(ctx, name, &n))
            break;
    }
    fs_free(v, lfn);
    return st;
}

static bool sfn_char(uint16_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    for (const char *p = "$%'-_@~`!(){}^#&"; *p; p++)
        if (c == (uint8_t)*p)
            return true;
    return false;
}

/* True when name is itself a valid upper-case 8.3 name (no long name needed). */
static bool plain_sfn(const fs_name_t *n, uint8_t *sfn)
{
    tv_memset(sfn, ' ', 11);
    uint32_t i = 0, k = 0;
    for (; i < n->len && n->u[i] != '.'; i++) {
        if (k == 8 || !sfn_char(n->u[i]))
            return false;
        sfn[k++] = (uint8_t)n->u[i];
    }
    if (k == 0)
        return false;
    if (i < n->len) {
        i++;
        if (i == n->len)
            return false;
        for (k = 8; i < n->len; i++) {
            if (k == 11 || !sfn_char(n->u[i]))
                return false;
            sfn[k++] = (uint8_t)n->u[i];
        }
    }
    return true;
}

struct tails_ctx {
    const uint8_t *basis;
    uint32_t blen;
    uint8_t used[1250]; /* ~1 .. ~9999 */
    const fs_volume_t *v;
};

static bool collect_tail(void *ctx, const fs_name_t *name, const fs_node_t *n)
{
    (void)name;
    struct tails_ctx *t = ctx;
    uint8_t e[32];
    fs_node_t p;
    parent_of(t->v, n, &p);
    if (fs_node_io((fs_volume_t *)t->v, &p, n->ent_off + 32ull * (n->ent_count - 1), e, 32, false) != TV_OK)
        return true;
    if (tv_memcmp(e + 8, t->basis + 8, 3) != 0)
        return true;
    /* BASIS~N: the prefix of the basis, '~', digits. */
    uint32_t i = 0;
    while (i < 8 && e[i] != '~')
        i++;
    if (i == 8 || i > t->blen || tv_memcmp(e, t->basis, i) != 0)
        return true;
    uint32_t num = 0, j = i + 1;
    for (; j < 8 && e[j] >= '0' && e[j] <= '9'; j++)
        num = num * 10 + (e[j] - '0');
    if (num > 0 && num < 10000)
        t->used[num / 8] |= (uint8_t)(1u << (num % 8));
    return true;
}

/* A short alias for a long name: BASIS~N.EXT, unique in dir (fatgen103's
 * numeric-tail scheme). */
static tv_status_t make_alias(fs_volume_t *v, const fs_node_t *dir, const fs_name_t *n, uint8_t *sfn)
{
    tv_memset(sfn, ' ', 11);
    int32_t dot = -1;
    for (uint32_t i = 0; i < n->len; i++)
        if (n->u[i] == '.')
            dot = (int32_t)i;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n->len && (dot < 0 || i < (uint32_t)dot) && k < 8; i++) {
        uint16_t c = n->u[i];
        if (c == ' ' || c == '.')
            continue;
        if (c >= 'a' && c <= 'z')
            c -= 32;
        sfn[k++] = sfn_char(c) ? (uint8_t)c : '_';
    }
    if (k == 0)
        sfn[k++] = '_';
    if (dot >= 0)
        for (uint32_t i = (uint32_t)dot + 1, e = 8; i < n->len && e < 11; i++) {
            uint16_t c = n->u[i];
            if (c == ' ')
                continue;
            if (c >= 'a' && c <= 'z')
                c -= 32;
            sfn[e++] = sfn_char(c) ? (uint8_t)c : '_';
        }
    struct tails_ctx *t = fs_alloc(v, sizeof *t);
    if (!t)
        return TV_E_NO_MEMORY;
    tv_memset(t, 0, sizeof *t);
    t->basis = sfn;
    t->blen = k;
    t->v = v;
    tv_status_t st = iterate(v, dir, collect_tail, t);
    uint32_t num = 1;
    while (st == TV_OK && num < 10000 && (t->used[num / 8] & (1u << (num % 8))))
        num++;
    fs_free(v, t);
    if (st != TV_OK)
        return st;
    if (num >= 10000)
        return TV_E_LIMIT;
    char digits[6];
    int nd = 0;
    for (uint32_t x = num; x; x /= 10)
        digits[nd++] = (char)('0' + x % 10);
    uint32_t keep = k;
    if (keep > 8u - 1 - (uint32_t)nd)
        keep = 8u - 1 - (uint32_t)nd;
    uint32_t at = keep;
    sfn[at++] = '~';
    while (nd)
        sfn[at++] = (uint8_t)digits[--nd];
    while (at < 8)
        sfn[at++] = ' ';
    return TV_OK;
}

/* The slots of an entry set: long-name entries (last part first), then the
 * short entry.  e must hold (lfn_parts + 1) * 32 bytes. */
static uint32_t build_set(const fs_name_t *n, const uint8_t *sfn, bool with_lfn, uint8_t *e)
{
    uint32_t parts = with_lfn ? (n->len + 12) / 13 : 0;
    uint8_t sum = sfn_sum(sfn);
    static const uint8_t pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
    for (uint32_t p = 0; p < parts; p++) {
        uint32_t ord = parts - p;
        uint8_t *s = e + 32 * p;
        tv_memset(s, 0, 32);
        s[0] = (uint8_t)(ord | (p == 0 ? 0x40 : 0));
        s[11] = ATTR_LFN;
        s[13] = sum;
        for (int i = 0; i < 13; i++) {
            uint32_t at = (ord - 1) * 13 + i;
            uint16_t c = at < n->len ? n->u[at] : at == n->len ? 0 : 0xFFFF;
            fs_put16(s + pos[i], c);
        }
    }
    return parts + 1;
}

static void fill_short(fs_volume_t *v, uint8_t *e, const uint8_t *sfn, const fs_node_t *n, bool new_entry)
{
    if (new_entry) {
        tv_memset(e, 0, 32);
        tv_memcpy(e, sfn, 11);
        if (e[0] == 0xE5)
            e[0] = 0x05;
    }
    e[11] = n->attr;
    uint16_t date, time;
    fs_dos_time(v->env.now ? v->env.now(v->env.ctx) : 0, &date, &time);
    if (new_entry) {
        fs_put16(e + 14, time);
        fs_put16(e + 16, date);
    }
    fs_put16(e + 18, date);
    fs_put16(e + 20, (uint16_t)(n->first >> 16));
    fs_put16(e + 22, time);
    fs_put16(e + 24, date);
    fs_put16(e + 26, (uint16_t)n->first);
    fs_put32(e + 28, n->dir ? 0 : (uint32_t)n->size);
}

/* A run of `count` free slots; sets of up to 16 slots never cross a
 * 512-byte sector (written whole by one atomic sector write). */
static tv_status_t find_slots(fs_volume_t *v, fs_node_t *dir, uint32_t count, uint64_t *at, uint64_t *end_mark)
{
    for (int round = 0; round < 2; round++) {
        uint64_t bytes;
        tv_status_t st = fs_dir_bytes(v, dir, &bytes);
        if (st != TV_OK)
            return st;
        uint64_t run_start = 0;
        uint32_t run = 0;
        *end_mark = UINT64_MAX;
        for (uint64_t off = 0; off < bytes; off += 32) {
            uint8_t e[32];
            if ((st = fs_node_io(v, dir, off, e, 32, false)) != TV_OK)
                return st;
            if (e[0] == 0 && *end_mark == UINT64_MAX)
                *end_mark = off;
            bool free_ = e[0] == 0 || e[0] == SLOT_FREE;
            bool boundary = count <= 16 ? (off % FS_ATOMIC == 0 && run && (run_start % FS_ATOMIC) + 32ull * count > FS_ATOMIC)
                                        : false;
            if (!free_ || boundary) {
                run = 0;
                if (!free_)
                    continue;
            }
            if (run == 0) {
                if (count > 16 && off % FS_ATOMIC)
                    continue;
                run_start = off;
            }
            if (++run == count) {
                *at = run_start;
                return TV_OK;
            }
        }
        if (bytes >= (2u << 20))
            return TV_E_LIMIT;
        if ((st = fs_dir_grow(v, dir)) != TV_OK)
            return st;
    }
    return TV_E_NO_SPACE;
}

static tv_status_t add(fs_volume_t *v, fs_node_t *dir, const fs_name_t *name, fs_node_t *out)
{
    uint8_t sfn[11];
    bool lfn = !plain_sfn(name, sfn);
    tv_status_t st;
    if (lfn && (st = make_alias(v, dir, name, sfn)) != TV_OK)
        return st;
    uint8_t set[21 * 32];
    uint32_t count = build_set(name, sfn, lfn, set);
    uint64_t at = 0, end_mark = UINT64_MAX;
    if ((st = find_slots(v, dir, count, &at, &end_mark)) != TV_OK)
        return st;
    /* Slots skipped to keep the set inside one sector must not stay
     * end-of-directory marks, or the set would be hidden behind them. */
    for (uint64_t o = end_mark; o < at; o += 32) {
        uint8_t m = SLOT_FREE;
        if ((st = fs_node_io(v, dir, o, &m, 1, true)) != TV_OK)
            return st;
    }
    fill_short(v, set + 32 * (count - 1), sfn, out, true);
    if ((st = fs_node_io(v, dir, at, set, 32ull * count, true)) != TV_OK)
        return st;
    out->p_first = dir->first;
    out->p_root = dir->root || dir->first == v->root;
    out->ent_off = at;
    out->ent_count = count;
    return TV_OK;
}

static tv_status_t update(fs_volume_t *v, const fs_node_t *n)
{
    fs_node_t p;
    parent_of(v, n, &p);
    uint64_t at = n->ent_off + 32ull * (n->ent_count - 1);
    uint8_t e[32];
    tv_status_t st = fs_node_io(v, &p, at, e, 32, false);
    if (st != TV_OK)
        return st;
    fill_short(v, e, NULL, n, false);
    return fs_node_io(v, &p, at, e, 32, true);
}

static tv_status_t unlink_(fs_volume_t *v, const fs_node_t *n)
{
    fs_node_t p;
    parent_of(v, n, &p);
    for (uint32_t i = 0; i < n->ent_count; i++) {
        uint8_t m = SLOT_FREE;
        tv_status_t st = fs_node_io(v, &p, n->ent_off + 32ull * i, &m, 1, true);
        if (st != TV_OK)
            return st;
    }
    return TV_OK;
}

static tv_status_t rename_in_place(fs_volume_t *v, fs_node_t *n, const fs_name_t *name)
{
    fs_node_t p;
    parent_of(v, n, &p);
    if ((n->ent_off % FS_ATOMIC) + 32ull * n->ent_count > FS_ATOMIC)
        return TV_E_UNSUPPORTED;
    uint8_t sfn[11];
    bool lfn = !plain_sfn(name, sfn);
    tv_status_t st;
    if (lfn && (st = make_alias(v, &p, name, sfn)) != TV_OK)
        return st;
    uint8_t set[21 * 32], old[16 * 32];
    uint32_t count = build_set(name, sfn, lfn, set);
    if (count > n->ent_count)
        return TV_E_UNSUPPORTED;
    if ((st = fs_node_io(v, &p, n->ent_off, old, 32ull * n->ent_count, false)) != TV_OK)
        return st;
    /* Keep the short entry's place (and its clusters, size, stamps). */
    uint8_t *sh = old + 32 * (n->ent_count - 1);
    tv_memcpy(sh, sfn, 11);
    if (sh[0] == 0xE5)
        sh[0] = 0x05;
    sh[12] = 0;
    uint32_t lead = n->ent_count - count;
    for (uint32_t i = 0; i < lead; i++) {
        tv_memset(old + 32 * i, 0, 32);
        old[32 * i] = SLOT_FREE;
    }
    tv_memcpy(old + 32 * lead, set, 32ull * (count - 1));
    if ((st = fs_node_io(v, &p, n->ent_off, old, 32ull * n->ent_count, true)) != TV_OK)
        return st;
    n->ent_off += 32ull * lead;
    n->ent_count = count;
    return TV_OK;
}

static tv_status_t init_dir(fs_volume_t *v, const fs_node_t *parent, const fs_node_t *dir)
{
    uint8_t e[64];
    fs_node_t d = *dir, pp = { 0 };
    pp.dir = true;
    pp.attr = ATTR_DIR;
    pp.first = (parent->root || parent->first == v->root) ? 0 : parent->first;
    static const uint8_t dot[11] = { '.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ' };
    static const uint8_t dotdot[11] = { '.', '.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ' };
    d.attr = ATTR_DIR;
    fill_short(v, e, dot, &d, true);
    fill_short(v, e + 32, dotdot, &pp, true);
    return fs_node_io(v, dir, 0, e, sizeof e, true);
}

static tv_status_t is_free(fs_volume_t *v, uint32_t c, bool *free_)
{
    uint32_t x;
    tv_status_t st = fs_fat_get(v, c, &x);
    *free_ = st == TV_OK && x == 0;
    return st;
}

static tv_status_t mark(fs_volume_t *v, uint32_t c, bool used)
{
    return used ? TV_OK : fs_fat_set(v, c, 0); /* used: the chain write marks it */
}

const struct fs_fmt fs_fat32_fmt = {
    .find = fs_find_by_name, .add = add, .update = update, .unlink = unlink_, .rename_in_place = rename_in_place,
    .iterate = iterate, .is_free = is_free, .mark = mark, .init_dir = init_dir, .set_dirty = set_dirty,
    .max_file = FS_FAT32_FILE_MAX,
};
