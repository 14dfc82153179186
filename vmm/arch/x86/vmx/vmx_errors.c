/* VM-instruction errors and VM-entry failures in plain words, and the test
 * build's VMCS fault hooks that make Bochs produce each of them. */
#include "arch/x86/vmx/vmx_internal.h"
#include "arch/x86/vmx/vmcs.h"
#include "kernel/log.h"
#include "vm/partition.h"
#include "vm/vcpu.h"
#include "tv_fmt.h"
#include "tv_string.h"

const char *vmx_insn_error_text(uint32_t error)
{
    static const char *const text[] = {
        [1] = "VMCALL executed in VMX root operation",
        [2] = "VMCLEAR with an invalid physical address",
        [3] = "VMCLEAR with the VMXON pointer",
        [4] = "VMLAUNCH with a VMCS that is not clear (already launched)",
        [5] = "VMRESUME with a VMCS that was never launched",
        [6] = "VMRESUME after VMXOFF",
        [7] = "VM entry with invalid control fields",
        [8] = "VM entry with invalid host-state fields",
        [9] = "VMPTRLD with an invalid physical address",
        [10] = "VMPTRLD with the VMXON pointer",
        [11] = "VMPTRLD with a wrong VMCS revision identifier",
        [12] = "VMREAD/VMWRITE of an unsupported VMCS field",
        [13] = "VMWRITE to a read-only VMCS field",
        [15] = "VMXON executed in VMX root operation",
        [16] = "VM entry with an invalid executive-VMCS pointer",
        [17] = "VM entry with a non-launched executive VMCS",
        [18] = "VM entry with the executive-VMCS pointer not the VMXON pointer",
        [19] = "VMCALL with a non-clear VMCS",
        [20] = "VMCALL with invalid VM-exit control fields",
        [22] = "VMCALL with a wrong MSEG revision identifier",
        [23] = "VMXOFF under the dual-monitor treatment",
        [24] = "VMCALL with invalid SMM-monitor features",
        [25] = "VM entry with invalid VM-execution control fields in the executive VMCS",
        [26] = "VM entry with events blocked by MOV SS",
        [28] = "invalid operand to INVEPT/INVVPID",
    };
    if (error < sizeof text / sizeof text[0] && text[error])
        return text[error];
    return "unknown VM-instruction error";
}

void vmx_report_entry_failure(struct vcpu *v, uint32_t reason, uint64_t q)
{
    const char *what;
    char buf[96];
    switch (reason & 0xffff) {
    case VMX_EXIT_BAD_GUEST_STATE:
        what = q == 2 ? "invalid guest state: loading the PDPTEs failed" :
               q == 3 ? "invalid guest state: NMI injection" :
               q == 4 ? "invalid guest state: bad VMCS link pointer" :
               "invalid guest state (a guest register or segment field breaks the entry checks)";
        break;
    case VMX_EXIT_MSR_LOADING:
        tv_snprintf(buf, sizeof buf, "loading guest MSR entry %llu of the VM-entry MSR-load area "
                    "failed", (unsigned long long)q);
        what = buf;
        break;
    case VMX_EXIT_MACHINE_CHECK:
        what = "machine-check event during VM entry";
        break;
    default:
        what = "unknown VM-entry failure";
        break;
    }
    log_msg(TV_LOG_WARN, v->part->name, "VM entry failed: %s (exit reason %u, qualification %#llx)",
            what, reason & 0xffff, (unsigned long long)q);
}

#ifdef TV_TEST_BUILD
/* A partition named "vmxfault-KIND" gets one VMCS field spoiled before its
 * first entry, so each failure path runs under Bochs' strict entry checks:
 *   guest-cr0      guest CR0 without NE (fixed to 1): invalid guest state
 *   link-pointer   VMCS link pointer 0 instead of ~0: invalid guest state
 *   msr-load       an MSR-load entry naming an x2APIC MSR: MSR loading failure
 *   host-tr        host TR selector 0: VMfailValid, invalid host state
 *   control        reserved pin-based control bits: VMfailValid, invalid controls */
void vmx_test_fault(struct vcpu *v)
{
    static const char prefix[] = "vmxfault-";
    const char *name = v->part->name;
    if (tv_memcmp(name, prefix, sizeof prefix - 1) != 0 || v->exit_counts[EXIT_ENTRY_FAILED])
        return;
    const char *kind = name + sizeof prefix - 1;
    log_msg(TV_LOG_INFO, name, "test hook: spoiling the VMCS (%s)", kind);
    if (tv_strcmp(kind, "guest-cr0") == 0) {
        vmwrite_ok(VMCS_GUEST_CR0, vmread(VMCS_GUEST_CR0) & ~(1ull << 5));
    } else if (tv_strcmp(kind, "link-pointer") == 0) {
        vmwrite_ok(VMCS_LINK_POINTER, 0);
    } else if (tv_strcmp(kind, "msr-load") == 0) {
        /* The area's first entry becomes an x2APIC MSR, which the MSR-load
         * area may not name (SDM 26.4). */
        uint32_t *area = (uint32_t *)(uintptr_t)vmread(VMCS_ENTRY_MSR_LOAD);
        area[0] = 0x808u;
    } else if (tv_strcmp(kind, "host-tr") == 0) {
        vmwrite_ok(VMCS_HOST_TR_SEL, 0);
    } else if (tv_strcmp(kind, "control") == 0) {
        vmwrite_ok(VMCS_PIN_CTLS, 0);
    } else {
        log_msg(TV_LOG_WARN, name, "test hook: unknown VMCS fault '%s'", kind);
    }
}
#endif
