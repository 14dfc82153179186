/* Hypercall wrappers.  AMD parts take VMMCALL, Intel parts VMCALL; the
 * vendor string decides once at boot. */
#include "guest.h"
#include "guest_internal.h"

static bool use_vmcall;

void hypercall_init(void)
{
    struct cpuid_regs r = cpuid(0, 0);
    /* "GenuineIntel": EBX "Genu", EDX "ineI", ECX "ntel" */
    use_vmcall = r.ebx == 0x756e6547u && r.edx == 0x49656e69u && r.ecx == 0x6c65746eu;
}

bool tv_hypercall_uses_vmcall(void) { return use_vmcall; }

tv_status_t tv_hypercall(uint64_t code, uint64_t a0, uint64_t a1, uint64_t a2,
                         uint64_t a3, uint64_t a4, struct tv_hc_out *out)
{
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    uint64_t rax = code, rdi = a0, rsi = a1, rdx = a2;
    if (use_vmcall)
        __asm__ volatile("vmcall"
                         : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8)
                         :: "rcx", "r9", "r11", "memory");
    else
        __asm__ volatile("vmmcall"
                         : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8)
                         :: "rcx", "r9", "r11", "memory");
    if (out) {
        out->rdx = rdx;
        out->rsi = rsi;
        out->rdi = rdi;
    }
    return (tv_status_t)(uint32_t)rax;
}

tv_status_t tv_get_version(uint32_t *version, uint64_t *features)
{
    struct tv_hc_out out = { 0, 0, 0 };
    tv_status_t st = tv_hypercall(TV_HC_GET_VERSION, 0, 0, 0, 0, 0, &out);
    if (version)
        *version = (uint32_t)out.rdx;
    if (features)
        *features = out.rsi;
    return st;
}
