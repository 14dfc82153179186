#include "mm/pagetable.h"

#define X86_P   (1ull << 0)
#define X86_RW  (1ull << 1)
#define X86_US  (1ull << 2)
#define X86_PWT (1ull << 3)
#define X86_PCD (1ull << 4)
#define X86_PS  (1ull << 7)
#define X86_NX  (1ull << 63)
#define X86_ADDR 0x000ffffffffff000ull

static uint64_t x86_make_table(uint64_t pa)
{
    /* Permissions are decided at the leaf; upper levels allow everything. */
    return (pa & X86_ADDR) | X86_P | X86_RW | X86_US;
}

static uint64_t x86_make_leaf(uint64_t pa, unsigned perms, int level)
{
    uint64_t e = (pa & X86_ADDR) | X86_P;
    if (perms & PT_WRITE) e |= X86_RW;
    if (perms & PT_USER) e |= X86_US;
    if (perms & PT_UNCACHED) e |= X86_PCD | X86_PWT;
    if (level > 1) e |= X86_PS;
    /* NX is left clear: EFER.NXE is not assumed, and guest NPT mappings are
     * executable RAM. */
    return e;
}

static int x86_is_present(uint64_t e) { return (e & X86_P) != 0; }
static int x86_is_large(uint64_t e, int level) { return level > 1 && (e & X86_PS); }

const struct pt_format pt_format_x86_64 = {
    .make_table = x86_make_table,
    .make_leaf = x86_make_leaf,
    .is_present = x86_is_present,
    .is_large = x86_is_large,
    .addr_mask = X86_ADDR,
};

/* Intel EPT (SDM vol. 3 28.3.2): bits 0-2 read/write/execute, leaf memory
 * type in bits 3-5 (6 write-back, 0 uncached), bit 7 a large page. */
#define EPT_R      (1ull << 0)
#define EPT_W      (1ull << 1)
#define EPT_X      (1ull << 2)
#define EPT_WB     (6ull << 3)
#define EPT_LARGE  (1ull << 7)

static uint64_t ept_make_table(uint64_t pa)
{
    return (pa & X86_ADDR) | EPT_R | EPT_W | EPT_X;
}

static uint64_t ept_make_leaf(uint64_t pa, unsigned perms, int level)
{
    uint64_t e = pa & X86_ADDR;
    if (perms & PT_READ) e |= EPT_R;
    if (perms & PT_WRITE) e |= EPT_W | EPT_R;   /* write-only is a misconfiguration */
    if (perms & PT_EXEC) e |= EPT_X;
    if (!(perms & PT_UNCACHED)) e |= EPT_WB;
    if (level > 1) e |= EPT_LARGE;
    return e;
}

static int ept_is_present(uint64_t e) { return (e & (EPT_R | EPT_W | EPT_X)) != 0; }
static int ept_is_large(uint64_t e, int level) { return level > 1 && (e & EPT_LARGE); }

const struct pt_format pt_format_ept = {
    .make_table = ept_make_table,
    .make_leaf = ept_make_leaf,
    .is_present = ept_is_present,
    .is_large = ept_is_large,
    .addr_mask = X86_ADDR,
};

tv_status_t pt_init(struct page_table *pt, const struct pt_format *fmt, const struct pt_ops *ops)
{
    pt->fmt = fmt;
    pt->ops = ops;
    return ops->alloc_page(ops->ctx, &pt->root_pa);
}

static unsigned index_at(uint64_t va, int level)
{
    return (unsigned)((va >> (12 + 9 * (level - 1))) & 511);
}

static tv_status_t map_one(struct page_table *pt, uint64_t va, uint64_t pa, unsigned perms, int leaf_level)
{
    uint64_t table_pa = pt->root_pa;
    for (int level = 4; level > leaf_level; level--) {
        uint64_t *t = pt->ops->map(pt->ops->ctx, table_pa);
        uint64_t *e = &t[index_at(va, level)];
        if (!pt->fmt->is_present(*e)) {
            uint64_t next;
            tv_status_t st = pt->ops->alloc_page(pt->ops->ctx, &next);
            if (st != TV_OK)
                return st;
            *e = pt->fmt->make_table(next);
        } else if (pt->fmt->is_large(*e, level)) {
            return TV_E_EXISTS; /* would split a large page: not supported */
        }
        table_pa = *e & pt->fmt->addr_mask;
    }
    uint64_t *t = pt->ops->map(pt->ops->ctx, table_pa);
    t[index_at(va, leaf_level)] = pt->fmt->make_leaf(pa, perms, leaf_level);
    return TV_OK;
}

tv_status_t pt_map(struct page_table *pt, uint64_t va, uint64_t pa, uint64_t size,
                   unsigned perms, int allow_large)
{
    if ((va | pa | size) & 0xfff)
        return TV_E_INVALID_ARGUMENT;
    if (va + size < va || pa + size < pa)
        return TV_E_INVALID_ARGUMENT;
    while (size) {
        int level = 1;
        uint64_t step = 1ull << 12;
        if (allow_large) {
            if (!((va | pa) & ((1ull << 30) - 1)) && size >= (1ull << 30)) {
                level = 3;
                step = 1ull << 30;
            } else if (!((va | pa) & ((1ull << 21) - 1)) && size >= (1ull << 21)) {
                level = 2;
                step = 1ull << 21;
            }
        }
        tv_status_t st = map_one(pt, va, pa, perms, level);
        if (st != TV_OK)
            return st;
        va += step;
        pa += step;
        size -= step;
    }
    return TV_OK;
}

tv_status_t pt_lookup(const struct page_table *pt, uint64_t va, uint64_t *pa_out)
{
    uint64_t table_pa = pt->root_pa;
    for (int level = 4; level >= 1; level--) {
        uint64_t *t = pt->ops->map(pt->ops->ctx, table_pa);
        uint64_t e = t[index_at(va, level)];
        if (!pt->fmt->is_present(e))
            return TV_E_NOT_FOUND;
        if (level == 1 || pt->fmt->is_large(e, level)) {
            uint64_t span = 1ull << (12 + 9 * (level - 1));
            *pa_out = (e & pt->fmt->addr_mask & ~(span - 1)) | (va & (span - 1));
            return TV_OK;
        }
        table_pa = e & pt->fmt->addr_mask;
    }
    return TV_E_NOT_FOUND;
}

static void free_level(struct page_table *pt, uint64_t table_pa, int level)
{
    if (level > 1) {
        uint64_t *t = pt->ops->map(pt->ops->ctx, table_pa);
        for (int i = 0; i < 512; i++)
            if (pt->fmt->is_present(t[i]) && !pt->fmt->is_large(t[i], level))
                free_level(pt, t[i] & pt->fmt->addr_mask, level - 1);
    }
    pt->ops->free_page(pt->ops->ctx, table_pa);
}

void pt_destroy(struct page_table *pt)
{
    if (pt->root_pa)
        free_level(pt, pt->root_pa, 4);
    pt->root_pa = 0;
}
