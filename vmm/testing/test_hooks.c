#include "testing/test_hooks.h"
#include "testing/blk_selftest.h"
#include "testing/disk_memvol.h"

#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/sched.h"

/* Kept out of line so the crash report names it. */
__attribute__((noinline)) void monitor_crash_test(volatile int *where);
__attribute__((noinline)) void monitor_crash_test(volatile int *where)
{
    log_warn("test hook: crashing the monitor on purpose");
    if (where)
        *where = 1;                 /* page fault: the address is unmapped */
    __asm__ volatile("ud2");        /* invalid opcode */
}

static void crash_thread(void *arg)
{
    thread_sleep_ns(50000000ull);   /* let the partitions start first */
    monitor_crash_test(arg);
}

void test_hooks_start(const char *options)
{
    blk_selftest_start(options);
    disk_memvol_start(options);
    char how[16];
    if (!option_get(options, "crash_test", how, sizeof how))
        return;
    /* pf: a non-canonical address; ud: an invalid opcode. */
    void *where = how[0] == 'p' ? (void *)0x8000000000000000ull : 0;
    thread_create("crash-test", CLASS_TASK, crash_thread, where);
}
