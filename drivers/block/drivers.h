/* The block drivers' probe entries, called by blk_probe_all (probe.c).
 * Each returns TV_OK when it took the device, TV_E_NOT_FOUND when the device
 * is not its kind, another error when it is but could not be started. */
#ifndef DRIVERS_BLOCK_DRIVERS_H
#define DRIVERS_BLOCK_DRIVERS_H

#include "drivers/pci/pci.h"
#include "taskvisor/status.h"

tv_status_t virtio_blk_probe(struct pci_dev *d);
tv_status_t ahci_probe(struct pci_dev *d);
tv_status_t nvme_probe(struct pci_dev *d);
/* The legacy ATA channels (ports 0x1F0 and 0x170), from the IDE function
 * when there is one (d may be NULL). */
tv_status_t ata_probe(struct pci_dev *d);

#endif
