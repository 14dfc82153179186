/* Offers every PCI function to each block driver in turn.  See block.h. */
#include "drivers/block/block.h"
#include "drivers/block/drivers.h"
#include "kernel/log.h"
#include "tv_status.h"

typedef tv_status_t (*probe_fn)(struct pci_dev *d);

static const struct { const char *name; probe_fn probe; } pci_drivers[] = {
    { "virtio-blk", virtio_blk_probe },
    { "ahci", ahci_probe },
    { "nvme", nvme_probe },
    { "ata", ata_probe },
};

void blk_probe_all(void)
{
    for (unsigned i = 0; i < pci_count(); i++) {
        struct pci_dev *d = pci_get(i);
        for (unsigned k = 0; k < sizeof pci_drivers / sizeof pci_drivers[0] && !d->claimed; k++) {
            tv_status_t st = pci_drivers[k].probe(d);
            if (st != TV_OK && st != TV_E_NOT_FOUND)
                log_warn("blk: %s could not start %02x:%02x.%u (%s)", pci_drivers[k].name,
                         d->bus, d->dev, d->fn, tv_status_name(st));
        }
    }
    log_info("blk: %u block devices", blk_count());
}
