/* The request side of a virtio-blk device (Virtual I/O Device (VIRTIO)
 * Version 1.1, sections 2.6 "Split Virtqueues" and 5.2 "Block Device"):
 * walks the driver's descriptor chains, checks every index, address and
 * length, performs the request against a disk and puts the chain on the
 * used ring with its status byte.
 *
 * Portable: guest memory and the disk are callbacks (the monitor binds them
 * to the partition's RAM and a VHD chain, the unit tests and the fuzzer to
 * buffers).  Every value read from guest memory is untrusted: a chain that
 * cannot be walked (an index past the ring, a loop, an indirect descriptor,
 * which is not offered) is returned with no status written (used length 0)
 * when its head is valid; a request whose status byte can be found gets
 * VIRTIO_BLK_S_IOERR (a buffer outside guest memory, a length that is not
 * whole sectors, a range past the disk's end, a write to a read-only disk,
 * a disk error) or VIRTIO_BLK_S_UNSUPP (a type that is not offered). */
#ifndef VMM_VIRTIO_BLK_QUEUE_H
#define VMM_VIRTIO_BLK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

#define VIRTQ_MAX_SIZE    256u /* the largest queue the device offers */
#define VBLK_SECTOR       512u
#define VBLK_SEG_MAX      (VIRTQ_MAX_SIZE - 2u) /* data descriptors per request */
#define VBLK_ID_BYTES     20u  /* VIRTIO_BLK_T_GET_ID answer */

/* Descriptor flags (2.6.5). */
#define VIRTQ_DESC_F_NEXT     1u
#define VIRTQ_DESC_F_WRITE    2u
#define VIRTQ_DESC_F_INDIRECT 4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN     0u
#define VIRTIO_BLK_T_OUT    1u
#define VIRTIO_BLK_T_FLUSH  4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VIRTIO_BLK_S_OK     0u
#define VIRTIO_BLK_S_IOERR  1u
#define VIRTIO_BLK_S_UNSUPP 2u

/* Guest-physical memory as the device sees it.  read and write fail (any
 * status but TV_OK) for any byte outside the guest's RAM; range_ok says
 * whether [gpa, gpa+len) lies wholly inside it. */
struct vblk_mem {
    void *ctx;
    bool (*range_ok)(void *ctx, uint64_t gpa, uint64_t len);
    tv_status_t (*read)(void *ctx, uint64_t gpa, void *dst, size_t len);
    tv_status_t (*write)(void *ctx, uint64_t gpa, const void *src, size_t len);
};

/* The backing disk: byte offsets and lengths, whole sectors. */
struct vblk_disk {
    void *ctx;
    uint64_t sectors;            /* capacity in 512-byte sectors */
    bool read_only;
    tv_status_t (*read)(void *ctx, uint64_t off, void *buf, size_t len);
    tv_status_t (*write)(void *ctx, uint64_t off, const void *buf, size_t len);
    tv_status_t (*flush)(void *ctx);
    char id[VBLK_ID_BYTES];      /* serial number (not NUL-terminated when 20 bytes) */
};

/* One split virtqueue as the driver configured it (common configuration:
 * queue_size, queue_desc, queue_driver, queue_device) and the device's
 * position in it. */
struct virtq {
    uint16_t size;               /* a power of two, 1..VIRTQ_MAX_SIZE */
    uint64_t desc, avail, used;  /* guest-physical addresses of the three parts */
    uint16_t last_avail;         /* next avail ring entry to take */
    uint16_t used_idx;           /* the used ring's idx as last written */
    bool broken;                 /* the driver broke the ring: nothing more is served */
};

/* One data segment of a request. */
struct vblk_seg {
    uint64_t gpa;
    uint32_t len;
};

/* A descriptor chain parsed into a request. */
struct vblk_req {
    uint16_t head;
    uint32_t type;
    uint64_t sector;
    uint32_t nseg;
    struct vblk_seg seg[VBLK_SEG_MAX];
    uint64_t data_len;           /* sum of seg[].len */
    uint64_t status_gpa;         /* where the status byte goes */
    bool has_status;             /* status_gpa is valid */
    uint8_t status;              /* what the request gets when it is not performed */
    bool valid;                  /* well formed: perform it */
};

/* The queue layout is usable: size a power of two no larger than
 * VIRTQ_MAX_SIZE, the three parts aligned (16, 2, 4 bytes) and inside
 * guest memory (checked by reading their last byte). */
bool virtq_layout_ok(const struct virtq *q, const struct vblk_mem *m);

/* Parses the chain starting at descriptor head into *r.  Never fails: a
 * request that must not be performed has r->valid false, r->status the
 * answer and r->has_status whether it can be given. */
void vblk_parse(const struct virtq *q, const struct vblk_mem *m, const struct vblk_disk *d,
                uint16_t head, struct vblk_req *r);

/* Performs a valid request (bounce: a buffer of bounce_len bytes, a
 * multiple of VBLK_SECTOR, for the copies) and returns its status byte;
 * *written receives the bytes put into device-writable buffers, the status
 * byte not included. */
uint8_t vblk_perform(const struct vblk_req *r, const struct vblk_mem *m, const struct vblk_disk *d,
                     uint8_t *bounce, size_t bounce_len, uint32_t *written);

/* Serves every chain the driver has made available, at most max of them
 * (the rest stay for the next call): parse (into *scratch, which is large),
 * perform, write the status, put the head on the used ring.  Returns the number completed; *interrupt
 * is set when at least one was and the driver did not ask for no
 * interrupts.  A ring the driver broke (more entries available than the
 * queue holds, a head index past the ring) sets q->broken and serves
 * nothing more. */
unsigned virtq_serve(struct virtq *q, const struct vblk_mem *m, const struct vblk_disk *d,
                     struct vblk_req *scratch, uint8_t *bounce, size_t bounce_len, unsigned max, bool *interrupt);

#endif
