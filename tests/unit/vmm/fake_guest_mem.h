/* Hosted test helper: a small fake guest memory made of two RAM ranges,
 * exposed both as a guest_mem_view (hypercalls) and as plain buffers. */
#ifndef TESTS_FAKE_GUEST_MEM_H
#define TESTS_FAKE_GUEST_MEM_H

#include <stdint.h>
#include <string.h>

#include "hcall/hcall_guest_mem.h"

#define FAKE_LOW_GPA   0x10000u
#define FAKE_LOW_SIZE  0x10000u
#define FAKE_HIGH_GPA  0x100000u
#define FAKE_HIGH_SIZE 0x1000u

struct fake_guest_mem {
    uint8_t low[FAKE_LOW_SIZE];
    uint8_t high[FAKE_HIGH_SIZE];
    struct guest_mem_range ranges[2];
    struct guest_mem_view view;
    unsigned reads, writes;
};

static inline uint8_t *fake_ptr(struct fake_guest_mem *m, uint64_t gpa, size_t len)
{
    /* Written without gpa + len so a wrapping request cannot slip through. */
    if (gpa >= FAKE_LOW_GPA && len <= FAKE_LOW_SIZE && gpa - FAKE_LOW_GPA <= FAKE_LOW_SIZE - len)
        return m->low + (gpa - FAKE_LOW_GPA);
    if (gpa >= FAKE_HIGH_GPA && len <= FAKE_HIGH_SIZE && gpa - FAKE_HIGH_GPA <= FAKE_HIGH_SIZE - len)
        return m->high + (gpa - FAKE_HIGH_GPA);
    return NULL;
}

static inline tv_status_t fake_copy_from(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    struct fake_guest_mem *m = ctx;
    uint8_t *p = fake_ptr(m, gpa, len);
    if (!p)
        return TV_E_FAULT;      /* the checker let a bad range through */
    m->reads++;
    memcpy(dst, p, len);
    return TV_OK;
}

static inline tv_status_t fake_copy_to(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct fake_guest_mem *m = ctx;
    uint8_t *p = fake_ptr(m, gpa, len);
    if (!p)
        return TV_E_FAULT;
    m->writes++;
    memcpy(p, src, len);
    return TV_OK;
}

static inline void fake_guest_mem_init(struct fake_guest_mem *m)
{
    memset(m, 0, sizeof *m);
    m->ranges[0] = (struct guest_mem_range){ FAKE_LOW_GPA, FAKE_LOW_SIZE };
    m->ranges[1] = (struct guest_mem_range){ FAKE_HIGH_GPA, FAKE_HIGH_SIZE };
    m->view.ranges = m->ranges;
    m->view.nranges = 2;
    m->view.ctx = m;
    m->view.copy_from = fake_copy_from;
    m->view.copy_to = fake_copy_to;
}

#endif
