/* Control-register exits in common code, one policy for both vendors.
 * VMX exits on MOV to CR0/CR4 bits it masks, on CLTS/LMSW and on CR8 (the
 * CR8-load/store controls); SVM lets the hardware own CR0/CR3/CR4 and keeps
 * CR8 in V_TPR, synced with the virtual APIC around each entry.  Whatever
 * the backend intercepts is checked here against the architectural #GP
 * rules (SDM vol. 2 "MOV - Move to/from Control Registers", vol. 3 2.5 and
 * 9.8.5; APM vol. 2 3.1) before the backend applies it. */
#include "vm/cr.h"
#include "arch/x86/cpu.h"
#include "vm/exit.h"
#include "vm/partition.h"
#include "emul/x86_walk.h"
#include "kernel/log.h"
#include "tv_fmt.h"

#define CR0_RESERVED_HIGH (~0xffffffffull)
#define CR4_PCIDE (1ull << 17)

static bool in_64bit_mode(const struct guest_mode *m)
{
    return (m->efer & EFER_LMA) && m->cs_long;
}

/* The rules the CPU applies to MOV CR0 (and CLTS/LMSW, which only touch the
 * low bits): a value that breaks one gets #GP(0) and changes nothing. */
static bool cr0_allowed(const struct guest_mode *m, uint64_t value)
{
    if (value & CR0_RESERVED_HIGH)
        return false;
    if ((value & CR0_PG) && !(value & CR0_PE))
        return false;
    if ((value & CR0_NW) && !(value & CR0_CD))
        return false;
    /* Enabling paging with EFER.LME set needs CR4.PAE (long mode). */
    if ((value & CR0_PG) && !(m->cr0 & CR0_PG) && (m->efer & EFER_LME) && !(m->cr4 & CR4_PAE))
        return false;
    /* Long mode is left from compatibility mode only: clearing PG in
     * 64-bit mode is #GP (SDM 9.8.5.4). */
    if (!(value & CR0_PG) && (m->cr0 & CR0_PG) && in_64bit_mode(m))
        return false;
    return true;
}

static bool cr4_allowed(const struct guest_mode *m, uint64_t value)
{
    if (value >> 32)
        return false;
    /* PAE cannot be cleared while long mode is active. */
    if ((m->efer & EFER_LMA) && !(value & CR4_PAE))
        return false;
    /* PCIDE may be set only in long mode with CR3[11:0] = 0. */
    if ((value & CR4_PCIDE) && !(m->cr4 & CR4_PCIDE) &&
        (!(m->efer & EFER_LMA) || (m->cr3 & 0xfff)))
        return false;
    return true;
}

bool cr_efer_write_allowed(struct vcpu *v, uint64_t new_efer)
{
    /* EFER.LME may not change while paging is on (SDM 9.8.5, APM 3.1.7). */
    struct guest_mode m;
    virt->get_mode(v, &m);
    return !(m.cr0 & CR0_PG) || ((m.efer ^ new_efer) & EFER_LME) == 0;
}

static void write_cr(struct vcpu *v, struct vm_exit *e, const struct guest_mode *m,
                     unsigned cr, uint64_t value)
{
    bool ok;
    switch (cr) {
    case 0: ok = cr0_allowed(m, value); break;
    case 4: ok = cr4_allowed(m, value); break;
    case 3:
        /* In long mode bits above the physical-address width must be 0; the
         * backend's VM entry checks the rest. */
        ok = !in_64bit_mode(m) || !((value >> 52) & 0x7ff);
        value &= ~(1ull << 63);   /* PCID no-flush hint: never stored */
        break;
    case 8:
        /* CR8 is TPR[7:4]; writing it clears TPR[3:0] (SDM 10.8.6.1). */
        if (value >> 4) {
            inject_gp(v);
            return;
        }
        v->apic.tpr = (uint32_t)value << 4;
        vcpu_advance_rip(v, e);
        return;
    default:
        ok = false;
        break;
    }
    if (!ok || virt->set_cr(v, cr, value) != TV_OK) {
        inject_gp(v);
        return;
    }
    vcpu_advance_rip(v, e);
}

static tv_status_t read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    return guest_read(ctx, gpa, buf, len) == TV_OK ? TV_OK : TV_E_FAULT;
}

/* The instruction behind a CR exit that did not describe it (SVM without
 * decode assists, CLTS, LMSW): MOV 0F 20/22 /r (F0 0F 22 is AMD's CR8
 * alias) with its register in ModRM.rm, CLTS 0F 06, LMSW 0F 01 /6 with a
 * register operand (the memory form is not emulated). */
static bool decode_cr_insn(struct vcpu *v, const struct guest_mode *m, struct vm_exit *e)
{
    struct x86_paging_state ps = { .cr0 = m->cr0, .cr3 = m->cr3, .cr4 = m->cr4, .efer = m->efer };
    enum x86_cpu_mode mode = x86_code_mode(m->cr0 & 1, (v->regs.rflags >> 17) & 1,
                                           (m->efer >> 10) & 1, m->cs_long, m->cs_db);
    struct x86_insn insn;
    struct x86_walk_result fault;
    if (x86_fetch_decode(&ps, mode, m->cs_base, v->regs.rip, m->cpl, read_gpa, v->part,
                         &insn, &fault) != TV_OK)
        return false;
    if (insn.map != 1)
        return false;
    if (insn.opcode == 0x06) {
        e->cr.op = CR_OP_CLTS;
        return true;
    }
    if (insn.opcode == 0x01 && insn.has_modrm && insn.mod == 3 && (insn.reg & 7) == 6) {
        e->cr.op = CR_OP_LMSW;
        e->cr.lmsw_src = (uint16_t)*vcpu_gpr(v, insn.rm);
        return true;
    }
    if ((insn.opcode != 0x20 && insn.opcode != 0x22) || !insn.has_modrm)
        return false;
    e->cr.op = insn.opcode == 0x20 ? CR_OP_READ : CR_OP_WRITE;
    e->cr.gpr = insn.rm & 15;
    return true;
}

void handle_cr_access(struct vcpu *v, struct vm_exit *e)
{
    struct guest_mode m;
    virt->get_mode(v, &m);
    unsigned cr = e->cr.cr;
    if (m.cpl != 0) {
        inject_gp(v);
        return;
    }
    if (e->cr.gpr == CR_GPR_UNKNOWN && !decode_cr_insn(v, &m, e)) {
        vcpu_stop(v, STOP_INTERNAL_ERROR, e->raw_code, "cannot decode the CR access");
        return;
    }
    /* Outside 64-bit mode MOV CR uses 32-bit registers. */
    uint64_t width = in_64bit_mode(&m) ? ~0ull : 0xffffffffull;
    switch (e->cr.op) {
    case CR_OP_READ: {
        uint64_t value;
        switch (cr) {
        case 0: value = m.cr0; break;
        case 3: value = m.cr3; break;
        case 4: value = m.cr4; break;
        case 8: value = v->apic.tpr >> 4; break;
        default: inject_ud(v); return;
        }
        *vcpu_gpr(v, e->cr.gpr) = value & width;
        vcpu_advance_rip(v, e);
        return;
    }
    case CR_OP_WRITE:
        if (cr != 0 && cr != 3 && cr != 4 && cr != 8) {
            inject_ud(v);
            return;
        }
        write_cr(v, e, &m, cr, *vcpu_gpr(v, e->cr.gpr) & width);
        return;
    case CR_OP_CLTS:
        write_cr(v, e, &m, 0, m.cr0 & ~CR0_TS);
        return;
    case CR_OP_LMSW: {
        /* LMSW loads PE, MP, EM, TS; it can set PE but never clear it. */
        uint64_t src = e->cr.lmsw_src & 0xf;
        write_cr(v, e, &m, 0, (m.cr0 & ~0xeull) | (src & 0xe) | ((m.cr0 | src) & 1));
        return;
    }
    default:
        inject_ud(v);
        return;
    }
}

void handle_cache_flush(struct vcpu *v, struct vm_exit *e)
{
    /* INVD and WBINVD: privileged (#GP at CPL > 0).  Guest memory is
     * coherent write-back RAM, so neither has anything to do; INVD must
     * never run for real, as it would drop other partitions' dirty lines. */
    struct guest_mode m;
    virt->get_mode(v, &m);
    if (m.cpl != 0) {
        inject_gp(v);
        return;
    }
    vcpu_advance_rip(v, e);
}

void handle_task_switch(struct vcpu *v, struct vm_exit *e)
{
    /* Hardware task switching (32-bit protected mode only; long mode has
     * none) is not emulated on either vendor.  The exit comes before the
     * switch (VMX: fault-like, SDM 25.4.2; SVM: the intercept is checked
     * first, APM 15.14.1), so the guest gets #GP(TSS selector), the fault a
     * CPU gives for a TSS it cannot switch to (SDM 7.3), and may handle it.
     * Logged once per vCPU: a guest may retry in a loop. */
    uint16_t sel = e->task_switch.selector & 0xfffc;
    if (!v->task_switch_logged) {
        v->task_switch_logged = true;
        log_msg(TV_LOG_WARN, v->part->name, "hardware task switch to TSS selector %#x is not "
                "emulated: #GP(%#x) injected", e->task_switch.selector, sel);
    }
    virt->inject_exception(v, 13, true, sel);
}
