/* VMCS field encodings, control bits and capability MSRs (Intel SDM vol. 3
 * appendix B, chapters 24-25, appendix A) and the VMX instructions. */
#ifndef VMM_VMX_VMCS_H
#define VMM_VMX_VMCS_H

#include <stdint.h>
#include <stdbool.h>

#define CR4_VMXE (1ull << 13)

/* Capability and control MSRs. */
#define MSR_FEATURE_CONTROL       0x03au
#define FEATURE_CONTROL_LOCK      (1ull << 0)
#define FEATURE_CONTROL_VMX_OUT   (1ull << 2)   /* VMX outside SMX */
#define MSR_VMX_BASIC             0x480u
#define MSR_VMX_PINBASED          0x481u
#define MSR_VMX_PROCBASED         0x482u
#define MSR_VMX_EXIT              0x483u
#define MSR_VMX_ENTRY             0x484u
#define MSR_VMX_CR0_FIXED0        0x486u
#define MSR_VMX_CR0_FIXED1        0x487u
#define MSR_VMX_CR4_FIXED0        0x488u
#define MSR_VMX_CR4_FIXED1        0x489u
#define MSR_VMX_PROCBASED2        0x48bu
#define MSR_VMX_EPT_VPID_CAP      0x48cu
#define MSR_VMX_TRUE_PINBASED     0x48du
#define MSR_VMX_TRUE_PROCBASED    0x48eu
#define MSR_VMX_TRUE_EXIT         0x48fu
#define MSR_VMX_TRUE_ENTRY        0x490u
#define VMX_BASIC_TRUE_CTLS       (1ull << 55)
#define VMX_BASIC_INOUT_INFO      (1ull << 54)

#define EPT_CAP_WALK4             (1ull << 6)
#define EPT_CAP_WB                (1ull << 14)
#define EPT_CAP_2M                (1ull << 16)
#define EPT_CAP_INVEPT            (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE     (1ull << 25)
#define EPT_CAP_INVEPT_ALL        (1ull << 26)
#define VPID_CAP_INVVPID          (1ull << 32)

/* Pin-based controls. */
#define PIN_EXT_INTR              (1u << 0)
#define PIN_NMI                   (1u << 3)
/* Primary processor-based controls. */
#define PROC_INTR_WINDOW          (1u << 2)
#define PROC_TSC_OFFSET           (1u << 3)
#define PROC_HLT                  (1u << 7)
#define PROC_CR3_LOAD             (1u << 15)
#define PROC_CR3_STORE            (1u << 16)
#define PROC_CR8_LOAD             (1u << 19)
#define PROC_CR8_STORE            (1u << 20)
#define PROC_TPR_SHADOW           (1u << 21)
#define PROC_IO_BITMAPS           (1u << 25)
#define PROC_MSR_BITMAPS          (1u << 28)
#define PROC_SECONDARY            (1u << 31)
/* Secondary processor-based controls. */
#define PROC2_EPT                 (1u << 1)
#define PROC2_RDTSCP              (1u << 3)
#define PROC2_VPID                (1u << 5)
#define PROC2_UNRESTRICTED        (1u << 7)
#define PROC2_INVPCID             (1u << 12)
#define PROC2_XSAVES              (1u << 20)
/* VM-exit controls. */
#define EXIT_SAVE_DEBUG           (1u << 2)
#define EXIT_HOST_64              (1u << 9)
#define EXIT_SAVE_PAT             (1u << 18)
#define EXIT_LOAD_PAT             (1u << 19)
#define EXIT_SAVE_EFER            (1u << 20)
#define EXIT_LOAD_EFER            (1u << 21)
/* VM-entry controls. */
#define ENTRY_LOAD_DEBUG          (1u << 2)
#define ENTRY_IA32E               (1u << 9)
#define ENTRY_LOAD_PAT            (1u << 14)
#define ENTRY_LOAD_EFER           (1u << 15)

/* 16-bit fields. */
#define VMCS_VPID                 0x0000u
#define VMCS_GUEST_ES_SEL         0x0800u   /* + 2 * segment index */
#define VMCS_GUEST_LDTR_SEL       0x080cu
#define VMCS_GUEST_TR_SEL         0x080eu
#define VMCS_HOST_ES_SEL          0x0c00u
#define VMCS_HOST_CS_SEL          0x0c02u
#define VMCS_HOST_SS_SEL          0x0c04u
#define VMCS_HOST_DS_SEL          0x0c06u
#define VMCS_HOST_FS_SEL          0x0c08u
#define VMCS_HOST_GS_SEL          0x0c0au
#define VMCS_HOST_TR_SEL          0x0c0cu
/* 64-bit fields. */
#define VMCS_IO_BITMAP_A          0x2000u
#define VMCS_IO_BITMAP_B          0x2002u
#define VMCS_MSR_BITMAP           0x2004u
#define VMCS_EXIT_MSR_STORE       0x2006u
#define VMCS_EXIT_MSR_LOAD        0x2008u
#define VMCS_ENTRY_MSR_LOAD       0x200au
#define VMCS_TSC_OFFSET           0x2010u
#define VMCS_EPTP                 0x201au
#define VMCS_GUEST_PHYS_ADDR      0x2400u
#define VMCS_LINK_POINTER         0x2800u
#define VMCS_GUEST_DEBUGCTL       0x2802u
#define VMCS_GUEST_PAT            0x2804u
#define VMCS_GUEST_EFER           0x2806u
#define VMCS_GUEST_PDPTE0         0x280au   /* + 2 * n */
#define VMCS_HOST_PAT             0x2c00u
#define VMCS_HOST_EFER            0x2c02u
/* 32-bit fields. */
#define VMCS_PIN_CTLS             0x4000u
#define VMCS_PROC_CTLS            0x4002u
#define VMCS_EXCEPTION_BITMAP     0x4004u
#define VMCS_CR3_TARGET_COUNT     0x400au
#define VMCS_EXIT_CTLS            0x400cu
#define VMCS_EXIT_MSR_STORE_COUNT 0x400eu
#define VMCS_EXIT_MSR_LOAD_COUNT  0x4010u
#define VMCS_ENTRY_CTLS           0x4012u
#define VMCS_ENTRY_MSR_LOAD_COUNT 0x4014u
#define VMCS_ENTRY_INTR_INFO      0x4016u
#define VMCS_ENTRY_EXC_ERROR      0x4018u
#define VMCS_ENTRY_INSN_LEN       0x401au
#define VMCS_PROC_CTLS2           0x401eu
#define VMCS_VM_INSN_ERROR        0x4400u
#define VMCS_EXIT_REASON          0x4402u
#define VMCS_EXIT_INTR_INFO       0x4404u
#define VMCS_EXIT_INTR_ERROR      0x4406u
#define VMCS_IDT_VECTORING_INFO   0x4408u
#define VMCS_IDT_VECTORING_ERROR  0x440au
#define VMCS_EXIT_INSN_LEN        0x440cu
#define VMCS_EXIT_INSN_INFO       0x440eu
#define VMCS_GUEST_ES_LIMIT       0x4800u   /* + 2 * segment index */
#define VMCS_GUEST_LDTR_LIMIT     0x480cu
#define VMCS_GUEST_TR_LIMIT       0x480eu
#define VMCS_GUEST_GDTR_LIMIT     0x4810u
#define VMCS_GUEST_IDTR_LIMIT     0x4812u
#define VMCS_GUEST_ES_AR          0x4814u   /* + 2 * segment index */
#define VMCS_GUEST_LDTR_AR        0x4820u
#define VMCS_GUEST_TR_AR          0x4822u
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824u
#define VMCS_GUEST_ACTIVITY       0x4826u
#define VMCS_GUEST_SYSENTER_CS    0x482au
#define VMCS_HOST_SYSENTER_CS     0x4c00u
/* Natural-width fields. */
#define VMCS_CR0_MASK             0x6000u
#define VMCS_CR4_MASK             0x6002u
#define VMCS_CR0_SHADOW           0x6004u
#define VMCS_CR4_SHADOW           0x6006u
#define VMCS_EXIT_QUALIFICATION   0x6400u
#define VMCS_GUEST_CR0            0x6800u
#define VMCS_GUEST_CR3            0x6802u
#define VMCS_GUEST_CR4            0x6804u
#define VMCS_GUEST_ES_BASE        0x6806u   /* + 2 * segment index */
#define VMCS_GUEST_LDTR_BASE      0x6812u
#define VMCS_GUEST_TR_BASE        0x6814u
#define VMCS_GUEST_GDTR_BASE      0x6816u
#define VMCS_GUEST_IDTR_BASE      0x6818u
#define VMCS_GUEST_DR7            0x681au
#define VMCS_GUEST_RSP            0x681cu
#define VMCS_GUEST_RIP            0x681eu
#define VMCS_GUEST_RFLAGS         0x6820u
#define VMCS_GUEST_PENDING_DBG    0x6822u
#define VMCS_GUEST_SYSENTER_ESP   0x6824u
#define VMCS_GUEST_SYSENTER_EIP   0x6826u
#define VMCS_HOST_CR0             0x6c00u
#define VMCS_HOST_CR3             0x6c02u
#define VMCS_HOST_CR4             0x6c04u
#define VMCS_HOST_FS_BASE         0x6c06u
#define VMCS_HOST_GS_BASE         0x6c08u
#define VMCS_HOST_TR_BASE         0x6c0au
#define VMCS_HOST_GDTR_BASE       0x6c0cu
#define VMCS_HOST_IDTR_BASE       0x6c0eu
#define VMCS_HOST_SYSENTER_ESP    0x6c10u
#define VMCS_HOST_SYSENTER_EIP    0x6c12u
#define VMCS_HOST_RSP             0x6c14u
#define VMCS_HOST_RIP             0x6c16u

/* Segment indexes in the guest-state field groups. */
enum { VSEG_ES = 0, VSEG_CS, VSEG_SS, VSEG_DS, VSEG_FS, VSEG_GS };

/* Basic exit reasons (SDM appendix C). */
enum {
    VMX_EXIT_EXCEPTION_NMI = 0, VMX_EXIT_EXTERNAL_INTR = 1, VMX_EXIT_TRIPLE_FAULT = 2,
    VMX_EXIT_INIT = 3, VMX_EXIT_SIPI = 4, VMX_EXIT_SMI = 5, VMX_EXIT_OTHER_SMI = 6,
    VMX_EXIT_INTR_WINDOW = 7, VMX_EXIT_TASK_SWITCH = 9, VMX_EXIT_CPUID = 10,
    VMX_EXIT_GETSEC = 11, VMX_EXIT_HLT = 12, VMX_EXIT_INVD = 13, VMX_EXIT_VMCALL = 18,
    VMX_EXIT_VMCLEAR = 19, VMX_EXIT_VMLAUNCH = 20, VMX_EXIT_VMPTRLD = 21,
    VMX_EXIT_VMPTRST = 22, VMX_EXIT_VMREAD = 23, VMX_EXIT_VMRESUME = 24,
    VMX_EXIT_VMWRITE = 25, VMX_EXIT_VMXOFF = 26, VMX_EXIT_VMXON = 27, VMX_EXIT_CR = 28,
    VMX_EXIT_IO = 30, VMX_EXIT_RDMSR = 31, VMX_EXIT_WRMSR = 32,
    VMX_EXIT_BAD_GUEST_STATE = 33, VMX_EXIT_MSR_LOADING = 34, VMX_EXIT_MACHINE_CHECK = 41,
    VMX_EXIT_EPT_VIOLATION = 48, VMX_EXIT_EPT_MISCONFIG = 49, VMX_EXIT_INVEPT = 50,
    VMX_EXIT_INVVPID = 53, VMX_EXIT_WBINVD = 54, VMX_EXIT_XSETBV = 55,
    VMX_EXIT_VMFUNC = 59,
};
#define VMX_EXIT_ENTRY_FAILURE (1u << 31)

/* VM-entry / exit interruption information (SDM 24.8.3, 24.9.2). */
#define INTR_INFO_VALID           (1u << 31)
#define INTR_INFO_ERROR_VALID     (1u << 11)
#define INTR_TYPE_EXT             (0u << 8)
#define INTR_TYPE_NMI             (2u << 8)
#define INTR_TYPE_HW_EXC          (3u << 8)

/* The instructions; each returns false on VMfail (CF or ZF set). */
static inline bool vmx_on(uint64_t *pa)
{
    bool ok;
    __asm__ volatile("vmxon %1; seta %0" : "=qm"(ok) : "m"(*pa) : "cc", "memory");
    return ok;
}
static inline bool vmx_clear(uint64_t *pa)
{
    bool ok;
    __asm__ volatile("vmclear %1; seta %0" : "=qm"(ok) : "m"(*pa) : "cc", "memory");
    return ok;
}
static inline bool vmx_ptrld(uint64_t *pa)
{
    bool ok;
    __asm__ volatile("vmptrld %1; seta %0" : "=qm"(ok) : "m"(*pa) : "cc", "memory");
    return ok;
}
static inline bool vmwrite_ok(uint32_t field, uint64_t v)
{
    bool ok;
    __asm__ volatile("vmwrite %2, %1; seta %0" : "=qm"(ok) : "r"((uint64_t)field), "rm"(v) : "cc", "memory");
    return ok;
}
static inline uint64_t vmread(uint32_t field)
{
    uint64_t v;
    __asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"((uint64_t)field) : "cc");
    return v;
}
static inline bool invept(uint64_t type, uint64_t eptp)
{
    struct { uint64_t eptp, zero; } d = { eptp, 0 };
    bool ok;
    __asm__ volatile("invept %1, %2; seta %0" : "=qm"(ok) : "m"(d), "r"(type) : "cc", "memory");
    return ok;
}

#endif
