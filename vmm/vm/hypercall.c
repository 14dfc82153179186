/* The hypercall exit: describe the caller, run the portable dispatcher
 * (vmm/hcall: one permission table, checked in one place), apply its verdict;
 * and the table itself, which services extend at start-up. */
#include "arch/x86/cpu.h"
#include "vm/exit.h"
#include "kernel/log.h"
#include "kernel/power.h"
#include "vm/partition.h"
#include "vm/hypercall.h"
#include "vm/vm_life.h"
#include "hcall/hcall.h"
#include "tv_status.h"
#include "tv_string.h"

static uint32_t svc_features(void *ctx)
{
    (void)ctx;
    return monitor_features();
}

uint32_t monitor_features(void)
{
#ifdef TV_TEST_BUILD
    return TV_FEAT_TASKS | TV_FEAT_TASK_EVENTS | TV_FEAT_VMS | TV_FEAT_AGENT | TV_FEAT_TEST_CALLS;
#else
    return TV_FEAT_TASKS | TV_FEAT_TASK_EVENTS | TV_FEAT_VMS | TV_FEAT_AGENT;
#endif
}

static uint32_t svc_partition_count(void *ctx)
{
    (void)ctx;
    return partition_count;
}

static tv_status_t svc_partition_get(void *ctx, uint32_t index, struct tv_partition_record *rec)
{
    struct vcpu *caller = ctx;
    if (index >= partition_count)
        return TV_E_NOT_FOUND;
    struct partition *p = partitions[index];
    rec->id = p->id;
    rec->vcpu_count = 1;
    rec->memory_bytes = p->mem_bytes;
    rec->flags = ((p->flags & TV_PART_CONTROL) ? TV_PARTITION_F_CONTROL : 0) |
                 (p == caller->part ? TV_PARTITION_F_SELF : 0);
    if (p->state == PART_RUNNING)
        rec->state = vm_get_state(p) == TV_VM_PAUSED ? TV_PARTITION_PAUSED : TV_PARTITION_RUNNING;
    else if (p->state == PART_STOPPED && p->stop_reason == STOP_EXIT_PORT)
        rec->state = TV_PARTITION_EXITED;
    else if (p->state == PART_STOPPED && p->stop_reason != STOP_REQUESTED)
        rec->state = TV_PARTITION_CRASHED; /* a TurnOff is no crash: STOPPED below */
    else
        rec->state = TV_PARTITION_STOPPED;
    rec->exit_code = (uint32_t)p->stop_code;
    tv_strlcpy(rec->name, p->name, sizeof rec->name);
    return TV_OK;
}

static void svc_log(void *ctx, const char *line)
{
    struct vcpu *v = ctx;
    log_msg(TV_LOG_WARN, v->part->name, "%s", line);
}

static tv_status_t svc_power_off(void *ctx)
{
    struct vcpu *v = ctx;
    log_info("partition %s asked to power off", v->part->name);
    return power_off();
}

static struct hcall_section table_sections[HYPERCALL_MAX_SECTIONS] = {
    { 0 }, /* [0] = the platform calls, filled in by hypercall_table_seal */
};
static struct hcall_table table = { table_sections, 1 };
static bool table_sealed;

tv_status_t hypercall_add_section(const struct hcall_section *sec)
{
    if (table_sealed || table.nsections >= HYPERCALL_MAX_SECTIONS)
        return TV_E_INVALID_STATE;
    table_sections[table.nsections++] = *sec;
    return TV_OK;
}

tv_status_t hypercall_table_seal(void)
{
    table_sections[0] = hcall_platform_section;
    const struct hcall_desc *bad = 0;
    tv_status_t st = hcall_table_check(&table, &bad);
    if (st != TV_OK) {
        log_err("hypercall table invalid at %s (code %#x): %s", bad && bad->name ? bad->name : "?",
                bad ? (unsigned)bad->code : 0u, tv_status_name(st));
        return st;
    }
    table_sealed = true;
    return TV_OK;
}

/* The caller's fixed description, once per run (the vCPU is zeroed when
 * its partition is built; the partition's id, role and RAM size stay for
 * the run). */
static void hcall_state_init(struct vcpu *v)
{
    struct vcpu_hcall *h = &v->hcall;
    struct partition *p = v->part;
    h->ram = (struct guest_mem_range){ 0, p->mem_bytes };
    h->view = (struct guest_mem_view){ &h->ram, 1, p, guest_read_cb, guest_write_cb };
    h->caller = (struct hcall_caller){
        .partition_id = p->id,
        .is_control = (p->flags & TV_PART_CONTROL) != 0,
        .mem = &h->view,
        .denials = &p->hcall_denials,
    };
    h->svc = (struct hcall_services){ v, svc_features, svc_partition_count, svc_partition_get,
                                      svc_log, svc_power_off };
    h->env = (struct hcall_env){ &table, &h->svc, v };
    h->ready = true;
}

static enum hcall_action run_dispatcher(struct vcpu *v)
{
    struct vcpu_hcall *h = &v->hcall;
    if (!h->ready)
        hcall_state_init(v);
    bool long_code;
    h->caller.cpl = (uint8_t)virt->get_cpl(v, &long_code);
    h->caller.wide = long_code;
    struct hcall_regs r = { v->regs.rax, v->regs.rbx, v->regs.rcx, v->regs.rdx,
                            v->regs.rsi, v->regs.rdi, v->regs.r8, v->regs.r10 };
    enum hcall_action act = hcall_dispatch(&h->env, &h->caller, &r);
    if (act == HCALL_INJECT_UD)
        return act;
    v->regs.rax = r.rax;
    v->regs.rbx = r.rbx;
    v->regs.rcx = r.rcx;
    v->regs.rdx = r.rdx;
    v->regs.rsi = r.rsi;
    v->regs.rdi = r.rdi;
    v->regs.r8 = r.r8;
    v->regs.r10 = r.r10;
    return act;
}

void hypercall_version_answer(struct vcpu *v)
{
    struct vcpu_hcall *h = &v->hcall;
    if (!h->ready)
        hcall_state_init(v);
    uint64_t out[2];
    hcall_version_outputs(&h->svc, out);
    v->regs.rax = TV_OK;
    v->regs.rdx = out[0];
    v->regs.rsi = out[1];
}

void handle_hypercall(struct vcpu *v, struct vm_exit *e)
{
    enum hcall_action act = run_dispatcher(v);
    if (act == HCALL_INJECT_UD)
        inject_ud(v);
    else if (act == HCALL_ADVANCE)
        vcpu_advance_rip(v, e);
}
