/* IDENTIFY DEVICE parsing: see ata_id.h. */
#include "drivers/block/ata_id.h"

bool ata_identify_parse(const uint16_t id[256], struct ata_info *out)
{
    /* Word 0 bit 15 set: not an ATA device (ATAPI).  Word 49 bit 9: LBA. */
    if ((id[0] & 0x8000) || !(id[49] & (1u << 9)))
        return false;
    for (int i = 0; i < 20; i++) {   /* each word holds two characters, high byte first */
        out->model[2 * i] = (char)(id[27 + i] >> 8);
        out->model[2 * i + 1] = (char)(id[27 + i] & 0xff);
    }
    out->model[40] = 0;
    for (int i = 39; i >= 0 && (out->model[i] == ' ' || out->model[i] == 0); i--)
        out->model[i] = 0;
    for (int i = 0; out->model[i]; i++)
        if (out->model[i] < 0x20 || out->model[i] > 0x7e)
            out->model[i] = '?';
    /* Words 83/86 are valid when bits 15:14 of word 83 are 01. */
    bool w83 = (id[83] & 0xc000) == 0x4000;
    out->lba48 = w83 && (id[83] & (1u << 10)) && (id[86] & (1u << 10));
    out->flush = w83 && (id[83] & (1u << 12));
    out->flush_ext = w83 && (id[83] & (1u << 13));
    if (out->lba48)
        out->sectors = (uint64_t)id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 |
                       (uint64_t)id[103] << 48;
    else
        out->sectors = (uint64_t)id[60] | (uint64_t)id[61] << 16;
    out->sector_size = 512;
    /* Word 106: valid when bits 15:14 are 01; bit 12: words 117-118 give
     * the logical sector size in words. */
    if ((id[106] & 0xc000) == 0x4000 && (id[106] & (1u << 12))) {
        uint32_t words = (uint32_t)id[117] | (uint32_t)id[118] << 16;
        if (words < 256 || words > 32768)
            return false;
        out->sector_size = words * 2;
    }
    return out->sectors != 0;
}
