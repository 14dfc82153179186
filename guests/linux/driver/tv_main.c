// SPDX-License-Identifier: GPL-2.0 OR MIT
/* taskvisor.ko: /dev/taskvisor, the Linux control partition's door to the
 * Taskvisor monitor (docs/linux-driver.md).
 *
 * - Loads only under Taskvisor: CPUID 0x40000000 must carry the signature and
 *   0x40000001 the ABI major this driver speaks (else -ENODEV with a line
 *   saying why); VMMCALL or VMCALL is chosen from the CPUID vendor.
 * - One ioctl per call class (include/taskvisor/tvdev.h).  Every structure is
 *   copied into a kmalloc'd (physically contiguous) kernel buffer, checked
 *   by tvdev_decode.c, and only that buffer's physical address is given to
 *   the monitor; results go back with copy_to_user.
 * - Task events: one kernel page is the monitor's event ring.  The monitor
 *   raises the vector Linux assigned to an ISA IRQ of the MP table (event_irq,
 *   default 5, a pin nothing else drives); the handler moves the ring's
 *   entries into the queues of the files that subscribed, read() and poll()
 *   deliver them.  Without that IRQ the ring is polled on a 10 ms timer. */
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <asm/hw_irq.h>
#include <asm/io.h>
#include <asm/processor.h>

#include "tvdev_decode.h"

static int event_irq = 5;
module_param(event_irq, int, 0444);
MODULE_PARM_DESC(event_irq, "ISA IRQ whose vector the monitor raises for task events (0: poll the ring every 10 ms)");

static bool use_vmmcall;      /* AMD/Hygon: VMMCALL; Intel: VMCALL */
static u32 monitor_abi, monitor_features;

struct hc_out {
    u64 rdx, rsi;
};

/* docs/hypercalls.md: code in RAX, a0..a4 in RDI, RSI, RDX, R10, R8; status
 * in RAX, outputs in RDX, RSI, RDI.  A call that continues comes back with
 * RIP on the instruction and its argument registers rewritten, so the CPU
 * simply executes it again after the pending interrupts: every argument
 * register is an in/out operand. */
static u64 tv_hypercall(u64 code, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, struct hc_out *o)
{
    register u64 r10 asm("r10") = a3;
    register u64 r8 asm("r8") = a4;
    u64 rax = code, rdi = a0, rsi = a1, rdx = a2;

    if (use_vmmcall)
        asm volatile("vmmcall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8)
                     : : "memory");
    else
        asm volatile("vmcall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8)
                     : : "memory");
    if (o) {
        o->rdx = rdx;
        o->rsi = rsi;
    }
    return rax;
}

/* ---- Events ---------------------------------------------------------------- */
struct tv_file {
    struct list_head link;    /* in subscribers while subscribed */
    bool subscribed;
    u32 kinds;                /* TVDEV_SUBSCRIBE_* while subscribed */
    struct tvd_queue q;
};

static LIST_HEAD(subscribers);
static DEFINE_SPINLOCK(ev_lock);
static DECLARE_WAIT_QUEUE_HEAD(ev_wait);
static struct tv_task_ring *ring;  /* one page, registered with the monitor */
static u32 event_mode, event_vector;
static bool ring_vm;               /* the ring was registered with TV_TASK_EVENTS_F_VM */
static int event_irq_used;         /* the IRQ requested, 0 = none */
static struct timer_list ev_timer;

/* Moves what the monitor put into the ring into every subscriber's queue. */
static void drain_ring(void)
{
    struct tv_task_event buf[16];
    struct tv_file *f;
    unsigned long flags;
    size_t n, i;
    bool lost, any = false;

    spin_lock_irqsave(&ev_lock, flags);
    do {
        if (!tvd_ring_take(ring, buf, ARRAY_SIZE(buf), &n, &lost)) {
            pr_warn_ratelimited("taskvisor: the event ring is malformed\n");
            break;
        }
        list_for_each_entry(f, &subscribers, link) {
            if (lost)
                tvd_queue_mark_lost(&f->q);
            for (i = 0; i < n; i++)
                if (tvd_event_wanted(f->kinds, buf[i].state))
                    tvd_queue_push(&f->q, &buf[i]);
        }
        any |= n || lost;
    } while (n == ARRAY_SIZE(buf));
    spin_unlock_irqrestore(&ev_lock, flags);
    if (any)
        wake_up_interruptible(&ev_wait);
}

static irqreturn_t tv_irq(int irq, void *dev)
{
    (void)irq;
    (void)dev;
    drain_ring();
    return IRQ_HANDLED;
}

static void tv_timer(struct timer_list *t)
{
    drain_ring();
    mod_timer(t, jiffies + msecs_to_jiffies(10));
}

/* ---- ioctls -------------------------------------------------------------- */
static long do_version(void __user *uarg)
{
    struct tvdev_version *k = kzalloc(sizeof *k, GFP_KERNEL);
    struct hc_out o = { 0, 0 };
    long ret = 0;

    if (!k)
        return -ENOMEM;
    k->status = (u32)tv_hypercall(TV_HC_GET_VERSION, 0, 0, 0, 0, 0, &o);
    if (k->status == TV_OK) {
        k->abi = (u32)o.rdx;
        k->features = (u32)o.rsi;
    }
    k->driver_abi = TVDEV_ABI;
    k->event_mode = event_mode;
    k->event_vector = event_vector;
    k->event_irq = (u32)event_irq_used;
    if (copy_to_user(uarg, k, sizeof *k))
        ret = -EFAULT;
    kfree(k);
    return ret;
}

/* The shape of most ioctls: the caller's structure (`size` bytes) is copied
 * into a kmalloc'd buffer (physically contiguous, so a call may hand the
 * monitor its address), `call` checks and runs it there, and on success the
 * buffer goes back to the caller.  A call's error skips the copy-out. */
static long tv_ioctl_call(void __user *uarg, size_t size, long (*call)(void *k))
{
    void *k = kmalloc(size, GFP_KERNEL);
    long ret;

    if (!k)
        return -ENOMEM;
    if (copy_from_user(k, uarg, size))
        ret = -EFAULT;
    else
        ret = call(k);
    if (ret == 0 && copy_to_user(uarg, k, size))
        ret = -EFAULT;
    kfree(k);
    return ret;
}

/* POWER_OFF (0x003): the monitor enters ACPI S5 and this call never returns;
 * it comes back only with the reason it could not. */
static long do_power_off(void *arg)
{
    struct tvdev_power_off *p = arg;

    if (!tvd_check_power_off(p))
        return -EINVAL;
    p->status = (u32)tv_hypercall(TV_HC_POWER_OFF, 0, 0, 0, 0, 0, NULL);
    return 0;
}

static long do_query(void *arg)
{
    struct tvdev_task_query *k = arg;
    struct hc_out o = { 0, 0 };

    if (!tvd_check_query(k))
        return -EINVAL;
    memset(&k->info, 0, sizeof k->info); /* nothing of the caller's goes back */
    k->status = (u32)tv_hypercall(TV_HC_TASK_QUERY, k->id, virt_to_phys(&k->info),
                                  sizeof k->info, 0, 0, &o);
    return 0;
}

static long do_list(void *arg)
{
    const u32 chunk = PAGE_SIZE / sizeof(struct tv_task_event);
    struct tvdev_task_list *l = arg;
    struct tv_task_event *bounce;
    struct tv_task_event __user *dst;
    struct hc_out o;
    u64 cursor;
    long ret = 0;

    if (!tvd_check_list(l))
        return -EINVAL;
    bounce = (struct tv_task_event *)__get_free_page(GFP_KERNEL);
    if (!bounce)
        return -ENOMEM;
    dst = (struct tv_task_event __user *)(uintptr_t)l->entries;
    cursor = l->cursor;
    l->count = 0;
    l->status = TV_OK;
    /* A zero capacity still asks the monitor (it checks the flags). */
    do {
        u32 want = min(l->capacity - l->count, chunk);
        u64 got;

        o.rdx = 0;
        l->status = (u32)tv_hypercall(TV_HC_TASK_LIST, cursor, want ? virt_to_phys(bounce) : 0,
                                      want, l->flags, 0, &o);
        if (l->status != TV_OK)
            break;
        got = o.rdx;
        if (got > want) {
            l->status = TV_E_CORRUPT; /* the monitor broke its contract */
            break;
        }
        if (got && copy_to_user(dst + l->count, bounce, got * sizeof *bounce)) {
            ret = -EFAULT;
            break;
        }
        l->count += (u32)got;
        if (got < want || want == 0)
            break;
        cursor = bounce[got - 1].id;
        if (signal_pending(current)) {
            ret = -EINTR;
            break;
        }
        cond_resched();
    } while (l->count < l->capacity);
    free_page((unsigned long)bounce);
    return ret;
}

static long do_verb(void *arg)
{
    struct tvdev_task_verb *v = arg;
    u32 code;

    if (!tvd_check_verb(v, &code))
        return -EINVAL;
    v->status = (u32)tv_hypercall(code, v->id, 0, 0, 0, 0, NULL);
    return 0;
}

/* TASK_WAIT in slices (tvdev_decode.h): the monitor's own continuation keeps
 * each slice short for the CPU; between slices a signal ends the wait
 * (-EINTR: Ctrl-C) and the scheduler may run others. */
static long do_wait(void *arg)
{
    struct tvdev_task_wait *w = arg;
    struct tvd_wait plan;

    if (!tvd_check_wait(w))
        return -EINVAL;
    tvd_wait_begin(&plan, w->timeout_ms, ktime_get_ns());
    for (;;) {
        u32 slice;
        bool last = tvd_wait_next(&plan, ktime_get_ns(), &slice);

        w->status = (u32)tv_hypercall(TV_HC_TASK_WAIT, w->id, slice, 0, 0, 0, NULL);
        if (w->status != TV_E_TIMEOUT || last)
            break;
        if (signal_pending(current))
            return -EINTR;
        cond_resched();
    }
    return 0;
}

static long do_events(struct tv_file *f, void __user *uarg)
{
    struct tvdev_events e;
    unsigned long flags;

    if (copy_from_user(&e, uarg, sizeof e))
        return -EFAULT;
    if (!tvd_check_events(&e))
        return -EINVAL;
    if (!event_mode || ((e.enable & TVDEV_SUBSCRIBE_VMS) && !ring_vm))
        return -EOPNOTSUPP;
    spin_lock_irqsave(&ev_lock, flags);
    if (e.enable)
        f->kinds = e.enable;
    if (e.enable && !f->subscribed) {
        tvd_queue_init(&f->q);
        list_add_tail(&f->link, &subscribers);
        f->subscribed = true;
    } else if (!e.enable && f->subscribed) {
        list_del(&f->link);
        f->subscribed = false;
    }
    spin_unlock_irqrestore(&ev_lock, flags);
    wake_up_interruptible(&ev_wait);
    return 0;
}

/* ---- disks ------------------------------------------------------------------ */
/* The disk class: the record goes through a kmalloc'd bounce buffer, checked
 * for its size against the call (tvd_check_disk) before anything is copied;
 * the monitor reads it once from there. */
static long do_disk(void *arg)
{
    struct tvdev_disk *d = arg;
    struct hc_out o = { 0, 0 };
    void *rec;

    if (!tvd_check_disk(d))
        return -EINVAL;
    rec = kmalloc(d->in_size, GFP_KERNEL);
    if (!rec)
        return -ENOMEM;
    if (copy_from_user(rec, (const void __user *)(uintptr_t)d->in, d->in_size)) {
        kfree(rec);
        return -EFAULT;
    }
    switch (d->call) {
    case TV_HC_DISK_START:
        d->status = (u32)tv_hypercall(TV_HC_DISK_START, d->arg, virt_to_phys(rec), d->in_size, 0,
                                      0, &o);
        d->result = d->status == TV_OK ? o.rdx : 0;
        break;
    case TV_HC_DIR_CREATE:
        d->status = (u32)tv_hypercall(TV_HC_DIR_CREATE, virt_to_phys(rec), d->in_size, 0, 0, 0,
                                      &o);
        d->result = 0;
        break;
    }
    kfree(rec);
    return 0;
}

/* ---- virtual machines ---------------------------------------------------------- */
/* VM_LIST has no cursor: the monitor writes the first capacity records in
 * one go, so the bounce is one physically contiguous run of zeroed pages
 * (at most 64 records, 8 pages). */
static long do_vm_list(void *arg)
{
    struct tvdev_vm_list *l = arg;
    struct hc_out o = { 0, 0 };
    size_t bytes;
    unsigned int order = 0;
    unsigned long pages = 0;
    long ret = 0;

    if (!tvd_check_vm_list(l))
        return -EINVAL;
    bytes = (size_t)l->capacity * sizeof(struct tv_vm_info);
    if (bytes) {
        order = get_order(bytes);
        pages = __get_free_pages(GFP_KERNEL | __GFP_ZERO, order);
        if (!pages)
            return -ENOMEM;
    }
    l->status = (u32)tv_hypercall(TV_HC_VM_LIST, pages ? virt_to_phys((void *)pages) : 0,
                                 l->capacity, 0, 0, 0, &o);
    l->total = 0;
    l->count = 0;
    if (l->status == TV_OK) {
        l->total = o.rdx > U32_MAX ? U32_MAX : (u32)o.rdx;
        l->count = tvd_vm_list_written(o.rdx, l->capacity);
        if (l->count && copy_to_user((void __user *)(uintptr_t)l->entries, (void *)pages,
                                    (size_t)l->count * sizeof(struct tv_vm_info)))
            ret = -EFAULT;
    }
    if (pages)
        free_pages(pages, order);
    return ret;
}

static long do_vm_query(void *arg)
{
    struct tvdev_vm_query *k = arg;
    struct hc_out o = { 0, 0 };

    if (!tvd_check_vm_query(k))
        return -EINVAL;
    memset(&k->info, 0, sizeof k->info); /* nothing of the caller's goes back */
    k->status = (u32)tv_hypercall(TV_HC_VM_QUERY, k->id, virt_to_phys(&k->info), sizeof k->info,
                                  0, 0, &o);
    return 0;
}

static long do_vm_op(void *arg)
{
    struct tvdev_vm_op *v = arg;
    struct hc_out o = { 0, 0 };

    if (!tvd_check_vm_op(v))
        return -EINVAL;
    v->status = (u32)tv_hypercall(v->call, v->id, v->flags, 0, 0, 0, &o);
    v->task = v->status == TV_OK ? o.rdx : 0;
    return 0;
}

/* Only test builds of the monitor have the call: tv_ioctl asks first. */
static long do_test_start(void *arg)
{
    struct tvdev_test_start *k = arg;
    struct hc_out o = { 0, 0 };

    if (!tvd_check_test_start(k))
        return -EINVAL;
    k->status = (u32)tv_hypercall(TV_HC_TEST_TASK_START, virt_to_phys(&k->spec),
                                  sizeof k->spec, 0, 0, 0, &o);
    k->id = k->status == TV_OK ? o.rdx : 0;
    return 0;
}

static long tv_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
    void __user *uarg = (void __user *)arg;

    switch (cmd) {
    case TVDEV_IOC_VERSION:    return do_version(uarg);
#define CALL(type, fn) tv_ioctl_call(uarg, sizeof(struct type), fn)
    case TVDEV_IOC_POWER_OFF:  return CALL(tvdev_power_off, do_power_off);
    case TVDEV_IOC_TASK_QUERY: return CALL(tvdev_task_query, do_query);
    case TVDEV_IOC_TASK_LIST:  return CALL(tvdev_task_list, do_list);
    case TVDEV_IOC_TASK_VERB:  return CALL(tvdev_task_verb, do_verb);
    case TVDEV_IOC_TASK_WAIT:  return CALL(tvdev_task_wait, do_wait);
    case TVDEV_IOC_EVENTS:     return do_events(file->private_data, uarg);
    case TVDEV_IOC_DISK:       return CALL(tvdev_disk, do_disk);
    case TVDEV_IOC_VM_LIST:    return CALL(tvdev_vm_list, do_vm_list);
    case TVDEV_IOC_VM_QUERY:   return CALL(tvdev_vm_query, do_vm_query);
    case TVDEV_IOC_VM_OP:      return CALL(tvdev_vm_op, do_vm_op);
    case TVDEV_IOC_TEST_START:
        if (!(monitor_features & TV_FEAT_TEST_CALLS))
            return -ENOTTY; /* only test builds of the monitor have the call */
        return CALL(tvdev_test_start, do_test_start);
#undef CALL
    default:                   return -ENOTTY;
    }
}

/* ---- read / poll / open / release ----------------------------------------- */
static bool queue_ready(struct tv_file *f)
{
    unsigned long flags;
    bool ready;

    spin_lock_irqsave(&ev_lock, flags);
    ready = !f->subscribed || !tvd_queue_empty(&f->q);
    spin_unlock_irqrestore(&ev_lock, flags);
    return ready;
}

static ssize_t tv_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
    struct tv_file *f = file->private_data;
    struct tvdev_event ev[16];
    size_t max = min(count / sizeof ev[0], ARRAY_SIZE(ev)), n = 0;
    unsigned long flags;

    (void)ppos;
    if (max == 0)
        return -EINVAL;
    for (;;) {
        spin_lock_irqsave(&ev_lock, flags);
        if (!f->subscribed) {
            spin_unlock_irqrestore(&ev_lock, flags);
            return -EINVAL; /* subscribe first (TVDEV_IOC_EVENTS) */
        }
        while (n < max && tvd_queue_pop(&f->q, &ev[n]))
            n++;
        spin_unlock_irqrestore(&ev_lock, flags);
        if (n)
            break;
        if (file->f_flags & O_NONBLOCK)
            return -EAGAIN;
        if (wait_event_interruptible(ev_wait, queue_ready(f)))
            return -ERESTARTSYS;
    }
    if (copy_to_user(buf, ev, n * sizeof ev[0]))
        return -EFAULT;
    return (ssize_t)(n * sizeof ev[0]);
}

static __poll_t tv_poll(struct file *file, poll_table *pt)
{
    struct tv_file *f = file->private_data;
    unsigned long flags;
    __poll_t mask = 0;

    poll_wait(file, &ev_wait, pt);
    spin_lock_irqsave(&ev_lock, flags);
    if (f->subscribed && !tvd_queue_empty(&f->q))
        mask = EPOLLIN | EPOLLRDNORM;
    spin_unlock_irqrestore(&ev_lock, flags);
    return mask;
}

static int tv_open(struct inode *inode, struct file *file)
{
    struct tv_file *f;

    (void)inode;
    /* The node is 0600 root; a capability check as well, so a chmod does
     * not hand the task API to everybody. */
    if (!capable(CAP_SYS_ADMIN))
        return -EPERM;
    f = kzalloc(sizeof *f, GFP_KERNEL);
    if (!f)
        return -ENOMEM;
    INIT_LIST_HEAD(&f->link);
    tvd_queue_init(&f->q);
    file->private_data = f;
    return 0;
}

static int tv_release(struct inode *inode, struct file *file)
{
    struct tv_file *f = file->private_data;
    unsigned long flags;

    (void)inode;
    spin_lock_irqsave(&ev_lock, flags);
    if (f->subscribed)
        list_del(&f->link);
    spin_unlock_irqrestore(&ev_lock, flags);
    kfree(f);
    return 0;
}

static const struct file_operations tv_fops = {
    .owner = THIS_MODULE,
    .open = tv_open,
    .release = tv_release,
    .read = tv_read,
    .poll = tv_poll,
    .unlocked_ioctl = tv_ioctl,
    .compat_ioctl = compat_ptr_ioctl,
    .llseek = noop_llseek,
};

static struct miscdevice tv_misc = {
    .minor = MISC_DYNAMIC_MINOR,
    .name = TVDEV_NAME,
    .fops = &tv_fops,
    .mode = 0600,
};

/* ---- load / unload -------------------------------------------------------- */
static void cpuid_leaf(u32 leaf, struct tvd_cpuid *r)
{
    cpuid(leaf, &r->eax, &r->ebx, &r->ecx, &r->edx);
}

/* The vector Linux gave the IRQ (the IOAPIC pin's entry): what the monitor
 * must raise so that Linux runs our handler. */
static u32 irq_vector(int irq)
{
    struct irq_data *d = irq_get_irq_data(irq);
    struct irq_cfg *cfg = d ? irqd_cfg(d) : NULL;

    return cfg ? cfg->vector : 0;
}

static void events_start(void)
{
    /* VM state changes too when the monitor has VMs; each file picks its
     * kinds (TVDEV_SUBSCRIBE_*), task events only for those that ask 1. */
    u64 evflags = (monitor_features & TV_FEAT_VMS) ? TV_TASK_EVENTS_F_VM : 0;
    u64 gpa;

    if (!(monitor_features & TV_FEAT_TASK_EVENTS))
        return;
    ring = (struct tv_task_ring *)get_zeroed_page(GFP_KERNEL);
    if (!ring)
        return;
    gpa = virt_to_phys(ring);
    if (event_irq > 0 && request_irq(event_irq, tv_irq, 0, "taskvisor", &tv_misc) == 0) {
        u32 vector = irq_vector(event_irq);
        tv_status_t st = vector >= 32 && vector <= 255
                             ? (tv_status_t)tv_hypercall(TV_HC_TASK_EVENTS_REGISTER, gpa,
                                                         vector, evflags, 0, 0, NULL)
                             : TV_E_UNSUPPORTED;
        if (st == TV_OK) {
            event_mode = TVDEV_EVENTS_IRQ;
            event_vector = vector;
            event_irq_used = event_irq;
            ring_vm = evflags != 0;
            return;
        }
        pr_warn("taskvisor: IRQ %d (vector %u) refused for events (status %d); polling the ring\n",
                event_irq, vector, st);
        free_irq(event_irq, &tv_misc);
    } else if (event_irq > 0) {
        pr_warn("taskvisor: IRQ %d not available; polling the event ring\n", event_irq);
    }
    if (tv_hypercall(TV_HC_TASK_EVENTS_REGISTER, gpa, 0, evflags, 0, 0, NULL) != TV_OK) {
        pr_warn("taskvisor: the monitor refused the event ring; no events\n");
        free_page((unsigned long)ring);
        ring = NULL;
        return;
    }
    event_mode = TVDEV_EVENTS_TIMER;
    ring_vm = evflags != 0;
    timer_setup(&ev_timer, tv_timer, 0);
    mod_timer(&ev_timer, jiffies + msecs_to_jiffies(10));
}

static void events_stop(void)
{
    if (!ring)
        return;
    if (event_mode == TVDEV_EVENTS_IRQ)
        free_irq(event_irq_used, &tv_misc);
    else if (event_mode == TVDEV_EVENTS_TIMER)
        del_timer_sync(&ev_timer);
    if (tv_hypercall(TV_HC_TASK_EVENTS_REGISTER, 0, 0, 0, 0, 0, NULL) != TV_OK) {
        /* The monitor may still write there: never reuse the page. */
        pr_warn("taskvisor: the monitor kept the event ring; its page stays allocated\n");
        ring = NULL;
        return;
    }
    free_page((unsigned long)ring);
    ring = NULL;
}

static int __init tv_init(void)
{
    struct tvd_cpuid vendor, base, version = { 0, 0, 0, 0 };
    struct hc_out o = { 0, 0 };
    enum tvd_probe p;
    u64 st;
    int ret;

    cpuid_leaf(0, &vendor);
    cpuid_leaf(TV_CPUID_BASE, &base);
    if (base.eax >= TV_CPUID_LEAF_VERSION)
        cpuid_leaf(TV_CPUID_LEAF_VERSION, &version);
    p = tvd_probe(&vendor, &base, &version, &use_vmmcall);
    switch (p) {
    case TVD_PROBE_OK:
        break;
    case TVD_PROBE_NO_SIGNATURE:
        pr_err("taskvisor: not running under Taskvisor (CPUID 0x40000000 signature is not TaskvisorTV!); not loading\n");
        return -ENODEV;
    case TVD_PROBE_NO_VERSION:
        pr_err("taskvisor: the monitor has no version leaf (CPUID 0x40000000 EAX 0x%x); not loading\n",
               base.eax);
        return -ENODEV;
    case TVD_PROBE_ABI_MAJOR:
        pr_err("taskvisor: monitor ABI %u.%u, this driver speaks ABI %u.x; not loading\n",
               version.eax >> 16, version.eax & 0xffff, TV_ABI_VERSION_MAJOR);
        return -ENODEV;
    case TVD_PROBE_UNKNOWN_VENDOR:
    default:
        pr_err("taskvisor: unknown CPU vendor (neither VMMCALL nor VMCALL known); not loading\n");
        return -ENODEV;
    }
    st = tv_hypercall(TV_HC_GET_VERSION, 0, 0, 0, 0, 0, &o);
    if (st != TV_OK || (o.rdx >> 16) != TV_ABI_VERSION_MAJOR) {
        pr_err("taskvisor: GET_VERSION answered status %llu, ABI 0x%llx; not loading\n", st, o.rdx);
        return -ENODEV;
    }
    monitor_abi = (u32)o.rdx;
    monitor_features = (u32)o.rsi;
    events_start();
    ret = misc_register(&tv_misc);
    if (ret) {
        events_stop();
        return ret;
    }
    if (event_mode == TVDEV_EVENTS_IRQ)
        pr_info("taskvisor: monitor ABI %u.%u, features 0x%x, %s; /dev/%s; events on IRQ %d (vector 0x%x)\n",
                monitor_abi >> 16, monitor_abi & 0xffff, monitor_features,
                use_vmmcall ? "VMMCALL" : "VMCALL", TVDEV_NAME, event_irq_used, event_vector);
    else
        pr_info("taskvisor: monitor ABI %u.%u, features 0x%x, %s; /dev/%s; events %s\n",
                monitor_abi >> 16, monitor_abi & 0xffff, monitor_features,
                use_vmmcall ? "VMMCALL" : "VMCALL", TVDEV_NAME,
                event_mode == TVDEV_EVENTS_TIMER ? "polled every 10 ms" : "unavailable");
    return 0;
}

static void __exit tv_exit(void)
{
    misc_deregister(&tv_misc);
    events_stop();
}

module_init(tv_init);
module_exit(tv_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("Taskvisor control partition device (/dev/taskvisor)");
