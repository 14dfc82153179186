/* CRC-32 (IEEE 802.3, reflected, as the UEFI specification's GPT uses). */
#include "storage/volume/volume.h"

uint32_t vol_crc32(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}
