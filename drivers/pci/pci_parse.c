/* MCFG and capability-list parsing: see pci_parse.h. */
#include "drivers/pci/pci_parse.h"

#define SDT_HEADER_LEN 36
#define MCFG_RESERVED  8          /* after the header, before the entries */
#define MCFG_ENTRY_LEN 16
#define ECAM_ALIGN     (1ull << 20) /* one bus is 1 MiB of configuration space */

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

tv_status_t mcfg_parse(const uint8_t *t, size_t len, struct mcfg_entry *out, unsigned max,
                       unsigned *count)
{
    *count = 0;
    if (!t || len < SDT_HEADER_LEN + MCFG_RESERVED)
        return TV_E_CORRUPT;
    if (t[0] != 'M' || t[1] != 'C' || t[2] != 'F' || t[3] != 'G')
        return TV_E_CORRUPT;
    if (le(t + 4, 4) != len)
        return TV_E_CORRUPT;
    size_t body = len - SDT_HEADER_LEN - MCFG_RESERVED;
    if (body % MCFG_ENTRY_LEN)
        return TV_E_CORRUPT;
    const uint8_t *e = t + SDT_HEADER_LEN + MCFG_RESERVED;
    for (size_t i = 0; i < body / MCFG_ENTRY_LEN && *count < max; i++, e += MCFG_ENTRY_LEN) {
        uint64_t base = le(e, 8);
        uint8_t b0 = e[10], b1 = e[11];
        if (base == 0 || base % ECAM_ALIGN || b1 < b0)
            continue;
        /* The window of bus b starts at base + (b << 20) even when bus_start
         * is not 0 (PCI Firmware 3.x table 4-3): base must cover bus 0's
         * would-be address without wrapping. */
        if (base + ((uint64_t)b1 + 1) * ECAM_ALIGN < base)
            continue;
        out[*count].base = base;
        out[*count].segment = (uint16_t)le(e + 8, 2);
        out[*count].bus_start = b0;
        out[*count].bus_end = b1;
        (*count)++;
    }
    return TV_OK;
}

#define PCI_STATUS       0x06
#define PCI_STATUS_CAPS  0x10
#define PCI_CAP_PTR      0x34
#define PCI_MAX_CAPS     48

uint8_t pci_cap_find(pci_cfg_read8_fn rd, void *ctx, uint8_t id, uint8_t after)
{
    if (!(rd(ctx, PCI_STATUS) & PCI_STATUS_CAPS))
        return 0;
    /* A pointer seen before ends the walk: the list is then a simple path,
     * and "after" always moves forward along it (a looping list would
     * otherwise hand the same capability back to a caller that iterates). */
    uint64_t seen[4] = { 0 };
    uint8_t p = rd(ctx, PCI_CAP_PTR) & 0xfc;
    bool passed = after == 0;
    for (int n = 0; n < PCI_MAX_CAPS && p >= 0x40; n++) {
        if (seen[p >> 6] & (1ull << (p & 63)))
            break;
        seen[p >> 6] |= 1ull << (p & 63);
        if (passed && rd(ctx, p) == id)
            return p;
        if (p == after)
            passed = true;
        p = rd(ctx, (uint16_t)(p + 1)) & 0xfc;
    }
    return 0;
}

static uint32_t rd32(pci_cfg_read8_fn rd, void *ctx, unsigned off)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v |= (uint32_t)rd(ctx, (uint16_t)(off + i)) << (8 * i);
    return v;
}

bool virtio_cap_parse(pci_cfg_read8_fn rd, void *ctx, uint8_t off, struct virtio_pci_cap *out)
{
    /* cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2], offset, length */
    if (off < 0x40 || off > 256 - 16)
        return false;
    uint8_t cap_len = rd(ctx, (uint16_t)(off + 2));
    out->cfg_type = rd(ctx, (uint16_t)(off + 3));
    out->bar = rd(ctx, (uint16_t)(off + 4));
    out->offset = rd32(rd, ctx, off + 8u);
    out->length = rd32(rd, ctx, off + 12u);
    out->notify_mult = 0;
    if (cap_len < 16 || out->bar > 5)
        return false;
    if ((uint64_t)out->offset + out->length > 0xffffffffull)
        return false;
    if (out->cfg_type == VIRTIO_PCI_CAP_NOTIFY) {
        if (cap_len < 20 || off > 256 - 20)
            return false;
        out->notify_mult = rd32(rd, ctx, off + 16u);
    }
    return true;
}

bool msix_cap_parse(pci_cfg_read8_fn rd, void *ctx, uint8_t off, struct msix_info *out)
{
    /* id, next, message control (16), table offset/BIR (32), PBA offset/BIR (32) */
    if (off < 0x40 || off > 256 - 12)
        return false;
    uint16_t ctl = (uint16_t)(rd(ctx, (uint16_t)(off + 2)) | rd(ctx, (uint16_t)(off + 3)) << 8);
    uint32_t t = rd32(rd, ctx, off + 4u), p = rd32(rd, ctx, off + 8u);
    out->entries = (uint16_t)((ctl & 0x7ff) + 1);
    out->table_bar = t & 7;
    out->table_off = t & ~7u;
    out->pba_bar = p & 7;
    out->pba_off = p & ~7u;
    return out->table_bar <= 5 && out->pba_bar <= 5;
}
