#include "mm/pmm.h"
#include "tv_string.h"
#include <stdbool.h>

static inline int bit_test(const uint64_t *bm, uint64_t i) { return (bm[i / 64] >> (i % 64)) & 1; }

/* The bitmap is worked a 64-bit word at a time: page by page, setting up a
 * 1 GiB machine took 20 ms of start-up and a 512 MiB partition 20 ms more
 * (QEMU -icount). */
static uint64_t popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (x * 0x0101010101010101ull) >> 56;
}

/* Sets (set) or clears bits [first, first + n); returns how many changed. */
static uint64_t bits_change(uint64_t *bm, uint64_t first, uint64_t n, bool set)
{
    uint64_t changed = 0, i = first, end = first + n;
    while (i < end) {
        uint64_t w = i / 64, lo = i % 64;
        uint64_t hi = end - w * 64 < 64 ? end - w * 64 : 64;
        uint64_t m = (hi == 64 ? ~0ull : (1ull << hi) - 1) & ~((1ull << lo) - 1);
        uint64_t old = bm[w];
        bm[w] = set ? old | m : old & ~m;
        changed += popcount64((set ? ~old : old) & m);
        i = w * 64 + hi;
    }
    return changed;
}

/* How many consecutive set (free) bits start at first, at most n. */
static uint64_t bits_run(const uint64_t *bm, uint64_t first, uint64_t n)
{
    uint64_t run = 0;
    while (run < n) {
        uint64_t i = first + run, lo = i % 64;
        uint64_t used = ~(bm[i / 64] >> lo); /* bits past the word's end count as used */
        uint64_t t = used ? (uint64_t)__builtin_ctzll(used) : 64;
        if (t >= 64 - lo) {
            run += 64 - lo;
            continue;
        }
        run += t;
        break;
    }
    return run < n ? run : n;
}

static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

tv_status_t pmm_init(struct pmm *pmm, const struct tv_boot_mem_region *regions, uint32_t count,
                     uint64_t low_limit, void *(*map_phys)(uint64_t pa))
{
    tv_memset(pmm, 0, sizeof *pmm);
    uint64_t top = 0;
    for (uint32_t i = 0; i < count; i++) {
        const struct tv_boot_mem_region *r = &regions[i];
        if (r->type != TV_MEM_USABLE || r->length == 0)
            continue;
        if (r->base + r->length < r->base)
            return TV_E_INVALID_ARGUMENT; /* wraps: corrupt map */
        if (r->base + r->length > top)
            top = r->base + r->length;
    }
    if (top == 0)
        return TV_E_NO_MEMORY;
    pmm->page_count = top / PAGE_SIZE;
    uint64_t bitmap_bytes = round_up((pmm->page_count + 63) / 64 * 8, PAGE_SIZE);

    /* Place the bitmap in the first usable region above low_limit that fits. */
    uint64_t bitmap_pa = 0;
    for (uint32_t i = 0; i < count && !bitmap_pa; i++) {
        const struct tv_boot_mem_region *r = &regions[i];
        if (r->type != TV_MEM_USABLE)
            continue;
        uint64_t start = round_up(r->base > low_limit ? r->base : low_limit, PAGE_SIZE);
        uint64_t end = (r->base + r->length) & ~(PAGE_SIZE - 1);
        if (end > start && end - start >= bitmap_bytes)
            bitmap_pa = start;
    }
    if (!bitmap_pa)
        return TV_E_NO_MEMORY;
    pmm->bitmap = map_phys(bitmap_pa);
    tv_memset(pmm->bitmap, 0, bitmap_bytes);

    for (uint32_t i = 0; i < count; i++) {
        const struct tv_boot_mem_region *r = &regions[i];
        if (r->type != TV_MEM_USABLE)
            continue;
        uint64_t start = round_up(r->base > low_limit ? r->base : low_limit, PAGE_SIZE);
        uint64_t end = (r->base + r->length) & ~(PAGE_SIZE - 1);
        if (end > start)
            pmm->free_pages += bits_change(pmm->bitmap, start / PAGE_SIZE, (end - start) / PAGE_SIZE, true);
    }
    /* A usable region may overlap a non-usable one in a sloppy map: the
     * non-usable type wins. */
    for (uint32_t i = 0; i < count; i++) {
        const struct tv_boot_mem_region *r = &regions[i];
        if (r->type != TV_MEM_USABLE)
            pmm_reserve(pmm, r->base, r->length);
    }
    pmm_reserve(pmm, bitmap_pa, bitmap_bytes);
    pmm->total_usable = pmm->free_pages;
    return TV_OK;
}

void pmm_reserve(struct pmm *pmm, uint64_t pa, uint64_t bytes)
{
    uint64_t first = pa / PAGE_SIZE;
    uint64_t end = bytes > UINT64_MAX - pa ? UINT64_MAX : round_up(pa + bytes, PAGE_SIZE);
    uint64_t last = end / PAGE_SIZE;
    if (last > pmm->page_count)
        last = pmm->page_count;
    if (last > first)
        pmm->free_pages -= bits_change(pmm->bitmap, first, last - first, false);
}

int pmm_is_free(const struct pmm *pmm, uint64_t pa)
{
    uint64_t p = pa / PAGE_SIZE;
    return p < pmm->page_count && bit_test(pmm->bitmap, p);
}

tv_status_t pmm_alloc(struct pmm *pmm, uint64_t n, uint64_t align_pages, uint64_t *pa_out)
{
    if (n == 0 || align_pages == 0 || (align_pages & (align_pages - 1)))
        return TV_E_INVALID_ARGUMENT;
    if (n > pmm->free_pages)
        return TV_E_NO_MEMORY;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t p = pass == 0 ? pmm->search_hint : 0;
        uint64_t limit = pass == 0 ? pmm->page_count : pmm->search_hint + n;
        if (limit > pmm->page_count)
            limit = pmm->page_count;
        p = round_up(p, align_pages);
        while (p + n <= limit) {
            uint64_t run = bits_run(pmm->bitmap, p, n);
            if (run == n) {
                pmm->free_pages -= bits_change(pmm->bitmap, p, n, false);
                pmm->search_hint = p + n;
                *pa_out = p * PAGE_SIZE;
                return TV_OK;
            }
            p = round_up(p + run + 1, align_pages);
        }
    }
    return TV_E_NO_MEMORY;
}

void pmm_free(struct pmm *pmm, uint64_t pa, uint64_t n)
{
    uint64_t first = pa / PAGE_SIZE;
    if (first < pmm->page_count) {
        if (n > pmm->page_count - first)
            n = pmm->page_count - first;
        pmm->free_pages += bits_change(pmm->bitmap, first, n, true);
    }
    if (first < pmm->search_hint)
        pmm->search_hint = first;
}
