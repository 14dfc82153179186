/* cpl3_ud: hypercalls are for CPL 0 only; VMMCALL/VMCALL at CPL 3 must
 * raise #UD in the guest (and a CPL 0 hypercall still works afterwards). */
#include "guest.h"

static long user_hypercall(void *arg)
{
    uint64_t rax = TV_HC_GET_VERSION;
    if (*(bool *)arg)
        __asm__ volatile("vmcall" : "+a"(rax) :: "rdi", "rsi", "rdx", "r10", "r8", "memory");
    else
        __asm__ volatile("vmmcall" : "+a"(rax) :: "rdi", "rsi", "rdx", "r10", "r8", "memory");
    return (long)rax;
}

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    bool vmcall = tv_hypercall_uses_vmcall();
    long result = -1;
    struct guest_trap t;
    for (int i = 0; i < 3; i++) {
        int v = guest_run_user(user_hypercall, &vmcall, &result, &t);
        reportf(v == VEC_UD && t.cpl == 3, "%s at CPL 3 raises #UD (try %d: vector %d cpl %u)",
                vmcall ? "VMCALL" : "VMMCALL", i + 1, v, t.cpl);
    }
    uint32_t version = 0;
    tv_status_t st = tv_get_version(&version, NULL);
    reportf(st == TV_OK && version == ((TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR),
            "GET_VERSION at CPL 0 still works (status %d)", st);
    guest_exit_summary();
}
