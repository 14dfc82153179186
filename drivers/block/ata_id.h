/* The ATA IDENTIFY DEVICE data (ACS-3, 7.12.7) that AHCI and the legacy
 * ATA driver need.  Portable; the 512 bytes come from the device and are
 * checked before use. */
#ifndef DRIVERS_ATA_ID_H
#define DRIVERS_ATA_ID_H

#include <stdbool.h>
#include <stdint.h>

struct ata_info {
    char model[41];            /* words 27-46, trailing spaces removed */
    uint64_t sectors;          /* addressable logical sectors */
    uint32_t sector_size;      /* logical sector size in bytes */
    bool lba48;
    bool flush, flush_ext;     /* FLUSH CACHE (E7h) / FLUSH CACHE EXT (EAh) */
};

#define ATA_CMD_READ_DMA_EXT     0x25
#define ATA_CMD_WRITE_DMA_EXT    0x35
#define ATA_CMD_READ_SECTORS     0x20
#define ATA_CMD_READ_SECTORS_EXT 0x24
#define ATA_CMD_WRITE_SECTORS    0x30
#define ATA_CMD_WRITE_SECTORS_EXT 0x34
#define ATA_CMD_FLUSH            0xe7
#define ATA_CMD_FLUSH_EXT        0xea
#define ATA_CMD_IDENTIFY         0xec

/* False when the data does not describe an LBA-capable ATA disk (ATAPI,
 * no LBA, zero capacity, a logical sector size outside 512..65536). */
bool ata_identify_parse(const uint16_t id[256], struct ata_info *out);

#endif
