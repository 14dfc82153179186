/* VM states, claims and operations: see vm_life.h. */
#include "vm/vm_life.h"
#include "vm/partition.h"
#include "vm/vm_disks.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "services/vm_state.h"
#include "tv_string.h"

static spinlock_t vm_lock = SPINLOCK_INIT;
static vm_event_fn event_sink;

#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(STOP_EXIT_PORT, TV_VM_STOP_EXITED) && SAME(STOP_TRIPLE_FAULT, TV_VM_STOP_TRIPLE_FAULT) &&
               SAME(STOP_BAD_ACCESS, TV_VM_STOP_BAD_ACCESS) &&
               SAME(STOP_ENTRY_FAILED, TV_VM_STOP_ENTRY_FAILED) &&
               SAME(STOP_UNHANDLED_EXIT, TV_VM_STOP_UNHANDLED) &&
               SAME(STOP_REQUESTED, TV_VM_STOP_TURNED_OFF) &&
               SAME(STOP_INTERNAL_ERROR, TV_VM_STOP_INTERNAL), "stop reasons are the ABI's");

#define POLL_NS 100000ull /* 100 us between looks at a vCPU thread's progress */

void vm_set_event_sink(vm_event_fn fn)
{
    event_sink = fn;
}

tv_status_t vm_set_state(struct partition *p, uint32_t to)
{
    bool irq = spin_lock_irqsave(&vm_lock);
    uint32_t from = p->vm_state;
    bool ok = vm_transition_allowed(from, to);
    uint64_t seq = 0;
    if (ok) {
        p->vm_state = to;
        seq = ++p->vm_seq;
    }
    spin_unlock_irqrestore(&vm_lock, irq);
    if (!ok)
        return TV_E_INVALID_STATE;
    log_debug("VM %s: %s -> %s", p->name, vm_state_name(from), vm_state_name(to));
    if (event_sink)
        event_sink(p->id, seq, to);
    return TV_OK;
}

uint32_t vm_get_state(const struct partition *p)
{
    return __atomic_load_n(&p->vm_state, __ATOMIC_ACQUIRE);
}

tv_status_t vm_claim(struct partition *p, uint32_t op)
{
    bool irq = spin_lock_irqsave(&vm_lock);
    tv_status_t st = vm_op_check(op, p->vm_state, (p->flags & TV_PART_CONTROL) != 0);
    if (st == TV_OK && op == VM_OP_SAVE && !p->save_path[0])
        st = TV_E_UNSUPPORTED; /* nowhere to write it (save.NAME / save_dir) */
    /* The virtio-blk devices' state (queues, in-flight requests) is not in
     * the file yet: a restore would lose it, so such a VM is not saved. */
    if (st == TV_OK && op == VM_OP_SAVE && p->def.disk_count)
        st = TV_E_UNSUPPORTED;
    if (st == TV_OK && p->op_claim)
        st = vm_op_claim_refusal(p->op_claim - 1, op);
    if (st == TV_OK)
        p->op_claim = op + 1;
    spin_unlock_irqrestore(&vm_lock, irq);
    return st;
}

void vm_unclaim(struct partition *p)
{
    bool irq = spin_lock_irqsave(&vm_lock);
    p->op_claim = 0;
    spin_unlock_irqrestore(&vm_lock, irq);
}

void vm_fill_info(const struct partition *p, uint32_t caller_id, struct tv_vm_info *o)
{
    tv_memset(o, 0, sizeof *o);
    bool irq = spin_lock_irqsave(&vm_lock);
    o->state = p->vm_state;
    o->seq = p->vm_seq;
    o->flags = (p->op_claim ? TV_VM_F_BUSY : 0);
    spin_unlock_irqrestore(&vm_lock, irq);
    if (p->agent.lock)
        o->flags |= (vm_agent_caps((struct vm_agent *)&p->agent) & TV_AGENT_CAPS_ALL)
                    << TV_VM_F_AGENT_SHIFT;
    o->id = p->id;
    o->flags |= ((p->flags & TV_PART_CONTROL) ? TV_VM_F_CONTROL : 0) |
                (p->id == caller_id ? TV_VM_F_SELF : 0) |
                ((p->flags & TV_PART_NO_AUTOSTART) ? 0 : TV_VM_F_AUTOSTART);
    o->vcpu_count = 1;
    o->memory_bytes = p->mem_bytes;
    o->image_bytes = p->def.image_size;
    o->initrd_bytes = p->def.initrd_size;
    o->start_count = p->start_count;
    if (p->state == PART_RUNNING)
        for (int i = 0; i < EXIT_REASON_COUNT; i++)
            o->exit_count += p->vcpu.exit_counts[i];
    o->stop_reason = p->state == PART_RUNNING ? TV_VM_STOP_NONE : (uint32_t)p->stop_reason;
    o->stop_code = (uint32_t)p->stop_code;
    tv_strlcpy(o->name, p->name, sizeof o->name);
    tv_strlcpy(o->image, p->def.image_path, sizeof o->image);
    tv_strlcpy(o->cmdline, p->def.cmdline, sizeof o->cmdline);
}

/* Running or paused -> turning off; any other state is left alone (the
 * stop is already under way, or there is nothing running). */
static void begin_turning_off(struct partition *p)
{
    uint32_t s = vm_get_state(p);
    if (s == TV_VM_RUNNING || s == TV_VM_PAUSED)
        vm_set_state(p, TV_VM_TURNING_OFF);
}

/* The agent belongs to one run: it is forgotten when the run ends (and
 * when the next begins), so a request never reaches a later boot. */
static void forget_agent(struct partition *p)
{
    if (p->agent.lock)
        vm_agent_forget(&p->agent);
}

void partition_vcpu_ended(struct partition *p)
{
    begin_turning_off(p);
    forget_agent(p);
    /* TurnOff: the disk threads finish their request, the images close. */
    vm_disks_stop(p);
    partition_release(p);
    bool irq = irq_save();
    p->vcpu.thread = 0; /* nothing may wake this thread again */
    irq_restore(irq);
    /* A Save that committed its file stopped it: SAVED; a guest that stopped
     * itself while a Save wrote (not committed) is off like any other. */
    if (p->save_committed) {
        p->save_committed = false;
        vm_set_state(p, TV_VM_SAVED);
    } else {
        if (vm_get_state(p) == TV_VM_SAVING)
            vm_set_state(p, TV_VM_TURNING_OFF);
        vm_set_state(p, TV_VM_TURNED_OFF);
    }
    irq = irq_save();
    p->thread_done = true;
    if (p->joiner)
        thread_wake(p->joiner);
    irq_restore(irq);
}

static tv_status_t build_progress(void *ctx, uint64_t bytes)
{
    struct task_job *job = ctx;
    if (!job)
        return TV_OK;
    task_job_advance(job, bytes);
    return task_job_checkpoint(job);
}

tv_status_t vm_startup(struct partition *p, struct task_job *job)
{
    if (vm_get_state(p) == TV_VM_SAVED)
        return vm_restore(p, job);
    tv_status_t st = vm_set_state(p, TV_VM_TURNING_ON);
    if (st != TV_OK)
        return st;
    forget_agent(p);
    if (job)
        task_job_set_total(job, p->mem_bytes + p->def.image_size + p->def.initrd_size);
    st = partition_build(p, build_progress, job);
    /* The disks open once the machine exists (vm/vm_disks.c); the engine's
     * lock marks each image in use until the VM turns off. */
    if (st == TV_OK)
        st = vm_disks_start(p);
    /* Past this point the vCPU belongs to the scheduler: not cancelable. */
    if (st == TV_OK && job)
        st = task_job_point_of_no_return(job);
    if (st != TV_OK) {
        partition_release(p);
        vm_set_state(p, TV_VM_TURNED_OFF);
        return st;
    }
    if ((st = vm_set_state(p, TV_VM_RUNNING)) != TV_OK || (st = partition_launch(p)) != TV_OK) {
        partition_release(p);
        begin_turning_off(p);
        vm_set_state(p, TV_VM_TURNED_OFF);
        return st;
    }
    /* Done when the guest has been entered (or its thread already ended). */
    while (!__atomic_load_n(&p->vcpu.first_entry_tsc, __ATOMIC_ACQUIRE) && !p->thread_done)
        thread_sleep_ns(POLL_NS);
    return TV_OK;
}

tv_status_t vm_turn_off(struct partition *p, struct task_job *job)
{
    uint64_t bytes = p->mem_bytes;
    if (job)
        task_job_set_total(job, bytes);
    begin_turning_off(p);
    p->turn_off_asked = true;
    p->vcpu.pause_wanted = false;
    vcpu_post_request(&p->vcpu, VCPU_REQ_STOP);
    partition_wait_ended(p);
    if (job)
        task_job_set_done(job, bytes);
    return TV_OK;
}

tv_status_t vm_reset(struct partition *p, struct task_job *job)
{
    tv_status_t st = vm_turn_off(p, 0);
    return st == TV_OK ? vm_startup(p, job) : st;
}

tv_status_t vm_pause(struct partition *p, struct task_job *job)
{
    (void)job;
    struct vcpu *v = &p->vcpu;
    v->pause_wanted = true;
    vcpu_post_request(v, VCPU_REQ_KICK);
    while (!v->held && !p->thread_done)
        thread_sleep_ns(POLL_NS);
    if (p->thread_done || vm_set_state(p, TV_VM_PAUSED) != TV_OK)
        return TV_E_VM_NOT_RUNNING; /* it stopped on its own meanwhile */
    return TV_OK;
}

tv_status_t vm_resume(struct partition *p, struct task_job *job)
{
    (void)job;
    struct vcpu *v = &p->vcpu;
    v->pause_wanted = false;
    vcpu_post_request(v, VCPU_REQ_KICK);
    while (v->held && !p->thread_done)
        thread_sleep_ns(POLL_NS);
    if (p->thread_done || vm_set_state(p, TV_VM_RUNNING) != TV_OK)
        return TV_E_VM_NOT_RUNNING;
    return TV_OK;
}
