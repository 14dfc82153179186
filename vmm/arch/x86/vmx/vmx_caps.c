/* Intel VMX backend (Intel SDM vol. 3 ch. 23-29), capabilities: detection
 * from the capability MSRs, the controls we run with, VMXON and the shared
 * I/O and MSR bitmaps. */
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_internal.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "mm/mm.h"
#include "tv_fmt.h"
#include "tv_string.h"

struct vmx_caps vmx_caps;
static uint64_t vmxon_pa;
uint64_t io_bitmap_pa;             /* two pages: every port exits */
uint64_t msr_bitmap_pa;            /* one page: the allow-list passes */

#define CPUID1_ECX_VMX (1u << 5)

/* A control value from a capability MSR: allowed-0 bits (low word) must be
 * 1, allowed-1 bits (high word) may be 1 (SDM A.3-A.5). */
static uint32_t adjust(uint64_t cap, uint32_t want) { return (want | (uint32_t)cap) & (uint32_t)(cap >> 32); }

static bool wanted_survive(const char *what, uint64_t cap, uint32_t want, uint32_t *out,
                           char *why, size_t len)
{
    *out = adjust(cap, want);
    if ((*out & want) != want) {
        tv_snprintf(why, len, "the CPU refuses the %s controls %#x (allowed-1 %#x)", what,
                    want & ~*out, (uint32_t)(cap >> 32));
        return false;
    }
    return true;
}

tv_status_t vmx_probe(char *why, size_t len)
{
    if (!(cpuid(1, 0).ecx & CPUID1_ECX_VMX)) {
        tv_snprintf(why, len, "the CPU does not offer Intel VMX (CPUID 1 ECX bit 5 clear)");
        return TV_E_UNSUPPORTED;
    }
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUT)) {
        tv_snprintf(why, len, "VMX is disabled by the firmware (IA32_FEATURE_CONTROL locked with "
                    "VMX off): enable virtualization (VT-x) in the BIOS setup");
        return TV_E_UNSUPPORTED;
    }
    struct vmx_caps *c = &vmx_caps;
    tv_memset(c, 0, sizeof *c);
    c->basic = rdmsr(MSR_VMX_BASIC);
    c->revision = (uint32_t)c->basic & 0x7fffffffu;
    c->vmcs_size = (uint32_t)(c->basic >> 32) & 0x1fff;
    if (c->vmcs_size == 0 || c->vmcs_size > PAGE_SIZE || ((c->basic >> 50) & 0xf) != 6) {
        tv_snprintf(why, len, "IA32_VMX_BASIC %#llx: VMCS size %u or memory type not write-back",
                    (unsigned long long)c->basic, c->vmcs_size);
        return TV_E_UNSUPPORTED;
    }
    bool true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
    uint64_t pin_cap = rdmsr(true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED);
    uint64_t proc_cap = rdmsr(true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
    uint64_t exit_cap = rdmsr(true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT);
    uint64_t entry_cap = rdmsr(true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY);
    if (!((proc_cap >> 32) & PROC_SECONDARY)) {
        tv_snprintf(why, len, "VMX without secondary controls: no EPT");
        return TV_E_UNSUPPORTED;
    }
    uint64_t proc2_cap = rdmsr(MSR_VMX_PROCBASED2);
    uint32_t want2 = PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED;
    if (((proc2_cap >> 32) & want2) != want2) {
        uint32_t missing = want2 & ~(uint32_t)(proc2_cap >> 32);
        tv_snprintf(why, len, "VMX without %s%s%s%s%s (IA32_VMX_PROCBASED_CTLS2 %#llx)",
                    (missing & PROC2_EPT) ? "EPT" : "",
                    (missing & PROC2_EPT) && (missing & ~PROC2_EPT) ? ", " : "",
                    (missing & PROC2_VPID) ? "VPID" : "",
                    (missing & PROC2_VPID) && (missing & PROC2_UNRESTRICTED) ? ", " : "",
                    (missing & PROC2_UNRESTRICTED) ? "unrestricted guest" : "",
                    (unsigned long long)proc2_cap);
        return TV_E_UNSUPPORTED;
    }
    c->ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
    uint64_t need_ept = EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_INVEPT;
    if ((c->ept_vpid & need_ept) != need_ept ||
        !(c->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
        tv_snprintf(why, len, "EPT lacks 4-level walks, write-back, 2 MiB pages or INVEPT "
                    "(IA32_VMX_EPT_VPID_CAP %#llx)", (unsigned long long)c->ept_vpid);
        return TV_E_UNSUPPORTED;
    }
    /* Guest-owned: CPUID, HLT, I/O, MSRs exit; CR3 accesses do not (EPT).
     * CR8 accesses exit: without them (and without a TPR shadow) MOV CR8
     * would write the physical APIC's TPR and could mask the monitor's own
     * timer for good; vm/cr.c keeps CR8 as the virtual APIC's TPR. */
    uint32_t want_proc = PROC_HLT | PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY |
                         PROC_CR8_LOAD | PROC_CR8_STORE | PROC_TSC_OFFSET;
    uint32_t want2_all = want2 | ((uint32_t)(proc2_cap >> 32) & (PROC2_RDTSCP | PROC2_INVPCID |
                                                               PROC2_XSAVES));
    if (!wanted_survive("pin-based", pin_cap, PIN_EXT_INTR | PIN_NMI, &c->pin, why, len) ||
        !wanted_survive("processor-based", proc_cap, want_proc, &c->proc, why, len) ||
        !wanted_survive("secondary", proc2_cap, want2_all, &c->proc2, why, len) ||
        !wanted_survive("VM-exit", exit_cap, EXIT_HOST_64 | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
                        EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_DEBUG, &c->exit, why, len) ||
        !wanted_survive("VM-entry", entry_cap, ENTRY_LOAD_PAT | ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG,
                        &c->entry, why, len))
        return TV_E_UNSUPPORTED;
    if (c->proc & PROC_TPR_SHADOW) {
        tv_snprintf(why, len, "the CPU forces the TPR shadow on (IA32_VMX_PROCBASED_CTLS %#llx)",
                    (unsigned long long)proc_cap);
        return TV_E_UNSUPPORTED;
    }
    /* Interrupt-window exiting is switched on and off per entry. */
    if (!((proc_cap >> 32) & PROC_INTR_WINDOW)) {
        tv_snprintf(why, len, "VMX without interrupt-window exiting");
        return TV_E_UNSUPPORTED;
    }
    /* Without the TRUE MSRs CR3 exits may be forced on: handle_cr_access
     * serves them. */
    c->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
    c->inout_info = c->basic & VMX_BASIC_INOUT_INFO;
    return TV_OK;
}

static void msr_bitmap_allow(uint8_t *bm, uint32_t msr)
{
    uint32_t off;
    if (msr <= 0x1fff) off = 0;
    else if (msr >= 0xc0000000u && msr <= 0xc0001fffu) { off = 0x400; msr -= 0xc0000000u; }
    else return;
    bm[off + msr / 8] &= (uint8_t)~(1u << (msr % 8));          /* reads */
    bm[0x800 + off + msr / 8] &= (uint8_t)~(1u << (msr % 8));  /* writes */
}

tv_status_t vmx_cpu_enable(void)
{
    struct vmx_caps *c = &vmx_caps;
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK))
        wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUT);
    /* CR0/CR4 bits VMX operation fixes (SDM A.7, A.8). */
    uint64_t cr0 = (read_cr0() | c->cr0_fixed0) & c->cr0_fixed1;
    uint64_t cr4 = (read_cr4() | c->cr4_fixed0 | CR4_VMXE) & c->cr4_fixed1;
    write_cr0(cr0);
    write_cr4(cr4);
    tv_status_t st;
    if ((st = page_alloc(1, 1, &vmxon_pa)) != TV_OK)
        return st;
    *(uint32_t *)phys_to_virt(vmxon_pa) = c->revision;
    if (!vmx_on(&vmxon_pa)) {
        log_err("VMXON failed (CR0 %#llx CR4 %#llx, IA32_FEATURE_CONTROL %#llx)",
                (unsigned long long)read_cr0(), (unsigned long long)read_cr4(),
                (unsigned long long)rdmsr(MSR_FEATURE_CONTROL));
        return TV_E_UNSUPPORTED;
    }
    if ((st = page_alloc(2, 1, &io_bitmap_pa)) != TV_OK)
        return st;
    tv_memset(phys_to_virt(io_bitmap_pa), 0xff, 2 * PAGE_SIZE);
    if ((st = page_alloc(1, 1, &msr_bitmap_pa)) != TV_OK)
        return st;
    uint8_t *bm = phys_to_virt(msr_bitmap_pa);
    tv_memset(bm, 0xff, PAGE_SIZE);
    static const uint32_t pass[] = {
        MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
        MSR_SFMASK, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
    };
    for (unsigned i = 0; i < sizeof pass / sizeof pass[0]; i++)
        msr_bitmap_allow(bm, pass[i]);
    log_info("VMX enabled: VMCS revision %#x, controls pin %#x proc %#x/%#x exit %#x entry %#x%s",
             c->revision, c->pin, c->proc, c->proc2, c->exit, c->entry,
             (c->basic & VMX_BASIC_TRUE_CTLS) ? " (TRUE capability MSRs)" : "");
    return TV_OK;
}
