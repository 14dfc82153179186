#ifndef VMM_PANIC_H
#define VMM_PANIC_H

/* Stops the whole host: logs, ends an emulator run through the debug-exit
 * port when one is configured, and halts.  Guest faults never come here. */
__attribute__((noreturn, format(printf, 1, 2)))
void panic_stop(const char *fmt, ...);

/* Monitor exit codes written to the debug-exit port (QEMU exits with
 * (code << 1) | 1). */
#define MON_EXIT_PASS  0x10
#define MON_EXIT_FAIL  0x11
#define MON_EXIT_PANIC 0x12

void monitor_set_debug_exit_port(unsigned port);
/* The configured debug-exit port, 0 when none. */
unsigned monitor_debug_exit_port(void);
__attribute__((noreturn)) void monitor_exit(unsigned code);

#endif
