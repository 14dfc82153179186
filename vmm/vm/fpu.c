#include "vm/fpu.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "vm/vcpu.h"
#include "mm/mm.h"
#include "tv_string.h"

struct fpu_area {
    uint8_t data[4096];
};
_Static_assert(sizeof(struct fpu_area) == 4096, "one page per vCPU");

static bool have_xsave;
static bool have_pku;         /* CPUID.7.0:ECX.PKU: the host runs with CR4.PKE */
static bool amd_fxsave_leak;  /* AMD: FXRSTOR/XRSTOR keep FIP/FDP/FOP when FSW.ES=0 */
static uint64_t current_xcr0; /* XCR0 as last written on this CPU */
static uint64_t host_xcr0_mask;

void fpu_init_host(void)
{
    uint64_t cr0 = read_cr0();
    cr0 &= ~(CR0_EM | CR0_TS);
    cr0 |= CR0_MP | CR0_NE;
    write_cr0(cr0);
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    struct cpuid_regs r = cpuid(1, 0);
    /* PKRU is per partition.  The host keeps CR4.PKE on to reach it with
     * RDPKRU/WRPKRU; keys apply to user pages only and the monitor has none
     * (SDM 4.6.2), so the monitor's own accesses never see a guest's keys. */
    if (cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ecx & (1u << 3))) {
        have_pku = true;
        cr4 |= CR4_PKE;
    }
    struct cpuid_regs vendor = cpuid(0, 0);
    amd_fxsave_leak = vendor.ebx == 0x68747541u; /* "Auth"enticAMD */
    have_xsave = (r.ecx >> 26) & 1;
    if (have_xsave) {
        cr4 |= CR4_OSXSAVE;
        write_cr4(cr4);
        struct cpuid_regs d = cpuid(0xd, 0);
        uint64_t sup = ((uint64_t)d.edx << 32) | d.eax;
        /* x87, SSE, AVX only: enough for guests, and a known save size. */
        host_xcr0_mask = sup & 0x7;
        xsetbv(0, host_xcr0_mask);
        current_xcr0 = host_xcr0_mask;
        if (cpuid(0xd, 0).ecx > sizeof(struct fpu_area))
            host_xcr0_mask = 0x3;
    } else {
        write_cr4(cr4);
        host_xcr0_mask = 0x3;
    }
    log_info("FPU: %s, guest XCR0 mask %#llx, PKRU %s", have_xsave ? "XSAVE" : "FXSAVE",
             (unsigned long long)host_xcr0_mask, have_pku ? "switched" : "absent");
}

uint64_t fpu_supported_xcr0(void) { return have_xsave ? host_xcr0_mask : 0; }

tv_status_t fpu_vcpu_init(struct vcpu *v)
{
    /* XSAVE needs 64-byte alignment: take a whole page, not the heap. */
    uint64_t pa;
    if (page_alloc(1, 1, &pa) != TV_OK)
        return TV_E_NO_MEMORY;
    v->fpu = phys_to_virt(pa);
    /* A clean initial image: FCW 0x37f, MXCSR 0x1f80 (SDM 13.6 legacy area). */
    uint16_t fcw = 0x37f;
    uint32_t mxcsr = 0x1f80;
    tv_memcpy(&v->fpu->data[0], &fcw, 2);
    tv_memcpy(&v->fpu->data[24], &mxcsr, 4);
    v->xcr0 = 1;
    v->dr6 = 0xffff0ff0u;   /* DR6 at reset (SDM 17.2.3) */
    v->pkru = 0;
    return TV_OK;
}

void fpu_vcpu_free(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    if (cpu->fpu_owner == v)
        cpu->fpu_owner = 0;
    if (v->fpu)
        page_free(virt_to_phys(v->fpu), 1);
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
    /* AMD restores the x87 last-instruction/data pointers and opcode only
     * when FSW.ES is set, so the previous owner's would show through
     * FNSTENV (APM FXRSTOR): FNINIT zeroes them first (APM FINIT). */
    if (amd_fxsave_leak)
        __asm__ volatile("fninit" ::: "memory");
    if (have_xsave)
        __asm__ volatile("xrstor64 %0" :: "m"(*v->fpu), "a"(0xffffffffu), "d"(0xffffffffu) : "memory");
    else
        __asm__ volatile("fxrstor64 %0" :: "m"(*v->fpu) : "memory");
}


static void set_xcr0(uint64_t value)
{
    if (current_xcr0 != value) {
        xsetbv(0, value);
        current_xcr0 = value;
    }
}

/* DR0-DR3 (and DR6 on VMX) are live guest state that neither VMRUN nor VM
 * entry switches; the monitor never sets breakpoints, so they change hands
 * with the FPU.  Host DR7 is reloaded by every exit (SDM 27.5.1, APM 15.5.1:
 * breakpoints disabled), so a guest's addresses never fire in the monitor. */
static void save_debug_pkru(struct vcpu *v)
{
    for (unsigned i = 0; i < 4; i++)
        v->dr[i] = read_dr(i);
    if (virt->guest_dr6_in_hw)
        v->dr6 = read_dr(6);
    if (have_pku)
        v->pkru = rdpkru();
}

static void restore_debug_pkru(struct vcpu *v)
{
    for (unsigned i = 0; i < 4; i++)
        write_dr(i, v->dr[i]);
    if (virt->guest_dr6_in_hw)
        write_dr(6, v->dr6);
    if (have_pku)
        wrpkru(v->pkru);
}

/* Save and restore always run under the full mask: a guest may use SSE with
 * XCR0.SSE clear (legacy SSE needs only CR4.OSFXSR), and XSAVE under the
 * guest's own XCR0 would then lose its XMM registers. */
void fpu_switch_to(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    if (cpu->fpu_owner != v) {
        if (have_xsave)
            set_xcr0(host_xcr0_mask);
        if (cpu->fpu_owner) {
            save(cpu->fpu_owner);
            save_debug_pkru(cpu->fpu_owner);
        }
        restore(v);
        restore_debug_pkru(v);
        cpu->fpu_owner = v;
    }
    if (have_xsave)
        set_xcr0(v->xcr0);
}

void fpu_vcpu_sync(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    if (cpu->fpu_owner != v)
        return;
    if (have_xsave)
        set_xcr0(host_xcr0_mask);
    save(v);
    save_debug_pkru(v);
    cpu->fpu_owner = 0;
}

uint32_t fpu_features(void)
{
    return (have_xsave ? FPU_F_XSAVE : 0) | (have_pku ? FPU_F_PKU : 0);
}

uint32_t fpu_mxcsr_mask(void)
{
    /* FXSAVE writes the CPU's MXCSR_MASK at byte 28 (SDM 10.5.1.2). */
    static uint8_t area[512] __attribute__((aligned(16)));
    __asm__ volatile("fxsave64 %0" : "=m"(area) :: "memory");
    uint32_t mask;
    tv_memcpy(&mask, area + 28, 4);
    return mask ? mask : 0xffbf;
}

bool fpu_guest_xsetbv(struct vcpu *v, uint32_t index, uint64_t value)
{
    /* SDM XSETBV: only XCR0; x87 must stay on; AVX needs SSE; nothing the
     * host does not allow.  The registers stay live: the next entry loads
     * the new value (fpu_switch_to). */
    if (!have_xsave || index != 0)
        return false;
    if (!(value & 1) || (value & ~host_xcr0_mask) || ((value & 4) && !(value & 2)))
        return false;
    v->xcr0 = value;
    return true;
}
