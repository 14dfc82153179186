/* Port I/O exits: every port is intercepted.  Known ports go to device
 * models; unknown ports read as all ones and writes are dropped. */
#include "vm/exit.h"
#include "vm/guest_insn.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "vm/partition.h"
#include "vm/vm_disks.h"
#include "taskvisor/hypercall.h"
#include "dev/cmos_rtc.h"
#include "dev/legacy_ports.h"
#include "kernel/wallclock.h"

/* Upper bound on elements moved by one REP INS/OUTS exit; the rest continue
 * on re-entry (RIP not advanced), so a long string cannot stall the CPU. */
#define IO_STRING_BATCH 256

static uint32_t port_read(struct vcpu *v, uint16_t port, unsigned size)
{
    struct partition *p = v->part;
    if (vuart_handles_port(port) && size == 1)
        return vuart_read(&p->uart, port);
    if (cmos_rtc_handles_port(port) && size == 1)
        return cmos_rtc_read(&p->cmos, port, (int64_t)(wallclock_unix_ns() / 1000000000ull));
    uint32_t v32;
    if (vm_disks_port_read(p, port, size, &v32))
        return v32;
    if (legacy_port_read(port, size, &v32))
        return v32;
    return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu;
}

static void port_write(struct vcpu *v, uint16_t port, unsigned size, uint32_t value)
{
    struct partition *p = v->part;
    if (vuart_handles_port(port) && size == 1) {
        vuart_write(&p->uart, port, value);
        return;
    }
    if (cmos_rtc_handles_port(port) && size == 1) {
        cmos_rtc_write(&p->cmos, port, (uint8_t)value);
        return;
    }
    if (vm_disks_port_write(p, port, size, value))
        return;
    /* The exit port is a 32-bit register (include/taskvisor/hypercall.h):
     * only a 32-bit OUT (or OUTSD) stops the partition with its value; an
     * 8- or 16-bit write is dropped like a write to an unknown port, so a
     * stray byte cannot end a partition with a truncated code. */
    if (port == TV_GUEST_EXIT_PORT && size == 4) {
        vcpu_stop(v, STOP_EXIT_PORT, value, 0);
        return;
    }
    /* Dropped. */
}

static uint64_t mask_for(unsigned bytes)
{
    return bytes == 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
}

/* Segment and address size of a string I/O instruction, from its own bytes:
 * not every CPU reports them (SVM's EXITINFO1 segment field needs decode
 * assists, VMX's instruction information needs IA32_VMX_BASIC bit 54).
 * INS always writes ES:rDI; OUTS reads DS:rSI unless overridden. */
static void string_operands(struct vcpu *v, const struct vm_exit *e, unsigned *seg,
                            unsigned *addr_size)
{
    struct x86_insn insn;
    *seg = e->io.in ? X86_SEG_ES : e->io.segment;
    *addr_size = e->io.addr_size;
    if (guest_insn_decode(v, &insn) != TV_OK)
        return;                    /* keep what the CPU reported */
    *addr_size = insn.addr_size;
    if (!e->io.in)
        *seg = insn.seg_override <= X86_SEG_GS ? insn.seg_override : X86_SEG_DS;
}

static uint64_t seg_base(const struct guest_mode *m, unsigned seg)
{
    switch (seg) {
    case X86_SEG_ES: return m->es_base;
    case X86_SEG_CS: return m->cs_base;
    case X86_SEG_SS: return m->ss_base;
    case X86_SEG_FS: return m->fs_base;
    case X86_SEG_GS: return m->gs_base;
    default: return m->ds_base;
    }
}

static bool canonical(uint64_t la, const struct guest_mode *m)
{
    unsigned bits = (m->cr4 & (1ull << 12)) ? 57 : 48;   /* CR4.LA57 */
    return (uint64_t)((int64_t)(la << (64 - bits)) >> (64 - bits)) == la;
}

static void string_io(struct vcpu *v, struct vm_exit *e)
{
    struct guest_mode m;
    virt->get_mode(v, &m);
    unsigned seg, addr_size;
    string_operands(v, e, &seg, &addr_size);
    bool long64 = m.cs_long && (m.efer & EFER_LMA);
    uint64_t amask = mask_for(addr_size);
    uint64_t count = e->io.rep ? (v->regs.rcx & amask) : 1;
    bool down = v->regs.rflags & (1u << 10); /* DF */
    unsigned done = 0;
    /* In 64-bit mode only FS and GS have a base (SDM vol. 1 3.4.2.1). */
    uint64_t base = (long64 && seg != X86_SEG_FS && seg != X86_SEG_GS) ? 0 : seg_base(&m, seg);
    while (count && done < IO_STRING_BATCH) {
        uint64_t off = e->io.in ? (v->regs.rdi & amask) : (v->regs.rsi & amask);
        uint64_t la = base + off;
        if (!long64) {
            la &= 0xffffffffull;
        } else if (!canonical(la, &m) || !canonical(la + e->io.size - 1, &m)) {
            /* A non-canonical address faults like any memory operand:
             * #GP(0) (SDM vol. 3 6.15; SS overrides, the only other case,
             * are ignored in 64-bit mode and decode as DS). */
            inject_gp(v);
            return;
        }
        uint64_t gpa;
        uint32_t pf;
        tv_status_t st = guest_linear_to_phys(v, la, e->io.in, &gpa, &pf);
        if (st == TV_E_FAULT) {
            virt->inject_exception(v, 14, true, pf);
            return;
        }
        if (st != TV_OK) {
            vcpu_stop(v, STOP_INTERNAL_ERROR, off, "string I/O address not translatable");
            return;
        }
        uint32_t val = 0;
        if (e->io.in) {
            val = port_read(v, e->io.port, e->io.size);
            st = guest_write(v->part, gpa, &val, e->io.size);
        } else {
            st = guest_read(v->part, gpa, &val, e->io.size);
            if (st == TV_OK)
                port_write(v, e->io.port, e->io.size, val);
        }
        if (st != TV_OK) {
            vcpu_stop(v, STOP_BAD_ACCESS, gpa, "string I/O outside guest memory");
            return;
        }
        uint64_t step = down ? (uint64_t)-(int64_t)e->io.size : e->io.size;
        if (e->io.in)
            v->regs.rdi = (v->regs.rdi & ~amask) | ((v->regs.rdi + step) & amask);
        else
            v->regs.rsi = (v->regs.rsi & ~amask) | ((v->regs.rsi + step) & amask);
        count--;
        done++;
        if (e->io.rep)
            v->regs.rcx = (v->regs.rcx & ~amask) | (count & amask);
        if (v->stopped)
            return;
    }
    if (count == 0)
        vcpu_advance_rip(v, e);
    /* else: RIP stays on the instruction; the guest re-executes the rest. */
}

void handle_io(struct vcpu *v, struct vm_exit *e)
{
    if (e->io.string) {
        string_io(v, e);
        return;
    }
    if (e->io.in) {
        uint32_t val = port_read(v, e->io.port, e->io.size);
        uint64_t m = mask_for(e->io.size);
        /* A 32-bit IN zero-extends into RAX; smaller ones merge. */
        if (e->io.size == 4)
            v->regs.rax = val;
        else
            v->regs.rax = (v->regs.rax & ~m) | (val & m);
    } else {
        port_write(v, e->io.port, e->io.size, (uint32_t)(v->regs.rax & mask_for(e->io.size)));
    }
    if (!v->stopped)
        vcpu_advance_rip(v, e);
}
