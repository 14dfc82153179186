/* tvexit CODE: stops the Linux partition through Taskvisor's guest exit port
 * (0xF4; a 32-bit OUT with the code, docs/hypercalls.md).  A shell cannot
 * issue a 32-bit OUT (/dev/port writes bytes), so the initramfs carries this
 * small static program: no libc, raw Linux system calls. */
#include <stdint.h>

#define SYS_WRITE  1
#define SYS_EXIT   60
#define SYS_IOPERM 173
#define EXIT_PORT  0xf4

static long sys3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

static void say(const char *s)
{
    long n = 0;
    while (s[n])
        n++;
    sys3(SYS_WRITE, 2, (long)s, n);
}

static uint32_t parse(const char *s, int *ok)
{
    uint32_t v = 0;
    *ok = *s != 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 429496729u) {
            *ok = 0;
            return 0;
        }
        v = v * 10 + (uint32_t)(*s - '0');
    }
    return v;
}

__attribute__((noreturn, used)) void tvexit_main(long argc, char **argv)
{
    int ok = 0;
    uint32_t code = argc == 2 ? parse(argv[1], &ok) : 0;
    if (!ok) {
        say("usage: tvexit CODE (decimal)\n");
        sys3(SYS_EXIT, 2, 0, 0);
    }
    if (sys3(SYS_IOPERM, EXIT_PORT, 4, 1) != 0) {
        say("tvexit: ioperm(0xf4) refused (needs root)\n");
        sys3(SYS_EXIT, 1, 0, 0);
    }
    __asm__ volatile("outl %0, %w1" :: "a"(code), "Nd"((uint16_t)EXIT_PORT));
    say("tvexit: the exit port did not stop the partition\n");
    sys3(SYS_EXIT, 1, 0, 0);
    __builtin_unreachable();
}

/* The kernel starts us with argc at (%rsp), argv right after it. */
__asm__(".globl _start\n_start:\n"
        "  mov (%rsp), %rdi\n  lea 8(%rsp), %rsi\n  and $-16, %rsp\n  call tvexit_main\n");
