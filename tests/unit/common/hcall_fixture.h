/* Hosted test fixture for hypercall handlers, shared by the task, VM, agent
 * and disk call tests: the caller's RAM (one range backed by a heap buffer)
 * and its guest_mem_view, the argument registers of either calling
 * convention (docs/hypercalls.md), and a call through the one dispatcher
 * (vmm/hcall).  Header only, so unit tests and fuzz targets take it
 * without a build rule of its own. */
#ifndef TESTS_HCALL_FIXTURE_H
#define TESTS_HCALL_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hcall/hcall.h"

/* The caller's RAM: `size` bytes at gpa `base`, seen through `view`. */
struct hcf_ram {
    unsigned char *mem;
    uint64_t base;
    size_t size;
    struct guest_mem_range range;
    struct guest_mem_view view;  /* ctx: this struct */
};

/* The host address of [gpa, gpa + len) in the RAM, or NULL when any of it
 * lies outside (written without gpa + len, which could wrap). */
static inline unsigned char *hcf_at(const struct hcf_ram *ram, uint64_t gpa, size_t len)
{
    if (gpa < ram->base || gpa - ram->base > ram->size || len > ram->size - (gpa - ram->base))
        return NULL;
    return ram->mem + (gpa - ram->base);
}

static inline tv_status_t hcf_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    unsigned char *p = hcf_at(ctx, gpa, len);
    if (!p)
        return TV_E_INVALID_ARGUMENT;
    memcpy(dst, p, len);
    return TV_OK;
}

static inline tv_status_t hcf_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    unsigned char *p = hcf_at(ctx, gpa, len);
    if (!p)
        return TV_E_INVALID_ARGUMENT;
    memcpy(p, src, len);
    return TV_OK;
}

/* Zeroed, page-aligned RAM; aborts when the host has no memory. */
static inline void hcf_ram_init(struct hcf_ram *ram, uint64_t base, size_t size)
{
    ram->mem = aligned_alloc(4096, size);
    if (!ram->mem)
        abort();
    memset(ram->mem, 0, size);
    ram->base = base;
    ram->size = size;
    ram->range = (struct guest_mem_range){ base, size };
    ram->view = (struct guest_mem_view){ &ram->range, 1, ram, hcf_read, hcf_write };
}

static inline void hcf_ram_fini(struct hcf_ram *ram)
{
    free(ram->mem);
    ram->mem = NULL;
}

/* a0..a4 into the registers of the caller's convention: RDI RSI RDX R10 R8
 * (64-bit) or EBX ECX EDX ESI EDI (32-bit). */
static inline void hcf_set_args(struct hcall_regs *r, bool wide, const uint64_t a[HCALL_NARGS])
{
    if (wide) {
        r->rdi = a[0]; r->rsi = a[1]; r->rdx = a[2]; r->r10 = a[3]; r->r8 = a[4];
    } else {
        r->rbx = a[0]; r->rcx = a[1]; r->rdx = a[2]; r->rsi = a[3]; r->rdi = a[4];
    }
}

/* The argument registers back (as a continuation may have rewritten them). */
static inline void hcf_get_args(const struct hcall_regs *r, bool wide, uint64_t a[HCALL_NARGS])
{
    if (wide) {
        a[0] = r->rdi; a[1] = r->rsi; a[2] = r->rdx; a[3] = r->r10; a[4] = r->r8;
    } else {
        a[0] = r->rbx; a[1] = r->rcx; a[2] = r->rdx; a[3] = r->rsi; a[4] = r->rdi;
    }
}

/* One call through the dispatcher as *caller, on *r (RAX = the code); no
 * platform services, no host pointer. */
static inline enum hcall_action hcf_dispatch(const struct hcall_table *table,
                                             const struct hcall_caller *caller,
                                             struct hcall_regs *r)
{
    struct hcall_env env = { table, NULL, NULL };
    return hcall_dispatch(&env, caller, r);
}

#endif
