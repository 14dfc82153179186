/* libFuzzer target over the firmware and device parsers of the drivers: the
 * input is an MCFG table and, from byte 0 as well, a 256-byte configuration
 * space whose capability list is walked and parsed, and 512 bytes of
 * IDENTIFY DEVICE data.  No crash, no hang, no
 * read outside the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "drivers/block/ata_id.h"
#include "drivers/block/virtq.h"
#include "drivers/pci/pci_parse.h"

struct space { const uint8_t *p; size_t n; };

static uint8_t rd(void *ctx, uint16_t off)
{
    const struct space *s = ctx;
    if (off >= 256)
        __builtin_trap();           /* the parsers never leave configuration space */
    return off < s->n ? s->p[off] : 0xff;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mcfg_entry e[8];
    unsigned n;
    if (mcfg_parse(data, size, e, 8, &n) == 0) {
        for (unsigned i = 0; i < n; i++)
            if (e[i].bus_end < e[i].bus_start || e[i].base == 0 || (e[i].base & 0xfffff))
                __builtin_trap();
    }
    struct space s = { data, size < 256 ? size : 256 };
    static const uint8_t ids[] = { PCI_CAP_MSI, PCI_CAP_MSIX, PCI_CAP_VENDOR, PCI_CAP_PCIE };
    for (unsigned k = 0; k < sizeof ids; k++) {
        unsigned steps = 0;
        for (uint8_t off = pci_cap_find(rd, &s, ids[k], 0); off && steps < 64;
             off = pci_cap_find(rd, &s, ids[k], off), steps++) {
            struct virtio_pci_cap v;
            struct msix_info m;
            if (ids[k] == PCI_CAP_VENDOR && virtio_cap_parse(rd, &s, off, &v) &&
                (v.bar > 5 || (uint64_t)v.offset + v.length > 0xffffffffull))
                __builtin_trap();
            if (ids[k] == PCI_CAP_MSIX && msix_cap_parse(rd, &s, off, &m) &&
                (m.entries == 0 || m.entries > 2048))
                __builtin_trap();
        }
        if (steps >= 64)
            __builtin_trap();        /* the walk must end */
    }
    if (size >= 4) {
        uint16_t used, last, qs;
        memcpy(&used, data, 2);
        memcpy(&last, data + 2, 2);
        qs = (uint16_t)(1u << (data[0] % 16));
        int p = virtq_used_pending(used, last, qs);
        if (p > qs)
            __builtin_trap();
    }
    if (size >= 512) {
        uint16_t id[256];
        struct ata_info a;
        memcpy(id, data, 512);
        if (ata_identify_parse(id, &a) &&
            (a.sectors == 0 || a.sector_size < 512 || a.sector_size > 65536 || a.model[40]))
            __builtin_trap();
    }
    return 0;
}
