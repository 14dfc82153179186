#include "vhd_test_util.h"

#include <stdlib.h>
#include <string.h>

uint64_t tu_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

void tu_pattern(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 12345;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(tu_rand(&s) | 1);
}

uint8_t *tu_read_all(tv_storage_t *st, const char *name, unsigned flags, uint64_t *size)
{
    tv_vhd_t *v;
    if (tv_vhd_open(st, name, flags, &v) != TV_OK)
        return NULL;
    *size = tv_vhd_size(v);
    uint8_t *buf = malloc(*size);
    tv_status_t s = tv_vhd_read(v, 0, buf, *size);
    tv_vhd_close(v);
    if (s != TV_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

tv_status_t tu_create(tv_storage_t *st, const char *name, enum tv_vhd_kind kind, uint64_t size,
                      uint32_t block, const char *parent)
{
    struct tv_vhd_create_params p = { .kind = kind, .size = size, .block_size = block, .parent = parent,
                                      .exact_size = true };
    return tv_vhd_create(st, name, &p, 0, NULL);
}

tv_status_t tu_write(tv_storage_t *st, const char *name, uint64_t off, size_t len, uint64_t seed,
                     uint8_t *model)
{
    tv_vhd_t *v;
    tv_status_t s = tv_vhd_open(st, name, TV_VHD_OPEN_WRITE, &v);
    if (s != TV_OK)
        return s;
    uint8_t *buf = malloc(len);
    tu_pattern(buf, len, seed);
    s = tv_vhd_write(v, off, buf, len);
    if (model && s == TV_OK)
        memcpy(model + off, buf, len);
    free(buf);
    tv_status_t cs = tv_vhd_close(v);
    return s != TV_OK ? s : cs;
}

tv_status_t tu_run(tv_storage_t *st, tv_vhd_op_t *op)
{
    (void)st;
    tv_status_t s = tv_vhd_op_run(op, NULL, NULL);
    tv_vhd_op_destroy(op);
    return s;
}

int tu_check_errors(tv_storage_t *st, const char *name)
{
    struct tv_vhd_check_result r;
    tv_vhd_op_t *op;
    if (tv_vhd_op_check(st, name, false, NULL, NULL, &r, &op) != TV_OK)
        return -1;
    tv_status_t s = tv_vhd_op_run(op, NULL, NULL);
    tv_vhd_op_destroy(op);
    if (s != TV_OK && s != TV_E_CORRUPT)
        return -1;
    return (int)r.errors;
}
