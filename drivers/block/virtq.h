/* Split virtqueues (virtio 1.x, 2.7): ring layout and index arithmetic.
 * Portable: the virtio-blk driver, the unit tests and the fuzzer share it. */
#ifndef DRIVERS_VIRTQ_H
#define DRIVERS_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2    /* device writes this buffer */

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};

/* Where the three parts of a queue of `size` entries go in one zeroed,
 * page-aligned block: descriptors (16-byte aligned), the driver ring
 * (2-byte aligned), the device ring (4-byte aligned) (virtio 1.x, 2.7.1). */
struct virtq_layout {
    size_t desc_off, avail_off, used_off, total;
};

/* False when size is 0, above 32768 or not a power of two (2.7). */
bool virtq_layout(uint16_t size, struct virtq_layout *out);

/* Entries the device has put in the used ring since we last looked: the
 * free-running 16-bit indexes wrap.  More than `size` new entries is a
 * device that broke the protocol: returns -1. */
int virtq_used_pending(uint16_t used_idx, uint16_t last_seen, uint16_t size);

/* A virtio-blk request of slot s uses descriptors 3s (header), 3s+1 (data),
 * 3s+2 (status).  Fills the chain for a read (device writes data), a write,
 * or a flush (no data descriptor), returning the head index. */
enum virtq_blk_kind { VIRTQ_BLK_READ, VIRTQ_BLK_WRITE, VIRTQ_BLK_FLUSH };
uint16_t virtq_blk_chain(struct virtq_desc *d, unsigned slot, enum virtq_blk_kind kind,
                         uint64_t hdr_pa, uint64_t data_pa, uint32_t data_len,
                         uint64_t status_pa);
/* The slot a used element's id names, or -1 when it is no head we issued. */
int virtq_blk_slot(uint32_t id, unsigned slots);

#endif
