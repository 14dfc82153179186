/* MMIO emulation on nested page faults.
 *
 * Which accesses are emulated and which stop the guest:
 *  - a MOV load or store (the forms x86_emulate_mov knows: 88/89/8A/8B,
 *    C6/C7, A0-A3) of 1, 2, 4 or 8 bytes inside one page of the device
 *    window (MMIO_WINDOW_START..4 GiB, above RAM): the xAPIC page and the
 *    I/O APIC answer as devices; any other address reads all ones and drops
 *    writes, as a PC bus does where no device decodes the address;
 *  - everything else stops the partition (STOP_BAD_ACCESS): an access
 *    outside RAM and outside the device window (nothing can ever be there:
 *    a wild pointer, and what the isolation scenario checks), an
 *    instruction fetch from MMIO, and any instruction that is not such a
 *    MOV (string moves, read-modify-write, SSE...), which this emulator
 *    cannot perform. */
#include "vm/mmio.h"
#include "vm/guest_insn.h"
#include "vm/partition.h"
#include "vm/vm_disks.h"
#include "emul/x86_mmio.h"
#include "dev/ioapic.h"
#include "dev/vapic_mmio.h"
#include "tv_fmt.h"

static uint64_t all_ones(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static tv_status_t dev_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *value)
{
    struct vcpu *v = ctx;
    struct partition *p = v->part;
    uint64_t page = gpa & ~0xfffull, off = gpa & 0xfff;
    if (page == XAPIC_BASE_GPA && vapic_mmio_active(&v->apic))
        *value = vapic_mmio_read(&v->apic, &p->xapic, off, size);
    else if (page == IOAPIC_BASE_GPA)
        *value = ioapic_mmio_read(&p->ioapic, off, size);
    else if (vm_disks_mmio_read(p, gpa, size, value))
        ;
    else
        *value = all_ones(size);
    return TV_OK;
}

static tv_status_t dev_write(void *ctx, uint64_t gpa, unsigned size, uint64_t value)
{
    struct vcpu *v = ctx;
    struct partition *p = v->part;
    uint64_t page = gpa & ~0xfffull, off = gpa & 0xfff;
    if (page == XAPIC_BASE_GPA && vapic_mmio_active(&v->apic))
        vapic_mmio_write(&v->apic, &p->xapic, off, size, value);
    else if (page == IOAPIC_BASE_GPA)
        ioapic_mmio_write(&p->ioapic, off, size, value);
    else
        (void)vm_disks_mmio_write(p, gpa, size, value);  /* the BARs of the virtual disks */
    /* else dropped */
    return TV_OK;
}

static void stop(struct vcpu *v, const struct vm_exit *e, const char *what)
{
    char why[120];
    tv_snprintf(why, sizeof why, "%s of guest-physical %#llx %s",
                e->npf.fetch ? "fetch" : e->npf.write ? "write" : "read",
                (unsigned long long)e->npf.gpa, what);
    vcpu_stop(v, STOP_BAD_ACCESS, e->npf.gpa, why);
}

/* The decoder's register numbering (rAX, rCX, rDX, rBX, rSP, rBP, rSI, rDI,
 * r8-r15) over struct vcpu_regs. */
static void gpr_slots(struct vcpu_regs *r, uint64_t *slots[16])
{
    uint64_t *const s[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
                              &r->rsi, &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11,
                              &r->r12, &r->r13, &r->r14, &r->r15 };
    for (unsigned i = 0; i < 16; i++)
        slots[i] = s[i];
}

void mmio_handle_npf(struct vcpu *v, struct vm_exit *e)
{
    struct partition *p = v->part;
    const uint64_t gpa = e->npf.gpa;
    uint64_t start = p->mem_bytes > MMIO_WINDOW_START ? p->mem_bytes : MMIO_WINDOW_START;
    if (gpa < start || gpa >= MMIO_WINDOW_END) {
        stop(v, e, "outside its memory");
        return;
    }
    if (e->npf.fetch) {
        stop(v, e, "(MMIO): code cannot run from device memory");
        return;
    }
    struct x86_insn insn;
    if (guest_insn_decode(v, &insn) != TV_OK) {
        stop(v, e, "(MMIO): the instruction cannot be fetched or decoded");
        return;
    }
    if ((insn.kind != X86_INSN_MOV_LOAD && insn.kind != X86_INSN_MOV_STORE) ||
        (gpa & 0xfff) + insn.access_size > 0x1000) {
        char what[80];
        tv_snprintf(what, sizeof what, "(MMIO): %s cannot be emulated",
                    x86_insn_kind_name(insn.kind));
        stop(v, e, what);
        return;
    }
    uint64_t gpr[16], *slot[16];
    gpr_slots(&v->regs, slot);
    for (unsigned i = 0; i < 16; i++)
        gpr[i] = *slot[i];
    const struct x86_mmio_ops ops = { v, dev_read, dev_write };
    if (x86_emulate_mov(&insn, gpr, gpa, &ops) != TV_OK) {
        stop(v, e, "(MMIO): the access cannot be emulated");
        return;
    }
    for (unsigned i = 0; i < 16; i++)
        *slot[i] = gpr[i];
    virt->clear_interrupt_shadow(v);
    v->regs.rip += insn.len;
    if (insn.mode == X86_MODE_32)
        v->regs.rip &= 0xffffffffull;   /* outside 64-bit mode IP wraps */
    else if (insn.mode == X86_MODE_16)
        v->regs.rip &= 0xffffull;
    p->mmio_exits++;
}
