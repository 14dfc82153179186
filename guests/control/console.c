/* Line editing and command dispatch. */
#include "console.h"
#include "guest.h"
#include "tv_string.h"

#define CH_BS   0x08
#define CH_DEL  0x7f
#define CH_CTRL_C 0x03
#define CH_CTRL_U 0x15

/* Waiting for input: each LSR poll is an exit to the monitor, so instead of
 * spinning the console sleeps in HLT and polls on a 10 ms x2APIC periodic
 * tick (the virtual UART raises no interrupt yet).  Without Taskvisor's
 * timing leaf it falls back to busy polling. */
#define CONSOLE_TICK_VECTOR 0x30
#define CONSOLE_TICK_MS 10
static bool idle_tick_on;

static void idle_tick(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
}

static void idle_tick_start(void)
{
    if (idle_tick_on || !guest_on_taskvisor())
        return;
    uint32_t apic_khz = cpuid(TV_CPUID_LEAF_TIMING, 0).ebx;
    uint64_t count = (uint64_t)apic_khz * CONSOLE_TICK_MS;
    if (count == 0 || count > UINT32_MAX || apic_enable(false) != APIC_X2APIC)
        return;
    guest_irq_register(CONSOLE_TICK_VECTOR, idle_tick, NULL, true);
    apic_timer_periodic(CONSOLE_TICK_VECTOR, (uint32_t)count);
    idle_tick_on = true;
}

static char wait_char(void)
{
    for (;;) {
        int c = serial_getc_nonblock();
        if (c >= 0)
            return (char)c;
        if (idle_tick_on) {
            cpu_sti_hlt();
            cpu_cli();
        } else {
            cpu_pause();
        }
    }
}

static void erase_chars(size_t n)
{
    while (n--)
        guest_puts("\b \b");
}

/* Terminals send cursor and function keys as escape sequences (ESC [ ... final
 * byte, or ESC O x); the editor does not use them, so they are swallowed
 * whole instead of leaving "[A" in the line. */
static void skip_escape_sequence(void)
{
    char c = wait_char();
    if (c == 'O') {
        (void)wait_char();
        return;
    }
    if (c != '[')
        return;
    do
        c = wait_char();
    while (!((unsigned char)c >= 0x40 && (unsigned char)c <= 0x7e));
}

size_t console_read_line(char *buf, size_t size)
{
    size_t len = 0;
    for (;;) {
        char c = wait_char();
        if (c == 0x1b) {
            skip_escape_sequence();
            continue;
        }
        if (c == '\r' || c == '\n') {
            guest_puts("\n");
            break;
        }
        if (c == CH_BS || c == CH_DEL) {
            if (len > 0) {
                len--;
                erase_chars(1);
            }
        } else if (c == CH_CTRL_U) {
            erase_chars(len);
            len = 0;
        } else if (c == CH_CTRL_C) {
            guest_puts("^C\n");
            len = 0;
            break;
        } else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) {
            if (len + 1 < size) {
                buf[len++] = c;
                serial_putc(c);
            } else {
                serial_putc('\a');   /* line full */
            }
        }
        /* Other control characters are ignored. */
    }
    buf[len] = '\0';
    return len;
}

static int split_words(char *line, char **argv, int max)
{
    int argc = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (*p == '\0')
            return argc;
        if (argc == max)
            return -1;
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
}

/* A command name is one word ("tasks") or two ("disk merge").  Returns the
 * number of words of name that argv starts with (1 or 2), 0 when it does
 * not match, -1 when only the first of two words matches (a group such as
 * "disk" typed alone or with an unknown second word). */
static int command_words(const char *name, int argc, char **argv)
{
    size_t first = 0;
    while (name[first] && name[first] != ' ')
        first++;
    if (tv_strlen(argv[0]) != first || tv_strncmp(argv[0], name, first) != 0)
        return 0;
    if (!name[first])
        return 1;
    return argc > 1 && tv_strcmp(argv[1], name + first + 1) == 0 ? 2 : -1;
}

int console_execute(char *line)
{
    char *argv[CONSOLE_ARGS_MAX + 1];
    int argc = split_words(line, argv, CONSOLE_ARGS_MAX);
    if (argc < 0) {
        guest_printf("error: too many arguments (at most %d)\n", CONSOLE_ARGS_MAX - 1);
        return CONSOLE_TOO_MANY_ARGS;
    }
    if (argc == 0)
        return CONSOLE_EMPTY;
    argv[argc] = NULL;
    bool group = false; /* argv[0] starts some two-word command */
    for (size_t i = 0; i < console_command_count; i++) {
        const struct console_command *c = &console_commands[i];
        int words = command_words(c->name, argc, argv);
        if (words > 0)
            return c->run(argc - (words - 1), argv + (words - 1)) == 0 ? CONSOLE_OK : CONSOLE_FAILED;
        group |= words < 0;
    }
    if (group) {
        guest_printf("usage: %s one of:\n", argv[0]);
        size_t n = tv_strlen(argv[0]);
        for (size_t i = 0; i < console_command_count; i++)
            if (tv_strncmp(console_commands[i].name, argv[0], n) == 0 && console_commands[i].name[n] == ' ')
                guest_printf("  %s %s\n", console_commands[i].name, console_commands[i].args);
        return CONSOLE_UNKNOWN;
    }
    guest_printf("error: unknown command '%s' (type 'help' for the list)\n", argv[0]);
    return CONSOLE_UNKNOWN;
}

void console_run(void)
{
    char line[CONSOLE_LINE_MAX];
    idle_tick_start();
    guest_puts("Taskvisor control partition. Type 'help' for commands.\n");
    for (;;) {
        guest_puts(CONSOLE_PROMPT);
        console_read_line(line, sizeof(line));
        console_execute(line);
    }
}
