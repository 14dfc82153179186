/* A tiny virtio-blk driver for test guests (modern virtio-pci, one split
 * queue, one request in flight, polled completion with the INTx interrupt
 * counted): finds the device through PCI configuration mechanism #1,
 * negotiates features, sets the queue up and moves sectors.  Raw access to
 * the ring (gvblk_submit) lets tests send malformed requests. */
#ifndef GUEST_VBLK_H
#define GUEST_VBLK_H

#include <stdbool.h>
#include <stdint.h>

#define GVBLK_QMAX 256u

struct gvblk_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct gvblk {
    unsigned slot;
    uint32_t bar;                  /* BAR 0 */
    uint8_t irq_line;              /* the I/O APIC pin the firmware-like setup reports */
    volatile uint8_t *common, *isr, *devcfg, *notify;
    uint32_t common_len, devcfg_len;
    uint64_t offered;              /* device features */
    uint64_t capacity;             /* sectors */
    uint16_t qsize;
    struct gvblk_desc *desc;
    volatile uint16_t *avail;      /* flags, idx, ring[] */
    volatile uint32_t *used;       /* flags|idx as one word, then {id, len} pairs */
    uint16_t avail_idx, used_seen;
};

/* PCI configuration space of bus 0, function 0 of slot. */
uint32_t pci_cfg_read(unsigned slot, unsigned off, unsigned size);
void pci_cfg_write(unsigned slot, unsigned off, unsigned size, uint32_t value);

/* MMIO through plain MOVs (the monitor emulates only those). */
uint8_t mmio_read8(volatile void *p);
uint16_t mmio_read16(volatile void *p);
uint32_t mmio_read32(volatile void *p);
void mmio_write8(volatile void *p, uint8_t v);
void mmio_write16(volatile void *p, uint16_t v);
void mmio_write32(volatile void *p, uint32_t v);

/* The nth (0-based) virtio-blk function on bus 0: its BAR, interrupt line
 * and capability windows (memory decoding turned on).  false when none. */
bool gvblk_find(struct gvblk *d, unsigned nth);
/* Resets the device and reads back status 0. */
bool gvblk_reset(struct gvblk *d);
/* ACKNOWLEDGE, DRIVER, features (accepted), FEATURES_OK read back: the
 * status read back is returned (FEATURES_OK clear = refused). */
uint8_t gvblk_negotiate(struct gvblk *d, uint64_t accepted);
/* Queue 0 with qsize entries (<= GVBLK_QMAX), then DRIVER_OK. */
bool gvblk_start(struct gvblk *d, uint16_t qsize);
uint8_t gvblk_status(struct gvblk *d);

/* Puts descriptors desc[0..n-1] (already filled, chained by the caller) on
 * the available ring with head `head` and notifies. */
void gvblk_submit(struct gvblk *d, uint16_t head);
/* Waits (about timeout_ms) for the next used entry: true with its id and
 * length.  With interrupts enabled it halts between looks, so the
 * completion must come with an interrupt (or the wait lasts until another
 * interrupt arrives). */
bool gvblk_wait(struct gvblk *d, uint32_t *id, uint32_t *len, unsigned timeout_ms);
/* One request of type on sector with one data buffer (len bytes; none
 * when len is 0): the status byte, or -1 when no answer came. */
int gvblk_request(struct gvblk *d, uint32_t type, uint64_t sector, void *buf, uint32_t len,
                  uint32_t *used_len);

#endif
