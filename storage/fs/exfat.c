/* exFAT (Microsoft's exFAT file system specification): the boot region and
 * its checksum, the allocation bitmap, the up-case table, directory entry
 * sets (File, Stream Extension, File Name) with their SetChecksum and name
 * hash, NoFatChain files, VolumeDirty. */
#include "storage/fs/fs_internal.h"
#include "storage/fs/fs_time.h"

#include "tv_string.h"

#define T_BITMAP 0x81
#define T_UPCASE 0x82
#define T_LABEL 0x83
#define T_FILE 0x85
#define T_STREAM 0xC0
#define T_NAME 0xC1
#define IN_USE 0x80
#define ATTR_DIR 0x10
#define FLAG_ALLOC 0x01
#define FLAG_NOFATCHAIN 0x02
#define VOL_DIRTY 0x0002
#define OFF_FLAGS 106
#define OFF_PERCENT 112
/* Entry sets we write stay inside one 512-byte sector (written whole): 16
 * slots, so names of up to 14 * 15 characters. */
#define EX_SET_MAX 16
#define EX_NAME_WRITE_MAX ((EX_SET_MAX - 2) * 15)
#define UPCASE_MAX (65536 * 2)

/* exFAT spec 3.4: the boot checksum skips VolumeFlags and PercentInUse. */
static uint32_t boot_sum_add(uint32_t sum, const uint8_t *p, size_t n, size_t base)
{
    for (size_t i = 0; i < n; i++) {
        size_t at = base + i;
        if (at == OFF_FLAGS || at == OFF_FLAGS + 1 || at == OFF_PERCENT)
            continue;
        sum = ((sum & 1) ? 0x80000000u : 0) + (sum >> 1) + p[i];
    }
    return sum;
}

/* Spec 6.3.3: the set checksum skips the SetChecksum field itself. */
static uint16_t set_sum(const uint8_t *set, uint32_t count)
{
    uint16_t sum = 0;
    for (uint32_t i = 0; i < count * 32; i++) {
        if (i == 2 || i == 3)
            continue;
        sum = (uint16_t)(((sum & 1) ? 0x8000 : 0) + (sum >> 1) + set[i]);
    }
    return sum;
}

/* Spec 7.6.4: over the up-cased name, each unit low byte first. */
static uint16_t name_hash(const fs_volume_t *v, const fs_name_t *n)
{
    uint16_t h = 0;
    for (uint32_t i = 0; i < n->len; i++) {
        uint16_t c = fs_upcase(v, n->u[i]);
        h = (uint16_t)(((h & 1) ? 0x8000 : 0) + (h >> 1) + (c & 0xFF));
        h = (uint16_t)(((h & 1) ? 0x8000 : 0) + (h >> 1) + (c >> 8));
    }
    return h;
}

static void parent_of(const fs_volume_t *v, const fs_node_t *n, fs_node_t *p)
{
    tv_memset(p, 0, sizeof *p);
    p->first = n->p_first;
    p->dir = true;
    p->root = n->p_root;
    p->contig = n->p_contig;
    p->size = n->p_size;
    (void)v;
}

/* Reads the boot region at sector `first` (main 0, backup 12) and checks
 * it, the checksum sector included. */
static tv_status_t check_boot_region(fs_volume_t *v, uint64_t first, uint8_t *b)
{
    if ((b[0] != 0xEB || b[1] != 0x76 || b[2] != 0x90) || tv_memcmp(b + 3, "EXFAT   ", 8) != 0 ||
        b[510] != 0x55 || b[511] != 0xAA)
        return TV_E_CORRUPT;
    if (!tv_all_zero(b + 11, 53))
        return TV_E_CORRUPT;
    uint32_t bps_shift = b[108], spc_shift = b[109];
    if (bps_shift < 9 || bps_shift > 12 || spc_shift > 25 - bps_shift)
        return TV_E_CORRUPT;
    uint32_t bps = 1u << bps_shift;
    if (bps < v->dsec)
        return TV_E_UNSUPPORTED;
    uint32_t sum = boot_sum_add(0, b, 512, 0);
    uint8_t s[512];
    for (uint64_t off = 512; off < 11ull * bps; off += 512) {
        tv_status_t st = fs_meta_read(v, first * bps + off, s, 512);
        if (st != TV_OK)
            return st;
        sum = boot_sum_add(sum, s, 512, (size_t)off);
    }
    for (uint32_t off = 0; off < bps; off += 512) {
        tv_status_t st = fs_meta_read(v, (first + 11) * bps + off, s, 512);
        if (st != TV_OK)
            return st;
        for (int i = 0; i < 512; i += 4)
            if (fs_le32(s + i) != sum)
                return TV_E_CORRUPT;
    }
    return TV_OK;
}

static tv_status_t load_upcase(fs_volume_t *v, uint32_t first, uint64_t len, uint32_t want_sum)
{
    if (len == 0 || len > UPCASE_MAX || len % 2)
        return TV_E_CORRUPT;
    uint8_t *raw = fs_alloc(v, (size_t)len);
    v->upcase = fs_alloc(v, 65536 * sizeof(uint16_t));
    if (!raw || !v->upcase) {
        fs_free(v, raw);
        return TV_E_NO_MEMORY;
    }
    fs_node_t n = { .first = first, .size = len };
    tv_status_t st = fs_node_io(v, &n, 0, raw, (size_t)len, false);
    if (st == TV_OK) {
        uint32_t sum = 0;
        for (uint64_t i = 0; i < len; i++)
            sum = ((sum & 1) ? 0x80000000u : 0) + (sum >> 1) + raw[i];
        if (sum != want_sum)
            st = TV_E_CORRUPT;
    }
    for (uint32_t i = 0; i < 65536; i++)
        v->upcase[i] = (uint16_t)i;
    /* Spec 7.2.5.1: 0xFFFF followed by a count is a run of identity mappings. */
    uint32_t at = 0;
    for (uint64_t i = 0; st == TV_OK && i + 1 < len && at < 65536; i += 2) {
        uint16_t x = fs_le16(raw + i);
        if (x == 0xFFFF && i + 3 < len) {
            at += fs_le16(raw + i + 2);
            i += 2;
        } else {
            v->upcase[at++] = x;
        }
    }
    fs_free(v, raw);
    return st;
}

/* The root's critical entries: bitmap, up-case table; the label. */
static tv_status_t scan_root(fs_volume_t *v)
{
    fs_node_t root = { .first = v->root, .dir = true, .root = true };
    uint64_t bytes;
    tv_status_t st = fs_dir_bytes(v, &root, &bytes);
    if (st != TV_OK)
        return st;
    bool have_bitmap = false, have_upcase = false;
    for (uint64_t off = 0; off < bytes; off += 32) {
        uint8_t e[32];
        if ((st = fs_node_io(v, &root, off, e, 32, false)) != TV_OK)
            return st;
        if (e[0] == 0)
            break;
        if (!(e[0] & IN_USE))
            continue;
        uint32_t first = fs_le32(e + 20);
        uint64_t len = fs_le64(e + 24);
        if (e[0] == T_BITMAP) {
            if (have_bitmap || (e[1] & 1))
                return TV_E_UNSUPPORTED; /* a second bitmap: TexFAT */
            if (len < (v->clusters + 7ull) / 8 || !fs_cluster_ok(v, first) ||
                (len + v->csize - 1) / v->csize > v->clusters - (first - 2))
                return TV_E_CORRUPT;
            v->bitmap_first = first;
            v->bitmap_bytes = len;
            have_bitmap = true;
            /* Consecutive clusters (as mkfs makes it) are addressed
             * directly; otherwise every access walks the FAT. */
            uint32_t k = (uint32_t)((len + v->csize - 1) / v->csize), c = first;
            v->bitmap_contig = true;
            for (uint32_t i = 1; i < k && v->bitmap_contig; i++) {
                uint32_t next;
                if ((st = fs_fat_get(v, c, &next)) != TV_OK)
                    return st;
                v->bitmap_contig = next == c + 1;
                c = next;
            }

        } else if (e[0] == T_UPCASE) {
            if (have_upcase || !fs_cluster_ok(v, first))
                return TV_E_CORRUPT;
            if ((st = load_upcase(v, first, len, fs_le32(e + 4))) != TV_OK)
                return st;
            v->upcase_first = first;
            v->upcase_bytes = len;
            have_upcase = true;
        } else if (e[0] == T_LABEL) {
            fs_name_t n;
            n.len = e[1] > 11 ? 11 : e[1];
            for (uint32_t i = 0; i < n.len; i++)
                n.u[i] = fs_le16(e + 2 + 2 * i);
            fs_name_to_utf8(&n, v->label, sizeof v->label);
        } else if (!(e[0] & 0x20) && !(e[0] & 0x40) && e[0] != T_FILE) {
            return TV_E_UNSUPPORTED; /* an unknown critical primary entry (spec 6.2) */
        }
    }
    return have_bitmap && have_upcase ? TV_OK : TV_E_CORRUPT;
}

tv_status_t fs_exfat_probe(fs_volume_t *v, const uint8_t *b, bool writable)
{
    v->exfat = true;
    uint8_t *main = fs_alloc(v, 512);
    if (!main)
        return TV_E_NO_MEMORY;
    tv_memcpy(main, b, 512);
    tv_status_t st = check_boot_region(v, 0, main);
    if (st == TV_E_CORRUPT && !writable) {
        /* Spec 3.1: the backup region stands in for a damaged main one;
         * such a volume is only read (the main region would need repair). */
        uint32_t bps = (main[108] >= 9 && main[108] <= 12) ? 1u << main[108] : 512;
        if ((st = fs_meta_read(v, 12ull * bps, main, 512)) == TV_OK)
            st = check_boot_region(v, 12, main);
    }
    if (st != TV_OK)
        goto out;
    b = main;
    uint32_t bps = 1u << b[108], spc = 1u << b[109];
    uint64_t vol_len = fs_le64(b + 72);
    uint32_t fat_off = fs_le32(b + 80), fat_len = fs_le32(b + 84), heap = fs_le32(b + 88);
    uint32_t count = fs_le32(b + 92), root = fs_le32(b + 96);
    st = TV_E_CORRUPT;
    if (b[105] != 1) { /* FileSystemRevision major */
        st = TV_E_UNSUPPORTED;
        goto out;
    }
    if (b[110] != 1) { /* two FATs: TexFAT, not supported */
        st = b[110] == 2 ? TV_E_UNSUPPORTED : TV_E_CORRUPT;
        goto out;
    }
    if (vol_len * bps > v->dev->sectors * v->dsec || vol_len < 24 || fat_off < 24 || fat_len == 0 ||
        (uint64_t)fat_off + fat_len > heap || count == 0 || count > 0xFFFFFFF5u ||
        (uint64_t)fat_len * bps < (count + 2ull) * 4 || (uint64_t)heap + (uint64_t)count * spc > vol_len)
        goto out;
    v->fmt = &fs_exfat_fmt;
    v->bps = bps;
    v->csize = bps * spc;
    v->clusters = count;
    v->fat_off = (uint64_t)fat_off * bps;
    v->fat_bytes = (uint64_t)fat_len * bps;
    v->nfats = 1;
    v->heap_off = (uint64_t)heap * bps;
    v->root = root;
    if (!fs_cluster_ok(v, root))
        goto out;
    v->vol_flags = fs_le16(b + OFF_FLAGS);
    st = scan_root(v);
out:
    fs_free(v, main);
    return st;
}

static tv_status_t set_dirty(fs_volume_t *v, bool dirty)
{
    tv_status_t st;
    uint8_t f[2];
    if ((st = fs_meta_read(v, OFF_FLAGS, f, 2)) != TV_OK)
        return st;
    uint16_t flags = fs_le16(f);
    if (dirty) {
        /* Set at an earlier session that did not end cleanly: repair first. */
        if (flags & VOL_DIRTY) {
            /* Checked whole before anything is written. */
            v->dry = true;
            st = fs_exfat_recover(v);
            v->dry = false;
            if (st != TV_OK || (st = fs_exfat_recover(v)) != TV_OK)
                return st;
        }
        flags |= VOL_DIRTY;
    } else {
        flags &= (uint16_t)~VOL_DIRTY;
        /* PercentInUse is outside the checksum; kept current at unmount. */
        uint8_t pct = (uint8_t)(((uint64_t)(v->clusters - v->free_count) * 100) / v->clusters);
        if ((st = fs_meta_write(v, OFF_PERCENT, &pct, 1)) != TV_OK)
            return st;
    }
    fs_put16(f, flags);
    if ((st = fs_meta_write(v, OFF_FLAGS, f, 2)) != TV_OK)
        return st;
    return fs_barrier(v);
}

/* ---- entry sets ---- */

struct set_view {
    uint8_t e[19 * 32];
    uint32_t count;
};

/* Decodes the set at off of dir (entry type 0x85 there).  false when it is
 * malformed (skipped by readers). */
static bool decode_set(fs_volume_t *v, const fs_node_t *dir, uint64_t off, uint64_t bytes, struct set_view *s,
                       fs_name_t *name, fs_node_t *n, tv_status_t *st)
{
    uint32_t sec = s->e[1];
    *st = TV_OK;
    if (sec < 2 || sec > 18 || off + 32ull * (sec + 1) > bytes)
        return false;
    if ((*st = fs_node_io(v, dir, off + 32, s->e + 32, 32ull * sec, false)) != TV_OK)
        return false;
    s->count = sec + 1;
    const uint8_t *x = s->e + 32;
    if (x[0] != T_STREAM || fs_le16(s->e + 2) != set_sum(s->e, s->count))
        return false;
    uint32_t nlen = x[3];
    if (nlen == 0 || (nlen + 14) / 15 > sec - 1)
        return false;
    name->len = nlen;
    for (uint32_t i = 0; i < nlen; i++) {
        const uint8_t *ne = s->e + 64 + 32 * (i / 15);
        if (ne[0] != T_NAME)
            return false;
        name->u[i] = fs_le16(ne + 2 + 2 * (i % 15));
    }
    tv_memset(n, 0, sizeof *n);
    n->attr = (uint8_t)fs_le16(s->e + 4);
    n->dir = (n->attr & ATTR_DIR) != 0;
    n->first = fs_le32(x + 20);
    n->size = fs_le64(x + 24);
    n->valid = fs_le64(x + 8);
    n->contig = (x[1] & FLAG_NOFATCHAIN) != 0;
    /* LastModifiedTimestamp (the DOS layout) and LastModifiedUtcOffset:
     * bit 7 = valid, bits 6-0 a signed count of 15-minute steps. */
    n->mtime = fs_le32(s->e + 12);
    n->mtime_10ms = s->e[21] <= 199 ? s->e[21] : 0;   /* LastModified10msIncrement */
    uint8_t tz = s->e[24];
    n->mtime_tz = (tz & 0x80) ? (int16_t)(((int8_t)(uint8_t)(tz << 1) >> 1) * 15) : INT16_MIN;
    if (!(x[1] & FLAG_ALLOC)) {
        n->first = 0;
        n->contig = false;
    }
    if (n->valid > n->size || (n->first == 0) != (n->size == 0) || (n->first && !fs_cluster_ok(v, n->first)))
        return false;
    if (n->dir && (n->size % v->csize || n->size > (256u << 20)))
        return false;
    n->p_first = dir->first;
    n->p_root = dir->root;
    n->p_contig = dir->contig;
    n->p_size = dir->size;
    n->ent_off = off;
    n->ent_count = s->count;
    return true;
}

static tv_status_t iterate(fs_volume_t *v, const fs_node_t *dir,
                           bool (*fn)(void *ctx, const fs_name_t *name, const fs_node_t *n), void *ctx)
{
    uint64_t bytes;
    tv_status_t st = fs_dir_bytes(v, dir, &bytes);
    if (st != TV_OK)
        return st;
    if (bytes > (256u << 20))
        return TV_E_CORRUPT;
    struct set_view *s = fs_alloc(v, sizeof *s);
    fs_name_t *name = fs_alloc(v, sizeof *name);
    if (!s || !name) {
        fs_free(v, s);
        fs_free(v, name);
        return TV_E_NO_MEMORY;
    }
    for (uint64_t off = 0; off < bytes; off += 32) {
        if ((st = fs_node_io(v, dir, off, s->e, 32, false)) != TV_OK)
            break;
        if (s->e[0] == 0)
            break;
        if (s->e[0] != T_FILE)
            continue;
        fs_node_t n;
        if (!decode_set(v, dir, off, bytes, s, name, &n, &st)) {
            /* A damaged set is an error, not a missing file: skipping it
             * would let a writer (or the repair) reuse what it holds. */
            if (st == TV_OK)
                st = TV_E_CORRUPT;
            break;
        }
        off += 32ull * (s->count - 1);
        if (!fn(ctx, name, &n))
            break;
    }
    fs_free(v, s);
    fs_free(v, name);
    return st;
}

static uint32_t stamp(fs_volume_t *v)
{
    uint16_t date, time;
    fs_dos_time(v->env.now ? v->env.now(v->env.ctx) : 0, &date, &time);
    return (uint32_t)date << 16 | time;
}

/* The node's fields into its File and Stream Extension entries. */
static void fill_set(fs_volume_t *v, uint8_t *set, const fs_node_t *n)
{
    fs_put16(set + 4, n->attr);
    uint32_t t = stamp(v);
    fs_put32(set + 12, t);
    fs_put32(set + 16, t);
    set[21] = 0;
    set[23] = 0;
    set[24] = 0;
    uint8_t *x = set + 32;
    x[1] = (uint8_t)((n->first ? FLAG_ALLOC : 0) | (n->first && n->contig ? FLAG_NOFATCHAIN : 0));
    /* Every byte we allocate is written or zeroed: valid data = size. */
    fs_put64(x + 8, n->dir ? n->size : n->valid);
    fs_put32(x + 20, n->first);
    fs_put64(x + 24, n->size);
}

static tv_status_t build_set(fs_volume_t *v, const fs_name_t *name, const fs_node_t *n, uint8_t *set, uint32_t *count)
{
    if (name->len > EX_NAME_WRITE_MAX)
        return TV_E_INVALID_ARGUMENT;
    uint32_t parts = (name->len + 14) / 15;
    *count = 2 + parts;
    tv_memset(set, 0, 32ull * *count);
    set[0] = T_FILE;
    set[1] = (uint8_t)(*count - 1);
    uint32_t t = stamp(v);
    fs_put32(set + 8, t);
    set[20] = 0;
    set[22] = 0;
    uint8_t *x = set + 32;
    x[0] = T_STREAM;
    x[3] = (uint8_t)name->len;
    fs_put16(x + 4, name_hash(v, name));
    for (uint32_t i = 0; i < parts; i++) {
        uint8_t *ne = set + 64 + 32 * i;
        ne[0] = T_NAME;
        for (uint32_t k = 0; k < 15 && 15 * i + k < name->len; k++)
            fs_put16(ne + 2 + 2 * k, name->u[15 * i + k]);
    }
    fill_set(v, set, n);
    fs_put16(set + 2, set_sum(set, *count));
    return TV_OK;
}

/* A run of count unused slots inside one 512-byte sector, growing the
 * directory when there is none. */
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
            uint8_t t;
            if ((st = fs_node_io(v, dir, off, &t, 1, false)) != TV_OK)
                return st;
            if (t == 0 && *end_mark == UINT64_MAX)
                *end_mark = off;
            if ((t & IN_USE) || (off % FS_ATOMIC == 0 && run)) {
                run = 0;
                if (t & IN_USE)
                    continue;
            }
            if (run == 0)
                run_start = off;
            if (++run == count) {
                *at = run_start;
                return TV_OK;
            }
        }
        if ((st = fs_dir_grow(v, dir)) != TV_OK)
            return st;
    }
    return TV_E_NO_SPACE;
}

static tv_status_t add(fs_volume_t *v, fs_node_t *dir, const fs_name_t *name, fs_node_t *out)
{
    uint8_t set[EX_SET_MAX * 32];
    uint32_t count;
    tv_status_t st = build_set(v, name, out, set, &count);
    if (st != TV_OK)
        return st;
    uint64_t at = 0, end_mark = UINT64_MAX;
    if ((st = find_slots(v, dir, count, &at, &end_mark)) != TV_OK)
        return st;
    /* End-of-directory slots skipped to keep the set in one sector become
     * plain unused ones first, or they would hide the set (spec 6.2.1). */
    if (end_mark < at) {
        for (uint64_t o = end_mark; o < at; o += 32) {
            uint8_t m = T_FILE & 0x7F;
            if ((st = fs_node_io(v, dir, o, &m, 1, true)) != TV_OK)
                return st;
        }
        if ((st = fs_barrier(v)) != TV_OK)
            return st;
    }
    if ((st = fs_node_io(v, dir, at, set, 32ull * count, true)) != TV_OK)
        return st;
    out->p_first = dir->first;
    out->p_root = dir->root;
    out->p_contig = dir->contig;
    out->p_size = dir->size;
    out->ent_off = at;
    out->ent_count = count;
    return TV_OK;
}

static tv_status_t update(fs_volume_t *v, const fs_node_t *n)
{
    fs_node_t p;
    parent_of(v, n, &p);
    uint8_t set[19 * 32];
    if (n->ent_count < 3 || n->ent_count > 19)
        return TV_E_CORRUPT;
    tv_status_t st = fs_node_io(v, &p, n->ent_off, set, 32ull * n->ent_count, false);
    if (st != TV_OK)
        return st;
    if (set[0] != T_FILE || set[32] != T_STREAM)
        return TV_E_CORRUPT;
    fill_set(v, set, n);
    fs_put16(set + 2, set_sum(set, n->ent_count));
    /* Only the first two slots change: one sector write when they share it. */
    return fs_node_io(v, &p, n->ent_off, set, 64, true);
}

static tv_status_t unlink_(fs_volume_t *v, const fs_node_t *n)
{
    fs_node_t p;
    parent_of(v, n, &p);
    for (uint32_t i = 0; i < n->ent_count; i++) {
        uint8_t t;
        tv_status_t st = fs_node_io(v, &p, n->ent_off + 32ull * i, &t, 1, false);
        if (st == TV_OK) {
            t &= (uint8_t)~IN_USE;
            st = fs_node_io(v, &p, n->ent_off + 32ull * i, &t, 1, true);
        }
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
    uint8_t old[19 * 32], set[EX_SET_MAX * 32];
    tv_status_t st = fs_node_io(v, &p, n->ent_off, old, 32ull * n->ent_count, false);
    if (st != TV_OK)
        return st;
    uint32_t count;
    if ((st = build_set(v, name, n, set, &count)) != TV_OK)
        return st;
    if (count > n->ent_count)
        return TV_E_UNSUPPORTED;
    /* Keep the creation stamp. */
    tv_memcpy(set + 8, old + 8, 4);
    set[20] = old[20];
    set[22] = old[22];
    fs_put16(set + 2, set_sum(set, count));
    tv_memcpy(old, set, 32ull * count);
    for (uint32_t i = count; i < n->ent_count; i++)
        old[32 * i] &= (uint8_t)~IN_USE;
    if ((st = fs_node_io(v, &p, n->ent_off, old, 32ull * n->ent_count, true)) != TV_OK)
        return st;
    n->ent_count = count;
    return TV_OK;
}

static tv_status_t init_dir(fs_volume_t *v, const fs_node_t *parent, const fs_node_t *dir)
{
    (void)v; (void)parent; (void)dir;
    return TV_OK; /* a zeroed cluster is an empty exFAT directory (no "." / "..") */
}

void fs_exfat_bitmap_node(const fs_volume_t *v, fs_node_t *n)
{
    tv_memset(n, 0, sizeof *n);
    n->first = v->bitmap_first;
    n->contig = v->bitmap_contig;
    n->size = v->bitmap_bytes;
}

tv_status_t fs_exfat_bit(fs_volume_t *v, uint32_t c, bool *used)
{
    if (!fs_cluster_ok(v, c))
        return TV_E_CORRUPT;
    uint32_t i = c - 2;
    uint8_t b;
    fs_node_t bm;
    fs_exfat_bitmap_node(v, &bm);
    tv_status_t st = fs_node_io(v, &bm, i / 8, &b, 1, false);
    *used = st == TV_OK && (b >> (i % 8)) & 1;
    return st;
}

static tv_status_t is_free(fs_volume_t *v, uint32_t c, bool *free_)
{
    bool used = true;
    tv_status_t st = fs_exfat_bit(v, c, &used);
    *free_ = !used;
    return st;
}

static tv_status_t mark(fs_volume_t *v, uint32_t c, bool used)
{
    if (!fs_cluster_ok(v, c))
        return TV_E_CORRUPT;
    uint32_t i = c - 2;
    uint8_t b;
    fs_node_t bm;
    fs_exfat_bitmap_node(v, &bm);
    tv_status_t st = fs_node_io(v, &bm, i / 8, &b, 1, false);
    if (st != TV_OK)
        return st;
    b = used ? (uint8_t)(b | 1u << (i % 8)) : (uint8_t)(b & ~(1u << (i % 8)));
    return fs_node_io(v, &bm, i / 8, &b, 1, true);
}

const struct fs_fmt fs_exfat_fmt = {
    .find = fs_find_by_name, .add = add, .update = update, .unlink = unlink_, .rename_in_place = rename_in_place,
    .iterate = iterate, .is_free = is_free, .mark = mark, .init_dir = init_dir, .set_dirty = set_dirty,
    .max_file = 1ull << 48,
};
