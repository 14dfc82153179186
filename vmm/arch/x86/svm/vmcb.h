/* VMCB layout (AMD APM vol. 2, appendix B): one accessor per field used. */
#ifndef VMM_SVM_VMCB_H
#define VMM_SVM_VMCB_H

#include <stdint.h>

#define VMCB_FIELD(name, type, offset) \
    static inline type vmcb_get_##name(const uint8_t *v) { return *(const volatile type *)(v + (offset)); } \
    static inline void vmcb_set_##name(uint8_t *v, type x) { *(volatile type *)(v + (offset)) = x; }

/* Control area */
VMCB_FIELD(intercept_cr, uint32_t, 0x000)
VMCB_FIELD(intercept_dr, uint32_t, 0x004)
VMCB_FIELD(intercept_exceptions, uint32_t, 0x008)
VMCB_FIELD(intercept_misc1, uint32_t, 0x00c)
VMCB_FIELD(intercept_misc2, uint32_t, 0x010)
VMCB_FIELD(iopm_base_pa, uint64_t, 0x040)
VMCB_FIELD(msrpm_base_pa, uint64_t, 0x048)
VMCB_FIELD(tsc_offset, uint64_t, 0x050)
VMCB_FIELD(asid, uint32_t, 0x058)
VMCB_FIELD(tlb_control, uint8_t, 0x05c)
VMCB_FIELD(int_ctl, uint32_t, 0x060)
VMCB_FIELD(int_vector, uint32_t, 0x064)
VMCB_FIELD(int_state, uint32_t, 0x068)
VMCB_FIELD(exit_code, uint64_t, 0x070)
VMCB_FIELD(exit_info1, uint64_t, 0x078)
VMCB_FIELD(exit_info2, uint64_t, 0x080)
VMCB_FIELD(exit_int_info, uint64_t, 0x088)
VMCB_FIELD(nested_ctl, uint64_t, 0x090)
VMCB_FIELD(event_inj, uint64_t, 0x0a8)
VMCB_FIELD(nested_cr3, uint64_t, 0x0b0)
VMCB_FIELD(clean_bits, uint32_t, 0x0c0)
VMCB_FIELD(next_rip, uint64_t, 0x0c8)

/* State save area; segments are {u16 sel, u16 attr, u32 limit, u64 base}. */
#define VMCB_ES   0x400
#define VMCB_CS   0x410
#define VMCB_SS   0x420
#define VMCB_DS   0x430
#define VMCB_FS   0x440
#define VMCB_GS   0x450
#define VMCB_GDTR 0x460
#define VMCB_LDTR 0x470
#define VMCB_IDTR 0x480
#define VMCB_TR   0x490
VMCB_FIELD(cpl, uint8_t, 0x4cb)
VMCB_FIELD(efer, uint64_t, 0x4d0)
VMCB_FIELD(cr4, uint64_t, 0x548)
VMCB_FIELD(cr3, uint64_t, 0x550)
VMCB_FIELD(cr0, uint64_t, 0x558)
VMCB_FIELD(dr7, uint64_t, 0x560)
VMCB_FIELD(dr6, uint64_t, 0x568)
VMCB_FIELD(rflags, uint64_t, 0x570)
VMCB_FIELD(rip, uint64_t, 0x578)
VMCB_FIELD(rsp, uint64_t, 0x5d8)
VMCB_FIELD(rax, uint64_t, 0x5f8)
VMCB_FIELD(star, uint64_t, 0x600)
VMCB_FIELD(lstar, uint64_t, 0x608)
VMCB_FIELD(cstar, uint64_t, 0x610)
VMCB_FIELD(sfmask, uint64_t, 0x618)
VMCB_FIELD(kernel_gs_base, uint64_t, 0x620)
VMCB_FIELD(sysenter_cs, uint64_t, 0x628)
VMCB_FIELD(sysenter_esp, uint64_t, 0x630)
VMCB_FIELD(sysenter_eip, uint64_t, 0x638)
VMCB_FIELD(cr2, uint64_t, 0x640)
VMCB_FIELD(g_pat, uint64_t, 0x668)

static inline void vmcb_set_seg(uint8_t *v, unsigned off, uint16_t sel, uint16_t attr,
                                uint32_t limit, uint64_t base)
{
    *(volatile uint16_t *)(v + off) = sel;
    *(volatile uint16_t *)(v + off + 2) = attr;
    *(volatile uint32_t *)(v + off + 4) = limit;
    *(volatile uint64_t *)(v + off + 8) = base;
}
static inline uint16_t vmcb_seg_attr(const uint8_t *v, unsigned off) { return *(const volatile uint16_t *)(v + off + 2); }
static inline uint64_t vmcb_seg_base(const uint8_t *v, unsigned off) { return *(const volatile uint64_t *)(v + off + 8); }

/* Intercept bits, misc vector 1 (offset 0x0c) */
#define INTERCEPT_CR0_WRITE (1u << 16)  /* intercept_cr: writes are bits 16-31 */
#define INTERCEPT_CR4_WRITE (1u << 20)
#define INTERCEPT_CR8_WRITE (1u << 24)
#define INTERCEPT_INTR      (1u << 0)
#define INTERCEPT_NMI       (1u << 1)
#define INTERCEPT_SMI       (1u << 2)
#define INTERCEPT_INIT      (1u << 3)
#define INTERCEPT_VINTR     (1u << 4)
#define INTERCEPT_CPUID     (1u << 18)
#define INTERCEPT_INVD      (1u << 22)
#define INTERCEPT_HLT       (1u << 24)
#define INTERCEPT_INVLPGA   (1u << 26)
#define INTERCEPT_IOIO      (1u << 27)
#define INTERCEPT_MSR       (1u << 28)
#define INTERCEPT_TASKSW    (1u << 29)
#define INTERCEPT_SHUTDOWN  (1u << 31)
/* misc vector 2 (offset 0x10) */
#define INTERCEPT_VMRUN     (1u << 0)
#define INTERCEPT_VMMCALL   (1u << 1)
#define INTERCEPT_VMLOAD    (1u << 2)
#define INTERCEPT_VMSAVE    (1u << 3)
#define INTERCEPT_STGI      (1u << 4)
#define INTERCEPT_CLGI      (1u << 5)
#define INTERCEPT_SKINIT    (1u << 6)
#define INTERCEPT_RDTSCP    (1u << 7)
#define INTERCEPT_ICEBP     (1u << 8)
#define INTERCEPT_WBINVD    (1u << 9)
#define INTERCEPT_XSETBV    (1u << 13)

/* int_ctl */
#define V_TPR_MASK     0xfu
#define V_IRQ          (1u << 8)
#define V_INTR_PRIO_SHIFT 16
#define V_IGN_TPR      (1u << 20)
#define V_INTR_MASKING (1u << 24)

/* Exit codes (APM vol. 2, appendix C) */
#define SVM_EXIT_CR0_WRITE 0x010
#define SVM_EXIT_CR4_WRITE 0x014
#define SVM_EXIT_CR8_WRITE 0x018
#define SVM_EXIT_EXCP_BASE 0x040
#define SVM_EXIT_INTR      0x060
#define SVM_EXIT_NMI       0x061
#define SVM_EXIT_SMI       0x062
#define SVM_EXIT_INIT      0x063
#define SVM_EXIT_VINTR     0x064
#define SVM_EXIT_CPUID     0x072
#define SVM_EXIT_INVD      0x076
#define SVM_EXIT_HLT       0x078
#define SVM_EXIT_INVLPGA   0x07a
#define SVM_EXIT_IOIO      0x07b
#define SVM_EXIT_MSR       0x07c
#define SVM_EXIT_TASK_SWITCH 0x07d
#define SVM_EXIT_SHUTDOWN  0x07f
#define SVM_EXIT_VMRUN     0x080
#define SVM_EXIT_VMMCALL   0x081
#define SVM_EXIT_VMLOAD    0x082
#define SVM_EXIT_VMSAVE    0x083
#define SVM_EXIT_STGI      0x084
#define SVM_EXIT_CLGI      0x085
#define SVM_EXIT_SKINIT    0x086
#define SVM_EXIT_RDTSCP    0x087
#define SVM_EXIT_ICEBP     0x088
#define SVM_EXIT_WBINVD    0x089
#define SVM_EXIT_XSETBV    0x08d
#define SVM_EXIT_NPF       0x400
#define SVM_EXIT_INVALID   0xffffffffu   /* compare the low 32 bits (QEMU) */

/* EVENTINJ / EXITINTINFO */
#define EVT_VALID      (1ull << 31)
#define EVT_ERR_VALID  (1ull << 11)
#define EVT_TYPE_INTR  (0ull << 8)
#define EVT_TYPE_NMI   (2ull << 8)
#define EVT_TYPE_EXCP  (3ull << 8)
#define EVT_TYPE_SOFT  (4ull << 8)

#endif
