#include "kernel/panic.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "tv_fmt.h"

static unsigned debug_exit_port;

void monitor_set_debug_exit_port(unsigned port)
{
    debug_exit_port = port;
}

unsigned monitor_debug_exit_port(void)
{
    return debug_exit_port;
}

void monitor_exit(unsigned code)
{
    cpu_cli();
    log_flush(); /* every queued line (the verdict's summary) before the end */
    if (debug_exit_port)
        outb((uint16_t)debug_exit_port, (uint8_t)code);
    log_raw("monitor halted (exit code %#x)\n", code);
    for (;;)
        cpu_hlt();
}

void panic_stop(const char *fmt, ...)
{
    cpu_cli();
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    tv_vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_raw("\nMONITOR PANIC: %s\n", text);
    monitor_exit(MON_EXIT_PANIC);
}
