/* ACPI table discovery and S5 power-off: see acpi.h. */
#include "drivers/acpi.h"
#include "arch/x86/cpu.h"
#include "mm/mm.h"
#include "tv_fmt.h"
#include "tv_string.h"

struct __attribute__((packed)) rsdp {
    char sig[8];          /* "RSD PTR " */
    uint8_t checksum;     /* first 20 bytes */
    char oem[6];
    uint8_t revision;     /* 0: ACPI 1.0 (RSDT only); 2+: XSDT */
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t ext_checksum; /* whole structure */
    uint8_t reserved[3];
};

struct __attribute__((packed)) sdt_header {
    char sig[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem[6];
    char oem_table[8];
    uint32_t oem_revision;
    uint32_t creator;
    uint32_t creator_revision;
};

/* The FADT fields used here (ACPI 6.x table 5.9), by offset. */
#define FADT_DSDT         40
#define FADT_PM1A_CNT     64
#define FADT_PM1B_CNT     68
#define FADT_PM1_CNT_LEN  89
#define FADT_X_DSDT       140
#define FADT_MIN_LEN      (FADT_PM1_CNT_LEN + 1)
#define SLP_EN            (1u << 13)
#define SDT_MAX_LEN       (16u << 20) /* larger is not a table we trust */

static inline uint16_t inw_port(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static const struct sdt_header *root;
static bool root_is_xsdt;

static bool sum_ok(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + b[i]);
    return s == 0;
}

static const struct sdt_header *table_at(uint64_t pa)
{
    if (pa == 0)
        return 0;
    const struct sdt_header *h = phys_to_virt(pa);
    if (h->length < sizeof *h || h->length > SDT_MAX_LEN || !sum_ok(h, h->length))
        return 0;
    return h;
}

tv_status_t acpi_init(uint64_t rsdp_pa)
{
    root = 0;
    if (rsdp_pa == 0)
        return TV_E_NOT_FOUND;
    const struct rsdp *r = phys_to_virt(rsdp_pa);
    if (tv_memcmp(r->sig, "RSD PTR ", 8) != 0 || !sum_ok(r, 20))
        return TV_E_CORRUPT;
    if (r->revision >= 2 && r->length >= sizeof *r && r->length <= 4096 &&
        sum_ok(r, r->length) && r->xsdt) {
        root = table_at(r->xsdt);
        root_is_xsdt = root != 0;
    }
    if (!root)
        root = table_at(r->rsdt);
    return root ? TV_OK : TV_E_CORRUPT;
}

const void *acpi_find_table(const char sig[4], uint32_t *len_out)
{
    if (!root)
        return 0;
    size_t entry = root_is_xsdt ? 8 : 4;
    size_t n = (root->length - sizeof *root) / entry;
    const uint8_t *e = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t pa = 0;
        tv_memcpy(&pa, e + i * entry, entry);
        const struct sdt_header *h = table_at(pa);
        if (h && tv_memcmp(h->sig, sig, 4) == 0) {
            if (len_out)
                *len_out = h->length;
            return h;
        }
    }
    return 0;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
    uint32_t v;
    tv_memcpy(&v, p + off, 4);
    return v;
}

/* One integer element of an AML package: ZeroOp, OneOp, BytePrefix n,
 * WordPrefix n (ACPI 6.x, 20.2.3). */
static bool aml_small_int(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
    if (p >= end)
        return false;
    if (*p == 0x00 || *p == 0x01) { *v = *p; return true; }
    if (*p == 0x0a && p + 1 < end) { *v = p[1]; return true; }
    if (*p == 0x0b && p + 2 < end) { *v = (uint32_t)p[1] | (uint32_t)p[2] << 8; return true; }
    return false;
}

/* SLP_TYPa/SLP_TYPb of \_S5 from the DSDT: the name "_S5_" followed by a
 * package (PackageOp 0x12, PkgLength, NumElements, elements). */
static bool s5_sleep_types(const struct sdt_header *dsdt, uint32_t *a, uint32_t *b)
{
    const uint8_t *p = (const uint8_t *)dsdt, *end = p + dsdt->length;
    for (const uint8_t *q = p + sizeof *dsdt; q + 4 < end; q++) {
        if (tv_memcmp(q, "_S5_", 4) != 0 || q[4] != 0x12)
            continue;
        const uint8_t *k = q + 5;
        unsigned extra = k < end ? *k >> 6 : 0; /* PkgLength: 0..3 more bytes */
        k += 1 + extra + 1;                     /* past PkgLength and NumElements */
        if (k >= end || !aml_small_int(k, end, a))
            return false;
        k += *k == 0x0a ? 2 : *k == 0x0b ? 3 : 1;
        if (!aml_small_int(k, end, b))
            *b = *a;
        return true;
    }
    return false;
}

tv_status_t acpi_power_off(char *why, size_t len)
{
    uint32_t flen = 0;
    const uint8_t *fadt = acpi_find_table("FACP", &flen);
    if (!fadt || flen < FADT_MIN_LEN) {
        tv_snprintf(why, len, root ? "no FADT" : "no ACPI tables");
        return TV_E_UNSUPPORTED;
    }
    uint64_t dsdt_pa = rd32(fadt, FADT_DSDT);
    if (flen >= FADT_X_DSDT + 8) {
        uint64_t x;
        tv_memcpy(&x, fadt + FADT_X_DSDT, 8);
        if (x)
            dsdt_pa = x;
    }
    const struct sdt_header *dsdt = table_at(dsdt_pa);
    uint32_t typ_a, typ_b;
    if (!dsdt || !s5_sleep_types(dsdt, &typ_a, &typ_b)) {
        tv_snprintf(why, len, "no \\_S5 sleep type in the DSDT");
        return TV_E_UNSUPPORTED;
    }
    uint32_t pm1a = rd32(fadt, FADT_PM1A_CNT), pm1b = rd32(fadt, FADT_PM1B_CNT);
    if (pm1a == 0 || pm1a > 0xffff || pm1b > 0xffff || fadt[FADT_PM1_CNT_LEN] < 2) {
        tv_snprintf(why, len, "no PM1 control port");
        return TV_E_UNSUPPORTED;
    }
    /* SLP_TYP is bits 10-12; keep the other bits as the firmware left them. */
    uint16_t v = (uint16_t)((inw_port((uint16_t)pm1a) & ~(7u << 10)) | (typ_a & 7u) << 10 | SLP_EN);
    outw((uint16_t)pm1a, v);
    if (pm1b) {
        v = (uint16_t)((inw_port((uint16_t)pm1b) & ~(7u << 10)) | (typ_b & 7u) << 10 | SLP_EN);
        outw((uint16_t)pm1b, v);
    }
    for (volatile int i = 0; i < 10000000; i++)
        ;
    tv_snprintf(why, len, "the machine did not power off after S5 (PM1a %#x)", pm1a);
    return TV_E_IO;
}
