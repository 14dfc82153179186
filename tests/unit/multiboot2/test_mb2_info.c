/* Multiboot2 boot information parser: well-formed input, and every way a
 * loader (or an attacker controlling one) can get it wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "boot/multiboot2/mb2_info.h"

struct builder {
    uint8_t buf[1024];
    uint32_t len;
};

static void put32(struct builder *b, uint32_t off, uint32_t v) { memcpy(b->buf + off, &v, 4); }
static void put64(struct builder *b, uint32_t off, uint64_t v) { memcpy(b->buf + off, &v, 8); }

static void begin(struct builder *b)
{
    memset(b, 0, sizeof *b);
    b->len = 8;
}

/* Appends a tag of type with payload bytes; returns its offset. */
static uint32_t tag(struct builder *b, uint32_t type, const void *payload, uint32_t n)
{
    uint32_t off = b->len;
    put32(b, off, type);
    put32(b, off + 4, 8 + n);
    memcpy(b->buf + off + 8, payload, n);
    b->len = (off + 8 + n + 7) & ~7u;
    return off;
}

static void finish(struct builder *b)
{
    tag(b, 0, "", 0);
    put32(b, 0, b->len);
}

static uint32_t add_mmap(struct builder *b)
{
    uint8_t p[8 + 2 * 24] = {0};
    uint32_t esize = 24, ver = 0;
    memcpy(p, &esize, 4);
    memcpy(p + 4, &ver, 4);
    uint64_t base0 = 0, len0 = 0x9fc00, base1 = 0x100000, len1 = 0x7ef0000;
    uint32_t t1 = 1;
    memcpy(p + 8, &base0, 8); memcpy(p + 16, &len0, 8); memcpy(p + 24, &t1, 4);
    memcpy(p + 32, &base1, 8); memcpy(p + 40, &len1, 8); memcpy(p + 48, &t1, 4);
    return tag(b, 6, p, sizeof p);
}

static void add_module(struct builder *b, uint32_t start, uint32_t end, const char *name)
{
    uint8_t p[64] = {0};
    memcpy(p, &start, 4);
    memcpy(p + 4, &end, 4);
    size_t n = strlen(name) + 1;
    memcpy(p + 8, name, n);
    tag(b, 3, p, (uint32_t)(8 + n));
}

static tv_status_t parse(struct builder *b, struct tv_mb2_info *info, char *why)
{
    return tv_mb2_parse(b->buf, sizeof b->buf, info, why, 200);
}

static void test_well_formed(void **state)
{
    (void)state;
    struct builder b;
    struct tv_mb2_info info;
    char why[200];
    begin(&b);
    tag(&b, 1, "console=raw", 12);
    add_module(&b, 0x200000, 0x201000, "taskvisor.cfg");
    add_module(&b, 0x300000, 0x340000, "monitor.elf");
    add_mmap(&b);
    tag(&b, 14, "RSD PTR xxxxxxxxxxxx", 20);   /* unknown tags are skipped */
    finish(&b);
    assert_int_equal(parse(&b, &info, why), TV_OK);
    assert_string_equal(info.cmdline, "console=raw");
    assert_int_equal(info.module_count, 2);
    assert_string_equal(info.modules[1].string, "monitor.elf");
    assert_int_equal(info.modules[1].start, 0x300000);
    assert_int_equal(info.modules[1].end, 0x340000);
    assert_int_equal(info.mmap_count, 2);
    assert_int_equal(info.mmap[1].base, 0x100000);
    assert_int_equal(info.mmap[1].type, 1);
    assert_int_equal(info.total_size, b.len);
}

static void test_no_mmap(void **state)
{
    (void)state;
    struct builder b;
    struct tv_mb2_info info;
    char why[200];
    begin(&b);
    add_module(&b, 0x200000, 0x201000, "taskvisor.cfg");
    finish(&b);
    assert_int_equal(parse(&b, &info, why), TV_E_NOT_FOUND);
    assert_non_null(strstr(why, "memory map"));
}

static void test_tag_beyond_total(void **state)
{
    (void)state;
    struct builder b;
    struct tv_mb2_info info;
    char why[200];
    begin(&b);
    uint32_t off = add_mmap(&b);
    finish(&b);
    put32(&b, off + 4, 4000);                 /* tag size past the end */
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
    put32(&b, off + 4, 4);                    /* smaller than a tag header */
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
}

static void test_bad_total(void **state)
{
    (void)state;
    struct builder b;
    struct tv_mb2_info info;
    char why[200];
    begin(&b);
    add_mmap(&b);
    finish(&b);
    put32(&b, 0, 4);
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
    put32(&b, 0, 1u << 20);                   /* beyond what the caller allows */
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
    assert_int_equal(tv_mb2_parse(b.buf, 8, &info, why, sizeof why), TV_E_CORRUPT);
}

static void test_missing_end_tag(void **state)
{
    (void)state;
    struct builder b;
    struct tv_mb2_info info;
    char why[200];
    begin(&b);
    add_mmap(&b);
    put32(&b, 0, b.len);
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
    assert_non_null(strstr(why, "end tag"));
}

static void test_unterminated_strings(void **state)
{
    (void)state;
    struct builder b;
    struct tv_mb2_info info;
    char why[200];
    begin(&b);
    tag(&b, 1, "abc", 3);                     /* no NUL inside the tag */
    add_mmap(&b);
    finish(&b);
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
    begin(&b);
    uint8_t p[12] = {0};
    put64(&b, 0, 0);
    memcpy(p + 8, "abcd", 4);
    tag(&b, 3, p, sizeof p);
    add_mmap(&b);
    finish(&b);
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
}

static void test_module_reversed_and_too_many(void **state)
{
    (void)state;
    struct builder b;
    struct tv_mb2_info info;
    char why[200];
    begin(&b);
    add_module(&b, 0x300000, 0x200000, "backwards");
    add_mmap(&b);
    finish(&b);
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
    begin(&b);
    for (int i = 0; i < TV_MB2_MAX_MODULES + 1; i++)
        add_module(&b, 0x200000, 0x201000, "m");
    add_mmap(&b);
    finish(&b);
    assert_int_equal(parse(&b, &info, why), TV_E_LIMIT);
}

static void test_bad_mmap_entry_size(void **state)
{
    (void)state;
    struct builder b;
    struct tv_mb2_info info;
    char why[200];
    begin(&b);
    uint32_t off = add_mmap(&b);
    finish(&b);
    put32(&b, off + 8, 20);
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
    put32(&b, off + 8, 0);
    assert_int_equal(parse(&b, &info, why), TV_E_CORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed),
        cmocka_unit_test(test_no_mmap),
        cmocka_unit_test(test_tag_beyond_total),
        cmocka_unit_test(test_bad_total),
        cmocka_unit_test(test_missing_end_tag),
        cmocka_unit_test(test_unterminated_strings),
        cmocka_unit_test(test_module_reversed_and_too_many),
        cmocka_unit_test(test_bad_mmap_entry_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
