/* AHCI PRDT and NVMe PRP building: see dma_list.h. */
#include "drivers/block/dma_list.h"

int ahci_prdt_fill(struct ahci_prd *prd, unsigned max, uint64_t pa, uint32_t len)
{
    if (len == 0 || (len & 1) || (pa & 1))
        return -1;
    unsigned n = 0;
    while (len) {
        if (n == max)
            return -1;
        uint32_t chunk = len < AHCI_PRD_MAX_BYTES ? len : AHCI_PRD_MAX_BYTES;
        prd[n].dba = (uint32_t)pa;
        prd[n].dbau = (uint32_t)(pa >> 32);
        prd[n].reserved = 0;
        prd[n].dbc = chunk - 1;
        pa += chunk;
        len -= chunk;
        n++;
    }
    prd[n - 1].dbc |= 1u << 31;       /* interrupt when the last region is done */
    return (int)n;
}

int nvme_prp_fill(uint64_t pa, uint32_t len, uint32_t page, uint64_t *prp1, uint64_t *prp2,
                  uint64_t *list, unsigned list_max, uint64_t list_pa)
{
    if (len == 0 || (pa & 3) || page < 4096 || (page & (page - 1)))
        return -1;
    uint64_t first_end = (pa & ~((uint64_t)page - 1)) + page;   /* end of PRP1's page */
    *prp1 = pa;
    *prp2 = 0;
    if (pa + len <= first_end)
        return 0;
    uint64_t rest = pa + len - first_end;
    uint64_t pages = (rest + page - 1) / page;
    if (pages == 1) {
        *prp2 = first_end;
        return 0;
    }
    if (pages > list_max)
        return -1;
    for (uint64_t i = 0; i < pages; i++)
        list[i] = first_end + i * page;
    *prp2 = list_pa;
    return 0;
}
