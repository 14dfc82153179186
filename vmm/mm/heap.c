/* A small kernel heap: power-of-two size classes from 32 B to 2 KiB carved
 * from pages, and whole pages (with a header page) for larger blocks. */
#include "mm/mm.h"
#include "kernel/spinlock.h"
#include "tv_string.h"

#define MIN_SHIFT 5
#define MAX_SHIFT 11
#define CLASSES (MAX_SHIFT - MIN_SHIFT + 1)
#define HEADER 16

struct free_block { struct free_block *next; };

static struct free_block *free_lists[CLASSES];
static spinlock_t heap_lock = SPINLOCK_INIT;
static size_t bytes_in_use;
static uint64_t pool_pages; /* pages carved into size classes (never returned) */

/* Each block carries a 16-byte header: its class (or page count for large). */
struct block_header {
    uint32_t magic;
    uint32_t cls;       /* class index, or 0xffffffff for large */
    uint64_t pages;     /* large blocks: pages allocated */
};
#define HEAP_MAGIC 0x4b484550u

static int class_for(size_t total)
{
    for (int c = 0; c < CLASSES; c++)
        if (total <= (1u << (MIN_SHIFT + c)))
            return c;
    return -1;
}

void *kmalloc(size_t size)
{
    if (size == 0 || size > (1ull << 32))
        return NULL;
    size_t total = size + HEADER;
    int c = class_for(total);
    struct block_header *h;
    if (c < 0) {
        uint64_t pages = (total + PAGE_SIZE - 1) / PAGE_SIZE, pa;
        if (page_alloc(pages, 1, &pa) != TV_OK)
            return NULL;
        h = phys_to_virt(pa);
        h->cls = 0xffffffffu;
        h->pages = pages;
    } else {
        bool irq = spin_lock_irqsave(&heap_lock);
        if (!free_lists[c]) {
            uint64_t pa;
            spin_unlock_irqrestore(&heap_lock, irq);
            if (page_alloc(1, 1, &pa) != TV_OK)
                return NULL;
            irq = spin_lock_irqsave(&heap_lock);
            pool_pages++;
            size_t bsize = 1u << (MIN_SHIFT + c);
            uint8_t *page = phys_to_virt(pa);
            for (size_t off = 0; off + bsize <= PAGE_SIZE; off += bsize) {
                struct free_block *b = (struct free_block *)(page + off);
                b->next = free_lists[c];
                free_lists[c] = b;
            }
        }
        h = (struct block_header *)free_lists[c];
        free_lists[c] = free_lists[c]->next;
        spin_unlock_irqrestore(&heap_lock, irq);
        h->cls = (uint32_t)c;
        h->pages = 0;
    }
    h->magic = HEAP_MAGIC;
    bool irq = spin_lock_irqsave(&heap_lock);
    bytes_in_use += size;
    spin_unlock_irqrestore(&heap_lock, irq);
    h->pages |= (uint64_t)size << 20; /* remember the size for accounting */
    return (uint8_t *)h + HEADER;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        tv_memset(p, 0, size);
    return p;
}

void kfree(void *p)
{
    if (!p)
        return;
    struct block_header *h = (struct block_header *)((uint8_t *)p - HEADER);
    if (h->magic != HEAP_MAGIC)
        return; /* not ours or double free: leak rather than corrupt */
    h->magic = 0;
    size_t size = (size_t)(h->pages >> 20);
    uint64_t pages = h->pages & 0xfffff;
    bool irq = spin_lock_irqsave(&heap_lock);
    bytes_in_use -= size;
    if (h->cls == 0xffffffffu) {
        spin_unlock_irqrestore(&heap_lock, irq);
        page_free(virt_to_phys(h), pages);
        return;
    }
    uint32_t cls = h->cls;
    struct free_block *b = (struct free_block *)h;
    b->next = free_lists[cls];
    free_lists[cls] = b;
    spin_unlock_irqrestore(&heap_lock, irq);
}

uint64_t kheap_pool_pages(void)
{
    return __atomic_load_n(&pool_pages, __ATOMIC_RELAXED);
}

size_t kheap_in_use(void)
{
    return bytes_in_use;
}
