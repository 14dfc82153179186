/* Power-off: see power.h. */
#include "kernel/power.h"
#include "arch/x86/cpu.h"
#include "drivers/acpi.h"
#include "kernel/log.h"
#include "kernel/panic.h"

void power_init(uint64_t acpi_rsdp)
{
    tv_status_t st = acpi_init(acpi_rsdp);
    if (st != TV_OK)
        log_warn("ACPI: no usable RSDP (%s): power-off needs a debug-exit port", 
                 acpi_rsdp ? "bad checksum or root table" : "none handed over");
}

static void (*shutdown_hooks[4])(void);
static unsigned shutdown_hook_count;

tv_status_t power_add_shutdown_hook(void (*fn)(void))
{
    if (shutdown_hook_count >= sizeof shutdown_hooks / sizeof shutdown_hooks[0])
        return TV_E_LIMIT;
    shutdown_hooks[shutdown_hook_count++] = fn;
    return TV_OK;
}

void power_run_shutdown_hooks(void)
{
    /* Each once, even when power-off is asked for again. */
    static bool ran;
    bool irq = irq_save();
    bool first = !ran;
    ran = true;
    irq_restore(irq);
    if (!first)
        return;
    for (unsigned i = 0; i < shutdown_hook_count; i++)
        shutdown_hooks[i]();
}

tv_status_t power_off(void)
{
    char why[96];
    /* Services first (the image store unmounts its volumes cleanly). */
    power_run_shutdown_hooks();
    log_info("powering off");
    /* The log is written by a timer: get it out before the power goes. */
    bool irq = irq_save();
    log_flush();
    irq_restore(irq);
    tv_status_t st = acpi_power_off(why, sizeof why);
    log_warn("ACPI power-off failed: %s", why);
    if (monitor_debug_exit_port()) {
        log_info("ending the run through the debug-exit port");
        monitor_exit(MON_EXIT_PASS);
    }
    log_err("cannot power off: the machine can be switched off by hand");
    return st;
}
