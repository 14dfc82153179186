/* Monitor entry: bring up the CPU, memory, time, the scheduler, then the
 * virtualization backend and the partitions named in the boot config. */
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/trap.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/power.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "services/disk_service.h"
#include "kernel/wallclock.h"
#include "kernel/entropy.h"
#include "services/image_store.h"
#include "services/task_service.h"
#include "services/vm_service.h"
#include "vm/hypercall.h"
#include "vm/vmm.h"
#ifdef TV_TEST_BUILD
#include "testing/test_hooks.h"
#include "testing/verdict.h"
#endif
#include "drivers/block/block.h"
#include "drivers/pci/pci.h"
#include "drivers/serial.h"
#include "mm/mm.h"
#include "tv_status.h"
#include "tv_string.h"

extern char __bss_start[], __bss_end[];

uint64_t monitor_entry_tsc;

static void check_boot_info(const struct tv_boot_info *bi)
{
    if (!bi || bi->magic != TV_BOOT_INFO_MAGIC) {
        log_raw("taskvisor: no boot information (bad magic); cannot start\n");
        monitor_exit(MON_EXIT_PANIC);
    }
    if (bi->version != TV_BOOT_INFO_VERSION || bi->size != sizeof *bi) {
        log_raw("taskvisor: boot information version %u size %u, expected %u size %u\n",
                bi->version, bi->size, TV_BOOT_INFO_VERSION, (unsigned)sizeof *bi);
        monitor_exit(MON_EXIT_PANIC);
    }
    if (bi->mem_count > TV_BOOT_MAX_MEM || bi->partition_count > TV_BOOT_MAX_PARTITIONS) {
        log_raw("taskvisor: boot information counts out of range\n");
        monitor_exit(MON_EXIT_PANIC);
    }
}

void monitor_main(struct tv_boot_info *bi);
void monitor_main(struct tv_boot_info *bi)
{
    monitor_entry_tsc = rdtsc();
    /* .bss is zeroed by the loader; do it again for boot paths that do not. */
    serial_init();
    check_boot_info(bi);
    /* Options are needed before anything can fail (debug-exit port).  A bad
     * option refuses the boot: nothing runs on a configuration that is not
     * the one written (docs/boot.md, "Monitor options"). */
    char why[160];
    bool options_ok = options_check(bi->options, monitor_options, monitor_option_count, why,
                                    sizeof why);
    uint64_t port = option_get_u64(bi->options, "debug_exit", 0);
    monitor_set_debug_exit_port(port <= 0xffff ? (unsigned)port : 0);
    if (!options_ok) {
        log_err("TASKVISOR REFUSED: %s", why);
        monitor_exit(MON_EXIT_FAIL);
    }
    log_set_level((int)bi->log_level);
    percpu_init_bsp();
    idt_init();
    time_init();
    log_info("Taskvisor monitor at %#llx (%llu KiB), boot path %s, TSC %llu kHz",
             (unsigned long long)bi->monitor_phys, (unsigned long long)(bi->monitor_size >> 10),
             bi->boot_path == TV_BOOT_PATH_UEFI ? "UEFI" : "Multiboot2",
             (unsigned long long)time_tsc_khz());
    log_info("options: %s", bi->options[0] ? bi->options : "(none)");
    tv_status_t st = mm_init(bi);
    if (st != TV_OK)
        panic_stop("memory initialisation failed (%d)", st);
    power_init(bi->acpi_rsdp);
    /* Calendar time (after the TSC and ACPI: the FADT names the century
     * register) and the entropy source, for the image store's files. */
    wallclock_init();
    entropy_init();
    lapic_init();
    timer_subsystem_init();
    struct sched_config sc = {
        .tick_ns = option_get_u64(bi->options, "sched_tick_us", 2000) * 1000ull,
        .task_share_pct = (uint32_t)option_get_u64(bi->options, "task_share", 50),
        .min_slice_ns = 0,
    };
    sched_init(&sc);
    /* The monitor's own devices: PCI, then the disks on it.  A driver that
     * cannot start its device logs why; the boot goes on without it. */
    pci_init();
    blk_set_default_timeout(option_get_u64(bi->options, "blk_timeout_ms", 5000) * 1000000ull);
    blk_probe_all();
    st = vmm_init(bi);
    if (st == TV_OK)
        st = task_service_init(bi->options);
    if (st == TV_OK)
        st = disk_service_init(); /* the disk task types and DISK_START */
    if (st == TV_OK)
        st = image_store_init(bi->options); /* mounts, recovers, then resolves the disk paths */
    if (st == TV_OK)
        st = vm_service_init(bi->options);
    if (st == TV_OK)
        st = hypercall_table_seal();
#ifdef TV_TEST_BUILD
    if (st == TV_OK)
        st = verdict_start(bi->options);
    if (st == TV_OK)
        test_hooks_start(bi->options);
#endif
    if (st == TV_OK)
        st = vmm_run(bi);
    if (st != TV_OK) {
        log_err("TASKVISOR REFUSED: cannot start the partitions (%s)", tv_status_name(st));
        monitor_exit(MON_EXIT_FAIL);
    }
    sched_start();
}
