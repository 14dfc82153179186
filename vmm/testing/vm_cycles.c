/* The start/turn-off memory test (test builds): option vm_cycles.NAME=N
 * runs N Startup/TurnOff cycles of VM NAME (defined with autostart = no)
 * as the VM hypercalls start them -- tasks of the VM types, through the one
 * registry, waited for and dismissed -- and checks that the monitor's free
 * memory -- free pages of the page allocator and bytes of kernel heap in
 * use -- is where it started.  Both figures are printed before and after. */
#include "testing/vm_cycles.h"
#include "testing/verdict.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/sched.h"
#include "mm/mm.h"
#include "services/image_store.h"
#include "services/task_service.h"
#include "services/vm_state.h"
#include "vm/partition.h"
#include "vm/vm_life.h"
#include "tv_fmt.h"

struct cycle_run {
    struct partition *p;
    uint64_t cycles;
};

static struct cycle_run runs[MAX_PARTITIONS];

/* One operation as VM_STARTUP / VM_TURN_OFF runs it: a task of its type,
 * waited for, its result checked, dismissed (its record freed). */
static tv_status_t op(struct partition *p, uint32_t which)
{
    struct task_mgr *mgr = task_service_mgr();
    struct tv_vm_op_args args = { p->id, 0 };
    uint64_t id = 0;
    tv_status_t st = task_types_start(task_service_types(), mgr, vm_op_task_type(which), &args,
                                      sizeof args, &id);
    if (st != TV_OK)
        return st;
    if ((st = task_wait(mgr, id, TV_TASK_WAIT_FOREVER)) != TV_OK)
        return st;
    struct tv_task_info info;
    if ((st = task_query(mgr, id, &info)) != TV_OK)
        return st;
    task_dismiss(mgr, id);
    return info.result == TV_TASK_RESULT_SUCCESS ? TV_OK : (info.error ? info.error : TV_E_IO);
}

/* The dead vCPU thread's stack goes back when the scheduler next switches
 * (kernel/sched.c): measure after a short sleep. */
static void measure(uint64_t *pages, uint64_t *heap, uint64_t *pool)
{
    thread_sleep_ns(5000000ull);
    *pages = mm_pmm()->free_pages;
    *heap = kheap_in_use();
    *pool = kheap_pool_pages();
}

static void cycle_thread(void *arg)
{
    struct cycle_run *r = arg;
    struct partition *p = r->p;
    thread_sleep_ns(20000000ull); /* let the boot partitions start first */
    /* The image store's boot mount allocates while it runs (the ESP over
     * polled ATA takes about 0.3 s under QEMU): measure after it, not in
     * its middle.  Bounded: a store that never comes up (no block device,
     * a failed start) leaves the wait after 10 s. */
    for (int i = 0; i < 1000 && !image_store_ready(); i++)
        thread_sleep_ns(10000000ull);
    uint64_t pages0, heap0, pool0, pages1, heap1, pool1;
    measure(&pages0, &heap0, &pool0);
    log_info("vm cycles: %s before: %llu free pages, %llu bytes of heap in use, %llu heap pool "
             "pages", p->name, (unsigned long long)pages0, (unsigned long long)heap0,
             (unsigned long long)pool0);
    uint64_t done = 0, peak_used = 0;
    tv_status_t st = TV_OK;
    for (; done < r->cycles; done++) {
        if ((st = op(p, VM_OP_STARTUP)) != TV_OK)
            break;
        uint64_t used = pages0 - mm_pmm()->free_pages;
        if (used > peak_used)
            peak_used = used;
        if (p->state != PART_RUNNING || vm_get_state(p) != TV_VM_RUNNING) {
            st = TV_E_INVALID_STATE;
            break;
        }
        if ((st = op(p, VM_OP_TURN_OFF)) != TV_OK)
            break;
        if (vm_get_state(p) != TV_VM_TURNED_OFF || p->built) {
            st = TV_E_INVALID_STATE;
            break;
        }
    }
    measure(&pages1, &heap1, &pool1);
    log_info("vm cycles: %s after %llu cycles: %llu free pages, %llu bytes of heap in use, "
             "%llu heap pool pages (a run held %llu pages)", p->name, (unsigned long long)done,
             (unsigned long long)pages1, (unsigned long long)heap1, (unsigned long long)pool1,
             (unsigned long long)peak_used);
    /* Every page not back in the allocator must be one the heap keeps in
     * its size-class pools by design (a first run may grow them once);
     * every heap byte must be back; a run must have held its RAM. */
    bool ok = st == TV_OK && done == r->cycles && heap1 == heap0 && pages1 <= pages0 &&
              pages0 - pages1 == pool1 - pool0 && peak_used * PAGE_SIZE >= p->mem_bytes;
    log_info("vm cycles: %llu start/turn-off cycles of %s, free pages %llu -> %llu (heap pools "
             "+%llu), heap %llu -> %llu bytes (%s): %s", (unsigned long long)r->cycles, p->name,
             (unsigned long long)pages0, (unsigned long long)pages1,
             (unsigned long long)(pool1 - pool0), (unsigned long long)heap0,
             (unsigned long long)heap1, st == TV_OK ? "every cycle ran" : "a cycle failed",
             ok ? "PASS" : "FAIL");
    verdict_release(ok ? 1 : 0, ok ? 0 : 1);
}

void vm_cycles_start(const char *options)
{
    for (uint32_t i = 0; i < partition_count; i++) {
        char key[48];
        tv_snprintf(key, sizeof key, "vm_cycles.%s", partitions[i]->name);
        uint64_t n = option_get_u64(options, key, 0);
        if (!n)
            continue;
        runs[i].p = partitions[i];
        runs[i].cycles = n;
        verdict_hold();
        if (!thread_create("vm-cycles", CLASS_TASK, cycle_thread, &runs[i])) {
            log_err("vm cycles: cannot start the test thread");
            verdict_release(0, 1);
        }
    }
}
