#include "fs_test_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <spawn.h>

extern char **environ;

static void *t_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n ? n : 1); }
static void t_free(void *ctx, void *p) { (void)ctx; free(p); }
static uint32_t t_now(void *ctx) { (void)ctx; return 816000000u; }
const fs_env_t fs_test_env = { NULL, t_alloc, t_free, t_now };

/* posix_spawn (no fork: forking a sanitized process is slow), output
 * through a file in the scratch directory. */
int fs_test_sh(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char log[128];
    snprintf(log, sizeof log, "%s/sh.log", fs_test_dir());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    char *argv[] = { "sh", "-c", cmd, NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    if (out && cap) {
        FILE *f = fopen(log, "rb");
        size_t n = f ? fread(out, 1, cap - 1, f) : 0;
        if (f)
            fclose(f);
        out[n] = 0;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *fs_test_dir(void)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/tv_fs_test.%d", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
        char c[300];
        snprintf(c, sizeof c, "rm -rf %s; mkdir -p %s", dir, dir);
        if (system(c) != 0)
            abort();
    }
    return dir;
}

uint8_t *fs_test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

void fs_test_fill(uint8_t *buf, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 12345;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
}
