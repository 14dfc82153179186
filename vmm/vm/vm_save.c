/* Save and restore of a VM: see vm_life.h and docs/savestate.md.  The file
 * format and its checks are portable (services/vm_savefile.c); this file
 * takes the state out of and puts it into a partition, and moves the file
 * through the image store's seam. */
#include "vm/vm_life.h"
#include "vm/partition.h"
#include "vm/fpu.h"
#include "arch/x86/cpu.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "mm/mm.h"
#include "services/disk_service.h"
#include "services/vm_savefile.h"
#include "tv_status.h"
#include "tv_string.h"

#define POLL_NS 100000ull
#define IO_PIECE (256u * 1024u) /* memory goes to the file 256 KiB a write */

static void compat_now(const struct partition *p, struct save_compat *c)
{
    uint64_t xcr0 = fpu_supported_xcr0();
    uint32_t f = fpu_features();
    *c = (struct save_compat){
        .memory_bytes = p->mem_bytes, .vcpu_count = 1, .vendor = virt->save_vendor,
        .xcr0_mask = xcr0 ? xcr0 : 1,
        .fpu_flags = ((f & FPU_F_XSAVE) ? SAVE_FPU_XSAVE : 0) | ((f & FPU_F_PKU) ? SAVE_FPU_PKU : 0),
        .monitor_abi = SAVE_MONITOR_ABI,
    };
}

/* The volume's seam and the path on it (copied: the resolver's answer may
 * point into a buffer of its own).  Through the disk service's resolver,
 * which the image store (or a test build's memory volume) provides. */
static tv_status_t resolve(const struct partition *p, const tv_storage_t **seam, char *inner,
                           size_t cap, struct disk_volume_facts *facts)
{
    tv_storage_t *s;
    const char *in;
    tv_status_t st = disk_service_resolve(p->save_path, &s, &in, facts);
    if (st != TV_OK)
        return st;
    if (tv_strlcpy(inner, in, cap) >= cap)
        return TV_E_BAD_PATH;
    *seam = s;
    return TV_OK;
}

/* "<path>.tmp" beside the saved state: the file a Save writes before its
 * commit.  False when it would not fit. */
static bool tmp_name(const char *inner, char *out, size_t cap)
{
    size_t n = tv_strlen(inner);
    if (n + 5 > cap)
        return false;
    tv_memcpy(out, inner, n);
    tv_memcpy(out + n, ".tmp", 5);
    return true;
}

/* ---- Taking the state out ------------------------------------------------ */
static void vcpu_out(struct partition *p, struct save_vcpu *o, uint8_t *fpu)
{
    struct vcpu *v = &p->vcpu;
    tv_memset(o, 0, sizeof *o);
    bool irq = irq_save();
    fpu_vcpu_sync(v);
    virt->save_state(v, o);
    const struct vcpu_regs *r = &v->regs;
    uint64_t gpr[16] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->r8,
                         r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rsp };
    tv_memcpy(o->gpr, gpr, sizeof gpr);
    o->rip = r->rip;
    o->rflags = r->rflags;
    for (unsigned i = 0; i < 4; i++)
        o->dr[i] = v->dr[i];
    if (virt->guest_dr6_in_hw)
        o->dr6 = v->dr6;
    o->xcr0 = v->xcr0;
    o->guest_tsc = rdtsc() + v->tsc_offset;
    o->tsc_adjust = v->tsc_adjust;
    o->tsc_aux = v->tsc_aux;
    o->misc_enable_xor = v->misc_enable_xor;
    o->mcg_status = v->mcg_status;
    o->pkru = v->pkru;
    o->halted = v->halted;
    o->irq_window = v->irq_window;
    tv_memcpy(fpu, v->fpu, SAVE_FPU_BYTES);
    irq_restore(irq);
}

static void devices_out(struct partition *p, struct save_devices *d)
{
    tv_memset(d, 0, sizeof *d);
    const struct vuart *u = &p->uart;
    d->uart_ier = u->ier; d->uart_lcr = u->lcr; d->uart_mcr = u->mcr;
    d->uart_scr = u->scr; d->uart_dll = u->dll; d->uart_dlm = u->dlm;
    d->uart_thre_pending = u->thre_pending;
    d->uart_irq_line = u->irq_line;
    d->uart_line_len = (uint32_t)u->line_len;
    tv_memcpy(d->uart_line, u->line, sizeof d->uart_line);
    d->uart_rx_head = u->rx_head;
    d->uart_rx_tail = u->rx_tail;
    tv_memcpy(d->uart_rx, u->rx, sizeof d->uart_rx);
    d->cmos_index = p->cmos.index;
    tv_memcpy(d->cmos_ram, p->cmos.ram, sizeof d->cmos_ram);
    d->ioapic_id = p->ioapic.id;
    d->ioapic_ioregsel = p->ioapic.ioregsel;
    tv_memcpy(d->ioapic_redir, p->ioapic.redir, sizeof d->ioapic_redir);
    d->ioapic_level = p->ioapic.level;
    d->xapic_ldr = p->xapic.ldr; d->xapic_dfr = p->xapic.dfr;
    d->xapic_icr_low = p->xapic.icr_low; d->xapic_icr_high = p->xapic.icr_high;
    const struct vapic *a = &p->vcpu.apic;
    d->apic_base = a->apic_base;
    d->apic_id = a->id; d->apic_tpr = a->tpr; d->apic_svr = a->svr;
    d->apic_lvt_timer = a->lvt_timer; d->apic_lvt_error = a->lvt_error;
    d->apic_lvt_lint0 = a->lvt_lint0; d->apic_lvt_lint1 = a->lvt_lint1;
    d->apic_initial_count = a->initial_count; d->apic_divide_config = a->divide_config;
    d->apic_nmi_pending = a->nmi_pending;
    d->apic_tsc_deadline = a->tsc_deadline;
    /* The timer as time left: the clock the next run starts on is another. */
    uint64_t now = time_now_ns();
    if (a->timer_deadline_ns) {
        d->apic_timer_left_ns = a->timer_deadline_ns > now ? a->timer_deadline_ns - now : 1;
        d->apic_timer_elapsed_ns = now > a->timer_start_ns ? now - a->timer_start_ns : 0;
        d->apic_timer_period_ns = a->timer_period_ns;
    }
    /* A timer that fired but was not yet processed fires again at once. */
    if (a->timer_fired && !d->apic_timer_left_ns)
        d->apic_timer_left_ns = 1;
    tv_memcpy(d->apic_irr, a->irr, sizeof d->apic_irr);
    tv_memcpy(d->apic_isr, a->isr, sizeof d->apic_isr);
    for (unsigned i = 0; i < 4; i++)
        d->posted_irr[i] = __atomic_load_n(&p->vcpu.posted_irr[i], __ATOMIC_ACQUIRE);
}

/* ---- Writing the file ------------------------------------------------------ */
struct file_io {
    const tv_storage_t *seam;
    tv_sfile_t *f;
};

static tv_status_t file_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct file_io *io = ctx;
    return io->seam->write(io->f, off, buf, len);
}

static tv_status_t file_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct file_io *io = ctx;
    return io->seam->read(io->f, off, buf, len);
}

static bool chunk_present(const struct partition *p, uint64_t i)
{
    return __atomic_load_n(&p->chunk_state[i], __ATOMIC_ACQUIRE) == CHUNK_READY;
}

static tv_status_t write_body(struct partition *p, struct save_writer *w, struct task_job *job,
                              uint8_t *scratch)
{
    struct save_vcpu *vs = kmalloc(sizeof *vs);
    struct save_devices *ds = kmalloc(sizeof *ds);
    tv_status_t st = TV_E_NO_MEMORY;
    if (!vs || !ds)
        goto out;
    vcpu_out(p, vs, scratch);
    devices_out(p, ds);
    if ((st = save_writer_record(w, SAVE_REC_VCPU, sizeof *vs)) != TV_OK ||
        (st = save_writer_put(w, vs, sizeof *vs)) != TV_OK ||
        (st = save_writer_record(w, SAVE_REC_FPU, SAVE_FPU_BYTES)) != TV_OK ||
        (st = save_writer_put(w, scratch, SAVE_FPU_BYTES)) != TV_OK ||
        (st = save_writer_record(w, SAVE_REC_DEVICES, sizeof *ds)) != TV_OK ||
        (st = save_writer_put(w, ds, sizeof *ds)) != TV_OK)
        goto out;
    /* Memory: the chunks the guest (or its loader) touched; the others
     * read as zeros and stay untouched at restore. */
    uint64_t bm_bytes = save_bitmap_bytes(p->mem_bytes), present = 0;
    tv_memset(scratch, 0, bm_bytes);
    for (uint64_t i = 0; i < p->chunk_count; i++)
        if (chunk_present(p, i)) {
            scratch[i / 8] |= (uint8_t)(1u << (i % 8));
            present++;
        }
    if (job)
        task_job_set_total(job, present * GUEST_CHUNK);
    if ((st = save_writer_record(w, SAVE_REC_MEMORY, bm_bytes + present * GUEST_CHUNK)) != TV_OK ||
        (st = save_writer_put(w, scratch, bm_bytes)) != TV_OK)
        goto out;
    for (uint64_t i = 0; i < p->chunk_count; i++) {
        if (!chunk_present(p, i))
            continue;
        const uint8_t *host = phys_to_virt(p->chunks[i]);
        for (uint64_t o = 0; o < GUEST_CHUNK; o += IO_PIECE) {
            if ((st = save_writer_put(w, host + o, IO_PIECE)) != TV_OK)
                goto out;
            if (job) {
                task_job_advance(job, IO_PIECE);
                if ((st = task_job_checkpoint(job)) != TV_OK)
                    goto out;
            }
        }
    }
    st = TV_OK;
out:
    kfree(vs);
    kfree(ds);
    return st;
}

#ifdef TV_TEST_BUILD
/* Test builds: save_test_corrupt=N flips one byte in the middle of the
 * file the Nth committed Save wrote, so a scenario sees a damaged saved
 * state refused (INCOMPATIBLE_SAVED_STATE) at the next Startup. */
static uint64_t corrupt_nth, committed_saves;

void vm_save_test_set_corrupt(uint64_t nth)
{
    corrupt_nth = nth;
}

static void test_corrupt(const tv_storage_t *seam, const char *inner, uint64_t size)
{
    if (!corrupt_nth || ++committed_saves != corrupt_nth)
        return;
    tv_sfile_t *f;
    uint8_t b;
    if (seam->open(seam->ctx, inner, TV_ST_WRITE | TV_ST_EXCLUSIVE, &f) != TV_OK)
        return;
    if (seam->read(f, size / 2, &b, 1) == TV_OK) {
        b ^= 0x10;
        if (seam->write(f, size / 2, &b, 1) == TV_OK && seam->flush(f) == TV_OK)
            log_info("save_test_corrupt: byte %llu of %s flipped",
                     (unsigned long long)(size / 2), inner);
    }
    seam->close(f);
}
#endif

/* Holds the vCPU out of the guest; false when its thread ended meanwhile. */
static bool hold_vcpu(struct partition *p)
{
    struct vcpu *v = &p->vcpu;
    v->pause_wanted = true;
    vcpu_post_request(v, VCPU_REQ_KICK);
    while (!v->held && !p->thread_done)
        thread_sleep_ns(POLL_NS);
    return !p->thread_done;
}

tv_status_t vm_save(struct partition *p, struct task_job *job)
{
    const tv_storage_t *seam;
    char inner[TV_BOOT_PATH_LEN], tmp[TV_BOOT_PATH_LEN + 8];
    struct disk_volume_facts facts;
    tv_status_t st = resolve(p, &seam, inner, sizeof inner, &facts);
    if (st != TV_OK)
        return st;
    if (facts.read_only)
        return TV_E_READ_ONLY;
    /* The largest file this VM can give (every chunk present). */
    uint64_t most = SAVE_HEADER_SIZE + 5 * SAVE_RECORD_HEAD + sizeof(struct save_vcpu) +
                    SAVE_FPU_BYTES + sizeof(struct save_devices) +
                    save_bitmap_bytes(p->mem_bytes) + p->mem_bytes;
    if (facts.max_file_size != DISK_UNKNOWN && most > facts.max_file_size)
        return TV_E_FILE_TOO_LARGE;
    if (!tmp_name(inner, tmp, sizeof tmp))
        return TV_E_BAD_PATH;
    uint32_t was = vm_get_state(p);
    if ((st = vm_set_state(p, TV_VM_SAVING)) != TV_OK)
        return st;
    if (!hold_vcpu(p))
        return TV_E_VM_NOT_RUNNING; /* it stopped itself: turned off, nothing saved */
    uint8_t *scratch = kmalloc(SAVE_FPU_BYTES);
    struct file_io io = { seam, 0 };
    /* A temporary file left by an earlier Save that never committed (a
     * power cut) is garbage: the committed file is what counts. */
    seam->remove(seam->ctx, tmp);
    st = scratch ? seam->create(seam->ctx, tmp, &io.f) : TV_E_NO_MEMORY;
    bool created = st == TV_OK;
    struct save_writer w;
    save_writer_init(&w, file_write, &io);
    if (st == TV_OK)
        st = write_body(p, &w, job, scratch);
    struct save_header h;
    tv_memset(&h, 0, sizeof h);
    compat_now(p, &h.compat);
    tv_strlcpy(h.vm_name, p->name, sizeof h.vm_name);
    uint64_t size = 0;
    /* Body durable, then the header that makes it valid, durable too. */
    if (st == TV_OK && (st = seam->flush(io.f)) == TV_OK &&
        (st = save_writer_finish(&w, &h, &size)) == TV_OK)
        st = seam->flush(io.f);
    if (io.f)
        seam->close(io.f);
    if (st == TV_OK && job)
        st = task_job_point_of_no_return(job);
    /* The commit: rename replaces the previous saved state in one step
     * (storage/fs: the target keeps its old clusters until the new entry
     * is written), so a power cut leaves the old state or the new one. */
    if (st == TV_OK)
        st = seam->rename(seam->ctx, tmp, inner);
    kfree(scratch);
    if (st != TV_OK) {
        if (created)
            seam->remove(seam->ctx, tmp);
        /* Not committed: the VM goes on as it was. */
        p->vcpu.pause_wanted = was == TV_VM_PAUSED;
        vcpu_post_request(&p->vcpu, VCPU_REQ_KICK);
        vm_set_state(p, was);
        return st;
    }
    log_info("VM %s: saved to %s (%llu bytes)", p->name, p->save_path, (unsigned long long)size);
#ifdef TV_TEST_BUILD
    test_corrupt(seam, inner, size);
#endif
    p->save_committed = true;
    p->turn_off_asked = true;
    p->vcpu.pause_wanted = false;
    vcpu_post_request(&p->vcpu, VCPU_REQ_STOP);
    partition_wait_ended(p);
    return TV_OK;
}

/* ---- Restoring -------------------------------------------------------------- */
struct restore {
    struct partition *p;
    struct task_job *job;
    struct save_vcpu vcpu;
    struct save_devices dev;
    uint8_t *fpu;
    uint8_t *written; /* chunks the file gave */
};

static tv_status_t r_vcpu(void *ctx, const struct save_vcpu *v) { ((struct restore *)ctx)->vcpu = *v; return TV_OK; }
static tv_status_t r_fpu(void *ctx, const uint8_t *f) { tv_memcpy(((struct restore *)ctx)->fpu, f, SAVE_FPU_BYTES); return TV_OK; }
static tv_status_t r_dev(void *ctx, const struct save_devices *d) { ((struct restore *)ctx)->dev = *d; return TV_OK; }

static tv_status_t r_mem(void *ctx, uint64_t gpa, const void *data, size_t len)
{
    struct restore *r = ctx;
    uint64_t i = gpa / GUEST_CHUNK;
    r->written[i / 8] |= (uint8_t)(1u << (i % 8));
    return guest_write(r->p, gpa, data, len);
}

static tv_status_t r_progress(void *ctx, uint64_t done)
{
    struct restore *r = ctx;
    if (!r->job)
        return TV_OK;
    task_job_set_done(r->job, done);
    return task_job_checkpoint(r->job);
}

static void apply(struct restore *r)
{
    struct partition *p = r->p;
    struct vcpu *v = &p->vcpu;
    const struct save_vcpu *s = &r->vcpu;
    const struct save_devices *d = &r->dev;
    /* Memory the file did not give but the build touched reads as zeros. */
    for (uint64_t i = 0; i < p->chunk_count; i++)
        if (!(r->written[i / 8] & (1u << (i % 8))) && chunk_present(p, i))
            tv_memset(phys_to_virt(p->chunks[i]), 0, GUEST_CHUNK);
    bool irq = irq_save();
    struct vcpu_regs *g = &v->regs;
    g->rax = s->gpr[0]; g->rbx = s->gpr[1]; g->rcx = s->gpr[2]; g->rdx = s->gpr[3];
    g->rsi = s->gpr[4]; g->rdi = s->gpr[5]; g->rbp = s->gpr[6]; g->r8 = s->gpr[7];
    g->r9 = s->gpr[8]; g->r10 = s->gpr[9]; g->r11 = s->gpr[10]; g->r12 = s->gpr[11];
    g->r13 = s->gpr[12]; g->r14 = s->gpr[13]; g->r15 = s->gpr[14]; g->rsp = s->gpr[15];
    g->rip = s->rip;
    g->rflags = s->rflags;
    virt->load_state(v, s);
    for (unsigned i = 0; i < 4; i++)
        v->dr[i] = s->dr[i];
    if (virt->guest_dr6_in_hw)
        v->dr6 = s->dr6;
    v->xcr0 = s->xcr0;
    v->pkru = s->pkru;
    v->tsc_adjust = s->tsc_adjust;
    v->tsc_aux = s->tsc_aux;
    v->misc_enable_xor = s->misc_enable_xor;
    v->mcg_status = s->mcg_status;
    v->tsc_offset = s->guest_tsc - rdtsc(); /* the guest's TSC goes on from where it was */
    virt->set_tsc_offset(v, v->tsc_offset);
    v->halted = s->halted;
    v->irq_window = false; /* asked again by the first delivery that needs it */
    fpu_vcpu_sync(v);      /* the FPU is not this vCPU's: the next entry loads v->fpu */
    tv_memcpy(v->fpu, r->fpu, SAVE_FPU_BYTES);
    for (unsigned i = 0; i < 4; i++)
        v->posted_irr[i] = d->posted_irr[i];
    irq_restore(irq);

    struct vuart *u = &p->uart;
    u->ier = d->uart_ier; u->lcr = d->uart_lcr; u->mcr = d->uart_mcr;
    u->scr = d->uart_scr; u->dll = d->uart_dll; u->dlm = d->uart_dlm;
    u->thre_pending = d->uart_thre_pending;
    u->irq_line = d->uart_irq_line;
    u->line_len = (int)d->uart_line_len;
    tv_memcpy(u->line, d->uart_line, sizeof u->line);
    u->rx_head = d->uart_rx_head;
    u->rx_tail = d->uart_rx_tail;
    tv_memcpy(u->rx, d->uart_rx, sizeof u->rx);
    p->cmos.index = d->cmos_index;
    tv_memcpy(p->cmos.ram, d->cmos_ram, sizeof p->cmos.ram);
    p->ioapic.id = d->ioapic_id;
    p->ioapic.ioregsel = d->ioapic_ioregsel;
    tv_memcpy(p->ioapic.redir, d->ioapic_redir, sizeof p->ioapic.redir);
    p->ioapic.level = d->ioapic_level;
    p->xapic.ldr = d->xapic_ldr; p->xapic.dfr = d->xapic_dfr;
    p->xapic.icr_low = d->xapic_icr_low; p->xapic.icr_high = d->xapic_icr_high;
    struct vapic *a = &v->apic;
    a->apic_base = d->apic_base;
    a->id = d->apic_id; a->tpr = d->apic_tpr; a->svr = d->apic_svr;
    a->lvt_timer = d->apic_lvt_timer; a->lvt_error = d->apic_lvt_error;
    a->lvt_lint0 = d->apic_lvt_lint0; a->lvt_lint1 = d->apic_lvt_lint1;
    a->initial_count = d->apic_initial_count; a->divide_config = d->apic_divide_config;
    a->nmi_pending = d->apic_nmi_pending != 0;
    a->tsc_deadline = d->apic_tsc_deadline;
    tv_memcpy(a->irr, d->apic_irr, sizeof a->irr);
    tv_memcpy(a->isr, d->apic_isr, sizeof a->isr);
    if (d->apic_timer_left_ns) {
        uint64_t now = time_now_ns();
        a->timer_start_ns = now - d->apic_timer_elapsed_ns;
        a->timer_period_ns = d->apic_timer_period_ns;
        a->timer_deadline_ns = now + d->apic_timer_left_ns;
        timer_arm(&a->timer, a->timer_deadline_ns);
    }
}

static tv_status_t restore_from(struct partition *p, struct task_job *job, struct file_io *io,
                                uint64_t file_size)
{
    struct save_compat want;
    compat_now(p, &want);
    struct restore *r = kzalloc(sizeof *r);
    uint8_t *buf = kmalloc(IO_PIECE + 4096);
    tv_status_t st = TV_E_NO_MEMORY;
    if (!r || !buf)
        goto out;
    r->p = p;
    r->job = job;
    r->fpu = kmalloc(SAVE_FPU_BYTES);
    r->written = kzalloc(p->chunk_count / 8 + 1);
    if (!r->fpu || !r->written)
        goto out;
    struct save_sink sink = { r, r_vcpu, r_fpu, r_dev, r_mem, r_progress };
    struct save_header h;
    st = save_parse(file_read, io, file_size, &want, fpu_mxcsr_mask(), &sink, buf,
                    IO_PIECE + 4096, &h);
    if (st == TV_OK)
        apply(r);
out:
    if (r) {
        kfree(r->fpu);
        kfree(r->written);
    }
    kfree(r);
    kfree(buf);
    return st;
}

tv_status_t vm_restore(struct partition *p, struct task_job *job)
{
    const tv_storage_t *seam = 0;
    char inner[TV_BOOT_PATH_LEN];
    struct disk_volume_facts facts;
    tv_status_t st = vm_set_state(p, TV_VM_RESTORING);
    if (st != TV_OK)
        return st;
    struct file_io io = { 0, 0 };
    uint64_t size = 0;
    if ((st = resolve(p, &seam, inner, sizeof inner, &facts)) == TV_OK) {
        io.seam = seam;
        st = seam->open(seam->ctx, inner, TV_ST_EXCLUSIVE, &io.f);
        if (st == TV_E_NOT_FOUND)
            st = TV_E_INCOMPATIBLE_SAVED_STATE; /* SAVED without its file: nothing to resume */
    }
    if (st == TV_OK)
        st = seam->size(io.f, &size);
    if (st == TV_OK && job) {
        /* Progress: bytes of memory restored, the file's memory record. */
        uint64_t fixed = SAVE_HEADER_SIZE + 5 * SAVE_RECORD_HEAD + sizeof(struct save_vcpu) +
                         SAVE_FPU_BYTES + sizeof(struct save_devices) + save_bitmap_bytes(p->mem_bytes);
        task_job_set_total(job, size > fixed ? size - fixed : 0);
    }
    /* The agent belongs to a run: the restored guest's agent announces
     * itself again before it is asked anything (docs/agent.md). */
    if (p->agent.lock)
        vm_agent_forget(&p->agent);
    if (st == TV_OK) {
        p->restoring = true;
        st = partition_build(p, 0, 0);
        p->restoring = false;
    }
    if (st == TV_OK)
        st = restore_from(p, job, &io, size);
    if (io.f)
        seam->close(io.f);
    if (st == TV_OK && job)
        st = task_job_point_of_no_return(job);
    /* Consumed: a saved state resumes once (Virtual PC deleted it too). */
    if (st == TV_OK)
        st = seam->remove(seam->ctx, inner);
    if (st != TV_OK) {
        partition_release(p);
        vm_set_state(p, TV_VM_SAVED);
        log_warn("VM %s: restore from %s failed (%s)", p->name, p->save_path, tv_status_name(st));
        return st;
    }
    log_info("VM %s: restored from %s", p->name, p->save_path);
    if ((st = vm_set_state(p, TV_VM_RUNNING)) != TV_OK || (st = partition_launch(p)) != TV_OK) {
        partition_release(p);
        vm_set_state(p, TV_VM_TURNING_OFF);
        vm_set_state(p, TV_VM_TURNED_OFF);
        return st;
    }
    while (!__atomic_load_n(&p->vcpu.first_entry_tsc, __ATOMIC_ACQUIRE) && !p->thread_done)
        thread_sleep_ns(POLL_NS);
    return TV_OK;
}
