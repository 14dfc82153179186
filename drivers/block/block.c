/* The block layer: registry, submission with a bounded number of requests in
 * flight, blocking waits with a deadline, the poll timer.  See block.h.
 *
 * Locking: dev->lock (interrupts off) guards the device's slots and every
 * request's done/status/waiter.  A thread that must wait drops the lock but
 * keeps interrupts off until it is blocked, so a completion cannot slip in
 * between (the same scheme as the task core's wait queues). */
#include "drivers/block/block.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "tv_string.h"

static struct blk_dev *devs[BLK_MAX_DEVS];
static unsigned dev_count;
static uint64_t default_timeout_ns = BLK_DEFAULT_TIMEOUT_NS;

struct slot_wait {
    struct thread *thread;
    struct slot_wait *next;
};
/* Threads waiting for a free slot, per device (index in devs[]). */
static struct slot_wait *slot_waiters[BLK_MAX_DEVS];

void blk_set_default_timeout(uint64_t ns) { default_timeout_ns = ns ? ns : BLK_DEFAULT_TIMEOUT_NS; }
unsigned blk_count(void) { return dev_count; }
struct blk_dev *blk_get(unsigned i) { return i < dev_count ? devs[i] : 0; }

struct blk_dev *blk_find(const char *name)
{
    for (unsigned i = 0; i < dev_count; i++)
        if (tv_strcmp(devs[i]->name, name) == 0)
            return devs[i];
    return 0;
}

static unsigned dev_index(const struct blk_dev *dev)
{
    for (unsigned i = 0; i < dev_count; i++)
        if (devs[i] == dev)
            return i;
    return 0;
}

static void poll_fn(struct timer *t)
{
    struct blk_dev *dev = t->arg;
    bool irq = spin_lock_irqsave(&dev->lock);
    dev->ops->reap(dev);
    if (dev->in_flight)
        timer_arm(&dev->poll_timer, time_now_ns() + dev->poll_ns);
    spin_unlock_irqrestore(&dev->lock, irq);
}

tv_status_t blk_register(struct blk_dev *dev)
{
    if (dev_count == BLK_MAX_DEVS)
        return TV_E_LIMIT;
    if (!dev->ops || !dev->sector_size || !dev->queue_depth || !dev->max_sectors)
        return TV_E_INVALID_ARGUMENT;
    dev->lock = (spinlock_t)SPINLOCK_INIT;
    dev->in_flight = 0;
    if (!dev->timeout_ns)
        dev->timeout_ns = default_timeout_ns;
    if (!dev->poll_ns)
        dev->poll_ns = 1000000ull;     /* 1 ms */
    timer_init(&dev->poll_timer, poll_fn, dev);
    devs[dev_count++] = dev;
    log_info("blk %s: %s \"%s\", %llu sectors of %u bytes (%llu MiB), queue depth %u, %s%s%s",
             dev->name, dev->driver, dev->model, (unsigned long long)dev->sectors,
             dev->sector_size,
             (unsigned long long)(dev->sectors * dev->sector_size >> 20), dev->queue_depth,
             dev->has_irq ? "interrupt completion" : "polled completion",
             dev->has_flush ? ", volatile cache (flush)" : "", dev->read_only ? ", read-only" : "");
    return TV_OK;
}

/* Drops dev->lock, blocks until woken or the deadline, retakes the lock.
 * Entered and left with interrupts off. */
static void block_unlocked(struct blk_dev *dev, uint64_t deadline_ns)
{
    __atomic_store_n(&dev->lock.locked, 0, __ATOMIC_RELEASE);
    if (deadline_ns > time_now_ns())
        thread_block_until(deadline_ns);
    while (__atomic_exchange_n(&dev->lock.locked, 1, __ATOMIC_ACQUIRE))
        cpu_pause();
}

static void wake_slot_waiters(struct blk_dev *dev)
{
    for (struct slot_wait *w = slot_waiters[dev_index(dev)]; w; w = w->next)
        thread_wake(w->thread);
}

static void finish_now(struct blk_req *req, tv_status_t st)
{
    req->status = st;
    req->done = true;
}

void blk_submit(struct blk_dev *dev, struct blk_req *req)
{
    req->dev = dev;
    req->done = false;
    req->status = TV_OK;
    req->slot = -1;
    req->waiter = 0;
    if (req->op == BLK_FLUSH) {
        if (!dev->has_flush) {
            finish_now(req, TV_OK);     /* nothing volatile to write back */
            return;
        }
    } else if (req->op == BLK_WRITE && dev->read_only) {
        finish_now(req, TV_E_READ_ONLY);
        return;
    } else if (req->op != BLK_READ && req->op != BLK_WRITE) {
        finish_now(req, TV_E_INVALID_ARGUMENT);
        return;
    } else if (!req->buf || req->count == 0 || req->count > dev->max_sectors) {
        finish_now(req, TV_E_INVALID_ARGUMENT);
        return;
    } else if (req->lba >= dev->sectors || dev->sectors - req->lba < req->count) {
#ifdef TV_TEST_BUILD
        if (!dev->fault_no_bounds) {   /* test hook: let the device refuse it */
            finish_now(req, TV_E_INVALID_ARGUMENT);
            return;
        }
#else
        finish_now(req, TV_E_INVALID_ARGUMENT);
        return;
#endif
    }
    uint64_t deadline = time_now_ns() + dev->timeout_ns;
    bool irq = spin_lock_irqsave(&dev->lock);
    if (dev->in_flight >= dev->queue_depth) {
        /* Wait for a slot, but never longer than one request's timeout: slots
         * held by abandoned requests may never come back. */
        struct slot_wait me = { thread_current(), 0 };
        struct slot_wait **head = &slot_waiters[dev_index(dev)];
        me.next = *head;
        *head = &me;
        while (dev->in_flight >= dev->queue_depth && time_now_ns() < deadline) {
            dev->ops->reap(dev);
            if (dev->in_flight >= dev->queue_depth)
                block_unlocked(dev, deadline);
        }
        for (struct slot_wait **pp = head; *pp; pp = &(*pp)->next)
            if (*pp == &me) {
                *pp = me.next;
                break;
            }
        if (dev->in_flight >= dev->queue_depth) {
            dev->stat_timeouts++;
            finish_now(req, TV_E_TIMEOUT);
            spin_unlock_irqrestore(&dev->lock, irq);
            return;
        }
        deadline = time_now_ns() + dev->timeout_ns;
    }
    req->deadline_ns = deadline;
    dev->in_flight++;
    tv_status_t st = dev->ops->start(dev, req);
    if (st != TV_OK) {
        dev->in_flight--;
        dev->stat_errors++;
        finish_now(req, st);
    } else if (!dev->has_irq && !dev->poll_timer.armed) {
        timer_arm(&dev->poll_timer, time_now_ns() + dev->poll_ns);
    }
    spin_unlock_irqrestore(&dev->lock, irq);
}

tv_status_t blk_wait(struct blk_req *req)
{
    struct blk_dev *dev = req->dev;
    if (req->done)
        return req->status;
    bool irq = spin_lock_irqsave(&dev->lock);
    while (!req->done) {
        bool late = time_now_ns() >= req->deadline_ns;
        dev->ops->reap(dev);
        if (req->done) {
            /* Done, but nothing told us: an interrupt (or poll) went missing. */
            if (late) {
                dev->stat_late++;
                log_warn("blk %s: a request was found complete only at its deadline", dev->name);
            }
            break;
        }
        if (late) {
            dev->ops->abandon(dev, req);
            dev->stat_timeouts++;
            log_warn("blk %s: request (op %d, lba %llu, %u sectors) timed out after %llu ms",
                     dev->name, req->op, (unsigned long long)req->lba, req->count,
                     (unsigned long long)(dev->timeout_ns / 1000000));
            finish_now(req, TV_E_TIMEOUT);
            break;
        }
        req->waiter = thread_current();
        block_unlocked(dev, req->deadline_ns);
        req->waiter = 0;
    }
    tv_status_t st = req->status;
    spin_unlock_irqrestore(&dev->lock, irq);
    return st;
}

void blk_complete(struct blk_dev *dev, struct blk_req *req, tv_status_t status)
{
    req->status = status;
    req->done = true;
    req->slot = -1;
    dev->in_flight--;
    dev->stat_done++;
    if (status != TV_OK)
        dev->stat_errors++;
    if (req->waiter)
        thread_wake(req->waiter);
    wake_slot_waiters(dev);
}

void blk_slot_freed(struct blk_dev *dev)
{
    dev->in_flight--;
    wake_slot_waiters(dev);
}

void blk_irq(struct blk_dev *dev)
{
    bool irq = spin_lock_irqsave(&dev->lock);
    dev->stat_irqs++;
    dev->ops->reap(dev);
    spin_unlock_irqrestore(&dev->lock, irq);
}

/* Pieces of one call kept in flight at once (at most the device's queue
 * depth): one at a time, virtio-blk under QEMU moved half as much as with
 * eight (the disk bench's raw figures). */
#define RW_WINDOW 8u

/* Splits into max_sectors pieces, up to RW_WINDOW of them in flight, each
 * in its own part of buf; waits for every piece it started.  The first
 * error is returned; pieces after a failed one are not started, but some
 * may already have been (a failed write leaves the range partly written,
 * as it could already before).  The pieces may complete in any order: a
 * caller that needs an order between writes flushes between them. */
static tv_status_t blk_rw(struct blk_dev *dev, enum blk_op op, uint64_t lba, uint32_t count,
                          void *buf)
{
    struct blk_req req[RW_WINDOW];
    uint32_t depth = dev->queue_depth < RW_WINDOW ? dev->queue_depth : RW_WINDOW;
    uint32_t head = 0, used = 0;
    tv_status_t first = TV_OK;
    uint8_t *p = buf;
    if (depth == 0)
        depth = 1;
    while (used || (count && first == TV_OK)) {
        if (used == depth || !count || first != TV_OK) {
            tv_status_t st = blk_wait(&req[head]);
            if (st != TV_OK && first == TV_OK)
                first = st;
            head = (head + 1) % depth;
            used--;
            continue;
        }
        uint32_t n = count < dev->max_sectors ? count : dev->max_sectors;
        struct blk_req *r = &req[(head + used) % depth];
        *r = (struct blk_req){ .op = op, .lba = lba, .count = n, .buf = p };
        blk_submit(dev, r);
        used++;
        lba += n;
        count -= n;
        p += (uint64_t)n * dev->sector_size;
    }
    return first;
}

tv_status_t blk_read(struct blk_dev *dev, uint64_t lba, uint32_t count, void *buf)
{
    return blk_rw(dev, BLK_READ, lba, count, buf);
}

tv_status_t blk_write(struct blk_dev *dev, uint64_t lba, uint32_t count, const void *buf)
{
    return blk_rw(dev, BLK_WRITE, lba, count, (void *)buf);
}

tv_status_t blk_flush(struct blk_dev *dev)
{
    struct blk_req req = { .op = BLK_FLUSH };
    blk_submit(dev, &req);
    return blk_wait(&req);
}
