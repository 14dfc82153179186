/* MBR and GPT partition tables (UEFI specification, chapter 5) and
 * whole-disk file systems. */
#include "storage/volume/volume.h"

#include "tv_fmt.h"
#include "tv_string.h"

static const uint8_t esp_guid[16] = { 0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11,
                                      0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B };

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* A FAT or exFAT boot sector at LBA 0: a volume without a table. */
static bool fs_boot_sector(const uint8_t *b)
{
    if (tv_memcmp(b + 3, "EXFAT   ", 8) == 0)
        return true;
    if (b[0] != 0xEB && b[0] != 0xE9)
        return false;
    uint32_t bps = (uint32_t)b[11] | (uint32_t)b[12] << 8, spc = b[13], rsvd = (uint32_t)b[14] | (uint32_t)b[15] << 8;
    if (bps < 512 || bps > 4096 || (bps & (bps - 1)) || spc == 0 || (spc & (spc - 1)) || rsvd == 0 ||
        b[16] == 0 || b[16] > 4)
        return false;
    return tv_memcmp(b + 82, "FAT", 3) == 0 || tv_memcmp(b + 54, "FAT", 3) == 0;
}

static tv_status_t add_part(const fs_blockdev_t *d, vol_table_t *t, uint64_t first, uint64_t count, uint32_t index,
                            uint8_t type)
{
    if (count == 0)
        return TV_OK;
    if (first == 0 || first > d->sectors || count > d->sectors - first)
        return TV_E_CORRUPT;
    /* Partitions may not overlap. */
    for (uint32_t i = 0; i < t->count; i++) {
        const vol_part_t *o = &t->part[i];
        if (first < o->first + o->count && o->first < first + count)
            return TV_E_CORRUPT;
    }
    if (t->count == VOL_MAX_PARTS)
        return TV_E_LIMIT;
    vol_part_t *p = &t->part[t->count++];
    tv_memset(p, 0, sizeof *p);
    p->first = first;
    p->count = count;
    p->index = index;
    p->mbr_type = type;
    p->esp = type == 0xEF;
    return TV_OK;
}

static bool extended(uint8_t type) { return type == 0x05 || type == 0x0F || type == 0x85; }

/* Logical partitions: a chain of extended boot records, each giving one
 * partition (relative to itself) and the next record (relative to the
 * extended partition's start). */
static tv_status_t scan_ebr(const fs_blockdev_t *d, vol_table_t *t, uint8_t *s, uint64_t ext_first, uint64_t ext_count)
{
    uint64_t at = ext_first;
    for (uint32_t idx = 5; idx < 5 + 64; idx++) {
        if (at < ext_first || at >= ext_first + ext_count)
            return TV_E_CORRUPT;
        tv_status_t st = d->read(d->ctx, at, 1, s);
        if (st != TV_OK)
            return st;
        if (s[510] != 0x55 || s[511] != 0xAA)
            return TV_E_CORRUPT;
        const uint8_t *e0 = s + 446, *e1 = s + 462;
        uint64_t first = at + le32(e0 + 8), count = le32(e0 + 12);
        if (e0[4] && (first < at || first + count > ext_first + ext_count || first == at))
            return TV_E_CORRUPT;
        if (e0[4] && (st = add_part(d, t, first, count, idx, e0[4])) != TV_OK)
            return st;
        if (!extended(e1[4]) || le32(e1 + 12) == 0)
            return TV_OK;
        uint64_t next = ext_first + le32(e1 + 8);
        if (next <= at)
            return TV_E_CORRUPT; /* the chain must move forward (no loops) */
        at = next;
    }
    return TV_E_LIMIT;
}

static tv_status_t scan_mbr(const fs_blockdev_t *d, vol_table_t *t, uint8_t *s)
{
    t->scheme = VOL_MBR;
    uint8_t ent[64];
    tv_memcpy(ent, s + 446, 64);
    for (int i = 0; i < 4; i++)
        if (ent[16 * i] != 0 && ent[16 * i] != 0x80)
            return TV_E_WRONG_TYPE; /* not a partition table */
    for (int i = 0; i < 4; i++) {
        const uint8_t *e = ent + 16 * i;
        uint64_t first = le32(e + 8), count = le32(e + 12);
        if (e[4] == 0)
            continue;
        tv_status_t st;
        if (extended(e[4])) {
            if (first == 0 || first > d->sectors || count > d->sectors - first)
                return TV_E_CORRUPT;
            if ((st = scan_ebr(d, t, s, first, count)) != TV_OK)
                return st;
            continue;
        }
        if ((st = add_part(d, t, first, count, (uint32_t)i + 1, e[4])) != TV_OK)
            return st;
    }
    return TV_OK;
}

/* One GPT header and its entry array (buffer of array_cap bytes). */
static tv_status_t read_gpt(const fs_blockdev_t *d, uint64_t lba, uint8_t *s, uint8_t *arr, size_t array_cap,
                            uint64_t *first_usable, uint64_t *last_usable, uint32_t *n, uint32_t *esize)
{
    uint32_t ss = d->sector_size;
    tv_status_t st = d->read(d->ctx, lba, 1, s);
    if (st != TV_OK)
        return st;
    if (tv_memcmp(s, "EFI PART", 8) != 0 || le32(s + 8) != 0x00010000u)
        return TV_E_CORRUPT;
    uint32_t hsize = le32(s + 12), hcrc = le32(s + 16);
    if (hsize < 92 || hsize > ss)
        return TV_E_CORRUPT;
    s[16] = s[17] = s[18] = s[19] = 0;
    if (vol_crc32(0, s, hsize) != hcrc || le64(s + 24) != lba)
        return TV_E_CORRUPT;
    *first_usable = le64(s + 40);
    *last_usable = le64(s + 48);
    uint64_t arr_lba = le64(s + 72);
    *n = le32(s + 80);
    *esize = le32(s + 84);
    uint32_t acrc = le32(s + 88);
    if (*esize < 128 || (*esize & (*esize - 1)) || *esize > 4096 || *n == 0 || (uint64_t)*n * *esize > array_cap ||
        *first_usable > *last_usable || *last_usable >= d->sectors)
        return TV_E_CORRUPT;
    uint64_t bytes = (uint64_t)*n * *esize, secs = (bytes + ss - 1) / ss;
    if (arr_lba < 2 || arr_lba > d->sectors || secs > d->sectors - arr_lba)
        return TV_E_CORRUPT;
    if ((st = d->read(d->ctx, arr_lba, (uint32_t)secs, arr)) != TV_OK)
        return st;
    return vol_crc32(0, arr, (size_t)bytes) == acrc ? TV_OK : TV_E_CORRUPT;
}

static tv_status_t scan_gpt(const fs_blockdev_t *d, const fs_env_t *env, vol_table_t *t, uint8_t *s)
{
    t->scheme = VOL_GPT;
    size_t cap = 128 * 128;
    /* Room for the array rounded up to whole sectors. */
    uint8_t *arr = env->alloc(env->ctx, cap + d->sector_size);
    if (!arr)
        return TV_E_NO_MEMORY;
    uint64_t fu, lu;
    uint32_t n, esize;
    tv_status_t st = read_gpt(d, 1, s, arr, cap, &fu, &lu, &n, &esize);
    if (st == TV_E_CORRUPT) {
        /* The backup header sits in the disk's last sector. */
        t->gpt_backup_used = true;
        st = read_gpt(d, d->sectors - 1, s, arr, cap, &fu, &lu, &n, &esize);
    }
    for (uint32_t i = 0; st == TV_OK && i < n; i++) {
        const uint8_t *e = arr + (size_t)i * esize;
        if (tv_all_zero(e, 16))
            continue;
        uint64_t first = le64(e + 32), last = le64(e + 40);
        if (first < fu || last > lu || last < first) {
            st = TV_E_CORRUPT;
            break;
        }
        if ((st = add_part(d, t, first, last - first + 1, i + 1, 0)) != TV_OK)
            break;
        vol_part_t *p = &t->part[t->count - 1];
        tv_memcpy(p->type_guid, e, 16);
        tv_memcpy(p->part_guid, e + 16, 16);
        p->esp = tv_memcmp(e, esp_guid, 16) == 0;
    }
    env->free(env->ctx, arr);
    return st;
}

tv_status_t vol_scan(const fs_blockdev_t *d, const fs_env_t *env, vol_table_t *t)
{
    tv_memset(t, 0, sizeof *t);
    if (d->sector_size < 512 || d->sector_size > 4096 || (d->sector_size & (d->sector_size - 1)) || d->sectors < 2)
        return TV_E_WRONG_TYPE;
    uint8_t *s = env->alloc(env->ctx, d->sector_size);
    if (!s)
        return TV_E_NO_MEMORY;
    tv_status_t st = d->read(d->ctx, 0, 1, s);
    if (st != TV_OK)
        goto out;
    if (fs_boot_sector(s)) {
        t->scheme = VOL_WHOLE;
        t->count = 1;
        t->part[0].first = 0;
        t->part[0].count = d->sectors;
        goto out;
    }
    if (s[510] != 0x55 || s[511] != 0xAA) {
        st = TV_E_WRONG_TYPE;
        goto out;
    }
    /* A protective MBR (type 0xEE, alone or in a hybrid) means GPT. */
    bool gpt = false;
    for (int i = 0; i < 4; i++)
        gpt |= s[446 + 16 * i + 4] == 0xEE;
    st = gpt ? scan_gpt(d, env, t, s) : scan_mbr(d, t, s);
out:
    env->free(env->ctx, s);
    if (st != TV_OK)
        t->count = 0;
    return st;
}

void vol_guid_text(const uint8_t *g, char *out, size_t cap)
{
    tv_snprintf(out, cap, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
                g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

void vol_name(const vol_table_t *t, const vol_part_t *p, const char *label, uint32_t disk, char *out, size_t cap)
{
    if (label && label[0])
        tv_strlcpy(out, label, cap);
    else if (t->scheme == VOL_GPT && !tv_all_zero(p->part_guid, 16))
        vol_guid_text(p->part_guid, out, cap);
    else if (t->scheme == VOL_WHOLE)
        tv_snprintf(out, cap, "disk%u", disk);
    else
        tv_snprintf(out, cap, "disk%u-p%u", disk, p->index);
}
