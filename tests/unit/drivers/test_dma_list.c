/* Hosted tests of the controllers' scatter lists (drivers/block/dma_list.c)
 * and the IDENTIFY DEVICE parser (drivers/block/ata_id.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "drivers/block/ata_id.h"
#include "drivers/block/dma_list.h"

static void test_prdt(void **state)
{
    (void)state;
    struct ahci_prd p[4];
    assert_int_equal(ahci_prdt_fill(p, 4, 0x123456000ull, 65536), 1);
    assert_int_equal(p[0].dba, 0x23456000u);
    assert_int_equal(p[0].dbau, 1);
    assert_int_equal(p[0].dbc, (65536u - 1) | 1u << 31);
    /* 9 MiB: 4 + 4 + 1, the interrupt bit only on the last. */
    assert_int_equal(ahci_prdt_fill(p, 4, 0x1000000, 9u << 20), 3);
    assert_int_equal(p[0].dbc, (4u << 20) - 1);
    assert_int_equal(p[1].dba, 0x1400000u);
    assert_int_equal(p[2].dbc, ((1u << 20) - 1) | 1u << 31);
    assert_int_equal(ahci_prdt_fill(p, 2, 0x1000000, 9u << 20), -1);   /* too few entries */
    assert_int_equal(ahci_prdt_fill(p, 4, 0x1000, 0), -1);
    assert_int_equal(ahci_prdt_fill(p, 4, 0x1000, 511), -1);           /* odd count */
    assert_int_equal(ahci_prdt_fill(p, 4, 0x1001, 512), -1);           /* odd address */
}

static void test_prp(void **state)
{
    (void)state;
    uint64_t p1, p2, list[32];
    /* Within one page. */
    assert_int_equal(nvme_prp_fill(0x10000, 4096, 4096, &p1, &p2, list, 32, 0x9000), 0);
    assert_int_equal(p1, 0x10000);
    assert_int_equal(p2, 0);
    /* An offset that crosses into a second page: PRP2 is that page. */
    assert_int_equal(nvme_prp_fill(0x10200, 4096, 4096, &p1, &p2, list, 32, 0x9000), 0);
    assert_int_equal(p1, 0x10200);
    assert_int_equal(p2, 0x11000);
    /* Two whole pages. */
    assert_int_equal(nvme_prp_fill(0x10000, 8192, 4096, &p1, &p2, list, 32, 0x9000), 0);
    assert_int_equal(p2, 0x11000);
    /* 64 KiB: PRP2 is the list, holding the 15 pages after the first. */
    memset(list, 0, sizeof list);
    assert_int_equal(nvme_prp_fill(0x10000, 65536, 4096, &p1, &p2, list, 32, 0x9000), 0);
    assert_int_equal(p2, 0x9000);
    assert_int_equal(list[0], 0x11000);
    assert_int_equal(list[14], 0x1f000);
    assert_int_equal(list[15], 0);
    assert_int_equal(nvme_prp_fill(0x10000, 65536, 4096, &p1, &p2, list, 14, 0x9000), -1);
    assert_int_equal(nvme_prp_fill(0x10002, 512, 4096, &p1, &p2, list, 32, 0x9000), -1);
    assert_int_equal(nvme_prp_fill(0x10000, 0, 4096, &p1, &p2, list, 32, 0x9000), -1);
    assert_int_equal(nvme_prp_fill(0x10000, 512, 3000, &p1, &p2, list, 32, 0x9000), -1);
}

static void set_model(uint16_t *id, const char *m)
{
    char buf[40];
    memset(buf, ' ', sizeof buf);
    memcpy(buf, m, strlen(m));
    for (int i = 0; i < 20; i++)
        id[27 + i] = (uint16_t)((uint8_t)buf[2 * i] << 8 | (uint8_t)buf[2 * i + 1]);
}

static void test_identify(void **state)
{
    (void)state;
    uint16_t id[256];
    struct ata_info a;
    memset(id, 0, sizeof id);
    set_model(id, "QEMU HARDDISK");
    id[49] = 1u << 9;
    id[60] = 0x4000;                 /* 16384 sectors, LBA28 */
    assert_true(ata_identify_parse(id, &a));
    assert_string_equal(a.model, "QEMU HARDDISK");
    assert_int_equal(a.sectors, 16384);
    assert_false(a.lba48);
    assert_false(a.flush);
    assert_int_equal(a.sector_size, 512);
    id[83] = 0x4000 | 1u << 10 | 1u << 12 | 1u << 13;
    id[86] = 1u << 10;
    id[100] = 0x0000; id[101] = 0x0010; id[102] = 0x0001; /* 0x100100000 */
    assert_true(ata_identify_parse(id, &a));
    assert_true(a.lba48 && a.flush && a.flush_ext);
    assert_int_equal(a.sectors, 0x100100000ull);
    /* 4 KiB logical sectors (2048 words). */
    id[106] = 0x4000 | 1u << 12;
    id[117] = 2048;
    assert_true(ata_identify_parse(id, &a));
    assert_int_equal(a.sector_size, 4096);
    id[117] = 7;                     /* nonsense size */
    assert_false(ata_identify_parse(id, &a));
    id[106] = 0;
    /* Word 83 not valid: no LBA48, back to the 28-bit count. */
    id[83] = 1u << 10;
    assert_true(ata_identify_parse(id, &a));
    assert_false(a.lba48);
    assert_int_equal(a.sectors, 16384);
    id[0] = 0x8580;                  /* ATAPI */
    assert_false(ata_identify_parse(id, &a));
    id[0] = 0;
    id[49] = 0;                      /* no LBA */
    assert_false(ata_identify_parse(id, &a));
    id[49] = 1u << 9;
    id[60] = id[61] = 0;
    assert_false(ata_identify_parse(id, &a));
    /* Control characters in the model are replaced. */
    id[60] = 1;
    set_model(id, "A\x01" "B");
    assert_true(ata_identify_parse(id, &a));
    assert_string_equal(a.model, "A?B");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prdt),
        cmocka_unit_test(test_prp),
        cmocka_unit_test(test_identify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
