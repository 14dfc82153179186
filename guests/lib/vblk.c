/* A tiny virtio-blk driver for test guests: see guest_vblk.h. */
#include "guest_vblk.h"
#include "guest.h"

#define CAP_VNDR 0x09u
#define S_ACK 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u

/* The rings: one set, page aligned, shared by whichever device is driven. */
static struct gvblk_desc ring_desc[GVBLK_QMAX] __attribute__((aligned(4096)));
static uint16_t ring_avail[3 + GVBLK_QMAX] __attribute__((aligned(4096)));
static uint32_t ring_used[2 + 2 * GVBLK_QMAX] __attribute__((aligned(4096)));
static uint8_t req_hdr[16] __attribute__((aligned(16)));
static uint8_t req_status;

static inline void outl32(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint32_t inl32(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw16(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outw16(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }

uint32_t pci_cfg_read(unsigned slot, unsigned off, unsigned size)
{
    outl32(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
    uint16_t port = (uint16_t)(0xcfc + (off & 3));
    return size == 4 ? inl32(port) : size == 2 ? inw16(port) : inb(port);
}

void pci_cfg_write(unsigned slot, unsigned off, unsigned size, uint32_t value)
{
    outl32(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
    uint16_t port = (uint16_t)(0xcfc + (off & 3));
    if (size == 4)
        outl32(port, value);
    else if (size == 2)
        outw16(port, (uint16_t)value);
    else
        outb(port, (uint8_t)value);
}

uint8_t mmio_read8(volatile void *p) { uint8_t v; __asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(p) : "memory"); return v; }
uint16_t mmio_read16(volatile void *p) { uint16_t v; __asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(p) : "memory"); return v; }
uint32_t mmio_read32(volatile void *p) { uint32_t v; __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(p) : "memory"); return v; }
void mmio_write8(volatile void *p, uint8_t v) { __asm__ volatile("movb %0, (%1)" :: "q"(v), "r"(p) : "memory"); }
void mmio_write16(volatile void *p, uint16_t v) { __asm__ volatile("movw %0, (%1)" :: "r"(v), "r"(p) : "memory"); }
void mmio_write32(volatile void *p, uint32_t v) { __asm__ volatile("movl %0, (%1)" :: "r"(v), "r"(p) : "memory"); }

bool gvblk_find(struct gvblk *d, unsigned nth)
{
    memset(d, 0, sizeof *d);
    for (unsigned slot = 0; slot < 32; slot++) {
        uint32_t id = pci_cfg_read(slot, 0, 4);
        if (id != (0x1042u << 16 | 0x1af4u))
            continue;
        if (nth--)
            continue;
        d->slot = slot;
        d->bar = pci_cfg_read(slot, 0x10, 4) & ~0xfu;
        d->irq_line = (uint8_t)pci_cfg_read(slot, 0x3c, 1);
        pci_cfg_write(slot, 0x04, 2, pci_cfg_read(slot, 0x04, 2) | 2u);  /* memory decoding */
        if (!(pci_cfg_read(slot, 0x06, 2) & 0x10))
            return false;
        for (unsigned c = pci_cfg_read(slot, 0x34, 1) & 0xfc, n = 0; c && n < 48; n++) {
            if (pci_cfg_read(slot, c, 1) == CAP_VNDR && pci_cfg_read(slot, c + 4, 1) == 0) {
                unsigned type = pci_cfg_read(slot, c + 3, 1);
                uint32_t off = pci_cfg_read(slot, c + 8, 4), len = pci_cfg_read(slot, c + 12, 4);
                volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(d->bar + off);
                if (type == 1) { d->common = p; d->common_len = len; }
                else if (type == 2) d->notify = p;
                else if (type == 3) d->isr = p;
                else if (type == 4) { d->devcfg = p; d->devcfg_len = len; }
            }
            c = pci_cfg_read(slot, c + 1, 1) & 0xfc;
        }
        return d->common && d->notify && d->isr && d->devcfg;
    }
    return false;
}

uint8_t gvblk_status(struct gvblk *d)
{
    return mmio_read8(d->common + 0x14);
}

bool gvblk_reset(struct gvblk *d)
{
    mmio_write8(d->common + 0x14, 0);
    for (int i = 0; i < 100000; i++)
        if (gvblk_status(d) == 0)
            return true;
    return false;
}

uint8_t gvblk_negotiate(struct gvblk *d, uint64_t accepted)
{
    mmio_write8(d->common + 0x14, S_ACK);
    mmio_write8(d->common + 0x14, S_ACK | S_DRIVER);
    mmio_write32(d->common + 0x00, 0);
    uint64_t lo = mmio_read32(d->common + 0x04);
    mmio_write32(d->common + 0x00, 1);
    d->offered = lo | (uint64_t)mmio_read32(d->common + 0x04) << 32;
    mmio_write32(d->common + 0x08, 0);
    mmio_write32(d->common + 0x0c, (uint32_t)accepted);
    mmio_write32(d->common + 0x08, 1);
    mmio_write32(d->common + 0x0c, (uint32_t)(accepted >> 32));
    mmio_write8(d->common + 0x14, S_ACK | S_DRIVER | S_FEATURES_OK);
    d->capacity = mmio_read32(d->devcfg) | (uint64_t)mmio_read32(d->devcfg + 4) << 32;
    return gvblk_status(d);
}

bool gvblk_start(struct gvblk *d, uint16_t qsize)
{
    if (qsize > GVBLK_QMAX)
        return false;
    mmio_write16(d->common + 0x16, 0);                 /* queue_select */
    uint16_t max = mmio_read16(d->common + 0x18);
    if (qsize > max)
        return false;
    mmio_write16(d->common + 0x18, qsize);
    uint64_t a[3] = { (uintptr_t)ring_desc, (uintptr_t)ring_avail, (uintptr_t)ring_used };
    for (int i = 0; i < 3; i++) {
        mmio_write32(d->common + 0x20 + 8 * i, (uint32_t)a[i]);
        mmio_write32(d->common + 0x24 + 8 * i, (uint32_t)(a[i] >> 32));
    }
    memset(ring_desc, 0, sizeof ring_desc);
    memset(ring_avail, 0, sizeof ring_avail);
    memset(ring_used, 0, sizeof ring_used);
    mmio_write16(d->common + 0x1c, 1);                 /* queue_enable */
    d->qsize = qsize;
    d->desc = ring_desc;
    d->avail = ring_avail;
    d->used = ring_used;
    d->avail_idx = d->used_seen = 0;
    mmio_write8(d->common + 0x14, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    return (gvblk_status(d) & S_DRIVER_OK) != 0;
}

void gvblk_submit(struct gvblk *d, uint16_t head)
{
    d->avail[2 + d->avail_idx % d->qsize] = head;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    d->avail_idx++;
    d->avail[1] = d->avail_idx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    mmio_write16(d->notify, 0);
}

bool gvblk_wait(struct gvblk *d, uint32_t *id, uint32_t *len, unsigned timeout_ms)
{
    uint64_t khz = cpuid(TV_CPUID_LEAF_TIMING, 0).eax;
    uint64_t end = rdtsc() + khz * timeout_ms;
    /* With interrupts on, the guest halts until one comes (the completion's
     * INTx, or any other): the CPU goes to the monitor's disk thread
     * instead of a polling loop.  "sti; hlt" after the check under cli
     * loses no wake-up.  Without them, it polls. */
    bool irq_on = (read_rflags() & (1u << 9)) != 0;
    for (;;) {
        if (irq_on)
            cpu_cli();
        uint16_t idx = (uint16_t)(__atomic_load_n(&d->used[0], __ATOMIC_ACQUIRE) >> 16);
        if (idx != d->used_seen)
            break;
        if (rdtsc() > end) {
            if (irq_on)
                cpu_sti();
            return false;
        }
        if (irq_on)
            cpu_sti_hlt();
        else
            cpu_pause();
    }
    if (irq_on)
        cpu_sti();
    volatile uint32_t *e = &d->used[1 + 2 * (d->used_seen % d->qsize)];
    *id = e[0];
    *len = e[1];
    d->used_seen++;
    return true;
}

int gvblk_request(struct gvblk *d, uint32_t type, uint64_t sector, void *buf, uint32_t len,
                  uint32_t *used_len)
{
    memset(req_hdr, 0, sizeof req_hdr);
    memcpy(req_hdr, &type, 4);
    memcpy(req_hdr + 8, &sector, 8);
    req_status = 0xee;
    unsigned n = 0;
    d->desc[n] = (struct gvblk_desc){ (uintptr_t)req_hdr, 16, 1, (uint16_t)(n + 1) };
    n++;
    if (len) {
        /* IN and GET_ID: the device writes the buffer. */
        uint16_t w = (type == 1) ? 0 : 2;
        d->desc[n] = (struct gvblk_desc){ (uintptr_t)buf, len, (uint16_t)(1 | w), (uint16_t)(n + 1) };
        n++;
    }
    d->desc[n] = (struct gvblk_desc){ (uintptr_t)&req_status, 1, 2, 0 };
    gvblk_submit(d, 0);
    uint32_t id, ul;
    if (!gvblk_wait(d, &id, &ul, 60000) || id != 0)
        return -1;
    if (used_len)
        *used_len = ul;
    return *(volatile uint8_t *)&req_status;
}
