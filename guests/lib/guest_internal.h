/* Library-internal entry points (not for tests). */
#ifndef TV_GUEST_INTERNAL_H
#define TV_GUEST_INTERNAL_H

#include <stdint.h>

#define SEL_KCODE64 0x08
#define SEL_KDATA   0x10
#define SEL_KCODE32 0x18
#define SEL_UDATA   0x20
#define SEL_UCODE64 0x28
#define SEL_TSS     0x30

#define GUEST_USER_RETURN_VECTOR 0x80

void gdt_tss_init(void);
void traps_init(void);
void hypercall_init(void);
void guest_lib_start(uint32_t magic, uint32_t info_gpa);

/* ctx.asm */
long guest_ctx_call(uint64_t *saved_rsp, long (*fn)(void *), void *arg);
extern char guest_ctx_resume[];
long guest_user_enter(void *fn, void *arg, uint64_t user_rsp);

#endif
