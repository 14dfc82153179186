/* VHD on-disk structures: the 512-byte footer, the 1024-byte dynamic header,
 * parent locators, checksums and CHS geometry.  Everything on disk is
 * big-endian; these helpers turn raw sectors into host structures and back,
 * and say precisely what is wrong with a malformed one. */
#ifndef TV_VHD_FORMAT_H
#define TV_VHD_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

#define VHD_SECTOR          512u
#define VHD_FOOTER_SIZE     512u
#define VHD_HEADER_SIZE     1024u
#define VHD_HEADER_OFFSET   512u
#define VHD_MAX_SIZE        (2040ull << 30)       /* 2040 GiB */
#define VHD_DEFAULT_BLOCK   (2u << 20)            /* 2 MiB */
#define VHD_MIN_BLOCK       VHD_SECTOR
#define VHD_MAX_BLOCK       (256u << 20)          /* our sanity limit */
#define VHD_BAT_UNUSED      0xFFFFFFFFu
#define VHD_NO_OFFSET       0xFFFFFFFFFFFFFFFFull
#define VHD_VERSION         0x00010000u
#define VHD_FEATURE_RESERVED 0x2u
#define VHD_LOCATORS        8
#define VHD_CHS_MAX_SECTORS (65535ull * 16 * 255)

enum vhd_disk_type { VHD_TYPE_NONE = 0, VHD_TYPE_FIXED = 2, VHD_TYPE_DYNAMIC = 3, VHD_TYPE_DIFF = 4 };

/* Parent locator platform codes (big-endian four-character codes). */
#define VHD_PLAT_NONE 0u
#define VHD_PLAT_W2RU 0x57327275u /* "W2ru" relative Windows path, UTF-16LE */
#define VHD_PLAT_W2KU 0x57326B75u /* "W2ku" absolute Windows path, UTF-16LE */
#define VHD_PLAT_WI2R 0x57693272u /* "Wi2r" deprecated */
#define VHD_PLAT_WI2K 0x5769326Bu /* "Wi2k" deprecated */
#define VHD_PLAT_MACX 0x4D616358u /* "MacX" file URL, UTF-8 */

struct vhd_footer {
    uint32_t features;
    uint32_t version;
    uint64_t data_offset;
    uint32_t timestamp;
    uint8_t creator_app[4];
    uint32_t creator_version;
    uint8_t creator_os[4];
    uint64_t original_size;
    uint64_t current_size;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;
    uint32_t type;
    uint32_t checksum;
    uint8_t uid[16];
    uint8_t saved_state;
};

struct vhd_locator {
    uint32_t code;
    uint32_t space;   /* bytes reserved (sectors in some old writers) */
    uint32_t length;  /* bytes of path data */
    uint64_t offset;
};

struct vhd_header {
    uint64_t data_offset;
    uint64_t bat_offset;
    uint32_t version;
    uint32_t max_entries;
    uint32_t block_size;
    uint32_t checksum;
    uint8_t parent_uid[16];
    uint32_t parent_timestamp;
    uint8_t parent_name[512]; /* UTF-16BE as on disk */
    struct vhd_locator loc[VHD_LOCATORS];
};

/* Big-endian access. */
static inline uint16_t vhd_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t vhd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t vhd_be64(const uint8_t *p) { return (uint64_t)vhd_be32(p) << 32 | vhd_be32(p + 4); }
static inline void vhd_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void vhd_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void vhd_put64(uint8_t *p, uint64_t v) { vhd_put32(p, (uint32_t)(v >> 32)); vhd_put32(p + 4, (uint32_t)v); }

/* One's complement of the byte sum, the 4-byte field at csum_off counted as zero. */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t csum_off);

/* Decoding checks only the cookie; *why (when non-NULL) names the problem.
 * Validation checks every field against the rules (and the file size when
 * file_size is non-zero).  Both return TV_E_CORRUPT on failure. */
tv_status_t vhd_footer_decode(const uint8_t raw[VHD_FOOTER_SIZE], struct vhd_footer *f, const char **why);
tv_status_t vhd_footer_validate(const struct vhd_footer *f, const uint8_t raw[VHD_FOOTER_SIZE],
                                const char **why);
void vhd_footer_encode(const struct vhd_footer *f, uint8_t raw[VHD_FOOTER_SIZE]);

tv_status_t vhd_header_decode(const uint8_t raw[VHD_HEADER_SIZE], struct vhd_header *h, const char **why);
tv_status_t vhd_header_validate(const struct vhd_header *h, const uint8_t raw[VHD_HEADER_SIZE],
                                uint64_t disk_size, uint32_t disk_type, const char **why);
void vhd_header_encode(const struct vhd_header *h, uint8_t raw[VHD_HEADER_SIZE]);

/* CHS geometry per the specification's appendix. */
void vhd_geometry(uint64_t size, uint16_t *cyl, uint8_t *heads, uint8_t *spt);
/* Smallest size >= size whose geometry product equals it (what Virtual PC
 * and qemu-img create); sizes past the CHS limit are only sector-rounded. */
uint64_t vhd_round_to_chs(uint64_t size);
/* True when every reader takes footer f's current size as the disk size:
 * the size is its geometry's product, the geometry is the maximum, or the
 * creator is one qemu trusts for the current size ("win ", "qem2", "d2v ",
 * "tap\0", "CTXS"); qemu takes the CHS product for any other creator. */
bool vhd_size_agreed(const struct vhd_footer *f);
/* Makes a footer tvdisk writes readable at its current size by everyone:
 * when the size is no CHS product and the creator would make qemu take the
 * geometry, the creator becomes inherit (when that one is trusted, e.g. a
 * force_size parent's "qem2") or "win " (Hyper-V's: current size). */
void vhd_footer_agree_size(struct vhd_footer *f, const uint8_t *inherit);

/* Bytes of the per-block sector bitmap, padded to a sector. */
static inline uint32_t vhd_bitmap_bytes(uint32_t block_size)
{
    uint32_t bits = block_size / VHD_SECTOR;
    uint32_t bytes = (bits + 7) / 8;
    return (bytes + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
}

/* Bitmap bit i: most significant bit of byte 0 is sector 0. */
static inline bool vhd_bit(const uint8_t *bm, uint32_t i) { return (bm[i >> 3] >> (7 - (i & 7))) & 1; }
static inline void vhd_set_bit(uint8_t *bm, uint32_t i) { bm[i >> 3] |= (uint8_t)(0x80 >> (i & 7)); }
static inline void vhd_clear_bit(uint8_t *bm, uint32_t i) { bm[i >> 3] &= (uint8_t)~(0x80 >> (i & 7)); }

/* Fast all-zero test (word at a time). */
bool vhd_is_zero(const void *buf, size_t len);

#endif
