/* Hosted tests of the PCI parsers (drivers/pci/pci_parse.c) and the split
 * virtqueue arithmetic (drivers/block/virtq.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "drivers/block/virtq.h"
#include "drivers/pci/pci_parse.h"

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* An MCFG of n entries. */
static size_t make_mcfg(uint8_t *t, unsigned n)
{
    size_t len = 44 + 16 * n;
    memset(t, 0, len);
    memcpy(t, "MCFG", 4);
    put32(t + 4, (uint32_t)len);
    return len;
}

static void set_entry(uint8_t *t, unsigned i, uint64_t base, uint16_t seg, uint8_t b0, uint8_t b1)
{
    uint8_t *e = t + 44 + 16 * i;
    put64(e, base);
    memcpy(e + 8, &seg, 2);
    e[10] = b0;
    e[11] = b1;
}

static void test_mcfg_good(void **state)
{
    (void)state;
    uint8_t t[128];
    size_t len = make_mcfg(t, 2);
    set_entry(t, 0, 0xb0000000ull, 0, 0, 255);
    set_entry(t, 1, 0x4000000000ull, 1, 0x10, 0x1f);
    struct mcfg_entry e[4];
    unsigned n;
    assert_int_equal(mcfg_parse(t, len, e, 4, &n), TV_OK);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].base, 0xb0000000ull);
    assert_int_equal(e[0].bus_end, 255);
    assert_int_equal(e[1].segment, 1);
    assert_int_equal(e[1].bus_start, 0x10);
    /* At most max entries. */
    assert_int_equal(mcfg_parse(t, len, e, 1, &n), TV_OK);
    assert_int_equal(n, 1);
}

static void test_mcfg_bad(void **state)
{
    (void)state;
    uint8_t t[128];
    struct mcfg_entry e[4];
    unsigned n = 99;
    size_t len = make_mcfg(t, 1);
    set_entry(t, 0, 0xb0000000ull, 0, 0, 255);
    assert_int_equal(mcfg_parse(t, len - 1, e, 4, &n), TV_E_CORRUPT);  /* length field disagrees */
    assert_int_equal(n, 0);
    put32(t + 4, (uint32_t)(len - 4));
    assert_int_equal(mcfg_parse(t, len - 4, e, 4, &n), TV_E_CORRUPT); /* partial entry */
    put32(t + 4, (uint32_t)len);
    t[0] = 'X';
    assert_int_equal(mcfg_parse(t, len, e, 4, &n), TV_E_CORRUPT);     /* not an MCFG */
    t[0] = 'M';
    assert_int_equal(mcfg_parse(t, 10, e, 4, &n), TV_E_CORRUPT);      /* shorter than a header */
    assert_int_equal(mcfg_parse(NULL, 0, e, 4, &n), TV_E_CORRUPT);
    /* Entries that cannot be ECAM windows are skipped. */
    set_entry(t, 0, 0, 0, 0, 255);
    assert_int_equal(mcfg_parse(t, len, e, 4, &n), TV_OK);
    assert_int_equal(n, 0);
    set_entry(t, 0, 0xb0001000ull, 0, 0, 255);                        /* unaligned */
    assert_int_equal(mcfg_parse(t, len, e, 4, &n), TV_OK);
    assert_int_equal(n, 0);
    set_entry(t, 0, 0xb0000000ull, 0, 9, 8);                          /* inverted range */
    assert_int_equal(mcfg_parse(t, len, e, 4, &n), TV_OK);
    assert_int_equal(n, 0);
    set_entry(t, 0, 0xfffffffffff00000ull, 0, 0, 255);                /* wraps */
    assert_int_equal(mcfg_parse(t, len, e, 4, &n), TV_OK);
    assert_int_equal(n, 0);
}

static uint8_t cfg[256];
static uint8_t rd(void *ctx, uint16_t off) { (void)ctx; return off < 256 ? cfg[off] : 0xff; }

static void cap_at(uint8_t off, uint8_t id, uint8_t next)
{
    cfg[off] = id;
    cfg[off + 1] = next;
}

static void test_cap_walk(void **state)
{
    (void)state;
    memset(cfg, 0, sizeof cfg);
    cfg[0x06] = 0x10;
    cfg[0x34] = 0x40;
    cap_at(0x40, PCI_CAP_MSIX, 0x50);
    cap_at(0x50, PCI_CAP_VENDOR, 0x64);
    cap_at(0x64, PCI_CAP_VENDOR, 0x80);
    cap_at(0x80, PCI_CAP_MSI, 0x00);
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_MSIX, 0), 0x40);
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_MSI, 0), 0x80);
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_VENDOR, 0), 0x50);
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_VENDOR, 0x50), 0x64);
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_VENDOR, 0x64), 0);
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_PCIE, 0), 0);
    /* No capability list bit: nothing, even with a pointer. */
    cfg[0x06] = 0;
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_MSIX, 0), 0);
    cfg[0x06] = 0x10;
    /* A loop ends after the bounded number of steps. */
    cap_at(0x80, PCI_CAP_MSI, 0x40);
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_PCIE, 0), 0);
    /* Iterating a looping list ends: 0x50 -> 0x64 -> 0x50. */
    cap_at(0x64, PCI_CAP_VENDOR, 0x50);
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_VENDOR, 0x50), 0x64);
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_VENDOR, 0x64), 0);
    cap_at(0x64, PCI_CAP_VENDOR, 0x80);
    /* Low bits of pointers are reserved and masked; a pointer into the
     * header ends the list. */
    cfg[0x34] = 0x43;
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_MSIX, 0), 0x40);
    cfg[0x34] = 0x20;
    assert_int_equal(pci_cap_find(rd, 0, PCI_CAP_MSIX, 0), 0);
}

static void test_virtio_cap(void **state)
{
    (void)state;
    memset(cfg, 0, sizeof cfg);
    uint8_t *c = cfg + 0x50;
    c[0] = PCI_CAP_VENDOR; c[2] = 20; c[3] = VIRTIO_PCI_CAP_NOTIFY; c[4] = 4;
    put32(c + 8, 0x3000);
    put32(c + 12, 0x1000);
    put32(c + 16, 4);
    struct virtio_pci_cap v;
    assert_true(virtio_cap_parse(rd, 0, 0x50, &v));
    assert_int_equal(v.cfg_type, VIRTIO_PCI_CAP_NOTIFY);
    assert_int_equal(v.bar, 4);
    assert_int_equal(v.offset, 0x3000);
    assert_int_equal(v.length, 0x1000);
    assert_int_equal(v.notify_mult, 4);
    c[2] = 16;                                  /* notify cap without its multiplier */
    assert_false(virtio_cap_parse(rd, 0, 0x50, &v));
    c[2] = 16; c[3] = VIRTIO_PCI_CAP_COMMON;
    assert_true(virtio_cap_parse(rd, 0, 0x50, &v));
    c[4] = 6;                                   /* no BAR 6 */
    assert_false(virtio_cap_parse(rd, 0, 0x50, &v));
    c[4] = 0;
    put32(c + 8, 0xfffff000u);                  /* window wraps */
    assert_false(virtio_cap_parse(rd, 0, 0x50, &v));
    assert_false(virtio_cap_parse(rd, 0, 0xf8, &v)); /* runs off the end */
}

static void test_msix_cap(void **state)
{
    (void)state;
    memset(cfg, 0, sizeof cfg);
    uint8_t *c = cfg + 0x40;
    c[0] = PCI_CAP_MSIX; c[2] = 0x03; c[3] = 0x00;   /* 4 entries */
    put32(c + 4, 0x2000 | 1);
    put32(c + 8, 0x3000 | 1);
    struct msix_info m;
    assert_true(msix_cap_parse(rd, 0, 0x40, &m));
    assert_int_equal(m.entries, 4);
    assert_int_equal(m.table_bar, 1);
    assert_int_equal(m.table_off, 0x2000);
    assert_int_equal(m.pba_off, 0x3000);
    put32(c + 4, 0x2000 | 7);
    assert_false(msix_cap_parse(rd, 0, 0x40, &m));
}

static void test_virtq_layout(void **state)
{
    (void)state;
    struct virtq_layout l;
    assert_true(virtq_layout(32, &l));
    assert_int_equal(l.desc_off, 0);
    assert_int_equal(l.avail_off, 512);
    assert_int_equal(l.used_off, 512 + 6 + 64 + 2);      /* 584, 4-aligned */
    assert_int_equal(l.used_off % 4, 0);
    assert_int_equal(l.total, 4096);
    assert_true(virtq_layout(256, &l));
    assert_int_equal(l.avail_off, 4096);
    assert_int_equal(l.used_off, 4096 + 6 + 512 + 2);
    assert_int_equal(l.total, 8192);
    assert_false(virtq_layout(0, &l));
    assert_false(virtq_layout(24, &l));
    assert_true(virtq_layout(32768, &l));
}

static void test_virtq_pending(void **state)
{
    (void)state;
    assert_int_equal(virtq_used_pending(5, 5, 32), 0);
    assert_int_equal(virtq_used_pending(7, 5, 32), 2);
    assert_int_equal(virtq_used_pending(2, 65534, 32), 4);   /* wraps */
    assert_int_equal(virtq_used_pending(40, 5, 32), -1);     /* more than the ring holds */
    assert_int_equal(virtq_used_pending(4, 5, 32), -1);      /* went backwards */
}

static void test_virtq_chain(void **state)
{
    (void)state;
    struct virtq_desc d[30];
    memset(d, 0, sizeof d);
    uint16_t h = virtq_blk_chain(d, 2, VIRTQ_BLK_READ, 0x1000, 0x2000, 4096, 0x1010);
    assert_int_equal(h, 6);
    assert_int_equal(d[6].next, 7);
    assert_int_equal(d[6].flags, VIRTQ_DESC_F_NEXT);
    assert_int_equal(d[7].flags, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
    assert_int_equal(d[7].len, 4096);
    assert_int_equal(d[8].flags, VIRTQ_DESC_F_WRITE);
    assert_int_equal(d[8].addr, 0x1010);
    virtq_blk_chain(d, 2, VIRTQ_BLK_WRITE, 0x1000, 0x2000, 512, 0x1010);
    assert_int_equal(d[7].flags, VIRTQ_DESC_F_NEXT);         /* device reads data */
    virtq_blk_chain(d, 2, VIRTQ_BLK_FLUSH, 0x1000, 0, 0, 0x1010);
    assert_int_equal(d[6].next, 8);                          /* header straight to status */
    assert_int_equal(virtq_blk_slot(6, 8), 2);
    assert_int_equal(virtq_blk_slot(7, 8), -1);
    assert_int_equal(virtq_blk_slot(24, 8), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mcfg_good),
        cmocka_unit_test(test_mcfg_bad),
        cmocka_unit_test(test_cap_walk),
        cmocka_unit_test(test_virtio_cap),
        cmocka_unit_test(test_msix_cap),
        cmocka_unit_test(test_virtq_layout),
        cmocka_unit_test(test_virtq_pending),
        cmocka_unit_test(test_virtq_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
