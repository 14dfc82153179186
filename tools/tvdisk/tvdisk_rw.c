/* tvdisk read and write, and the host-side checks of file arguments.
 *
 * Both stop on SIGINT/SIGTERM between 1 MiB pieces (exit 4).  write reads
 * its data with read(2) until end of file, so pipes, /dev/stdin and process
 * substitution work like regular files; the data must be whole 512-byte
 * sectors and is checked before the image is opened, so a bad length
 * writes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tvdisk.h"
#include "tv_status.h"
#include "vhd.h"

#define PIECE (1u << 20)

static int fail_text(const char *what, tv_status_t s, const char *text)
{
    if (opt.json) {
        printf("{\"command\":");
        json_str(stdout, opt.cmd);
        printf(",\"status\":\"%s\",\"error\":", tv_status_name(s));
        json_str(stdout, text);
        printf(",\"target\":");
        json_str(stdout, what);
        printf("}\n");
    }
    fprintf(stderr, "tvdisk: %s: %s: %s\n", opt.cmd, what, text);
    return exit_for(s);
}

bool image_arg_ok(const char *name, int *rc)
{
    struct stat sb;
    if (stat(name, &sb) != 0 || S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode))
        return true; /* missing files are reported by the operation itself */
    *rc = fail_text(name, TV_E_WRONG_TYPE, "not a regular file or block device (a FIFO, directory or device "
                                          "cannot hold an image)");
    return false;
}

void print_warnings(const char *name, unsigned warnings)
{
    for (unsigned bit = 1; bit && bit <= warnings; bit <<= 1)
        if (warnings & bit)
            fprintf(stderr, "tvdisk: %s: warning: %s: %s\n", opt.cmd, name, tv_vhd_warning_text(bit));
}

/* Reads all of path (any readable file, pipe or terminal) into *out. */
static tv_status_t read_data(const char *path, uint8_t **out, size_t *len, const char **why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *out = NULL;
    *len = 0;
    *why = NULL;
    if (fd < 0) {
        *why = strerror(errno);
        return errno == ENOENT ? TV_E_NOT_FOUND : TV_E_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        close(fd);
        *why = "DATAFILE is a directory";
        return TV_E_INVALID_ARGUMENT;
    }
    size_t cap = S_ISREG(sb.st_mode) && sb.st_size > 0 ? (size_t)sb.st_size + 1 : PIECE;
    uint8_t *buf = malloc(cap);
    tv_status_t s = buf ? TV_OK : TV_E_NO_MEMORY;
    while (s == TV_OK) {
        if (*len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                s = TV_E_NO_MEMORY;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + *len, cap - *len);
        if (n < 0 && errno == EINTR && !interrupted)
            continue;
        if (interrupted)
            s = TV_E_CANCELLED;
        else if (n < 0) {
            *why = strerror(errno);
            s = TV_E_IO;
        } else if (n == 0)
            break;
        else
            *len += (size_t)n;
    }
    close(fd);
    if (s != TV_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    return TV_OK;
}

int cmd_write(int argc, char **argv)
{
    uint64_t off;
    int rc;
    if (argc != 3 || !parse_size(argv[1], &off))
        return usage();
    if (!image_arg_ok(argv[0], &rc))
        return rc;
    uint8_t *buf;
    size_t len;
    const char *why;
    tv_status_t s = read_data(argv[2], &buf, &len, &why);
    if (s != TV_OK)
        return why ? fail_text(argv[2], s, why) : fail(argv[2], s);
    if (len % 512) {
        free(buf);
        return fail_text(argv[2], TV_E_INVALID_ARGUMENT, "data is not a whole number of 512-byte sectors; "
                                                          "nothing written");
    }
    tv_vhd_t *v;
    size_t done = 0;
    s = tv_vhd_open(&st, argv[0], TV_VHD_OPEN_WRITE | (opt.src_raw ? TV_VHD_OPEN_RAW : 0), &v);
    if (s == TV_OK) {
        if (off > tv_vhd_size(v) || len > tv_vhd_size(v) - off)
            s = TV_E_INVALID_ARGUMENT; /* checked whole before the first piece */
        while (s == TV_OK && done < len) {
            size_t n = len - done < PIECE ? len - done : PIECE;
            s = interrupted ? TV_E_CANCELLED : tv_vhd_write(v, off + done, buf + done, n);
            if (s == TV_OK)
                done += n;
        }
        tv_status_t cs = tv_vhd_close(v);
        if (s == TV_OK)
            s = cs;
    }
    free(buf);
    if (s == TV_E_CANCELLED) {
        char text[160];
        snprintf(text, sizeof text, "cancelled; %zu of %zu bytes written", done, len);
        return fail_text(argv[0], s, text);
    }
    if (s != TV_OK)
        return fail(argv[0], s);
    if (opt.json) {
        printf("{\"command\":\"write\",\"status\":\"OK\",\"target\":");
        json_str(stdout, argv[0]);
        printf(",\"offset\":%" PRIu64 ",\"bytes\":%zu}\n", off, len);
    } else if (!opt.quiet) {
        printf("write: wrote %zu bytes at offset %" PRIu64 " of %s\n", len, off, argv[0]);
    }
    return EXIT_OK;
}

/* Writes to stdout unbuffered: a signal stops a write blocked on a full
 * pipe (no SA_RESTART), and exit has no buffer left to block on. */
static tv_status_t put_out(const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(1, p, n);
        if (interrupted)
            return TV_E_CANCELLED;
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return TV_E_IO;
        p += k;
        n -= (size_t)k;
    }
    return TV_OK;
}

int cmd_read(int argc, char **argv)
{
    uint64_t off, len;
    int rc;
    if (argc != 3 || !parse_size(argv[1], &off) || !parse_size(argv[2], &len))
        return usage();
    if (!image_arg_ok(argv[0], &rc))
        return rc;
    tv_vhd_t *v;
    tv_status_t s = tv_vhd_open(&st, argv[0], opt.src_raw ? TV_VHD_OPEN_RAW : 0, &v);
    if (s != TV_OK)
        return fail(argv[0], s);
    print_warnings(argv[0], tv_vhd_warnings(v));
    uint8_t *buf = malloc(PIECE);
    if (!buf)
        s = TV_E_NO_MEMORY;
    while (s == TV_OK && len) {
        size_t n = len < PIECE ? (size_t)len : PIECE;
        s = interrupted ? TV_E_CANCELLED : tv_vhd_read(v, off, buf, n);
        if (s == TV_OK)
            s = put_out(buf, n);
        off += n;
        len -= n;
    }
    free(buf);
    tv_vhd_close(v);
    return s == TV_OK ? EXIT_OK : fail(argv[0], s);
}
