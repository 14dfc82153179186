/* libtaskvisor: the image store calls (VOLUME_LIST, DIR_LIST, DISK_INFO,
 * DIR_CREATE).
 * Freestanding.  Records go through the client's shared scratch page: a
 * path (at most STORE path length, 1023 bytes) at its start, the records
 * after it, so one call moves what fits and the functions loop. */
#include "libtaskvisor.h"
#include "tv_string.h"

#define PATH_ROOM 1024u    /* the monitor's path limit, with the NUL */

_Static_assert(TV_CLIENT_SCRATCH_SIZE >= PATH_ROOM + sizeof(struct tv_disk_info),
               "scratch holds a path and a disk record");

static tv_status_t call5(struct tv_client *c, uint32_t code, uint64_t a0, uint64_t a1,
                         uint64_t a2, uint64_t a3, uint64_t a4, uint64_t *out)
{
    uint64_t args[5] = { a0, a1, a2, a3, a4 };
    uint64_t dummy = 0;
    return c->transport->call(c->transport->ctx, code, args, out ? out : &dummy);
}

tv_status_t tv_volume_list(struct tv_client *client, uint32_t first, struct tv_volume_info *out,
                           size_t cap, size_t *count_out, uint32_t *total_out)
{
    const size_t chunk_cap = TV_CLIENT_SCRATCH_SIZE / sizeof(struct tv_volume_info);
    size_t done = 0;
    uint64_t total = 0;
    do {
        size_t want = cap - done < chunk_cap ? cap - done : chunk_cap;
        tv_status_t st = call5(client, TV_HC_VOLUME_LIST, first + done, client->scratch_gpa,
                               want, 0, 0, &total);
        if (st != TV_OK)
            return st;
        size_t left = total > first + done ? (size_t)(total - first - done) : 0;
        size_t got = left < want ? left : want;
        tv_memcpy(out + done, client->scratch, got * sizeof *out);
        done += got;
        if (got < want)
            break;
    } while (done < cap);
    *count_out = done;
    if (total_out)
        *total_out = (uint32_t)total;
    return TV_OK;
}

static tv_status_t put_path(struct tv_client *client, const char *path, size_t *len)
{
    size_t n = tv_strnlen(path, PATH_ROOM);
    if (n == 0 || n >= PATH_ROOM)
        return TV_E_INVALID_ARGUMENT;
    tv_memcpy(client->scratch, path, n);
    *len = n;
    return TV_OK;
}

tv_status_t tv_dir_list(struct tv_client *client, const char *path, uint64_t cursor,
                        struct tv_dir_entry *out, size_t cap, size_t *count_out)
{
    size_t len;
    tv_status_t st = put_path(client, path, &len);
    if (st != TV_OK)
        return st;
    const size_t chunk_cap = (TV_CLIENT_SCRATCH_SIZE - PATH_ROOM) / sizeof(struct tv_dir_entry);
    uint8_t *recs = (uint8_t *)client->scratch + PATH_ROOM;
    size_t done = 0;
    while (done < cap) {
        size_t want = cap - done < chunk_cap ? cap - done : chunk_cap;
        uint64_t got = 0;
        st = call5(client, TV_HC_DIR_LIST, client->scratch_gpa, len,
                   client->scratch_gpa + PATH_ROOM, want, cursor + done, &got);
        if (st != TV_OK)
            return st;
        if (got > want)
            return TV_E_CORRUPT; /* the monitor broke its contract */
        tv_memcpy(out + done, recs, (size_t)got * sizeof *out);
        done += (size_t)got;
        if (got < want)
            break;
    }
    *count_out = done;
    return TV_OK;
}

tv_status_t tv_disk_info(struct tv_client *client, const char *path, struct tv_disk_info *out)
{
    size_t len;
    tv_status_t st = put_path(client, path, &len);
    if (st != TV_OK)
        return st;
    uint64_t size = 0;
    st = call5(client, TV_HC_DISK_INFO, client->scratch_gpa, len, client->scratch_gpa + PATH_ROOM,
               sizeof *out, 0, &size);
    if (st == TV_OK)
        tv_memcpy(out, (uint8_t *)client->scratch + PATH_ROOM, sizeof *out);
    return st;
}

tv_status_t tv_dir_create(struct tv_client *client, const char *path)
{
    size_t len;
    tv_status_t st = put_path(client, path, &len);
    if (st != TV_OK)
        return st;
    return call5(client, TV_HC_DIR_CREATE, client->scratch_gpa, len, 0, 0, 0, NULL);
}
