/* A VM's virtual disks: see vm_disks.h. */
#include "vm/vm_disks.h"

#include "dev/virtio_pci_blk.h"
#include "dev/vpci.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "services/image_store.h"
#include "storage/vhd.h"
#include "tv_fmt.h"
#include "tv_status.h"
#include "tv_string.h"
#include "vm/partition.h"

#define BOUNCE_BYTES   (64u * 1024u)          /* one copy between the image and guest RAM */
#define BATCH          32u                    /* requests served between looks at the registers */
#define MOUNT_WAIT_NS  (30ull * 1000000000ull) /* the image store mounts its volumes at boot */
#define MOUNT_POLL_NS  (1000000ull)

struct vm_disk {
    struct partition *p;
    unsigned index;
    unsigned pin;                 /* I/O APIC pin of INTA# */
    tv_vhd_t *vhd;
    struct vblk_pci dev;          /* under the set's lock */
    struct vblk_disk disk;
    struct thread *worker;
    struct thread *joiner;
    volatile bool kicked, stop, done, busy;
    uint8_t *bounce;
    struct vblk_req req;          /* the request being served (large: not on the stack) */
};

struct vm_disk_set {
    spinlock_t lock;              /* the bus, every device's registers and queue hand-over */
    struct vpci_bus bus;
    unsigned count;
    struct vm_disk *disk[TV_BOOT_MAX_DISKS];
};

/* ---- Guest memory and the image, as the request code sees them ---- */

static bool mem_range_ok(void *ctx, uint64_t gpa, uint64_t len)
{
    return guest_range_ok(ctx, gpa, len);
}

static tv_status_t mem_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    return guest_read(ctx, gpa, dst, len);
}

static tv_status_t mem_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    return guest_write(ctx, gpa, src, len);
}

static tv_status_t img_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    return tv_vhd_read(ctx, off, buf, len);
}

static tv_status_t img_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    return tv_vhd_write(ctx, off, buf, len);
}

static tv_status_t img_flush(void *ctx)
{
    return tv_vhd_flush(ctx);
}

/* ---- The serving thread ---- */

/* The device's callbacks run on the vCPU's thread with the set's lock held:
 * they only flag and wake. */
static void dev_notify(void *ctx)
{
    struct vm_disk *d = ctx;
    d->kicked = true;
    if (d->worker && !d->done)
        thread_wake(d->worker);
}

static bool dev_idle(void *ctx)
{
    struct vm_disk *d = ctx;
    return !d->busy;
}

/* Serves until the driver has nothing more available.  The queue is copied
 * out under the lock and its positions put back under it: a reset or a
 * re-enable meanwhile (a new generation) drops what this batch did to
 * them, and a reset is only seen done once busy is clear again. */
static void serve(struct vm_disk *d, struct vm_disk_set *set)
{
    const struct vblk_mem mem = { d->p, mem_range_ok, mem_read, mem_write };
    for (;;) {
        struct virtq q;
        uint32_t gen;
        bool irq = spin_lock_irqsave(&set->lock);
        bool live = vblk_pci_take_queue(&d->dev, &q, &gen);
        d->busy = live;
        spin_unlock_irqrestore(&set->lock, irq);
        if (!live)
            return;
        bool raise = false;
        unsigned n = 0;
        if (!virtq_layout_ok(&q, &mem))
            q.broken = true;
        else
            n = virtq_serve(&q, &mem, &d->disk, &d->req, d->bounce, BOUNCE_BYTES, BATCH, &raise);
        irq = spin_lock_irqsave(&set->lock);
        bool send = vblk_pci_put_queue(&d->dev, &q, gen, raise);
        d->busy = false;
        spin_unlock_irqrestore(&set->lock, irq);
        if (q.broken)
            log_warn("partition %s: disk %u: the driver broke its queue (device needs reset)",
                     d->p->name, d->index);
        if (send)
            partition_pulse_irq(d->p, d->pin);
        if (!n || q.broken)
            return;
    }
}

static void worker_main(void *arg)
{
    struct vm_disk *d = arg;
    struct vm_disk_set *set = d->p->disks;
    for (;;) {
        bool irq = irq_save();
        while (!d->kicked && !d->stop)
            thread_block_until(UINT64_MAX);
        d->kicked = false;
        bool stop = d->stop;
        irq_restore(irq);
        if (stop)
            break;
        serve(d, set);
    }
    bool irq = irq_save();
    d->done = true;
    if (d->joiner)
        thread_wake(d->joiner);
    irq_restore(irq);
    thread_exit();
}

static void join_worker(struct vm_disk *d)
{
    if (!d->worker)
        return;
    bool irq = irq_save();
    d->stop = true;
    if (!d->done)
        thread_wake(d->worker);
    d->joiner = thread_current();
    while (!d->done)
        thread_block_until(UINT64_MAX);
    d->joiner = 0;
    irq_restore(irq);
    d->worker = 0;
}

/* ---- Opening and closing ---- */

/* The image behind one "disk =" line, as its mode wants it.  The undo-disk
 * modes go here: create a differencing child of the image and open that
 * instead (the child is kept, discarded or merged at turn-off, in
 * close_image). */
static tv_status_t open_image(const struct tv_boot_disk *bd, tv_vhd_t **out, bool *read_only)
{
    const tv_storage_t *seam;
    const char *inner;
    tv_status_t st = image_store_resolve(bd->path, &seam, &inner);
    if (st != TV_OK)
        return st;
    switch (bd->mode) {
    case TV_DISK_MODE_NORMAL:
        /* Writable: the engine's exclusive lock marks the image in use. */
        *read_only = false;
        return tv_vhd_open((tv_storage_t *)seam, inner, TV_VHD_OPEN_WRITE, out);
    default:
        return TV_E_UNSUPPORTED;
    }
}

static tv_status_t close_image(struct vm_disk *d)
{
    tv_status_t st = TV_OK;
    if (d->vhd) {
        switch (d->p->def.disks[d->index].mode) {
        case TV_DISK_MODE_NORMAL:
        default:
            st = tv_vhd_close(d->vhd);
            break;
        }
        d->vhd = 0;
    }
    return st;
}

static tv_status_t wait_for_store(void)
{
    uint64_t end = time_now_ns() + MOUNT_WAIT_NS;
    while (!image_store_ready()) {
        if (time_now_ns() >= end)
            return TV_E_TIMEOUT;
        thread_sleep_ns(MOUNT_POLL_NS);
    }
    return TV_OK;
}

static tv_status_t open_disk(struct partition *p, struct vm_disk_set *set, unsigned i)
{
    const struct tv_boot_disk *bd = &p->def.disks[i];
    struct vm_disk *d = kzalloc(sizeof *d);
    if (!d)
        return TV_E_NO_MEMORY;
    set->disk[set->count++] = d;
    d->p = p;
    d->index = i;
    d->pin = VM_DISK_FIRST_PIN + i;
    d->bounce = kzalloc(BOUNCE_BYTES);
    if (!d->bounce)
        return TV_E_NO_MEMORY;
    bool ro = false;
    tv_status_t st = open_image(bd, &d->vhd, &ro);
    if (st != TV_OK) {
        log_err("partition %s: disk %s (line %u): cannot open it: %s", p->name, bd->path,
                (unsigned)bd->line, tv_status_name(st));
        return st;
    }
    uint64_t bytes = tv_vhd_size(d->vhd);
    d->disk = (struct vblk_disk){ d->vhd, bytes / VBLK_SECTOR, ro, img_read, img_write, img_flush, { 0 } };
    char id[VBLK_ID_BYTES + 1];
    tv_snprintf(id, sizeof id, "tv-%s-%u", p->name, i);
    tv_memcpy(d->disk.id, id, tv_strlen(id));
    vblk_pci_init(&d->dev, VM_DISK_BAR_BASE + i * VBLK_BAR_SIZE, (uint8_t)d->pin, d->disk.sectors,
                  ro, d, dev_notify, dev_idle);
    vpci_plug(&set->bus, 1 + i, &d->dev.fn);
    log_info("partition %s: disk %u: %s, %s, %llu sectors, PCI 00:%02x.0, IRQ %u", p->name, i,
             bd->path, tv_vhd_kind_name(tv_vhd_kind(d->vhd)), (unsigned long long)d->disk.sectors,
             1 + i, d->pin);
    return TV_OK;
}

static void free_set(struct partition *p, struct vm_disk_set *set)
{
    for (unsigned i = 0; i < set->count; i++) {
        struct vm_disk *d = set->disk[i];
        join_worker(d);
        tv_status_t st = close_image(d);
        if (st != TV_OK)
            log_warn("partition %s: disk %s: closing it failed: %s", p->name,
                     p->def.disks[i].path, tv_status_name(st));
        kfree(d->bounce);
        kfree(d);
    }
    kfree(set);
}

tv_status_t vm_disks_start(struct partition *p)
{
    if (!p->def.disk_count || p->disks)
        return TV_OK;
    if (p->def.disk_count > TV_BOOT_MAX_DISKS)
        return TV_E_INVALID_ARGUMENT;
    tv_status_t st = wait_for_store();
    if (st != TV_OK) {
        log_err("partition %s: the image store has no volumes yet: its disks cannot open", p->name);
        return st;
    }
    struct vm_disk_set *set = kzalloc(sizeof *set);
    if (!set)
        return TV_E_NO_MEMORY;
    set->lock = (spinlock_t)SPINLOCK_INIT;
    vpci_init(&set->bus);
    for (unsigned i = 0; i < p->def.disk_count && st == TV_OK; i++)
        st = open_disk(p, set, i);
    if (st != TV_OK) {
        free_set(p, set);
        return st;
    }
    /* Published before the threads start: they find their set through it. */
    p->disks = set;
    for (unsigned i = 0; i < set->count; i++) {
        struct vm_disk *d = set->disk[i];
        char name[24];
        tv_snprintf(name, sizeof name, "vblk%u.%s", i, p->name);
        d->worker = thread_create(name, CLASS_TASK, worker_main, d);
        if (!d->worker) {
            vm_disks_stop(p);
            return TV_E_NO_MEMORY;
        }
    }
    return TV_OK;
}

void vm_disks_stop(struct partition *p)
{
    struct vm_disk_set *set = p->disks;
    if (!set)
        return;
    free_set(p, set);
    p->disks = 0;
}

bool vm_disks_present(const struct partition *p)
{
    return p->disks != 0;
}

bool vm_disks_port_read(struct partition *p, uint16_t port, unsigned size, uint32_t *value)
{
    struct vm_disk_set *set = p->disks;
    if (!set || !vpci_handles_port(port))
        return false;
    bool irq = spin_lock_irqsave(&set->lock);
    *value = vpci_io_read(&set->bus, port, size);
    spin_unlock_irqrestore(&set->lock, irq);
    return true;
}

bool vm_disks_port_write(struct partition *p, uint16_t port, unsigned size, uint32_t value)
{
    struct vm_disk_set *set = p->disks;
    if (!set || !vpci_handles_port(port))
        return false;
    bool irq = spin_lock_irqsave(&set->lock);
    vpci_io_write(&set->bus, port, size, value);
    spin_unlock_irqrestore(&set->lock, irq);
    return true;
}

bool vm_disks_mmio_read(struct partition *p, uint64_t gpa, unsigned size, uint64_t *value)
{
    struct vm_disk_set *set = p->disks;
    if (!set)
        return false;
    unsigned bar;
    uint64_t off;
    bool irq = spin_lock_irqsave(&set->lock);
    struct vpci_func *f = vpci_find_mmio(&set->bus, gpa, &bar, &off);
    if (f)
        *value = vblk_pci_mmio_read(f->dev, off, size);
    spin_unlock_irqrestore(&set->lock, irq);
    return f != 0;
}

bool vm_disks_mmio_write(struct partition *p, uint64_t gpa, unsigned size, uint64_t value)
{
    struct vm_disk_set *set = p->disks;
    if (!set)
        return false;
    unsigned bar;
    uint64_t off;
    bool irq = spin_lock_irqsave(&set->lock);
    struct vpci_func *f = vpci_find_mmio(&set->bus, gpa, &bar, &off);
    if (f)
        vblk_pci_mmio_write(f->dev, off, size, value);
    spin_unlock_irqrestore(&set->lock, irq);
    return f != 0;
}
