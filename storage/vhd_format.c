/* VHD footer/header encoding, validation, checksum and CHS geometry. */
#include "vhd_format.h"

#include "tv_string.h"

static const uint8_t footer_cookie[8] = { 'c', 'o', 'n', 'e', 'c', 't', 'i', 'x' };
static const uint8_t header_cookie[8] = { 'c', 'x', 's', 'p', 'a', 'r', 's', 'e' };

uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t csum_off)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < csum_off || i >= csum_off + 4)
            sum += buf[i];
    return ~sum;
}

bool vhd_is_zero(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len && ((uintptr_t)p & 7)) {
        if (*p++)
            return false;
        len--;
    }
    const uint64_t *w = (const uint64_t *)(const void *)p;
    while (len >= 32) {
        if (w[0] | w[1] | w[2] | w[3])
            return false;
        w += 4;
        len -= 32;
    }
    p = (const uint8_t *)w;
    while (len--)
        if (*p++)
            return false;
    return true;
}

static void set_why(const char **why, const char *text)
{
    if (why)
        *why = text;
}

tv_status_t vhd_footer_decode(const uint8_t raw[VHD_FOOTER_SIZE], struct vhd_footer *f, const char **why)
{
    if (tv_memcmp(raw, footer_cookie, 8) != 0) {
        set_why(why, "footer cookie is not \"conectix\"");
        return TV_E_CORRUPT;
    }
    f->features = vhd_be32(raw + 8);
    f->version = vhd_be32(raw + 12);
    f->data_offset = vhd_be64(raw + 16);
    f->timestamp = vhd_be32(raw + 24);
    tv_memcpy(f->creator_app, raw + 28, 4);
    f->creator_version = vhd_be32(raw + 32);
    tv_memcpy(f->creator_os, raw + 36, 4);
    f->original_size = vhd_be64(raw + 40);
    f->current_size = vhd_be64(raw + 48);
    f->cylinders = vhd_be16(raw + 56);
    f->heads = raw[58];
    f->sectors = raw[59];
    f->type = vhd_be32(raw + 60);
    f->checksum = vhd_be32(raw + 64);
    tv_memcpy(f->uid, raw + 68, 16);
    f->saved_state = raw[84];
    return TV_OK;
}

tv_status_t vhd_footer_validate(const struct vhd_footer *f, const uint8_t raw[VHD_FOOTER_SIZE],
                                const char **why)
{
    if (vhd_checksum(raw, VHD_FOOTER_SIZE, 64) != f->checksum) {
        set_why(why, "footer checksum mismatch");
        return TV_E_CORRUPT;
    }
    if ((f->version >> 16) != 1) {
        set_why(why, "footer format version is not 1.x");
        return TV_E_CORRUPT;
    }
    if (f->type != VHD_TYPE_FIXED && f->type != VHD_TYPE_DYNAMIC && f->type != VHD_TYPE_DIFF) {
        set_why(why, "footer disk type is not fixed, dynamic or differencing");
        return TV_E_CORRUPT;
    }
    if (f->current_size % VHD_SECTOR || f->current_size > VHD_MAX_SIZE || f->current_size == 0) {
        set_why(why, "footer current size is zero, not a multiple of 512 or above 2040 GiB");
        return TV_E_CORRUPT;
    }
    if (f->type == VHD_TYPE_FIXED) {
        if (f->data_offset != VHD_NO_OFFSET && f->data_offset != 0xFFFFFFFFull) {
            set_why(why, "fixed disk footer data offset is not all ones");
            return TV_E_CORRUPT;
        }
    } else if (f->data_offset != VHD_HEADER_OFFSET) {
        set_why(why, "dynamic disk footer data offset is not 512");
        return TV_E_CORRUPT;
    }
    return TV_OK;
}

void vhd_footer_encode(const struct vhd_footer *f, uint8_t raw[VHD_FOOTER_SIZE])
{
    tv_memset(raw, 0, VHD_FOOTER_SIZE);
    tv_memcpy(raw, footer_cookie, 8);
    vhd_put32(raw + 8, f->features);
    vhd_put32(raw + 12, f->version);
    vhd_put64(raw + 16, f->data_offset);
    vhd_put32(raw + 24, f->timestamp);
    tv_memcpy(raw + 28, f->creator_app, 4);
    vhd_put32(raw + 32, f->creator_version);
    tv_memcpy(raw + 36, f->creator_os, 4);
    vhd_put64(raw + 40, f->original_size);
    vhd_put64(raw + 48, f->current_size);
    vhd_put16(raw + 56, f->cylinders);
    raw[58] = f->heads;
    raw[59] = f->sectors;
    vhd_put32(raw + 60, f->type);
    tv_memcpy(raw + 68, f->uid, 16);
    raw[84] = f->saved_state;
    vhd_put32(raw + 64, vhd_checksum(raw, VHD_FOOTER_SIZE, 64));
}

tv_status_t vhd_header_decode(const uint8_t raw[VHD_HEADER_SIZE], struct vhd_header *h, const char **why)
{
    if (tv_memcmp(raw, header_cookie, 8) != 0) {
        set_why(why, "dynamic header cookie is not \"cxsparse\"");
        return TV_E_CORRUPT;
    }
    h->data_offset = vhd_be64(raw + 8);
    h->bat_offset = vhd_be64(raw + 16);
    h->version = vhd_be32(raw + 24);
    h->max_entries = vhd_be32(raw + 28);
    h->block_size = vhd_be32(raw + 32);
    h->checksum = vhd_be32(raw + 36);
    tv_memcpy(h->parent_uid, raw + 40, 16);
    h->parent_timestamp = vhd_be32(raw + 56);
    tv_memcpy(h->parent_name, raw + 64, 512);
    for (int i = 0; i < VHD_LOCATORS; i++) {
        const uint8_t *l = raw + 576 + 24 * i;
        h->loc[i].code = vhd_be32(l);
        h->loc[i].space = vhd_be32(l + 4);
        h->loc[i].length = vhd_be32(l + 8);
        h->loc[i].offset = vhd_be64(l + 16);
    }
    return TV_OK;
}

/* Entries needed to cover disk_size with block_size blocks. */
static uint64_t entries_needed(uint64_t disk_size, uint32_t block_size)
{
    return (disk_size + block_size - 1) / block_size;
}

tv_status_t vhd_header_validate(const struct vhd_header *h, const uint8_t raw[VHD_HEADER_SIZE],
                                uint64_t disk_size, uint32_t disk_type, const char **why)
{
    if (vhd_checksum(raw, VHD_HEADER_SIZE, 36) != h->checksum) {
        set_why(why, "dynamic header checksum mismatch");
        return TV_E_CORRUPT;
    }
    if ((h->version >> 16) != 1) {
        set_why(why, "dynamic header version is not 1.x");
        return TV_E_CORRUPT;
    }
    uint32_t bs = h->block_size;
    if (bs < VHD_MIN_BLOCK || bs > VHD_MAX_BLOCK || (bs & (bs - 1))) {
        set_why(why, "block size is not a power of two between 512 bytes and 256 MiB");
        return TV_E_CORRUPT;
    }
    if (h->bat_offset < VHD_HEADER_OFFSET + VHD_HEADER_SIZE || h->bat_offset % VHD_SECTOR ||
        h->bat_offset > VHD_MAX_SIZE * 2) {
        set_why(why, "BAT offset overlaps the header or is not sector aligned");
        return TV_E_CORRUPT;
    }
    if (h->max_entries < entries_needed(disk_size, bs)) {
        set_why(why, "BAT has fewer entries than the disk size needs");
        return TV_E_CORRUPT;
    }
    if (h->max_entries > (16u << 20)) {
        set_why(why, "BAT has more than 16M entries");
        return TV_E_CORRUPT;
    }
    if (disk_type == VHD_TYPE_DIFF && vhd_is_zero(h->parent_uid, 16)) {
        set_why(why, "differencing disk has no parent unique id");
        return TV_E_CORRUPT;
    }
    return TV_OK;
}

void vhd_header_encode(const struct vhd_header *h, uint8_t raw[VHD_HEADER_SIZE])
{
    tv_memset(raw, 0, VHD_HEADER_SIZE);
    tv_memcpy(raw, header_cookie, 8);
    vhd_put64(raw + 8, h->data_offset);
    vhd_put64(raw + 16, h->bat_offset);
    vhd_put32(raw + 24, h->version);
    vhd_put32(raw + 28, h->max_entries);
    vhd_put32(raw + 32, h->block_size);
    tv_memcpy(raw + 40, h->parent_uid, 16);
    vhd_put32(raw + 56, h->parent_timestamp);
    tv_memcpy(raw + 64, h->parent_name, 512);
    for (int i = 0; i < VHD_LOCATORS; i++) {
        uint8_t *l = raw + 576 + 24 * i;
        vhd_put32(l, h->loc[i].code);
        vhd_put32(l + 4, h->loc[i].space);
        vhd_put32(l + 8, h->loc[i].length);
        vhd_put64(l + 16, h->loc[i].offset);
    }
    vhd_put32(raw + 36, vhd_checksum(raw, VHD_HEADER_SIZE, 36));
}

void vhd_geometry(uint64_t size, uint16_t *cyl, uint8_t *heads, uint8_t *spt)
{
    uint64_t total = size / VHD_SECTOR;
    uint64_t s, h, cth;
    if (total > VHD_CHS_MAX_SECTORS)
        total = VHD_CHS_MAX_SECTORS;
    if (total >= 65535ull * 16 * 63) {
        s = 255;
        h = 16;
        cth = total / s;
    } else {
        s = 17;
        cth = total / s;
        h = (cth + 1023) / 1024;
        if (h < 4)
            h = 4;
        if (cth >= h * 1024 || h > 16) {
            s = 31;
            h = 16;
            cth = total / s;
        }
        if (cth >= h * 1024) {
            s = 63;
            h = 16;
            cth = total / s;
        }
    }
    uint64_t c = cth / h;
    *cyl = (uint16_t)(c > 65535 ? 65535 : c);
    *heads = (uint8_t)h;
    *spt = (uint8_t)s;
}

uint64_t vhd_round_to_chs(uint64_t size)
{
    uint64_t sectors = (size + VHD_SECTOR - 1) / VHD_SECTOR;
    if (sectors >= VHD_CHS_MAX_SECTORS)
        return sectors * VHD_SECTOR;
    for (uint64_t i = 0; i < 1u << 20; i++) {
        uint16_t c;
        uint8_t h, s;
        vhd_geometry((sectors + i) * VHD_SECTOR, &c, &h, &s);
        uint64_t product = (uint64_t)c * h * s;
        if (product >= sectors)
            return product * VHD_SECTOR;
    }
    return sectors * VHD_SECTOR;
}

static bool creator_trusted(const uint8_t *app)
{
    static const char trusted[][4] = { { 'w', 'i', 'n', ' ' }, { 'q', 'e', 'm', '2' }, { 'd', '2', 'v', ' ' },
                                       { 't', 'a', 'p', 0 }, { 'C', 'T', 'X', 'S' } };
    for (size_t i = 0; i < sizeof trusted / sizeof trusted[0]; i++)
        if (tv_memcmp(app, trusted[i], 4) == 0)
            return true;
    return false;
}

bool vhd_size_agreed(const struct vhd_footer *f)
{
    uint64_t chs = (uint64_t)f->cylinders * f->heads * f->sectors;
    if (chs * VHD_SECTOR == f->current_size)
        return true;
    if (f->cylinders == 65535 && f->heads == 16 && f->sectors == 255)
        return true;
    return creator_trusted(f->creator_app);
}

void vhd_footer_agree_size(struct vhd_footer *f, const uint8_t *inherit)
{
    static const uint8_t hyperv[4] = { 'w', 'i', 'n', ' ' };
    if (vhd_size_agreed(f))
        return;
    tv_memcpy(f->creator_app, inherit && creator_trusted(inherit) ? inherit : hyperv, 4);
}
