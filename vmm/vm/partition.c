/* Creating partitions from the boot configuration: RAM, nested page
 * tables, the guest image, the vCPU and its thread. */
#include "vm/partition.h"
#include "vm/vm_disks.h"
#include "vm/fpu.h"
#include "kernel/log.h"
#include "kernel/options.h"
#include "kernel/sched.h"
#include "arch/x86/cpu.h"
#include "guestload/guestload.h"
#include "dev/mptable.h"
#include "arch/x86/cpu.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "tv_fmt.h"
#include "tv_string.h"
#include "taskvisor/vm.h"

struct partition *partitions[MAX_PARTITIONS];
uint32_t partition_count;

static tv_status_t npt_alloc(void *ctx, uint64_t *pa) { (void)ctx; return page_alloc(1, 1, pa); }
static void npt_free(void *ctx, uint64_t pa) { (void)ctx; page_free(pa, 1); }
static uint64_t *npt_map(void *ctx, uint64_t pa) { (void)ctx; return phys_to_virt(pa); }
static const struct pt_ops npt_ops = { 0, npt_alloc, npt_free, npt_map };

bool guest_range_ok(const struct partition *p, uint64_t gpa, uint64_t len)
{
    return gpa <= p->mem_bytes && len <= p->mem_bytes - gpa;
}

/* Zeroes and maps chunk idx unless done.  Threads race for it only through
 * preemption (one CPU today; the state moves under irq_save): the loser
 * yields until the winner's zeroing is done. */
static tv_status_t chunk_ready(struct partition *p, uint64_t idx)
{
    for (;;) {
        if (p->chunk_state[idx] == CHUNK_READY)
            return TV_OK;
        bool irq = irq_save();
        bool mine = p->chunk_state[idx] == CHUNK_UNTOUCHED;
        if (mine)
            p->chunk_state[idx] = CHUNK_ZEROING;
        irq_restore(irq);
        if (!mine) {
            if (p->chunk_state[idx] != CHUNK_READY)
                sched_yield();
            continue;
        }
        page_zero(p->chunks[idx], GUEST_CHUNK / PAGE_SIZE);
        /* Chunk 0 (real-mode area, legacy hole, boot info) gets 4 KiB leaves
         * so it can later be split per page (MMIO, ROM); the rest 2 MiB.
         * Not-present entries are never cached (SDM vol. 3A 4.10.2.3, APM
         * vol. 2 15.25.5), so no TLB flush is needed after mapping one. */
        tv_status_t st = pt_map(&p->npt, idx * GUEST_CHUNK, p->chunks[idx], GUEST_CHUNK,
                                virt->npt_perms, idx != 0);
        p->chunk_state[idx] = st == TV_OK ? CHUNK_READY : CHUNK_UNTOUCHED;
        return st;
    }
}

tv_status_t guest_ram_prepare(struct partition *p, uint64_t gpa, uint64_t len)
{
    if (!guest_range_ok(p, gpa, len))
        return TV_E_INVALID_ARGUMENT;
    if (len == 0)
        return TV_OK;
    for (uint64_t i = gpa / GUEST_CHUNK; i <= (gpa + len - 1) / GUEST_CHUNK; i++) {
        tv_status_t st = chunk_ready(p, i);
        if (st != TV_OK)
            return st;
    }
    return TV_OK;
}

bool guest_ram_fault_in(struct partition *p, uint64_t gpa)
{
    if (gpa >= p->mem_bytes || p->chunk_state[gpa / GUEST_CHUNK] == CHUNK_READY)
        return false; /* outside its RAM, or a fault that is not a first touch */
    return chunk_ready(p, gpa / GUEST_CHUNK) == TV_OK;
}

static tv_status_t guest_copy(struct partition *p, uint64_t gpa, void *buf, uint64_t len, bool to_guest)
{
    if (!guest_range_ok(p, gpa, len))
        return TV_E_INVALID_ARGUMENT;
    uint8_t *b = buf;
    while (len) {
        uint64_t idx = gpa / GUEST_CHUNK, off = gpa % GUEST_CHUNK;
        uint64_t n = GUEST_CHUNK - off < len ? GUEST_CHUNK - off : len;
        /* The exit path's instruction fetch comes here several times per
         * exit: one byte compare when the chunk is ready. */
        if (p->chunk_state[idx] != CHUNK_READY) {
            tv_status_t st = chunk_ready(p, idx);
            if (st != TV_OK)
                return st;
        }
        uint8_t *host = (uint8_t *)phys_to_virt(p->chunks[idx] + off);
        if (to_guest)
            tv_memcpy(host, b, n);
        else
            tv_memcpy(b, host, n);
        gpa += n;
        b += n;
        len -= n;
    }
    return TV_OK;
}

tv_status_t guest_read(struct partition *p, uint64_t gpa, void *dst, uint64_t len)
{
    return guest_copy(p, gpa, dst, len, false);
}

tv_status_t guest_write(struct partition *p, uint64_t gpa, const void *src, uint64_t len)
{
    return guest_copy(p, gpa, (void *)src, len, true);
}

tv_status_t guest_read_cb(void *part, uint64_t gpa, void *dst, size_t len)
{
    return guest_read(part, gpa, dst, len);
}

tv_status_t guest_write_cb(void *part, uint64_t gpa, const void *src, size_t len)
{
    return guest_write(part, gpa, src, len);
}

static tv_status_t writer_zero(void *ctx, uint64_t gpa, uint64_t len)
{
    struct partition *p = ctx;
    tv_status_t st = guest_ram_prepare(p, gpa, len);
    if (st != TV_OK)
        return st;
    while (len) {
        uint64_t idx = gpa / GUEST_CHUNK, off = gpa % GUEST_CHUNK;
        uint64_t n = GUEST_CHUNK - off < len ? GUEST_CHUNK - off : len;
        tv_memset(phys_to_virt(p->chunks[idx] + off), 0, n);
        gpa += n;
        len -= n;
    }
    return TV_OK;
}

/* The I/O APIC's messages go to the one vCPU's virtual local APIC: fixed
 * and lowest-priority delivery to its physical ID, to broadcast (0xFF), or
 * to a logical destination that includes it (flat model: LDR bit 24 + id).
 * Other delivery modes (SMI, NMI, INIT, ExtINT) are not wired. */
static void ioapic_deliver(void *ctx, uint8_t vector, uint8_t dest, bool logical, uint8_t mode)
{
    struct partition *p = ctx;
    struct vcpu *v = &p->vcpu;
    if (mode > 1 || vector < 16)
        return;
    bool mine = logical ? (dest & (p->xapic.ldr >> 24)) != 0 || dest == 0xff
                        : dest == v->apic.id || dest == 0xff;
    if (mine)
        vcpu_post_interrupt(v, vector);
}

#define UART_ISA_IRQ 4   /* COM1; its I/O APIC pin in the MP table */

static void uart_irq(void *ctx, bool level)
{
    struct partition *p = ctx;
    ioapic_set_irq(&p->ioapic, UART_ISA_IRQ, level);
}

/* Console input arrives on the poller's thread: the pin's vector is posted
 * straight to the vCPU (posting is thread-safe, the I/O APIC state is the
 * vCPU thread's).  A spare interrupt finds IIR empty and is harmless. */
void partition_pulse_irq(struct partition *p, unsigned pin)
{
    if (pin >= IOAPIC_PINS)
        return;
    uint64_t rte = __atomic_load_n(&p->ioapic.redir[pin], __ATOMIC_RELAXED);
    if (!(rte & (1ull << 16)))
        ioapic_deliver(p, (uint8_t)rte, (uint8_t)(rte >> 56), (rte >> 11) & 1,
                       (uint8_t)((rte >> 8) & 7));
}

static void uart_rx_kick(void *ctx)
{
    partition_pulse_irq(ctx, UART_ISA_IRQ);
}

/* The platform description every partition finds at MPTABLE_GPA (in the
 * BIOS area of the legacy hole, backed by the first chunk). */
static tv_status_t place_mptable(struct partition *p)
{
    uint8_t buf[512];
    size_t len;
    struct cpuid_regs id = cpuid(1, 0);
    const struct mptable_platform pf = {
        .cpus = 1, .cpu_signature = id.eax, .cpu_features = id.edx,
        .lapic_addr = (uint32_t)XAPIC_BASE_GPA, .lapic_version = 0x14,
        .ioapic_id = 1, .ioapic_version = IOAPIC_VERSION,
        .ioapic_addr = (uint32_t)IOAPIC_BASE_GPA, .ioapic_pins = IOAPIC_PINS,
        /* The virtual disks' INTA# lines (vm/vm_disks.h): slot 1 + n, pin 16 + n. */
        .pci_slots = (uint8_t)p->def.disk_count, .pci_first_pin = VM_DISK_FIRST_PIN,
    };
    tv_status_t st = mptable_build(&pf, MPTABLE_GPA, buf, sizeof buf, &len);
    return st == TV_OK ? guest_write(p, MPTABLE_GPA, buf, len) : st;
}

/* A Linux kernel on AMD reads no TSC frequency from CPUID (0x15/0x16 are
 * Intel-only there) and would calibrate the TSC against the PIT, which this
 * platform does not run: the monitor's calibrated frequency (the guest's TSC
 * runs at the host's rate) goes on the command line unless the config gave
 * one.  Returns false when it does not fit. */
static bool has_word(const char *s, const char *prefix)
{
    size_t n = tv_strlen(prefix);
    for (const char *w = s; *w; w++)
        if ((w == s || w[-1] == ' ') && tv_strncmp(w, prefix, n) == 0)
            return true;
    return false;
}

static bool linux_cmdline(const char *in, char *out, size_t cap)
{
    if (has_word(in, "tsc_early_khz=")) {
        tv_strlcpy(out, in, cap);
        return tv_strlen(in) < cap;
    }
    int n = tv_snprintf(out, cap, "%s%stsc_early_khz=%llu", in, in[0] ? " " : "",
                        (unsigned long long)time_tsc_khz());
    return n > 0 && (size_t)n < cap;
}

const char *partition_state_name(int state)
{
    return state == PART_CREATED ? "created" : state == PART_RUNNING ? "running" : "stopped";
}

const char *stop_reason_name(int reason)
{
    switch (reason) {
    case STOP_NONE: return "none";
    case STOP_EXIT_PORT: return "exited";
    case STOP_TRIPLE_FAULT: return "triple fault";
    case STOP_BAD_ACCESS: return "access outside its memory";
    case STOP_ENTRY_FAILED: return "VM entry failed";
    case STOP_UNHANDLED_EXIT: return "unhandled exit";
    case STOP_REQUESTED: return "stopped on request";
    default: return "internal error";
    }
}

/* Judges the untrusted image (and initrd) of a definition against its
 * memory size, without committing any memory. */
static tv_status_t plan_image(const struct partition *p, struct guest_load_plan *plan, bool quiet)
{
    char err[128];
    const struct tv_boot_partition *bp = &p->def;
    tv_status_t st = guest_image_plan(phys_to_virt(bp->image_phys), bp->image_size, p->mem_bytes,
                                      plan, err, sizeof err);
    if (st != TV_OK) {
        if (!quiet)
            log_err("partition %s: image %s refused: %s", p->name, bp->image_path, err);
        return st;
    }
    if (bp->initrd_size) {
        st = guest_plan_add_initrd(plan, bp->initrd_size, err, sizeof err);
        if (st != TV_OK && !quiet)
            log_err("partition %s: initrd %s refused: %s", p->name, bp->initrd_path, err);
    }
    return st;
}

tv_status_t partition_define(const struct tv_boot_partition *bp, uint32_t id,
                             struct partition **out)
{
    struct partition *p = kzalloc(sizeof *p);
    if (!p)
        return TV_E_NO_MEMORY;
    p->id = id;
    p->def = *bp;
    p->def.name[sizeof p->def.name - 1] = 0;
    p->def.image_path[sizeof p->def.image_path - 1] = 0;
    p->def.cmdline[sizeof p->def.cmdline - 1] = 0;
    p->def.initrd_path[sizeof p->def.initrd_path - 1] = 0;
    tv_strlcpy(p->name, bp->name, sizeof p->name);
    p->flags = bp->flags;
    p->vm_state = TV_VM_TURNED_OFF;
    p->mem_bytes = (bp->memory_bytes + GUEST_CHUNK - 1) & ~(GUEST_CHUNK - 1);
    if (p->mem_bytes < GUEST_MIN_MEM || p->mem_bytes > (64ull << 30)) {
        log_err("partition %s: memory size %llu bytes is out of range (2 MiB .. 64 GiB)",
                p->name, (unsigned long long)bp->memory_bytes);
        kfree(p);
        return TV_E_INVALID_ARGUMENT;
    }
    /* A definition whose image can never load is refused at boot, as it
     * was when every partition was built there. */
    struct guest_load_plan plan;
    tv_status_t st = plan_image(p, &plan, false);
    if (st != TV_OK) {
        kfree(p);
        return st;
    }
    *out = p;
    return TV_OK;
}

void partition_release(struct partition *p)
{
    struct vcpu *v = &p->vcpu;
    /* The disks' threads write guest RAM: they end before it is freed. */
    vm_disks_stop(p);
    /* The vAPIC timer must not fire into a vCPU that is gone. */
    vapic_destroy(&v->apic);
    bool irq = irq_save(); /* VMCLEAR and the backend's current-VMCS record: see build */
    if (v->arch)
        virt->vcpu_destroy(v);
    irq_restore(irq);
    fpu_vcpu_free(v);
    if (p->chunks) {
        for (uint64_t i = 0; i < p->chunk_count; i++)
            if (p->chunks[i])
                page_free(p->chunks[i], GUEST_CHUNK / PAGE_SIZE);
        kfree(p->chunks);
        p->chunks = 0;
    }
    if (p->chunk_state) {
        kfree((void *)p->chunk_state);
        p->chunk_state = 0;
    }
    pt_destroy(&p->npt);
    p->chunk_count = 0;
    p->built = false;
}

/* Start lines of the first few runs go to the log at info level; later ones
 * at debug, so a loop of starts (the 1,000-cycle test) does not flood it. */
#define LOUD_STARTS 3

tv_status_t partition_build(struct partition *p, partition_progress_fn progress, void *pctx)
{
    tv_status_t st;
    const struct tv_boot_partition *bp = &p->def;
    struct guest_load_plan plan;
    if (p->built)
        return TV_E_INVALID_STATE;
    if ((st = plan_image(p, &plan, true)) != TV_OK)
        return st;
    /* A fresh machine: every piece of per-run state starts from zero. */
    tv_memset(&p->vcpu, 0, sizeof p->vcpu);
    tv_memset(&p->npt, 0, sizeof p->npt);
    p->mmio_exits = 0;
    p->stop_reason = STOP_NONE;
    p->stop_code = 0;
    p->turn_off_asked = false;
    const void *img = phys_to_virt(bp->image_phys);

    /* RAM is reserved now but zeroed and mapped on first use (chunk_ready):
     * zeroing it all here cost 1.09 ms of start-up per MiB on QEMU. */
    p->chunk_count = p->mem_bytes / GUEST_CHUNK;
    p->chunks = kzalloc(p->chunk_count * sizeof(uint64_t));
    p->chunk_state = kzalloc(p->chunk_count);
    if (!p->chunks || !p->chunk_state || (st = pt_init(&p->npt, virt->npt_format, &npt_ops)) != TV_OK)
        goto fail;
    for (uint64_t i = 0; i < p->chunk_count; i++) {
        st = page_alloc_uninit(GUEST_CHUNK / PAGE_SIZE, GUEST_CHUNK / PAGE_SIZE, &p->chunks[i]);
        if (st != TV_OK)
            goto fail;
#ifdef TV_TEST_BUILD
        /* Test builds poison the first, a middle and the last page of every
         * chunk, so a chunk shown to a guest unzeroed (or half zeroed) is
         * seen by the RAM-scanning guest (tests/guest/ram_scan.c). */
        static const uint64_t poison_pages[3] = { 0, GUEST_CHUNK / PAGE_SIZE / 2,
                                                  GUEST_CHUNK / PAGE_SIZE - 1 };
        for (int k = 0; k < 3; k++) {
            uint64_t *w = phys_to_virt(p->chunks[i] + poison_pages[k] * PAGE_SIZE);
            for (uint64_t j = 0; j < PAGE_SIZE / 8; j++)
                w[j] = 0x5053494f4e4d454dull; /* "MEMNOISP" */
        }
#endif
        if (progress && (st = progress(pctx, GUEST_CHUNK)) != TV_OK)
            goto fail;
    }

    struct guest_mem_writer w = { p, guest_write_cb, writer_zero };
    struct guest_entry_state entry;
    tv_memset(&entry, 0, sizeof entry);
    /* A restore takes memory (the MP table included) and registers from
     * the saved state: nothing is loaded. */
    if (p->restoring)
        goto devices;
    char cmdline[TV_BOOT_CMDLINE_LEN + 32];
    tv_strlcpy(cmdline, bp->cmdline, sizeof cmdline);
    if (plan.protocol == GUEST_PROTO_LINUX &&
        !linux_cmdline(bp->cmdline, cmdline, sizeof cmdline)) {
        log_err("partition %s: command line too long for tsc_early_khz=", p->name);
        st = TV_E_INVALID_ARGUMENT;
        goto fail;
    }
    /* The image comes from the loader's pages, kept for the VM's life:
     * every start loads a fresh copy. */
    st = guest_image_load(&plan, img, &w, cmdline, p->mem_bytes, &entry);
    if (st != TV_OK) {
        log_err("partition %s: loading %s failed (%d)", p->name, bp->image_path, st);
        goto fail;
    }
    if (progress && (st = progress(pctx, bp->image_size)) != TV_OK)
        goto fail;
    if (bp->initrd_size) {
        if ((st = guest_load_initrd(&plan, phys_to_virt(bp->initrd_phys), &w)) != TV_OK) {
            log_err("partition %s: loading initrd %s failed (%d)", p->name, bp->initrd_path, st);
            goto fail;
        }
        if (progress && (st = progress(pctx, bp->initrd_size)) != TV_OK)
            goto fail;
    }

    if ((st = place_mptable(p)) != TV_OK) {
        log_err("partition %s: cannot place the MP table (%d)", p->name, st);
        goto fail;
    }
devices:;
    struct vcpu *v = &p->vcpu;
    v->part = p;
    v->id = 0;
    vuart_init(&p->uart, p->name, (p->flags & TV_PART_CONTROL) != 0);
    cmos_rtc_init(&p->cmos);
    p->uart.raw = p->console_raw;
    ioapic_init(&p->ioapic, 1, p, ioapic_deliver);
    xapic_regs_init(&p->xapic);
    vuart_set_irq(&p->uart, p, uart_irq, uart_rx_kick);
    vapic_init(&v->apic, v, 0);
    /* A Linux kernel gets the local APIC as a PC firmware leaves it: xAPIC
     * mode (IA32_APIC_BASE.EXTD, bit 10, clear), x2APIC available to switch
     * on.  6.1 reads its APIC ID through the xAPIC page while it parses the
     * MP table even when x2APIC is on, and faults. */
    if (plan.protocol == GUEST_PROTO_LINUX)
        v->apic.apic_base &= ~(1ull << 10);
    if ((st = fpu_vcpu_init(v)) != TV_OK)
        goto fail;
    /* A Startup builds on a preemptible task worker.  VMX has one current
     * VMCS per CPU: a vCPU thread running between two of the backend's
     * VMWRITEs would make its own VMCS current and take the rest of them
     * (seen on Bochs: the control partition's VMCS got the new VM's EPTP).
     * So the vCPU is created and reset with interrupts off, as at boot. */
    bool irq = irq_save();
    st = virt->vcpu_create(v, p->npt.root_pa, p->id + 1);
    if (st == TV_OK)
        virt->vcpu_reset_pm32(v);
    irq_restore(irq);
    if (st != TV_OK) {
        log_err("partition %s: cannot create its vCPU (%d)", p->name, st);
        goto fail;
    }
    v->regs.rip = entry.rip;
    v->regs.rax = entry.rax;
    v->regs.rbx = entry.rbx;
    v->regs.rcx = entry.rcx;
    v->regs.rdx = entry.rdx;
    v->regs.rsi = entry.rsi;
    v->regs.rdi = entry.rdi;
    v->regs.rsp = entry.rsp;
    v->regs.rbp = entry.rbp;
    v->regs.rflags = entry.rflags | 2;
    p->built = true;
    int level = p->start_count < LOUD_STARTS ? TV_LOG_INFO : TV_LOG_DEBUG;
    log_msg(level, "mon", "partition %s: %llu MiB, %s image %s, entry %#llx%s", p->name,
            (unsigned long long)(p->mem_bytes >> 20), guest_protocol_name(plan.protocol),
            bp->image_path, (unsigned long long)entry.rip,
            (p->flags & TV_PART_CONTROL) ? ", control partition" : "");
    if (bp->initrd_size)
        log_msg(level, "mon", "partition %s: initrd %s, %llu bytes at %#llx", p->name,
                bp->initrd_path, (unsigned long long)bp->initrd_size,
                (unsigned long long)plan.initrd_gpa);
    return TV_OK;

fail:
    partition_release(p);
    return st == TV_OK ? TV_E_NO_MEMORY : st;
}
