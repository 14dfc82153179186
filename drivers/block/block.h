/* The monitor's block-device interface.  A driver registers a struct
 * blk_dev with its ops; callers submit requests that run asynchronously
 * (several in flight per device, up to dev->queue_depth) and wait for them on
 * their kernel thread, which blocks until the device's interrupt (or the
 * block layer's poll timer) completes the request.
 *
 * Outcomes: TV_OK; TV_E_IO when the device reported an error; TV_E_TIMEOUT
 * when the device did not complete the request within the device's timeout
 * (a timed-out write may or may not have reached the medium); TV_E_INVALID_ARGUMENT
 * for a range outside the device; TV_E_READ_ONLY for a write to a read-only
 * device.  Drivers transfer through their own
 * bounce buffers, so a device that answers late never writes into memory
 * the caller has since reused. */
#ifndef DRIVERS_BLOCK_H
#define DRIVERS_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/spinlock.h"
#include "kernel/timer.h"
#include "taskvisor/status.h"

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH };

struct thread;
struct blk_dev;

struct blk_req {
    /* set by the caller */
    enum blk_op op;
    uint64_t lba;
    uint32_t count;             /* sectors; at most dev->max_sectors */
    void *buf;                  /* count * sector_size bytes */
    /* owned by the block layer and the driver */
    tv_status_t status;
    volatile bool done;
    uint64_t deadline_ns;       /* a driver that queues requests itself moves it to
                                   when the device gets the request */
    struct thread *waiter;
    struct blk_dev *dev;
    int slot;                   /* the driver's slot, -1 when not submitted */
};

struct blk_ops {
    /* Starts req in a free slot (the block layer guarantees one exists and
     * holds dev->lock, interrupts off).  TV_OK, or an error to complete
     * req with at once. */
    tv_status_t (*start)(struct blk_dev *dev, struct blk_req *req);
    /* Completes finished requests through blk_complete (dev->lock held,
     * interrupts off): from the interrupt handler and the poll timer. */
    void (*reap)(struct blk_dev *dev);
    /* req timed out: forget it.  Its slot stays reserved until the device
     * completes it, so a late transfer lands in the driver's buffer. */
    void (*abandon)(struct blk_dev *dev, struct blk_req *req);
};

struct blk_dev {
    char name[16];              /* "vblk0", "ahci0p1", ... */
    char model[48];
    const char *driver;
    uint32_t sector_size;
    uint64_t sectors;
    uint32_t max_sectors;       /* per request */
    uint32_t queue_depth;       /* requests in flight at most */
    bool has_flush;             /* false: the device has no volatile cache to flush */
    bool has_irq;               /* false: the poll timer reaps */
    bool read_only;             /* writes fail with TV_E_READ_ONLY */
    uint64_t timeout_ns;
    const struct blk_ops *ops;
    void *priv;
    /* block layer state */
    spinlock_t lock;
    uint32_t in_flight;         /* slots in use, abandoned ones included */
    struct thread *slot_waiter; /* a submitter waiting for a free slot */
    struct timer poll_timer;
    uint64_t poll_ns;
    uint64_t stat_irqs, stat_done, stat_errors, stat_timeouts;
    uint64_t stat_late;         /* completions found only when the waiter's deadline came */
#ifdef TV_TEST_BUILD
    volatile bool fault_no_doorbell;   /* test hook: the device is never told */
    volatile bool fault_no_bounds;     /* test hook: ranges go to the device unchecked */
#endif
};

#define BLK_MAX_DEVS 16
#define BLK_DEFAULT_TIMEOUT_NS (5000000000ull)

/* Sets the per-request timeout every device registered later gets. */
void blk_set_default_timeout(uint64_t ns);
/* Adds a device to the registry (fills the block-layer state). */
tv_status_t blk_register(struct blk_dev *dev);
unsigned blk_count(void);
struct blk_dev *blk_get(unsigned i);
struct blk_dev *blk_find(const char *name);

/* Asynchronous: start req (blocks the calling thread while every slot is
 * busy).  Then blk_wait.  A request that fails its checks is completed at
 * once with the error. */
void blk_submit(struct blk_dev *dev, struct blk_req *req);
tv_status_t blk_wait(struct blk_req *req);
/* Synchronous helpers: split into max_sectors pieces, several in flight
 * (completing in any order; flush between writes that need an order). */
tv_status_t blk_read(struct blk_dev *dev, uint64_t lba, uint32_t count, void *buf);
tv_status_t blk_write(struct blk_dev *dev, uint64_t lba, uint32_t count, const void *buf);
tv_status_t blk_flush(struct blk_dev *dev);

/* For drivers: req finished with status (dev->lock held). */
void blk_complete(struct blk_dev *dev, struct blk_req *req, tv_status_t status);
/* For drivers: a slot that held an abandoned request is free again. */
void blk_slot_freed(struct blk_dev *dev);
/* For drivers' interrupt handlers: takes the lock and reaps. */
void blk_irq(struct blk_dev *dev);

/* Probes every driver on the PCI functions found (and the legacy ATA ports)
 * and registers the disks; logs each. */
void blk_probe_all(void);

#endif
