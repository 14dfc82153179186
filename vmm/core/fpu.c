#include "core/fpu.h"
#include "arch/x86/cpu.h"
#include "core/log.h"
#include "core/percpu.h"
#include "core/vcpu.h"
#include "mm/mm.h"
#include "tv_string.h"

struct fpu_area {
    uint8_t data[4096] __attribute__((aligned(64)));
};

static bool have_xsave;
static uint64_t host_xcr0_mask;

void fpu_init_host(void)
{
    uint64_t cr0 = read_cr0();
    cr0 &= ~(CR0_EM | CR0_TS);
    cr0 |= CR0_MP | CR0_NE;
    write_cr0(cr0);
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    struct cpuid_regs r = cpuid(1, 0);
    have_xsave = (r.ecx >> 26) & 1;
    if (have_xsave) {
        cr4 |= CR4_OSXSAVE;
        write_cr4(cr4);
        struct cpuid_regs d = cpuid(0xd, 0);
        uint64_t sup = ((uint64_t)d.edx << 32) | d.eax;
        /* x87, SSE, AVX only: enough for guests, and a known save size. */
        host_xcr0_mask = sup & 0x7;
        xsetbv(0, host_xcr0_mask);
        if (cpuid(0xd, 0).ecx > sizeof(struct fpu_area))
            host_xcr0_mask = 0x3;
    } else {
        write_cr4(cr4);
        host_xcr0_mask = 0x3;
    }
    log_info("FPU: %s, guest XCR0 mask %#llx", have_xsave ? "XSAVE" : "FXSAVE",
             (unsigned long long)host_xcr0_mask);
}

uint64_t fpu_supported_xcr0(void) { return have_xsave ? host_xcr0_mask : 0; }

tv_status_t fpu_vcpu_init(struct vcpu *v)
{
    v->fpu = kzalloc(sizeof *v->fpu);
    if (!v->fpu)
        return TV_E_NO_MEMORY;
    /* A clean initial image: FCW 0x37f, MXCSR 0x1f80 (SDM 13.6 legacy area). */
    uint16_t fcw = 0x37f;
    uint32_t mxcsr = 0x1f80;
    tv_memcpy(&v->fpu->data[0], &fcw, 2);
    tv_memcpy(&v->fpu->data[24], &mxcsr, 4);
    v->xcr0 = 1;
    return TV_OK;
}

void fpu_vcpu_free(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    if (cpu->fpu_owner == v)
        cpu->fpu_owner = 0;
    kfree(v->fpu);
    v->fpu = 0;
}

static void save(struct vcpu *v)
{
    if (have_xsave)
        __asm__ volatile("xsave64 %0" : "+m"(*v->fpu) : "a"(0xffffffffu), "d"(0xffffffffu) : "memory");
    else
        __asm__ volatile("fxsave64 %0" : "+m"(*v->fpu) :: "memory");
}

static void restore(struct vcpu *v)
{
    if (have_xsave)
        __asm__ volatile("xrstor64 %0" :: "m"(*v->fpu), "a"(0xffffffffu), "d"(0xffffffffu) : "memory");
    else
        __asm__ volatile("fxrstor64 %0" :: "m"(*v->fpu) : "memory");
}

void fpu_switch_to(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    if (cpu->fpu_owner == v)
        return;
    if (cpu->fpu_owner) {
        if (have_xsave)
            xsetbv(0, cpu->fpu_owner->xcr0);
        save(cpu->fpu_owner);
    }
    if (have_xsave)
        xsetbv(0, v->xcr0);
    restore(v);
    cpu->fpu_owner = v;
}

bool fpu_guest_xsetbv(struct vcpu *v, uint32_t index, uint64_t value)
{
    /* SDM XSETBV: only XCR0; x87 must stay on; AVX needs SSE; nothing the
     * host does not allow. */
    if (!have_xsave || index != 0)
        return false;
    if (!(value & 1) || (value & ~host_xcr0_mask) || ((value & 4) && !(value & 2)))
        return false;
    /* Save under the old mask before the mask changes. */
    struct percpu *cpu = this_cpu();
    if (cpu->fpu_owner == v) {
        save(v);
        cpu->fpu_owner = 0;
    }
    v->xcr0 = value;
    return true;
}
