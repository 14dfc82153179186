/* The virtio-blk PCI function (Virtual I/O Device (VIRTIO) Version 1.1,
 * 4.1 "Virtio Over PCI Bus", modern interface only: device ID 0x1042, no
 * legacy I/O BAR) and its registers: the common configuration, ISR status,
 * notification and device-specific (struct virtio_blk_config) structures,
 * all in BAR 0 and described by vendor capabilities, as a stock Linux
 * virtio_pci driver looks for them.  One queue; INTx interrupts (no MSI-X
 * capability, so a driver uses the ISR and the interrupt line).
 *
 * Portable: the requests themselves are served by virtio_blk_queue.c on
 * the monitor's thread; this file is the register model the vCPU's MMIO
 * exits reach, plus the hand-over of the queue to that thread.  The caller
 * serializes every call on one device (a lock). */
#ifndef VMM_VIRTIO_PCI_BLK_H
#define VMM_VIRTIO_PCI_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/virtio_blk_queue.h"
#include "dev/vpci.h"

#define VBLK_BAR_SIZE    0x4000u
#define VBLK_COMMON_OFF  0x0000u
#define VBLK_ISR_OFF     0x1000u
#define VBLK_DEVCFG_OFF  0x2000u
#define VBLK_NOTIFY_OFF  0x3000u
#define VBLK_DEVCFG_LEN  0x40u

/* Device status bits (2.1). */
#define VIRTIO_S_ACKNOWLEDGE 1u
#define VIRTIO_S_DRIVER      2u
#define VIRTIO_S_DRIVER_OK   4u
#define VIRTIO_S_FEATURES_OK 8u
#define VIRTIO_S_NEEDS_RESET 0x40u
#define VIRTIO_S_FAILED      0x80u

/* Feature bits offered (5.2.3, 6). */
#define VIRTIO_BLK_F_SEG_MAX 2u
#define VIRTIO_BLK_F_RO      5u
#define VIRTIO_BLK_F_FLUSH   9u
#define VIRTIO_F_VERSION_1   32u

struct vblk_pci {
    struct vpci_func fn;
    uint64_t capacity;              /* sectors */
    bool read_only;
    uint64_t offered;               /* device features */
    uint64_t accepted;              /* driver features */
    uint32_t dev_feature_sel, drv_feature_sel;
    uint8_t status, stale_status;   /* stale: shown until a reset has taken effect */
    bool resetting;
    uint8_t config_gen;
    uint16_t queue_sel;
    uint16_t queue_size;            /* as the driver set it (default VIRTQ_MAX_SIZE) */
    uint64_t queue_desc, queue_avail, queue_used;
    bool queue_enabled;
    struct virtq q;                 /* the live queue, positions kept by the serving thread */
    uint32_t generation;            /* bumped at every reset and queue enable */
    uint8_t isr;                    /* bit 0: queue interrupt */
    void *ctx;
    void (*notify)(void *ctx);      /* the driver notified the queue (or set DRIVER_OK) */
    bool (*idle)(void *ctx);        /* the serving thread holds no work of an older generation */
};

/* A device in its reset state, BAR 0 at bar_base, INTA# on I/O APIC pin
 * irq_line (in the interrupt line register, as firmware leaves it). */
void vblk_pci_init(struct vblk_pci *d, uint32_t bar_base, uint8_t irq_line, uint64_t sectors,
                   bool read_only, void *ctx, void (*notify)(void *ctx), bool (*idle)(void *ctx));
/* BAR 0 accesses (off inside the BAR; size 1, 2, 4 or 8). */
uint64_t vblk_pci_mmio_read(struct vblk_pci *d, uint64_t off, unsigned size);
void vblk_pci_mmio_write(struct vblk_pci *d, uint64_t off, unsigned size, uint64_t value);
/* For the serving thread: a copy of the live queue and its generation when
 * the driver has it running (DRIVER_OK, queue enabled, not broken). */
bool vblk_pci_take_queue(const struct vblk_pci *d, struct virtq *copy, uint32_t *gen);
/* The queue positions after serving; dropped when the generation changed
 * meanwhile.  A ring found broken sets DEVICE_NEEDS_RESET (2.1.1).  Returns
 * true when the interrupt must be sent: raise set, still the same
 * generation, ISR was clear and INTx is not disabled. */
bool vblk_pci_put_queue(struct vblk_pci *d, const struct virtq *copy, uint32_t gen, bool raise);

#endif
