/* Choosing the virtualization backend, starting the partitions, the serial
 * console poller, and the end-of-run summary. */
#include "vm/vmm.h"
#include "arch/x86/cpu.h"
#include "vm/exit.h"
#include "vm/fpu.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "vm/partition.h"
#include "kernel/sched.h"
#include "services/task_service.h"
#include "vm/test_hooks.h"
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
static const char *boot_options = "";
static struct partition *console_target;

static void print_summary(void)
{
    uint32_t passed = 0, failed = 0;
    for (uint32_t i = 0; i < partition_count; i++) {
        struct partition *p = partitions[i];
        bool ok;
        const char *expected;
        char buf[32];
        switch (p->expect) {
        case EXPECT_TRIPLE_FAULT:
            ok = p->state == PART_STOPPED && p->stop_reason == STOP_TRIPLE_FAULT;
            expected = "triple fault";
            break;
        case EXPECT_BAD_ACCESS:
            ok = p->state == PART_STOPPED && p->stop_reason == STOP_BAD_ACCESS;
            expected = "access outside its memory";
            break;
        case EXPECT_ENTRY_FAILED:
            ok = p->state == PART_STOPPED && p->stop_reason == STOP_ENTRY_FAILED;
            expected = "VM entry failure";
            break;
        case EXPECT_RUNNING:
            ok = p->state == PART_RUNNING;
            expected = "still running";
            break;
        default:
            ok = p->state == PART_STOPPED && p->stop_reason == STOP_EXIT_PORT &&
                 p->stop_code == p->expect_code;
            tv_snprintf(buf, sizeof buf, "exit code %llu", (unsigned long long)p->expect_code);
            expected = buf;
            break;
        }
        const struct vcpu *v = &p->vcpu;
        log_info("partition %s: %s (%s, code %#llx), expected %s: %s", p->name,
                 partition_state_name(p->state), stop_reason_name(p->stop_reason),
                 (unsigned long long)p->stop_code, expected, ok ? "PASS" : "FAIL");
        log_info("partition %s exits: cpuid %llu msr %llu/%llu io %llu hlt %llu hypercall %llu "
                 "npf %llu intr %llu window %llu", p->name,
                 (unsigned long long)v->exit_counts[EXIT_CPUID],
                 (unsigned long long)v->exit_counts[EXIT_MSR_READ],
                 (unsigned long long)v->exit_counts[EXIT_MSR_WRITE],
                 (unsigned long long)v->exit_counts[EXIT_IO],
                 (unsigned long long)v->exit_counts[EXIT_HLT],
                 (unsigned long long)v->exit_counts[EXIT_HYPERCALL],
                 (unsigned long long)v->exit_counts[EXIT_NESTED_PAGE_FAULT],
                 (unsigned long long)v->exit_counts[EXIT_EXTERNAL_INTERRUPT],
                 (unsigned long long)v->exit_counts[EXIT_INTERRUPT_WINDOW]);
        if (ok) passed++; else failed++;
    }
    log_info("scheduler: worst vCPU wait %llu us (tick %llu us, task share %u%%)",
             (unsigned long long)(sched_max_vcpu_wait_ns() / 1000),
             (unsigned long long)(sched_get_config()->tick_ns / 1000),
             sched_get_config()->task_share_pct);
    /* A scenario may bound the worst scheduling delay of a runnable vCPU. */
    uint64_t bound_us = option_get_u64(boot_options, "assert_vcpu_wait_us", 0);
    if (bound_us) {
        bool ok = sched_max_vcpu_wait_ns() <= bound_us * 1000ull;
        log_info("worst vCPU wait %llu us, bound %llu us: %s",
                 (unsigned long long)(sched_max_vcpu_wait_ns() / 1000),
                 (unsigned long long)bound_us, ok ? "PASS" : "FAIL");
        if (ok) passed++; else failed++;
    }
    log_info("TASKVISOR SUMMARY: %u passed, %u failed", passed, failed);
    monitor_exit(failed ? MON_EXIT_FAIL : MON_EXIT_PASS);
}

static bool all_done(void)
{
    for (uint32_t i = 0; i < partition_count; i++)
        if (partitions[i]->state != PART_STOPPED && partitions[i]->expect != EXPECT_RUNNING)
            return false;
    return true;
}

void partition_stopped(struct partition *p)
{
    task_service_partition_stopped(p);
    bool irq = irq_save();
    p->state = PART_STOPPED;
    running_partitions--;
    bool done = all_done();
    irq_restore(irq);
    if (done)
        print_summary();
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

tv_status_t vmm_start(const struct tv_boot_info *bi)
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
    boot_options = bi->options;
    st = task_service_init(bi->options);
    if (st != TV_OK)
        return st;
    if (bi->partition_count == 0) {
        log_err("the boot configuration names no partitions");
        return TV_E_INVALID_ARGUMENT;
    }
    for (uint32_t i = 0; i < bi->partition_count; i++) {
        struct partition *p;
        st = partition_create(&bi->partitions[i], bi->options, i, &p);
        if (st != TV_OK)
            return st;
        partitions[partition_count++] = p;
        if (p->flags & TV_PART_CONTROL) {
            console_target = p;
            char mode[8];
            /* console=raw: the control partition owns the terminal (make run). */
            if (option_get(bi->options, "console", mode, sizeof mode) && tv_strcmp(mode, "raw") == 0)
                p->uart.raw = true;
        }
    }
    for (uint32_t i = 0; i < partition_count; i++) {
        struct partition *p = partitions[i];
        p->state = PART_RUNNING;
        running_partitions++;
        p->vcpu.thread = thread_create(p->name, CLASS_VCPU, vcpu_thread_main, &p->vcpu);
        if (!p->vcpu.thread)
            return TV_E_NO_MEMORY;
        p->vcpu.thread->owner = &p->vcpu;
    }
    if (!thread_create("console", CLASS_TASK, console_poller, 0))
        return TV_E_NO_MEMORY;
    test_hooks_start(bi->options);
    uint64_t guest_bytes = 0;
    for (uint32_t i = 0; i < partition_count; i++)
        guest_bytes += partitions[i]->mem_bytes;
    struct pmm *pm = mm_pmm();
    uint64_t used = (pm->total_usable - pm->free_pages) * PAGE_SIZE - guest_bytes;
    log_info("footprint: image %llu KiB, %llu KiB allocated (tables, stacks, heap, VMCBs), "
             "%llu MiB of guest RAM", (unsigned long long)(bi->monitor_size >> 10),
             (unsigned long long)(used >> 10), (unsigned long long)(guest_bytes >> 20));
    log_info("%u partitions started on %s; %llu KiB heap, %llu MiB free",
             partition_count, virt->name, (unsigned long long)(kheap_in_use() >> 10),
             (unsigned long long)(mm_pmm()->free_pages * PAGE_SIZE >> 20));
    return TV_OK;
}
