/* Memory block device with power cuts (see mem_blockdev.h). */
#include "mem_blockdev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct piece {
    uint64_t off;
    uint8_t data[512];
};

struct mem_bdev {
    fs_blockdev_t dev;
    uint8_t *cur, *durable;
    uint64_t bytes;
    struct piece *pend;
    size_t npend, cap;
    uint64_t events, writes, crash_after;
    bool crashed;
};

static bool event(mem_bdev_t *m)
{
    if (m->crashed)
        return false;
    m->events++;
    if (m->crash_after && m->events > m->crash_after) {
        m->crashed = true;
        return false;
    }
    return true;
}

static tv_status_t mb_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
    mem_bdev_t *m = ctx;
    uint64_t off = lba * m->dev.sector_size, len = (uint64_t)count * m->dev.sector_size;
    if (lba > m->dev.sectors || count > m->dev.sectors - lba)
        return TV_E_INVALID_ARGUMENT;
    memcpy(buf, m->cur + off, len);
    return TV_OK;
}

static tv_status_t mb_write(void *ctx, uint64_t lba, uint32_t count, const void *buf)
{
    mem_bdev_t *m = ctx;
    uint64_t off = lba * m->dev.sector_size, len = (uint64_t)count * m->dev.sector_size;
    if (lba > m->dev.sectors || count > m->dev.sectors - lba)
        return TV_E_INVALID_ARGUMENT;
    if (!event(m))
        return TV_E_IO;
    m->writes++;
    memcpy(m->cur + off, buf, len);
    for (uint64_t o = 0; o < len; o += 512) {
        if (m->npend == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 256;
            m->pend = realloc(m->pend, m->cap * sizeof *m->pend);
        }
        m->pend[m->npend].off = off + o;
        memcpy(m->pend[m->npend].data, (const uint8_t *)buf + o, 512);
        m->npend++;
    }
    return TV_OK;
}

static tv_status_t mb_flush(void *ctx)
{
    mem_bdev_t *m = ctx;
    if (!event(m))
        return TV_E_IO;
    for (size_t i = 0; i < m->npend; i++)
        memcpy(m->durable + m->pend[i].off, m->pend[i].data, 512);
    m->npend = 0;
    return TV_OK;
}

mem_bdev_t *mem_bdev_new(uint64_t bytes, uint32_t sector_size)
{
    mem_bdev_t *m = calloc(1, sizeof *m);
    m->bytes = bytes;
    m->cur = calloc(1, bytes);
    m->durable = calloc(1, bytes);
    m->dev.ctx = m;
    m->dev.sector_size = sector_size;
    m->dev.sectors = bytes / sector_size;
    m->dev.read = mb_read;
    m->dev.write = mb_write;
    m->dev.flush = mb_flush;
    return m;
}

mem_bdev_t *mem_bdev_from_file(const char *path, uint32_t sector_size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    mem_bdev_t *m = mem_bdev_new((uint64_t)n, sector_size);
    if (fread(m->cur, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        mem_bdev_free(m);
        return NULL;
    }
    fclose(f);
    memcpy(m->durable, m->cur, (size_t)n);
    return m;
}

void mem_bdev_free(mem_bdev_t *m)
{
    if (!m)
        return;
    free(m->cur);
    free(m->durable);
    free(m->pend);
    free(m);
}

fs_blockdev_t *mem_bdev_dev(mem_bdev_t *m) { return &m->dev; }
uint8_t *mem_bdev_data(mem_bdev_t *m) { return m->cur; }
uint64_t mem_bdev_size(const mem_bdev_t *m) { return m->bytes; }
uint64_t mem_bdev_events(const mem_bdev_t *m) { return m->events; }
uint64_t mem_bdev_writes(const mem_bdev_t *m) { return m->writes; }
bool mem_bdev_crashed(const mem_bdev_t *m) { return m->crashed; }

void mem_bdev_set_crash(mem_bdev_t *m, uint64_t after_event)
{
    m->crash_after = after_event;
    m->events = 0;
    m->crashed = false;
}

void mem_bdev_power_cycle(mem_bdev_t *m, int keep, uint64_t seed)
{
    uint64_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < m->npend; i++) {
        bool take = keep == MB_KEEP_ALL;
        if (keep == MB_KEEP_RANDOM) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            take = x & 1;
        }
        if (take)
            memcpy(m->durable + m->pend[i].off, m->pend[i].data, 512);
    }
    m->npend = 0;
    memcpy(m->cur, m->durable, m->bytes);
    m->crashed = false;
    m->crash_after = 0;
    m->events = 0;
}

mem_bdev_t *mem_bdev_clone(const mem_bdev_t *src)
{
    mem_bdev_t *m = mem_bdev_new(src->bytes, src->dev.sector_size);
    memcpy(m->cur, src->cur, src->bytes);
    memcpy(m->durable, src->cur, src->bytes);
    return m;
}

bool mem_bdev_save(const mem_bdev_t *m, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(m->cur, 1, m->bytes, f) == m->bytes;
    return fclose(f) == 0 && ok;
}
