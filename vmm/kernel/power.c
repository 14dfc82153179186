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

tv_status_t power_off(void)
{
    char why[96];
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
