/* In-memory, fault-injecting storage seam for the VHD tests. */
#include "mem_storage.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FILES 64
#define MAX_DIRS 16

struct pending {
    uint64_t off;
    size_t len;
    uint8_t *data;
};

struct mem_file {
    char *name;           /* NULL when slot free */
    uint8_t *cur;         /* what reads return */
    size_t size, cap;
    uint8_t *durable;     /* contents at the last flush */
    size_t dsize, dcap;
    struct pending *pend;
    size_t npend, cappend;
    int opens;
    uint64_t gen;         /* which file this slot holds (handles check it) */
    int shared;           /* shared locks held */
    bool exclusive;       /* an exclusive lock is held */
    size_t alloc_end;     /* sparse mode: bytes really allocated (written) */
};

struct tv_sfile {
    mem_fs_t *fs;
    struct mem_file *file;
    uint64_t gen;
    bool writable;
    int lock; /* 0 none, 1 shared, 2 exclusive */
};

struct mem_fs {
    struct mem_file files[MAX_FILES];
    uint64_t events, crash_after;
    bool crashed;
    uint64_t space;
    bool sparse;
    uint64_t next_gen;
    char *dirs[MAX_DIRS];  /* folders made by mkdir (durable at once) */
};

static bool is_dir(const mem_fs_t *fs, const char *name)
{
    for (int i = 0; i < MAX_DIRS; i++)
        if (fs->dirs[i] && strcmp(fs->dirs[i], name) == 0)
            return true;
    return false;
}

static struct mem_file *find(mem_fs_t *fs, const char *name)
{
    for (int i = 0; i < MAX_FILES; i++)
        if (fs->files[i].name && strcmp(fs->files[i].name, name) == 0)
            return &fs->files[i];
    return NULL;
}

static void drop_pending(struct mem_file *f)
{
    for (size_t i = 0; i < f->npend; i++)
        free(f->pend[i].data);
    f->npend = 0;
}

static void free_file(struct mem_file *f)
{
    drop_pending(f);
    free(f->pend);
    free(f->cur);
    free(f->durable);
    free(f->name);
    memset(f, 0, sizeof *f);
}

static void grow(struct mem_file *f, size_t size)
{
    if (size > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < size)
            cap *= 2;
        f->cur = realloc(f->cur, cap);
        f->cap = cap;
    }
    if (size > f->size)
        memset(f->cur + f->size, 0, size - f->size);
    f->size = size;
}

static void durable_reserve(struct mem_file *f, size_t size)
{
    if (size > f->dcap) {
        size_t cap = f->dcap ? f->dcap : 4096;
        while (cap < size)
            cap *= 2;
        f->durable = realloc(f->durable, cap);
        f->dcap = cap;
    }
    if (size > f->dsize)
        memset(f->durable + f->dsize, 0, size - f->dsize);
    f->dsize = size;
}

/* A flush: the pending writes become durable (applied in order). */
static void make_durable(struct mem_file *f)
{
    durable_reserve(f, f->size);
    for (size_t i = 0; i < f->npend; i++)
        memcpy(f->durable + f->pend[i].off, f->pend[i].data, f->pend[i].len);
    f->dsize = f->size;
    drop_pending(f);
}

/* Everything current becomes durable at once (direct puts, power cycle). */
static void all_durable(struct mem_file *f)
{
    durable_reserve(f, f->size);
    if (f->size)
        memcpy(f->durable, f->cur, f->size);
    f->dsize = f->size;
    drop_pending(f);
}

static struct mem_file *new_file(mem_fs_t *fs, const char *name)
{
    for (int i = 0; i < MAX_FILES; i++)
        if (!fs->files[i].name) {
            fs->files[i].name = strdup(name);
            fs->files[i].gen = ++fs->next_gen;
            return &fs->files[i];
        }
    abort();
}

/* Counts a mutating event; false once power is cut. */
static bool event(mem_fs_t *fs)
{
    if (fs->crashed)
        return false;
    fs->events++;
    if (fs->crash_after && fs->events > fs->crash_after) {
        fs->crashed = true;
        return false;
    }
    return true;
}

static uint64_t used_space(mem_fs_t *fs)
{
    uint64_t n = 0;
    for (int i = 0; i < MAX_FILES; i++)
        if (fs->files[i].name)
            n += fs->sparse ? fs->files[i].alloc_end : fs->files[i].size;
    return n;
}

static tv_status_t m_open(void *ctx, const char *name, unsigned mode, tv_sfile_t **out)
{
    mem_fs_t *fs = ctx;
    struct mem_file *f = find(fs, name);
    if (!f)
        return is_dir(fs, name) ? TV_E_WRONG_TYPE : TV_E_NOT_FOUND;
    int lock = mode & TV_ST_EXCLUSIVE ? 2 : mode & TV_ST_SHARED ? 1 : 0;
    if ((lock == 2 && (f->exclusive || f->shared)) || (lock == 1 && f->exclusive))
        return TV_E_BUSY;
    if (lock == 2)
        f->exclusive = true;
    else if (lock == 1)
        f->shared++;
    tv_sfile_t *h = calloc(1, sizeof *h);
    h->fs = fs;
    h->file = f;
    h->gen = f->gen;
    h->writable = mode & TV_ST_WRITE;
    h->lock = lock;
    f->opens++;
    *out = h;
    return TV_OK;
}

static tv_status_t m_create(void *ctx, const char *name, tv_sfile_t **out)
{
    mem_fs_t *fs = ctx;
    if (find(fs, name))
        return TV_E_EXISTS;
    if (!event(fs))
        return TV_E_IO;
    struct mem_file *f = new_file(fs, name);
    make_durable(f);
    return m_open(ctx, name, TV_ST_WRITE | TV_ST_EXCLUSIVE, out);
}

static tv_status_t m_read(tv_sfile_t *h, uint64_t off, void *buf, size_t len)
{
    struct mem_file *f = h->file;
    if (!f->name || f->gen != h->gen)
        return TV_E_IO;
    if (off > f->size || len > f->size - off)
        return TV_E_CORRUPT;
    memcpy(buf, f->cur + off, len);
    return TV_OK;
}

static tv_status_t m_write(tv_sfile_t *h, uint64_t off, const void *buf, size_t len)
{
    struct mem_file *f = h->file;
    if (!h->writable)
        return TV_E_READ_ONLY;
    if (f->gen != h->gen)
        return TV_E_IO;
    size_t have = h->fs->sparse ? f->alloc_end : f->size;
    if (h->fs->space && off + len > have && used_space(h->fs) + (off + len - have) > h->fs->space)
        return TV_E_NO_SPACE;
    if (!event(h->fs))
        return TV_E_IO;
    if (off + len > f->alloc_end)
        f->alloc_end = off + len;
    if (off + len > f->size)
        grow(f, off + len);
    memcpy(f->cur + off, buf, len);
    if (f->npend == f->cappend) {
        f->cappend = f->cappend ? 2 * f->cappend : 16;
        f->pend = realloc(f->pend, f->cappend * sizeof *f->pend);
    }
    struct pending *p = &f->pend[f->npend++];
    p->off = off;
    p->len = len;
    p->data = malloc(len ? len : 1);
    memcpy(p->data, buf, len);
    return TV_OK;
}

static tv_status_t m_flush(tv_sfile_t *h)
{
    if (h->file->gen != h->gen)
        return TV_E_IO;
    if (!event(h->fs))
        return TV_E_IO;
    make_durable(h->file);
    return TV_OK;
}

static tv_status_t m_size(tv_sfile_t *h, uint64_t *out)
{
    *out = h->file->size;
    return TV_OK;
}

static tv_status_t m_truncate(tv_sfile_t *h, uint64_t size)
{
    struct mem_file *f = h->file;
    if (!h->writable)
        return TV_E_READ_ONLY;
    if (f->gen != h->gen)
        return TV_E_IO;
    /* Sparse mode: extending allocates nothing (like a POSIX file system
     * with holes); only writes take space. */
    if (h->fs->space && !h->fs->sparse && size > f->size &&
        used_space(h->fs) + (size - f->size) > h->fs->space)
        return TV_E_NO_SPACE;
    if (!event(h->fs))
        return TV_E_IO;
    if (f->alloc_end > size || !h->fs->sparse)
        f->alloc_end = size;
    grow(f, size);
    f->size = size;
    /* Durable at once: cut or extend the flushed image too; pending writes
     * past the new end are gone. */
    if (size < f->dsize)
        f->dsize = size;
    durable_reserve(f, size);
    for (size_t i = 0; i < f->npend; i++) {
        struct pending *p = &f->pend[i];
        if (p->off >= size)
            p->len = 0;
        else if (p->off + p->len > size)
            p->len = size - p->off;
    }
    return TV_OK;
}

static void m_close(tv_sfile_t *h)
{
    struct mem_file *f = h->file;
    if (f->name && f->gen == h->gen) {
        f->opens--;
        if (h->lock == 2)
            f->exclusive = false;
        else if (h->lock == 1)
            f->shared--;
    }
    free(h);
}

static tv_status_t m_rename(void *ctx, const char *from, const char *to)
{
    mem_fs_t *fs = ctx;
    struct mem_file *f = find(fs, from);
    if (!f)
        return TV_E_NOT_FOUND;
    if (!event(fs))
        return TV_E_IO;
    struct mem_file *t = find(fs, to);
    if (t && t != f)
        free_file(t);
    free(f->name);
    f->name = strdup(to);
    return TV_OK;
}

static tv_status_t m_remove(void *ctx, const char *name)
{
    mem_fs_t *fs = ctx;
    struct mem_file *f = find(fs, name);
    if (!f)
        return TV_E_NOT_FOUND;
    if (!event(fs))
        return TV_E_IO;
    free_file(f);
    return TV_OK;
}

/* Folders exist only where mkdir made them; files may still be created
 * under any name (the flat namespace the VHD tests use). */
static tv_status_t m_mkdir(void *ctx, const char *name)
{
    mem_fs_t *fs = ctx;
    if (find(fs, name) || is_dir(fs, name))
        return TV_E_EXISTS;
    const char *slash = strrchr(name, '/');
    if (slash && slash != name) {
        char *parent = strndup(name, (size_t)(slash - name));
        bool ok = is_dir(fs, parent);
        free(parent);
        if (!ok)
            return TV_E_NOT_FOUND;
    }
    int i = 0;
    while (i < MAX_DIRS && fs->dirs[i])
        i++;
    if (i == MAX_DIRS)
        return TV_E_NO_SPACE;
    if (!event(fs))
        return TV_E_IO;
    fs->dirs[i] = strdup(name);
    return TV_OK;
}

static void *m_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n ? n : 1); }
static void m_free(void *ctx, void *p) { (void)ctx; free(p); }
static uint32_t m_now(void *ctx) { (void)ctx; return 816000000u; }
static void m_entropy(void *ctx, void *buf, size_t len)
{
    static uint64_t x = 0x9E3779B97F4A7C15ull;
    (void)ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

mem_fs_t *mem_fs_new(void)
{
    return calloc(1, sizeof(mem_fs_t));
}

void mem_fs_free(mem_fs_t *fs)
{
    for (int i = 0; i < MAX_FILES; i++)
        if (fs->files[i].name)
            free_file(&fs->files[i]);
    for (int i = 0; i < MAX_DIRS; i++)
        free(fs->dirs[i]);
    free(fs);
}

void mem_fs_storage(mem_fs_t *fs, tv_storage_t *st)
{
    memset(st, 0, sizeof *st);
    st->ctx = fs;
    st->open = m_open;
    st->create = m_create;
    st->read = m_read;
    st->write = m_write;
    st->flush = m_flush;
    st->size = m_size;
    st->truncate = m_truncate;
    st->close = m_close;
    st->rename = m_rename;
    st->remove = m_remove;
    st->mkdir = m_mkdir;
    st->alloc = m_alloc;
    st->free = m_free;
    st->now = m_now;
    st->entropy = m_entropy;
    st->flushes = true;
}

void mem_fs_set_crash(mem_fs_t *fs, uint64_t after_event)
{
    fs->crash_after = after_event;
    fs->events = 0;
    fs->crashed = false;
}

uint64_t mem_fs_events(const mem_fs_t *fs) { return fs->events; }
bool mem_fs_crashed(const mem_fs_t *fs) { return fs->crashed; }
void mem_fs_set_space(mem_fs_t *fs, uint64_t bytes) { fs->space = bytes; }
void mem_fs_set_sparse(mem_fs_t *fs, bool sparse) { fs->sparse = sparse; }
int mem_fs_opens(const mem_fs_t *fs, const char *name)
{
    for (int i = 0; i < MAX_FILES; i++)
        if (fs->files[i].name && strcmp(fs->files[i].name, name) == 0)
            return fs->files[i].opens;
    return 0;
}

void mem_fs_power_cycle(mem_fs_t *fs, int keep, uint64_t seed)
{
    uint64_t x = seed * 2654435761u + 1;
    for (int i = 0; i < MAX_FILES; i++) {
        struct mem_file *f = &fs->files[i];
        if (!f->name)
            continue;
        /* Start from the durable image, replay surviving sectors. */
        size_t size = f->dsize;
        uint8_t *img = malloc(f->dsize ? f->dsize : 1);
        if (f->dsize)
            memcpy(img, f->durable, f->dsize);
        for (size_t k = 0; k < f->npend; k++) {
            struct pending *p = &f->pend[k];
            for (size_t o = 0; o < p->len;) {
                size_t sec_end = ((p->off + o) / 512 + 1) * 512 - p->off;
                size_t n = (sec_end < p->len ? sec_end : p->len) - o;
                bool take = keep == MEM_KEEP_ALL;
                if (keep == MEM_KEEP_RANDOM) {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    take = x & 1;
                }
                if (take) {
                    uint64_t at = p->off + o;
                    if (at + n > size) {
                        img = realloc(img, at + n);
                        memset(img + size, 0, at + n - size);
                        size = at + n;
                    }
                    memcpy(img + at, p->data + o, n);
                }
                o += n;
            }
        }
        drop_pending(f);
        free(f->cur);
        f->cur = img;
        f->size = f->cap = size;
        f->alloc_end = size;
        /* The processes holding handles and locks are gone. */
        f->gen = ++fs->next_gen;
        f->shared = 0;
        f->exclusive = false;
        f->opens = 0;
        if (!f->cap) {
            f->cur = realloc(f->cur, 1);
        }
        all_durable(f);
    }
    fs->crashed = false;
    fs->crash_after = 0;
    fs->events = 0;
}

void mem_fs_put(mem_fs_t *fs, const char *name, const void *data, size_t len)
{
    struct mem_file *f = find(fs, name);
    if (!f)
        f = new_file(fs, name);
    grow(f, len);
    f->size = len;
    f->alloc_end = len;
    if (len)
        memcpy(f->cur, data, len);
    all_durable(f);
}

bool mem_fs_get(mem_fs_t *fs, const char *name, uint8_t **data, size_t *len)
{
    struct mem_file *f = find(fs, name);
    if (!f)
        return false;
    *data = malloc(f->size ? f->size : 1);
    if (f->size)
        memcpy(*data, f->cur, f->size);
    *len = f->size;
    return true;
}

bool mem_fs_exists(mem_fs_t *fs, const char *name)
{
    return find(fs, name) != NULL;
}

void mem_fs_copy(mem_fs_t *dst, const mem_fs_t *src)
{
    for (int i = 0; i < MAX_FILES; i++)
        if (dst->files[i].name)
            free_file(&dst->files[i]);
    for (int i = 0; i < MAX_FILES; i++)
        if (src->files[i].name)
            mem_fs_put(dst, src->files[i].name, src->files[i].cur, src->files[i].size);
    for (int i = 0; i < MAX_DIRS; i++) {
        free(dst->dirs[i]);
        dst->dirs[i] = src->dirs[i] ? strdup(src->dirs[i]) : NULL;
    }
}

const char *mem_fs_name(const mem_fs_t *fs, size_t index)
{
    for (int i = 0; i < MAX_FILES; i++)
        if (fs->files[i].name && index-- == 0)
            return fs->files[i].name;
    return NULL;
}
