/* Unit tests for the virtual disk devices in vmm/dev: the virtio-blk
 * request parser and queue server (every malformed chain the driver can
 * send), the PCI bus behind mechanism #1, and the virtio-pci register
 * model (features, queue hand-over, reset, ISR and interrupts). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dev/virtio_blk_queue.h"
#include "dev/virtio_pci_blk.h"
#include "dev/vpci.h"

#define RAM (1u << 20)
#define SECTORS 64u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u

static uint8_t ram[RAM];
static uint8_t disk[SECTORS * 512];
static int flushes, fail_disk;
static uint8_t bounce[4096];
static struct vblk_req req;

static bool m_ok(void *c, uint64_t g, uint64_t l) { (void)c; return g <= RAM && l <= RAM - g; }
static tv_status_t m_rd(void *c, uint64_t g, void *d, size_t l)
{
    if (!m_ok(c, g, l)) return TV_E_INVALID_ARGUMENT;
    memcpy(d, ram + g, l);
    return TV_OK;
}
static tv_status_t m_wr(void *c, uint64_t g, const void *s, size_t l)
{
    if (!m_ok(c, g, l)) return TV_E_INVALID_ARGUMENT;
    memcpy(ram + g, s, l);
    return TV_OK;
}
static tv_status_t d_rd(void *c, uint64_t o, void *b, size_t l)
{
    (void)c;
    assert_true(o + l <= sizeof disk);          /* never past the disk */
    if (fail_disk) return TV_E_IO;
    memcpy(b, disk + o, l);
    return TV_OK;
}
static tv_status_t d_wr(void *c, uint64_t o, const void *b, size_t l)
{
    (void)c;
    assert_true(o + l <= sizeof disk);
    if (fail_disk) return TV_E_IO;
    memcpy(disk + o, b, l);
    return TV_OK;
}
static tv_status_t d_fl(void *c) { (void)c; flushes++; return fail_disk ? TV_E_IO : TV_OK; }

static const struct vblk_mem mem = { 0, m_ok, m_rd, m_wr };
static struct vblk_disk dk;
static struct virtq q;

static int setup(void **state)
{
    (void)state;
    memset(ram, 0, sizeof ram);
    for (size_t i = 0; i < sizeof disk; i++)
        disk[i] = (uint8_t)(i * 7 + 1);
    flushes = fail_disk = 0;
    dk = (struct vblk_disk){ 0, SECTORS, false, d_rd, d_wr, d_fl, "serial-0123456789abc" };
    q = (struct virtq){ .size = 8, .desc = DESC, .avail = AVAIL, .used = USED };
    return 0;
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *d = ram + DESC + 16 * i;
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}

static void hdr(uint64_t at, uint32_t type, uint64_t sector)
{
    memset(ram + at, 0, 16);
    memcpy(ram + at, &type, 4);
    memcpy(ram + at + 8, &sector, 8);
}

/* Publishes head and serves; returns the used entry's length. */
static uint32_t serve_one(uint16_t head, unsigned *done)
{
    uint16_t idx;
    memcpy(&idx, ram + AVAIL + 2, 2);
    memcpy(ram + AVAIL + 4 + 2 * (idx % q.size), &head, 2);
    idx++;
    memcpy(ram + AVAIL + 2, &idx, 2);
    bool irq;
    unsigned n = virtq_serve(&q, &mem, &dk, &req, bounce, sizeof bounce, 16, &irq);
    if (done)
        *done = n;
    if (!n)
        return 0xdeadbeef;
    uint32_t id, len;
    uint16_t ui = (uint16_t)(q.used_idx - 1);
    memcpy(&id, ram + USED + 4 + 8 * (ui % q.size), 4);
    memcpy(&len, ram + USED + 4 + 8 * (ui % q.size) + 4, 4);
    assert_int_equal(id, head);
    return len;
}

#define F_N VIRTQ_DESC_F_NEXT
#define F_W VIRTQ_DESC_F_WRITE

static void test_read(void **s)
{
    (void)s;
    hdr(0x4000, VIRTIO_BLK_T_IN, 3);
    desc(0, 0x4000, 16, F_N, 5);
    desc(5, 0x5000, 1024, F_N | F_W, 2);   /* chained out of order: indices are the driver's */
    desc(2, 0x6000, 1, F_W, 0);
    ram[0x6000] = 0xee;
    assert_int_equal(serve_one(0, 0), 1025);
    assert_int_equal(ram[0x6000], VIRTIO_BLK_S_OK);
    assert_memory_equal(ram + 0x5000, disk + 3 * 512, 1024);
    uint16_t used_idx;
    memcpy(&used_idx, ram + USED + 2, 2);
    assert_int_equal(used_idx, 1);
}

static void test_write_scattered_header_split(void **s)
{
    (void)s;
    hdr(0x4000, VIRTIO_BLK_T_OUT, 10);
    /* The header in two pieces, the data in three odd ones (any layout,
     * VERSION_1 implies it). */
    desc(0, 0x4000, 8, F_N, 1);
    desc(1, 0x4008, 8 + 100, F_N, 2);
    memset(ram + 0x4010, 0x11, 100);
    desc(2, 0x7000, 412, F_N, 3);
    memset(ram + 0x7000, 0x22, 412);
    desc(3, 0x8000, 512, F_N, 4);
    memset(ram + 0x8000, 0x33, 512);
    desc(4, 0x6000, 1, F_W, 0);
    assert_int_equal(serve_one(0, 0), 1);
    assert_int_equal(ram[0x6000], VIRTIO_BLK_S_OK);
    assert_int_equal(disk[10 * 512], 0x11);
    assert_int_equal(disk[10 * 512 + 99], 0x11);
    assert_int_equal(disk[10 * 512 + 100], 0x22);
    assert_int_equal(disk[10 * 512 + 511], 0x22);
    assert_int_equal(disk[11 * 512], 0x33);
    assert_int_equal(disk[12 * 512], (uint8_t)(12 * 512 * 7 + 1));   /* untouched after */
}

/* A request whose status can be written but must not be performed. */
static void expect_status(uint32_t type, uint64_t sector, uint64_t data, uint32_t len, bool dw,
                          uint8_t status)
{
    uint8_t before[sizeof disk];
    memcpy(before, disk, sizeof disk);
    hdr(0x4000, type, sector);
    desc(0, 0x4000, 16, F_N, 1);
    desc(1, data, len, (uint16_t)(F_N | (dw ? F_W : 0)), 2);
    desc(2, 0x6000, 1, F_W, 0);
    ram[0x6000] = 0xee;
    assert_int_equal(serve_one(0, 0), 1);
    assert_int_equal(ram[0x6000], status);
    assert_memory_equal(before, disk, sizeof disk);
    assert_false(q.broken);
}

static void test_bad_requests(void **s)
{
    (void)s;
    expect_status(VIRTIO_BLK_T_IN, 0, RAM + 4096, 512, true, VIRTIO_BLK_S_IOERR);   /* outside RAM */
    expect_status(VIRTIO_BLK_T_IN, 0, RAM - 256, 512, true, VIRTIO_BLK_S_IOERR);    /* crosses the end */
    expect_status(VIRTIO_BLK_T_OUT, 0, ~0ull - 100, 512, false, VIRTIO_BLK_S_IOERR); /* wraps */
    expect_status(VIRTIO_BLK_T_IN, SECTORS - 1, 0x5000, 1024, true, VIRTIO_BLK_S_IOERR);
    expect_status(VIRTIO_BLK_T_IN, SECTORS, 0x5000, 512, true, VIRTIO_BLK_S_IOERR);
    expect_status(VIRTIO_BLK_T_IN, ~0ull / 512 + 1, 0x5000, 512, true, VIRTIO_BLK_S_IOERR);
    expect_status(VIRTIO_BLK_T_OUT, ~0ull, 0x5000, 512, false, VIRTIO_BLK_S_IOERR);
    expect_status(VIRTIO_BLK_T_IN, 0, 0x5000, 100, true, VIRTIO_BLK_S_IOERR);        /* not whole sectors */
    expect_status(VIRTIO_BLK_T_IN, 0, 0x5000, 512, false, VIRTIO_BLK_S_IOERR);       /* data readable */
    expect_status(VIRTIO_BLK_T_OUT, 0, 0x5000, 512, true, VIRTIO_BLK_S_IOERR);       /* data writable */
    expect_status(0x99, 0, 0x5000, 512, true, VIRTIO_BLK_S_UNSUPP);
    expect_status(11 /* DISCARD, not offered */, 0, 0x5000, 16, false, VIRTIO_BLK_S_UNSUPP);
    dk.read_only = true;
    expect_status(VIRTIO_BLK_T_OUT, 0, 0x5000, 512, false, VIRTIO_BLK_S_IOERR);
    dk.read_only = false;
    fail_disk = 1;
    expect_status(VIRTIO_BLK_T_IN, 0, 0x5000, 512, true, VIRTIO_BLK_S_IOERR);
    expect_status(VIRTIO_BLK_T_FLUSH, 0, 0x5000, 0, false, VIRTIO_BLK_S_IOERR);
    fail_disk = 0;
    expect_status(VIRTIO_BLK_T_FLUSH, 0, 0x5000, 0, false, VIRTIO_BLK_S_OK);
    assert_int_equal(flushes, 2);
    /* A header shorter than 16 bytes. */
    desc(0, 0x4000, 8, F_N, 1);
    desc(1, 0x6000, 1, F_W, 0);
    ram[0x6000] = 0xee;
    assert_int_equal(serve_one(0, 0), 1);
    assert_int_equal(ram[0x6000], VIRTIO_BLK_S_IOERR);
}

/* Chains that cannot be walked come back unanswered (used length 0). */
static void expect_unanswered(void)
{
    ram[0x6000] = 0xee;
    unsigned done;
    assert_int_equal(serve_one(0, &done), 0);
    assert_int_equal(done, 1);
    assert_int_equal(ram[0x6000], 0xee);
    assert_false(q.broken);
}

static void test_broken_chains(void **s)
{
    (void)s;
    hdr(0x4000, VIRTIO_BLK_T_IN, 0);
    desc(0, 0x4000, 16, F_N, 8);                  /* next past the ring */
    expect_unanswered();
    desc(0, 0x4000, 16, F_N, 1);                  /* a loop */
    desc(1, 0x5000, 512, F_N | F_W, 0);
    expect_unanswered();
    desc(0, 0x4000, 16, F_N, 1);                  /* nothing writable: no status byte */
    desc(1, 0x5000, 512, 0, 0);
    expect_unanswered();
    desc(0, 0x4000, 16, F_N, 1);                  /* readable after writable */
    desc(1, 0x6000, 1, F_N | F_W, 2);
    desc(2, 0x5000, 16, 0, 0);
    expect_unanswered();
    desc(0, 0x4000, 16, VIRTQ_DESC_F_INDIRECT, 0);/* indirect: not offered */
    expect_unanswered();
    desc(0, 0x4000, 16, F_N, 1);                  /* status byte outside RAM */
    desc(1, RAM, 1, F_W, 0);
    expect_unanswered();
    /* The ring still serves a good request after them. */
    desc(0, 0x4000, 16, F_N, 1);
    desc(1, 0x5000, 512, F_N | F_W, 2);
    desc(2, 0x6000, 1, F_W, 0);
    assert_int_equal(serve_one(0, 0), 513);
    assert_int_equal(ram[0x6000], VIRTIO_BLK_S_OK);
}

static void test_broken_ring(void **s)
{
    (void)s;
    uint16_t idx = 9;                             /* 9 available in an 8-entry ring */
    memcpy(ram + AVAIL + 2, &idx, 2);
    bool irq;
    assert_int_equal(virtq_serve(&q, &mem, &dk, &req, bounce, sizeof bounce, 16, &irq), 0);
    assert_true(q.broken);
    setup(0);
    unsigned done;
    serve_one(8, &done);                          /* head index past the ring */
    assert_int_equal(done, 0);
    assert_true(q.broken);
    /* A broken queue serves nothing more. */
    desc(0, 0x4000, 16, F_N, 1);
    desc(1, 0x6000, 1, F_W, 0);
    serve_one(0, &done);
    assert_int_equal(done, 0);
}

static void test_get_id_interrupts_and_max(void **s)
{
    (void)s;
    hdr(0x4000, VIRTIO_BLK_T_GET_ID, 0);
    desc(0, 0x4000, 16, F_N, 1);
    desc(1, 0x5000, 64, F_N | F_W, 2);
    desc(2, 0x6000, 1, F_W, 0);
    assert_int_equal(serve_one(0, 0), 21);
    assert_memory_equal(ram + 0x5000, "serial-0123456789abc", 20);
    /* NO_INTERRUPT is honoured; max bounds one call. */
    uint16_t f = VIRTQ_AVAIL_F_NO_INTERRUPT, idx = 4, zero = 0;
    memcpy(ram + AVAIL, &f, 2);
    for (int i = 0; i < 3; i++)
        memcpy(ram + AVAIL + 4 + 2 * ((1 + i) % 8), &zero, 2);
    memcpy(ram + AVAIL + 2, &idx, 2);
    bool irq = true;
    assert_int_equal(virtq_serve(&q, &mem, &dk, &req, bounce, sizeof bounce, 2, &irq), 2);
    assert_false(irq);
    assert_int_equal(virtq_serve(&q, &mem, &dk, &req, bounce, sizeof bounce, 2, &irq), 1);
    assert_int_equal(virtq_serve(&q, &mem, &dk, &req, bounce, sizeof bounce, 2, &irq), 0);
    assert_int_equal(q.used_idx, 4);
}

static void test_layout(void **s)
{
    (void)s;
    assert_true(virtq_layout_ok(&q, &mem));
    struct virtq b = q;
    b.size = 6;
    assert_false(virtq_layout_ok(&b, &mem));
    b = q;
    b.size = 512;
    assert_false(virtq_layout_ok(&b, &mem));
    b = q;
    b.desc = DESC + 8;
    assert_false(virtq_layout_ok(&b, &mem));
    b = q;
    b.used = RAM - 16;
    assert_false(virtq_layout_ok(&b, &mem));
    b = q;
    b.avail = ~0ull - 1;
    assert_false(virtq_layout_ok(&b, &mem));
}

/* ---- PCI ---- */

static void test_pci_config(void **s)
{
    (void)s;
    struct vpci_bus b;
    struct vpci_func f;
    vpci_init(&b);
    vpci_func_init(&f, 0x1af4, 0x1042, 0x01800001u, 0x1af4, 2, 0);
    vpci_set_bar(&f, 0, 0x4000, 0xfe000000u);
    assert_true(vpci_plug(&b, 1, &f));
    assert_false(vpci_plug(&b, 1, &f));
    assert_false(vpci_plug(&b, 0, &f));
    vpci_io_write(&b, 0xcf8, 4, 0xffffffffu);
    assert_int_equal(vpci_io_read(&b, 0xcf8, 4), 0x80fffffcu);
    vpci_io_write(&b, 0xcf8, 4, 0x80000000u);     /* slot 0: the host bridge */
    assert_int_equal(vpci_io_read(&b, 0xcfc, 4), 0x12378086u);
    vpci_io_write(&b, 0xcf8, 4, 0x80000000u | 1 << 11 | 0x08);
    assert_int_equal(vpci_io_read(&b, 0xcfc, 4), 0x01800001u);
    assert_int_equal(vpci_io_read(&b, 0xcfd, 1), 0x00);
    assert_int_equal(vpci_io_read(&b, 0xcfe, 2), 0x0180);
    vpci_io_write(&b, 0xcf8, 4, 0x80000000u | 2 << 11);  /* empty slot */
    assert_int_equal(vpci_io_read(&b, 0xcfc, 4), 0xffffffffu);
    vpci_io_write(&b, 0xcf8, 4, 0x80000000u | 1 << 11 | 1 << 8);  /* function 1 */
    assert_int_equal(vpci_io_read(&b, 0xcfc, 2), 0xffff);
    vpci_io_write(&b, 0xcf8, 4, 0x80000000u | 1 << 16 | 1 << 11);  /* bus 1 */
    assert_int_equal(vpci_io_read(&b, 0xcfc, 4), 0xffffffffu);
    vpci_io_write(&b, 0xcf8, 4, 1 << 11);         /* enable bit clear */
    assert_int_equal(vpci_io_read(&b, 0xcfc, 4), 0xffffffffu);
    /* Read-only identity; BAR sizing; no decoding until memory is enabled. */
    vpci_cfg_write(&f, 0, 4, 0);
    assert_int_equal(vpci_cfg_read(&f, 0, 4), 0x10421af4u);
    vpci_cfg_write(&f, PCI_BAR0, 4, 0xffffffffu);
    assert_int_equal(vpci_cfg_read(&f, PCI_BAR0, 4), 0xffffc000u);
    vpci_cfg_write(&f, PCI_BAR0, 4, 0xfd001234u);
    assert_int_equal(vpci_bar_base(&f, 0), 0xfd000000u);
    unsigned bar;
    uint64_t off;
    assert_null(vpci_find_mmio(&b, 0xfd000010u, &bar, &off));
    vpci_cfg_write(&f, PCI_COMMAND, 2, 0xffff);
    assert_int_equal(vpci_cfg_read(&f, PCI_COMMAND, 2), 0x0407);
    assert_ptr_equal(vpci_find_mmio(&b, 0xfd000010u, &bar, &off), &f);
    assert_int_equal(off, 0x10);
    assert_null(vpci_find_mmio(&b, 0xfd004000u, &bar, &off));
    assert_null(vpci_find_mmio(&b, 0xfcfffffcu, &bar, &off));
}

/* ---- the virtio-pci registers ---- */

static int notified, busy;
static void on_notify(void *c) { (void)c; notified++; }
static bool is_idle(void *c) { (void)c; return !busy; }

static void test_virtio_pci(void **s)
{
    (void)s;
    static struct vblk_pci d;
    notified = busy = 0;
    vblk_pci_init(&d, 0xfe000000u, 16, 1234, false, 0, on_notify, is_idle);
    assert_int_equal(vpci_cfg_read(&d.fn, PCI_INT_LINE, 1), 16);
    assert_int_equal(vpci_cfg_read(&d.fn, PCI_STATUS, 2) & PCI_STATUS_CAPS, PCI_STATUS_CAPS);
    /* Capabilities: common, notify, ISR, device, in a list ending in 0. */
    unsigned types = 0;
    for (unsigned c = vpci_cfg_read(&d.fn, PCI_CAP_PTR, 1); c; c = vpci_cfg_read(&d.fn, c + 1, 1))
        types |= 1u << vpci_cfg_read(&d.fn, c + 3, 1);
    assert_int_equal(types, 0x1e);
    /* Capacity through the device configuration. */
    assert_int_equal(vblk_pci_mmio_read(&d, VBLK_DEVCFG_OFF, 4), 1234);
    assert_int_equal(vblk_pci_mmio_read(&d, VBLK_DEVCFG_OFF, 8), 1234);
    assert_int_equal(vblk_pci_mmio_read(&d, VBLK_DEVCFG_OFF + 12, 4), VBLK_SEG_MAX);
    /* Features: an unoffered one keeps FEATURES_OK clear. */
    vblk_pci_mmio_write(&d, 0x14, 1, 3);
    vblk_pci_mmio_write(&d, 0x00, 4, 1);
    assert_int_equal(vblk_pci_mmio_read(&d, 0x04, 4), 1);   /* VERSION_1 */
    vblk_pci_mmio_write(&d, 0x08, 4, 1);
    vblk_pci_mmio_write(&d, 0x0c, 4, 1);
    vblk_pci_mmio_write(&d, 0x08, 4, 0);
    vblk_pci_mmio_write(&d, 0x0c, 4, 1u << 28);
    vblk_pci_mmio_write(&d, 0x14, 1, 11);
    assert_int_equal(vblk_pci_mmio_read(&d, 0x14, 1), 3);
    vblk_pci_mmio_write(&d, 0x0c, 4, 1u << VIRTIO_BLK_F_FLUSH);
    vblk_pci_mmio_write(&d, 0x14, 1, 11);
    assert_int_equal(vblk_pci_mmio_read(&d, 0x14, 1), 11);
    /* The queue: size, addresses in halves, enable; then locked. */
    assert_int_equal(vblk_pci_mmio_read(&d, 0x18, 2), VIRTQ_MAX_SIZE);
    assert_int_equal(vblk_pci_mmio_read(&d, 0x10, 2), 0xffff);
    vblk_pci_mmio_write(&d, 0x18, 2, 8);
    vblk_pci_mmio_write(&d, 0x20, 4, DESC);
    vblk_pci_mmio_write(&d, 0x24, 4, 0);
    vblk_pci_mmio_write(&d, 0x28, 8, AVAIL);
    vblk_pci_mmio_write(&d, 0x30, 4, USED);
    struct virtq c;
    uint32_t gen;
    assert_false(vblk_pci_take_queue(&d, &c, &gen));
    vblk_pci_mmio_write(&d, 0x1c, 2, 1);
    vblk_pci_mmio_write(&d, 0x18, 2, 16);                   /* ignored while enabled */
    assert_int_equal(vblk_pci_mmio_read(&d, 0x18, 2), 8);
    assert_false(vblk_pci_take_queue(&d, &c, &gen));        /* not DRIVER_OK yet */
    vblk_pci_mmio_write(&d, 0x14, 1, 15);
    assert_int_equal(notified, 1);
    assert_true(vblk_pci_take_queue(&d, &c, &gen));
    assert_int_equal(c.size, 8);
    assert_int_equal(c.desc, DESC);
    assert_int_equal(c.avail, AVAIL);
    assert_int_equal(c.used, USED);
    vblk_pci_mmio_write(&d, VBLK_NOTIFY_OFF, 2, 0);
    assert_int_equal(notified, 2);
    /* Interrupts: raised once until the ISR is read; not with INTx off. */
    c.used_idx = 3;
    assert_true(vblk_pci_put_queue(&d, &c, gen, true));
    assert_false(vblk_pci_put_queue(&d, &c, gen, true));
    assert_int_equal(vblk_pci_mmio_read(&d, VBLK_ISR_OFF, 1), 1);
    assert_int_equal(vblk_pci_mmio_read(&d, VBLK_ISR_OFF, 1), 0);
    vpci_cfg_write(&d.fn, PCI_COMMAND, 2, PCI_CMD_INTX_OFF);
    assert_false(vblk_pci_put_queue(&d, &c, gen, true));
    vpci_cfg_write(&d.fn, PCI_COMMAND, 2, 0);
    assert_int_equal(d.q.used_idx, 3);
    /* A broken ring: NEEDS_RESET, nothing more handed out. */
    c.broken = true;
    vblk_pci_put_queue(&d, &c, gen, false);
    assert_true(vblk_pci_mmio_read(&d, 0x14, 1) & VIRTIO_S_NEEDS_RESET);
    assert_false(vblk_pci_take_queue(&d, &c, &gen));
    /* Reset: the old status shows until the serving thread is idle; a
     * result from before it is dropped. */
    busy = 1;
    vblk_pci_mmio_write(&d, 0x14, 1, 0);
    assert_int_not_equal(vblk_pci_mmio_read(&d, 0x14, 1), 0);
    busy = 0;
    assert_int_equal(vblk_pci_mmio_read(&d, 0x14, 1), 0);
    c.broken = false;
    c.used_idx = 9;
    assert_false(vblk_pci_put_queue(&d, &c, gen, true));
    assert_int_equal(d.q.used_idx, 0);
    assert_int_equal(vblk_pci_mmio_read(&d, 0x1c, 2), 0);
    assert_int_equal(vblk_pci_mmio_read(&d, 0x18, 2), VIRTQ_MAX_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_read, setup),
        cmocka_unit_test_setup(test_write_scattered_header_split, setup),
        cmocka_unit_test_setup(test_bad_requests, setup),
        cmocka_unit_test_setup(test_broken_chains, setup),
        cmocka_unit_test_setup(test_broken_ring, setup),
        cmocka_unit_test_setup(test_get_id_interrupts_and_max, setup),
        cmocka_unit_test_setup(test_layout, setup),
        cmocka_unit_test(test_pci_config),
        cmocka_unit_test_setup(test_virtio_pci, setup),
    };
    return cmocka_run_group_tests_name("virtio_blk", tests, NULL, NULL);
}
