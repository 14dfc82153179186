/* hello: the smallest scenario.  CPUID signature and timing leaf,
 * GET_VERSION and NOP. */
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
    guest_printf("hello from a Taskvisor guest (%s, %lu MiB)\n",
                 guest_boot_protocol_name(boot->protocol), (unsigned long)(boot->mem_bytes >> 20));

    struct cpuid_regs r = cpuid(1, 0);
    report("CPUID.1:ECX hypervisor bit set", (r.ecx >> 31) & 1);
    r = cpuid(TV_CPUID_BASE, 0);
    reportf(r.ebx == TV_CPUID_SIGNATURE_EBX && r.ecx == TV_CPUID_SIGNATURE_ECX &&
                r.edx == TV_CPUID_SIGNATURE_EDX,
            "CPUID 0x40000000 signature (%08x %08x %08x)", r.ebx, r.ecx, r.edx);
    reportf(r.eax >= TV_CPUID_LEAF_TIMING, "CPUID 0x40000000 max leaf 0x%x >= 0x%x", r.eax,
            TV_CPUID_LEAF_TIMING);

    r = cpuid(TV_CPUID_LEAF_VERSION, 0);
    reportf(r.eax == ((TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR),
            "CPUID 0x40000001 ABI version 0x%x", r.eax);

    r = cpuid(TV_CPUID_LEAF_TIMING, 0);
    reportf(r.eax >= 1000 && r.eax < 100000000u, "CPUID 0x40000010 TSC frequency %u kHz", r.eax);
    reportf(r.ebx >= 1000 && r.ebx < 100000000u, "CPUID 0x40000010 APIC timer frequency %u kHz",
            r.ebx);

    uint32_t version = 0;
    uint64_t features = 0;
    tv_status_t st = tv_get_version(&version, &features);
    reportf(st == TV_OK, "GET_VERSION status %d", st);
    reportf(version == ((TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR),
            "GET_VERSION version %u.%u (features 0x%lx)", version >> 16, version & 0xFFFF,
            (unsigned long)features);

    st = tv_hypercall(TV_HC_NOP, 0, 0, 0, 0, 0, NULL);
    reportf(st == TV_OK, "NOP status %d", st);
    st = tv_hypercall(0x0ff, 0, 0, 0, 0, 0, NULL);
    reportf(st == TV_E_UNKNOWN_CALL, "unassigned call 0xff gives UNKNOWN_CALL (status %d)", st);
    guest_exit_summary();
}
