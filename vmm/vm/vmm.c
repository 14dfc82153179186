/* Choosing the virtualization backend, creating and starting the partitions,
 * the stop listeners, and the serial console poller. */
#include "vm/vmm.h"
#include "arch/x86/cpu.h"
#include "vm/exit.h"
#include "vm/fpu.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "vm/partition.h"
#include "vm/vm_life.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "drivers/serial.h"
#include "mm/mm.h"
#include "tv_fmt.h"
#include "tv_string.h"

extern const struct virt_ops svm_ops;
extern const struct virt_ops vmx_ops;

/* Backends in order of preference; the first whose probe passes is used. */
static const struct virt_ops *const backends[] = { &svm_ops, &vmx_ops };

static uint32_t running_partitions;
static struct partition *console_target;
static void (*stop_listeners[PARTITION_MAX_STOP_LISTENERS])(struct partition *p);
static unsigned stop_listener_count;

struct partition *partition_by_id(uint32_t id)
{
    for (uint32_t i = 0; i < partition_count; i++)
        if (partitions[i]->id == id)
            return partitions[i];
    return 0;
}

tv_status_t partition_add_stop_listener(void (*fn)(struct partition *p))
{
    if (stop_listener_count >= PARTITION_MAX_STOP_LISTENERS)
        return TV_E_NO_MEMORY;
    stop_listeners[stop_listener_count++] = fn;
    return TV_OK;
}

void partition_stopped(struct partition *p)
{
    bool irq = irq_save();
    p->state = PART_STOPPED;
    uint32_t left = --running_partitions;
    irq_restore(irq);
    for (unsigned i = 0; i < stop_listener_count; i++)
        stop_listeners[i](p);
    /* Nothing ends the machine here: the monitor keeps running (and serving
     * hypercalls, tasks and the console) until it is powered off. */
    if (left == 0 && !p->turn_off_asked)
        log_info("all %u partitions have stopped; the monitor keeps running", partition_count);
}

static void console_poller(void *arg)
{
    (void)arg;
    for (;;) {
        int c;
        bool got = false;
        while ((c = serial_try_read()) >= 0) {
            if (console_target && console_target->state == PART_RUNNING) {
                vuart_push_input(&console_target->uart, (uint8_t)c);
                got = true;
            }
        }
        if (got)
            vcpu_post_request(&console_target->vcpu, VCPU_REQ_KICK);
        thread_sleep_ns(10000000ull); /* 10 ms: typing speed, negligible cost */
    }
}

tv_status_t vmm_init(const struct tv_boot_info *bi)
{
    char why[160];
    for (unsigned i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (backends[i]->probe(why, sizeof why) == TV_OK) {
            virt = backends[i];
            break;
        }
        log_err("%s unusable: %s", backends[i]->name, why);
    }
    if (!virt) {
        log_err("no usable hardware virtualization (AMD SVM with nested paging, or Intel VMX "
                "with EPT): Taskvisor cannot run guests on this machine");
        log_err("TASKVISOR REFUSED: no usable hardware virtualization");
        monitor_exit(MON_EXIT_FAIL);
    }
    fpu_init_host();
    tv_status_t st = virt->cpu_enable();
    if (st != TV_OK)
        return st;
    if (bi->partition_count == 0) {
        log_err("the boot configuration names no partitions");
        return TV_E_INVALID_ARGUMENT;
    }
    for (uint32_t i = 0; i < bi->partition_count; i++) {
        struct partition *p;
        st = partition_define(&bi->partitions[i], i, &p);
        if (st != TV_OK)
            return st;
        partitions[partition_count++] = p;
        if (p->flags & TV_PART_CONTROL) {
            console_target = p;
            char mode[8];
            /* console=raw: the control partition owns the terminal (make run). */
            if (option_get(bi->options, "console", mode, sizeof mode) && tv_strcmp(mode, "raw") == 0)
                p->console_raw = true;
        }
    }
    /* The VMs that start at boot (autostart, the default) are built now, as
     * every partition was before VMs could be started later: a boot whose
     * partitions cannot be built is refused. */
    for (uint32_t i = 0; i < partition_count; i++) {
        struct partition *p = partitions[i];
        if (p->flags & TV_PART_NO_AUTOSTART)
            continue;
        if ((st = vm_set_state(p, TV_VM_TURNING_ON)) != TV_OK ||
            (st = partition_build(p, 0, 0)) != TV_OK)
            return st;
    }
    return TV_OK;
}

tv_status_t partition_launch(struct partition *p)
{
    bool irq = irq_save();
    p->state = PART_RUNNING;
    p->thread_done = false;
    p->joiner = 0;
    p->start_count++;
    running_partitions++;
    irq_restore(irq);
    struct thread *t = thread_create(p->name, CLASS_VCPU, vcpu_thread_main, &p->vcpu);
    if (!t) {
        irq = irq_save();
        p->state = PART_STOPPED;
        p->thread_done = true;
        running_partitions--;
        irq_restore(irq);
        return TV_E_NO_MEMORY;
    }
    /* Before the thread first runs (it was only queued): one CPU. */
    irq = irq_save();
    p->vcpu.thread = t;
    t->owner = &p->vcpu;
    irq_restore(irq);
    return TV_OK;
}

void partition_wait_ended(struct partition *p)
{
    bool irq = irq_save();
    while (!p->thread_done) {
        p->joiner = thread_current();
        thread_block_until(UINT64_MAX);
    }
    p->joiner = 0;
    irq_restore(irq);
}

tv_status_t vmm_run(const struct tv_boot_info *bi)
{
    uint32_t started = 0;
    for (uint32_t i = 0; i < partition_count; i++) {
        struct partition *p = partitions[i];
        if (!p->built)
            continue; /* autostart = no: a definition until VM_STARTUP */
        tv_status_t st = partition_launch(p);
        if (st == TV_OK)
            st = vm_set_state(p, TV_VM_RUNNING);
        if (st != TV_OK)
            return st;
        started++;
    }
    if (!thread_create("console", CLASS_TASK, console_poller, 0))
        return TV_E_NO_MEMORY;
    uint64_t guest_bytes = 0;
    for (uint32_t i = 0; i < partition_count; i++)
        if (partitions[i]->built)
            guest_bytes += partitions[i]->mem_bytes;
    struct pmm *pm = mm_pmm();
    uint64_t used = (pm->total_usable - pm->free_pages) * PAGE_SIZE - guest_bytes;
    log_info("footprint: image %llu KiB, %llu KiB allocated (tables, stacks, heap, VMCBs), "
             "%llu MiB of guest RAM", (unsigned long long)(bi->monitor_size >> 10),
             (unsigned long long)(used >> 10), (unsigned long long)(guest_bytes >> 20));
    log_info("%u partitions started on %s (%u defined); %llu KiB heap, %llu MiB free",
             started, virt->name, partition_count, (unsigned long long)(kheap_in_use() >> 10),
             (unsigned long long)(mm_pmm()->free_pages * PAGE_SIZE >> 20));
    return TV_OK;
}
