/* Raw block throughput for the disk bench: see blk_bench.h.
 *
 * The region [blk_bench_lba, + blk_bench_mib MiB) of the first writable
 * block device large enough for it is written (then flushed) and read back sequentially, each pass timed
 * with the monitor's TSC clock, in two ways:
 *   sync    1 MiB blk_write/blk_read calls, the calls the file systems
 *           make (blk_fsdev.c -> blk_read/blk_write);
 *   queued  requests of the device's largest size kept queue_depth deep,
 *           what the device and the block layer can do at best.
 * The bench runner keeps that region outside every partition; a range past
 * the device's end is refused by the block layer and logged as a failure. */
#include "testing/blk_bench.h"
#include "drivers/block/block.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "tv_status.h"
#include "tv_string.h"

#define CALL_BYTES (1u << 20)
#define MAX_QUEUE 32u

struct pass {
    const char *mode;
    enum blk_op op;
    uint64_t ns;
    tv_status_t st;
};

static tv_status_t sync_pass(struct blk_dev *d, enum blk_op op, uint64_t lba, uint64_t sectors,
                             uint8_t *buf)
{
    uint32_t per = CALL_BYTES / d->sector_size;
    for (uint64_t done = 0; done < sectors;) {
        uint32_t n = sectors - done < per ? (uint32_t)(sectors - done) : per;
        tv_status_t st = op == BLK_WRITE ? blk_write(d, lba + done, n, buf)
                                         : blk_read(d, lba + done, n, buf);
        if (st != TV_OK)
            return st;
        done += n;
    }
    return op == BLK_WRITE ? blk_flush(d) : TV_OK;
}

/* Keeps `depth` requests of max_sectors in flight; each slot reuses its
 * own part of buf. */
static tv_status_t queued_pass(struct blk_dev *d, enum blk_op op, uint64_t lba, uint64_t sectors,
                               uint8_t *buf, uint32_t depth)
{
    struct blk_req req[MAX_QUEUE];
    bool busy[MAX_QUEUE] = { false };
    uint64_t next = 0;
    tv_status_t first = TV_OK;
    uint32_t slot = 0;
    for (;;) {
        if (busy[slot]) {
            tv_status_t st = blk_wait(&req[slot]);
            busy[slot] = false;
            if (st != TV_OK && first == TV_OK)
                first = st;
        }
        if (next < sectors && first == TV_OK) {
            uint32_t n = sectors - next < d->max_sectors ? (uint32_t)(sectors - next) : d->max_sectors;
            req[slot] = (struct blk_req){ .op = op, .lba = lba + next, .count = n,
                                          .buf = buf + (uint64_t)slot * d->max_sectors * d->sector_size };
            blk_submit(d, &req[slot]);
            busy[slot] = true;
            next += n;
        }
        bool any = false;
        for (uint32_t i = 0; i < depth; i++)
            any |= busy[i];
        if (!any && (next >= sectors || first != TV_OK))
            break;
        slot = (slot + 1) % depth;
    }
    if (first != TV_OK)
        return first;
    return op == BLK_WRITE ? blk_flush(d) : TV_OK;
}

void blk_bench_run(const char *options)
{
    uint64_t mib = option_get_u64(options, "blk_bench_mib", 0);
    if (!mib)
        return;
    uint64_t lba = option_get_u64(options, "blk_bench_lba", 0);
    uint64_t sectors = 0;
    struct blk_dev *d = 0;
    /* The first writable device the region fits on (the ESP's disk, which
     * the firmware booted from, is usually first and small). */
    for (unsigned i = 0; i < blk_count() && !d; i++) {
        struct blk_dev *c = blk_get(i);
        uint64_t n = (mib << 20) / c->sector_size;
        if (!c->read_only && lba < c->sectors && n <= c->sectors - lba) {
            d = c;
            sectors = n;
        }
    }
    if (!d) {
        log_err("BENCH blk_raw: no writable block device holds %llu MiB from sector %llu",
                (unsigned long long)mib, (unsigned long long)lba);
        return;
    }
    uint32_t depth = d->queue_depth < MAX_QUEUE ? d->queue_depth : MAX_QUEUE;
    size_t qbytes = (size_t)depth * d->max_sectors * d->sector_size;
    size_t bytes = qbytes > CALL_BYTES ? qbytes : CALL_BYTES;
    uint8_t *buf = kzalloc(bytes);
    if (!buf) {
        log_err("BENCH blk_raw: no memory for a %llu-byte buffer", (unsigned long long)bytes);
        return;
    }
    for (size_t i = 0; i < bytes; i++)
        buf[i] = (uint8_t)(i * 7 + 0x5a); /* not zeros: nothing may shortcut them */
    struct pass passes[] = {
        { "sync", BLK_WRITE, 0, TV_OK }, { "sync", BLK_READ, 0, TV_OK },
        { "queued", BLK_WRITE, 0, TV_OK }, { "queued", BLK_READ, 0, TV_OK },
    };
    for (unsigned i = 0; i < sizeof passes / sizeof passes[0]; i++) {
        struct pass *p = &passes[i];
        uint64_t t0 = time_now_ns();
        p->st = p->mode[0] == 's' ? sync_pass(d, p->op, lba, sectors, buf)
                                  : queued_pass(d, p->op, lba, sectors, buf, depth);
        p->ns = time_now_ns() - t0;
        if (p->st != TV_OK)
            log_err("BENCH blk_raw %s %s: failed (%s)", p->mode, p->op == BLK_WRITE ? "write" : "read",
                    tv_status_name(p->st));
        else
            log_info("BENCH blk_raw dev=%s mode=%s op=%s bytes=%llu ns=%llu request_bytes=%u depth=%u",
                     d->name, p->mode, p->op == BLK_WRITE ? "write" : "read",
                     (unsigned long long)(mib << 20), (unsigned long long)p->ns,
                     p->mode[0] == 's' ? CALL_BYTES : d->max_sectors * d->sector_size,
                     p->mode[0] == 's' ? 1u : depth);
    }
    kfree(buf);
}
