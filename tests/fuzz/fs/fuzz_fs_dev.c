#include "fuzz_fs_dev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tv_status_t d_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
    fuzz_dev_t *d = ctx;
    if (lba > d->dev.sectors || count > d->dev.sectors - lba)
        return TV_E_INVALID_ARGUMENT;
    memcpy(buf, d->data + lba * 512, (size_t)count * 512);
    return TV_OK;
}

static tv_status_t d_write(void *ctx, uint64_t lba, uint32_t count, const void *buf)
{
    fuzz_dev_t *d = ctx;
    if (d->writes_forbidden) {
        fprintf(stderr, "write of sector %llu to a volume that failed its checks\n", (unsigned long long)lba);
        abort();
    }
    if (lba > d->dev.sectors || count > d->dev.sectors - lba)
        return TV_E_INVALID_ARGUMENT;
    memcpy(d->data + lba * 512, buf, (size_t)count * 512);
    return TV_OK;
}

static tv_status_t d_flush(void *ctx)
{
    (void)ctx;
    return TV_OK;
}

void fuzz_dev_init(fuzz_dev_t *d, const uint8_t *in, size_t len, size_t pad_to)
{
    size_t size = len > pad_to ? len : pad_to;
    size = (size + 511) / 512 * 512;
    d->data = calloc(1, size);
    memcpy(d->data, in, len);
    d->size = size;
    d->writes_forbidden = 0;
    d->dev.ctx = d;
    d->dev.sector_size = 512;
    d->dev.sectors = size / 512;
    d->dev.read_only = false;
    d->dev.read = d_read;
    d->dev.write = d_write;
    d->dev.flush = d_flush;
}

void fuzz_dev_free(fuzz_dev_t *d)
{
    free(d->data);
}

static void *e_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n ? n : 1); }
static void e_free(void *ctx, void *p) { (void)ctx; free(p); }
static uint32_t e_now(void *ctx) { (void)ctx; return 816000000u; }
const fs_env_t fuzz_env = { NULL, e_alloc, e_free, e_now };

struct walk {
    fs_volume_t *v;
    char path[4][300];
    int depth;
    int budget;
    char first_file[300];
};

static void walk_dir(struct walk *w, const char *path);

static bool on_entry(void *ctx, const fs_dirent_t *e)
{
    struct walk *w = ctx;
    if (--w->budget <= 0)
        return false;
    char p[300];
    snprintf(p, sizeof p, "%s/%s", w->path[w->depth], e->name);
    if (e->dir) {
        if (w->depth < 3)
            walk_dir(w, p);
        return w->budget > 0;
    }
    if (!w->first_file[0])
        snprintf(w->first_file, sizeof w->first_file, "%s", p);
    fs_file_t *f;
    if (fs_open(w->v, p, false, &f) == TV_OK) {
        uint8_t buf[4096];
        uint64_t size = fs_size(f);
        size_t n = size < sizeof buf ? (size_t)size : sizeof buf;
        (void)fs_read(f, 0, buf, n);
        if (size > sizeof buf)
            (void)fs_read(f, size - sizeof buf, buf, sizeof buf);
        fs_close(f);
    }
    return true;
}

static void walk_dir(struct walk *w, const char *path)
{
    w->depth++;
    snprintf(w->path[w->depth], sizeof w->path[w->depth], "%s", path);
    (void)fs_list(w->v, path, on_entry, w);
    w->depth--;
}

static void walk(fs_volume_t *v, struct walk *w)
{
    memset(w, 0, sizeof *w);
    w->v = v;
    w->budget = 400;
    w->depth = -1;
    walk_dir(w, "");
    uint64_t total, free_;
    (void)fs_space(v, &total, &free_);
    (void)fs_label(v);
}

void fuzz_exercise_volume(const fs_blockdev_t *dev, fuzz_dev_t *owner)
{
    fs_volume_t *v;
    struct walk *w = malloc(sizeof *w);
    if (fs_mount(dev, &fuzz_env, false, &v) == TV_OK) {
        walk(v, w);
        (void)fs_unmount(v);
    }
    uint8_t *before = malloc(owner->size);
    memcpy(before, owner->data, owner->size);
    tv_status_t st = fs_mount(dev, &fuzz_env, true, &v);
    if (st != TV_OK) {
        /* Failed its checks: the mount wrote nothing, and from now on any
         * write aborts (a second attempt must fail the same way). */
        if (memcmp(before, owner->data, owner->size) != 0) {
            fprintf(stderr, "a writable mount that failed (%d) changed the volume\n", (int)st);
            abort();
        }
        owner->writes_forbidden = 1;
        if (fs_mount(dev, &fuzz_env, true, &v) == TV_OK)
            abort();
        free(before);
        free(w);
        return;
    }
    free(before);
    walk(v, w);
    fs_file_t *f;
    if (fs_create(v, "fuzz new file.vhd", &f) == TV_OK) {
        static uint8_t buf[9000];
        memset(buf, 0x5A, sizeof buf);
        (void)fs_write(f, 0, buf, sizeof buf);
        (void)fs_truncate(f, 3000);
        fs_close(f);
        (void)fs_rename(v, "fuzz new file.vhd", "renamed.vhd");
        (void)fs_remove(v, "renamed.vhd");
    }
    if (w->first_file[0] && fs_open(v, w->first_file, true, &f) == TV_OK) {
        uint8_t b[600];
        memset(b, 0xA5, sizeof b);
        (void)fs_write(f, fs_size(f), b, sizeof b);
        fs_close(f);
        (void)fs_remove(v, w->first_file);
    }
    (void)fs_mkdir(v, "fuzzdir");
    (void)fs_unmount(v);
    free(w);
}
