/* Port I/O exits: every port is intercepted.  Known ports go to device
 * models; unknown ports read as all ones and writes are dropped. */
#include "vm/exit.h"
#include "vm/guest_insn.h"
#include "kernel/log.h"
#include "vm/partition.h"
#include "taskvisor/hypercall.h"

/* Upper bound on elements moved by one REP INS/OUTS exit; the rest continue
 * on re-entry (RIP not advanced), so a long string cannot stall the CPU. */
#define IO_STRING_BATCH 256

static uint32_t port_read(struct vcpu *v, uint16_t port, unsigned size)
{
    struct partition *p = v->part;
    if (vuart_handles_port(port) && size == 1)
        return vuart_read(&p->uart, port);
    return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu;
}

static void port_write(struct vcpu *v, uint16_t port, unsigned size, uint32_t value)
{
    struct partition *p = v->part;
    if (vuart_handles_port(port) && size == 1) {
        vuart_write(&p->uart, port, value);
        return;
    }
    if (port == TV_GUEST_EXIT_PORT) {
        vcpu_stop(v, STOP_EXIT_PORT, value, 0);
        return;
    }
    /* Dropped. */
}

static uint64_t mask_for(unsigned bytes)
{
    return bytes == 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
}

static void string_io(struct vcpu *v, struct vm_exit *e)
{
    struct guest_mode m;
    virt->get_mode(v, &m);
    uint64_t amask = mask_for(e->io.addr_size);
    uint64_t count = e->io.rep ? (v->regs.rcx & amask) : 1;
    bool down = v->regs.rflags & (1u << 10); /* DF */
    unsigned done = 0;
    while (count && done < IO_STRING_BATCH) {
        /* INS writes ES:rDI; OUTS reads seg:rSI (segment override allowed). */
        uint64_t off = e->io.in ? (v->regs.rdi & amask) : (v->regs.rsi & amask);
        uint64_t base = e->io.in ? m.es_base : (e->io.segment == 0 ? m.es_base :
                                                e->io.segment == 2 ? m.ss_base :
                                                e->io.segment == 3 ? m.ds_base :
                                                e->io.segment == 1 ? m.cs_base : m.ds_base);
        if (m.cs_long && (e->io.in || e->io.segment <= 3))
            base = 0; /* flat in 64-bit mode except FS/GS */
        uint64_t gpa;
        uint32_t pf;
        tv_status_t st = guest_linear_to_phys(v, base + off, e->io.in, &gpa, &pf);
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
