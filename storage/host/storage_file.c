/* Hosted storage seam over POSIX files (tools and tests).
 *
 * Locks are flock() locks (per open file description, so two opens in one
 * process conflict like two processes do), taken without waiting.  After
 * locking, the name must still refer to the file locked: otherwise it was
 * replaced meanwhile (compact renames a new file over the old one) and the
 * open is retried on the new file, so a writer never writes an orphan.
 * Only regular files and block devices are opened; a FIFO is opened
 * non-blocking so refusing it cannot hang. */
#include "storage_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct tv_sfile {
    int fd;
    bool blk; /* a block device: its size comes from seeking to the end */
};

static tv_status_t from_errno(int e)
{
    switch (e) {
    case ENOENT: case ENOTDIR: return TV_E_NOT_FOUND;
    case EEXIST: return TV_E_EXISTS;
    case ENOSPC: case EDQUOT: case EFBIG: return TV_E_NO_SPACE;
    case EACCES: case EPERM: return TV_E_ACCESS_DENIED;
    case EROFS: return TV_E_READ_ONLY;
    case ENOMEM: return TV_E_NO_MEMORY;
    case EBUSY: case ETXTBSY: return TV_E_BUSY;
    case EINVAL: case ENAMETOOLONG: return TV_E_INVALID_ARGUMENT;
    default: return TV_E_IO;
    }
}

/* Makes a directory entry change durable (create, rename, remove). */
static void sync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

static tv_status_t wrap_fd(int fd, bool blk, tv_sfile_t **out)
{
    tv_sfile_t *f = malloc(sizeof *f);
    if (!f) {
        close(fd);
        return TV_E_NO_MEMORY;
    }
    f->fd = fd;
    f->blk = blk;
    *out = f;
    return TV_OK;
}

/* Takes the lock mode asks for; TV_E_BUSY when held elsewhere. */
static tv_status_t lock_fd(int fd, unsigned mode)
{
    int op = mode & TV_ST_EXCLUSIVE ? LOCK_EX : mode & TV_ST_SHARED ? LOCK_SH : 0;
    if (!op)
        return TV_OK;
    while (flock(fd, op | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? TV_E_BUSY : from_errno(errno);
    }
    return TV_OK;
}

/* True when name still refers to the file open as fd. */
static bool same_file(int fd, const char *name)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(name, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static tv_status_t f_open(void *ctx, const char *name, unsigned mode, tv_sfile_t **out)
{
    (void)ctx;
    for (int attempt = 0; attempt < 8; attempt++) {
        int fd = open(name, (mode & TV_ST_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
            return errno == ENXIO ? TV_E_WRONG_TYPE : from_errno(errno); /* ENXIO: a socket */
        struct stat sb;
        if (fstat(fd, &sb) != 0) {
            int e = errno;
            close(fd);
            return from_errno(e);
        }
        if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode)) {
            close(fd);
            return TV_E_WRONG_TYPE; /* FIFO, directory, socket, character device */
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
            close(fd);
            return TV_E_IO;
        }
        tv_status_t s = lock_fd(fd, mode);
        if (s != TV_OK) {
            close(fd);
            return s;
        }
        if (!(mode & (TV_ST_SHARED | TV_ST_EXCLUSIVE)) || same_file(fd, name))
            return wrap_fd(fd, S_ISBLK(sb.st_mode), out);
        close(fd); /* replaced while we locked it: open the new file */
    }
    return TV_E_BUSY;
}

static tv_status_t f_create(void *ctx, const char *name, tv_sfile_t **out)
{
    struct tv_storage *st = ctx;
    int fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return from_errno(errno);
    /* Nobody else can have locked it yet, but a cleaner of stale files may
     * have removed it between open and lock: then it is not ours. */
    tv_status_t s = lock_fd(fd, TV_ST_EXCLUSIVE);
    if (s == TV_OK && !same_file(fd, name))
        s = TV_E_BUSY;
    if (s != TV_OK) {
        close(fd);
        return s;
    }
    if (st->flushes)
        sync_dir_of(name);
    return wrap_fd(fd, false, out);
}

static tv_status_t f_read(tv_sfile_t *f, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(f->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return from_errno(errno);
        }
        if (n == 0)
            return TV_E_CORRUPT; /* read past the end of the file */
        p += n; off += (uint64_t)n; len -= (size_t)n;
    }
    return TV_OK;
}

static tv_status_t f_write(tv_sfile_t *f, uint64_t off, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(f->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return from_errno(errno);
        }
        p += n; off += (uint64_t)n; len -= (size_t)n;
    }
    return TV_OK;
}

static tv_status_t f_flush(tv_sfile_t *f)
{
    return fdatasync(f->fd) == 0 ? TV_OK : from_errno(errno);
}

static tv_status_t f_size(tv_sfile_t *f, uint64_t *out)
{
    if (f->blk) {
        off_t end = lseek(f->fd, 0, SEEK_END);
        if (end < 0)
            return from_errno(errno);
        *out = (uint64_t)end;
        return TV_OK;
    }
    struct stat sb;
    if (fstat(f->fd, &sb) != 0)
        return from_errno(errno);
    *out = (uint64_t)sb.st_size;
    return TV_OK;
}

static tv_status_t f_truncate(tv_sfile_t *f, uint64_t size)
{
    if (ftruncate(f->fd, (off_t)size) != 0)
        return from_errno(errno);
    return TV_OK;
}

static tv_status_t f_has_data(tv_sfile_t *f, uint64_t off, uint64_t len, bool *maybe)
{
    off_t d = lseek(f->fd, (off_t)off, SEEK_DATA);
    if (d < 0)
        *maybe = errno != ENXIO; /* ENXIO: only a hole up to the end */
    else
        *maybe = (uint64_t)d < off + len;
    return TV_OK;
}

static void f_close(tv_sfile_t *f)
{
    close(f->fd);
    free(f);
}

static tv_status_t f_rename(void *ctx, const char *from, const char *to)
{
    struct tv_storage *st = ctx;
    if (rename(from, to) != 0)
        return from_errno(errno);
    if (st->flushes)
        sync_dir_of(to);
    return TV_OK;
}

static tv_status_t f_remove(void *ctx, const char *name)
{
    struct tv_storage *st = ctx;
    if (unlink(name) != 0)
        return from_errno(errno);
    if (st->flushes)
        sync_dir_of(name);
    return TV_OK;
}

static tv_status_t f_mkdir(void *ctx, const char *name)
{
    struct tv_storage *st = ctx;
    if (mkdir(name, 0777) != 0)
        return from_errno(errno);
    if (st->flushes)
        sync_dir_of(name);
    return TV_OK;
}

static void *f_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n ? n : 1); }
static void f_free(void *ctx, void *p) { (void)ctx; free(p); }

static uint32_t f_now(void *ctx)
{
    (void)ctx;
    time_t t = time(NULL);
    const time_t epoch2000 = 946684800;
    return t > epoch2000 ? (uint32_t)(t - epoch2000) : 0;
}

static void f_entropy(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    uint8_t *p = buf;
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n <= 0) { /* fall back to something unique enough */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
            for (; len; len--, p++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                *p = (uint8_t)(x >> 56);
            }
            return;
        }
        p += n; len -= (size_t)n;
    }
}

void tv_storage_file_init(tv_storage_t *st, bool flushes)
{
    memset(st, 0, sizeof *st);
    st->ctx = st;
    st->open = f_open;
    st->create = f_create;
    st->read = f_read;
    st->write = f_write;
    st->flush = f_flush;
    st->size = f_size;
    st->truncate = f_truncate;
    st->close = f_close;
    st->has_data = f_has_data;
    st->rename = f_rename;
    st->remove = f_remove;
    st->mkdir = f_mkdir;
    st->alloc = f_alloc;
    st->free = f_free;
    st->now = f_now;
    st->entropy = f_entropy;
    st->flushes = flushes;
}
