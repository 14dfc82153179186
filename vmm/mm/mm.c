#include "mm/mm.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "mm/pagetable.h"
#include "tv_string.h"

static struct pmm pmm;
static spinlock_t pmm_lock = SPINLOCK_INIT;
static struct page_table host_pt;
static uint64_t identity_top;   /* end of the boot-time identity map */
static spinlock_t map_lock = SPINLOCK_INIT;

/* Planted in the monitor's data; a guest scanning its RAM must not see them. */
volatile uint64_t mon_canaries[4] = { MON_CANARY_A, MON_CANARY_B, MON_CANARY_A, MON_CANARY_B };

static void *identity(uint64_t pa) { return (void *)(uintptr_t)pa; }

struct pmm *mm_pmm(void) { return &pmm; }

/* Whole pages are zeroed with REP STOSQ: one instruction the CPU (and an
 * emulator) runs far faster than a loop, which matters for guest RAM. */
static void zero_pages(void *p, uint64_t n)
{
    uint64_t count = n * (PAGE_SIZE / 8);
    __asm__ volatile("cld; rep stosq" : "+D"(p), "+c"(count) : "a"(0ull) : "memory");
}

tv_status_t page_alloc(uint64_t n, uint64_t align_pages, uint64_t *pa)
{
    bool irq = spin_lock_irqsave(&pmm_lock);
    tv_status_t st = pmm_alloc(&pmm, n, align_pages, pa);
    spin_unlock_irqrestore(&pmm_lock, irq);
    if (st == TV_OK)
        zero_pages(phys_to_virt(*pa), n);
    return st;
}

tv_status_t page_alloc_uninit(uint64_t n, uint64_t align_pages, uint64_t *pa)
{
    bool irq = spin_lock_irqsave(&pmm_lock);
    tv_status_t st = pmm_alloc(&pmm, n, align_pages, pa);
    spin_unlock_irqrestore(&pmm_lock, irq);
    return st;
}

void page_zero(uint64_t pa, uint64_t n)
{
    zero_pages(phys_to_virt(pa), n);
}

void page_free(uint64_t pa, uint64_t n)
{
    bool irq = spin_lock_irqsave(&pmm_lock);
    pmm_free(&pmm, pa, n);
    spin_unlock_irqrestore(&pmm_lock, irq);
}

static tv_status_t pt_alloc(void *ctx, uint64_t *pa) { (void)ctx; return page_alloc(1, 1, pa); }
static void pt_free(void *ctx, uint64_t pa) { (void)ctx; page_free(pa, 1); }
static uint64_t *pt_map_table(void *ctx, uint64_t pa) { (void)ctx; return phys_to_virt(pa); }
static const struct pt_ops host_pt_ops = { NULL, pt_alloc, pt_free, pt_map_table };

tv_status_t mm_init(const struct tv_boot_info *bi)
{
    /* Keep the low 1 MiB for firmware structures and real-mode remnants. */
    tv_status_t st = pmm_init(&pmm, bi->mem, bi->mem_count, 0x100000, identity);
    if (st != TV_OK)
        return st;
    /* The loader marks its images LOADED, but be defensive about our own. */
    pmm_reserve(&pmm, bi->monitor_phys, bi->monitor_size);
    pmm_reserve(&pmm, virt_to_phys(bi), sizeof *bi);

    /* Our own page tables: identity map of everything up to the top of the
     * map (and at least 4 GiB for the local APIC and MMIO).  Caching follows
     * the firmware's MTRRs, which keep MMIO uncached. */
    uint64_t top = 4ull << 30;
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        uint64_t end = bi->mem[i].base + bi->mem[i].length;
        if (end > top)
            top = end;
    }
    top = (top + (1ull << 30) - 1) & ~((1ull << 30) - 1);
    bool gb_pages = (cpuid(0x80000001, 0).edx >> 26) & 1;
    st = pt_init(&host_pt, &pt_format_x86_64, &host_pt_ops);
    if (st != TV_OK)
        return st;
    if (gb_pages) {
        st = pt_map(&host_pt, 0, 0, top, PT_READ | PT_WRITE | PT_EXEC, 1);
    } else {
        /* pt_map uses 1 GiB leaves whenever alignment allows: map in 2 MiB
         * pieces by giving it sizes below 1 GiB. */
        for (uint64_t a = 0; a < top && st == TV_OK; a += 1ull << 21)
            st = pt_map(&host_pt, a, a, 1ull << 21, PT_READ | PT_WRITE | PT_EXEC, 1);
    }
    if (st != TV_OK)
        return st;
    write_cr3(host_pt.root_pa);
    identity_top = top;
    log_info("memory: %llu MiB usable, %llu MiB free, host tables map %llu GiB (%s pages)",
             (unsigned long long)(pmm.total_usable * PAGE_SIZE >> 20),
             (unsigned long long)(pmm.free_pages * PAGE_SIZE >> 20),
             (unsigned long long)(top >> 30), gb_pages ? "1 GiB" : "2 MiB");
    return TV_OK;
}

tv_status_t mm_map_mmio(uint64_t pa, uint64_t size)
{
    if (size == 0 || pa + size < pa)
        return TV_E_INVALID_ARGUMENT;
    uint64_t start = pa & ~0xfffull, end = (pa + size + 0xfff) & ~0xfffull;
    if (end <= identity_top)
        return TV_OK;
    if (start < identity_top)
        start = identity_top;
    if (end > (1ull << 47))
        return TV_E_INVALID_ARGUMENT;    /* beyond the canonical lower half */
    /* 4 KiB leaves only: two BARs may share a 2 MiB region, and a second
     * call then rewrites the same small entries instead of meeting a large
     * page (pt_map refuses to split one).  New entries need no TLB flush. */
    bool irq = spin_lock_irqsave(&map_lock);
    tv_status_t st = pt_map(&host_pt, start, start, end - start,
                            PT_READ | PT_WRITE | PT_UNCACHED, 0);
    spin_unlock_irqrestore(&map_lock, irq);
    return st;
}
