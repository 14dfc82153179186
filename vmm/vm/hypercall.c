/* The hypercall exit: describe the caller, run the portable dispatcher
 * (vmm/hcall: one permission table, checked in one place), apply its verdict. */
#include "arch/x86/cpu.h"
#include "vm/exit.h"
#include "kernel/log.h"
#include "vm/partition.h"
#include "services/task_service.h"
#include "hcall/hcall.h"
#include "tv_string.h"

static uint32_t svc_features(void *ctx)
{
    (void)ctx;
    return monitor_features();
}

uint32_t monitor_features(void)
{
#ifdef TV_TEST_BUILD
    return TV_FEAT_TASKS | TV_FEAT_TASK_EVENTS | TV_FEAT_TEST_CALLS;
#else
    return TV_FEAT_TASKS | TV_FEAT_TASK_EVENTS;
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
        rec->state = TV_PARTITION_RUNNING;
    else if (p->state == PART_STOPPED && p->stop_reason == STOP_EXIT_PORT)
        rec->state = TV_PARTITION_EXITED;
    else if (p->state == PART_STOPPED)
        rec->state = TV_PARTITION_CRASHED;
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

static const struct hcall_section *const sections_list[] = {
    &hcall_platform_section,
    &task_hcall_section,
};
#define SECTION_COUNT (sizeof sections_list / sizeof sections_list[0])
static struct hcall_section table_sections[SECTION_COUNT];
static struct hcall_table table = { table_sections, SECTION_COUNT };
static bool table_ready;

void handle_hypercall(struct vcpu *v, struct vm_exit *e)
{
    if (!table_ready) {
        for (unsigned i = 0; i < SECTION_COUNT; i++)
            table_sections[i] = *sections_list[i];
        const struct hcall_desc *bad = 0;
        if (hcall_table_check(&table, &bad) != TV_OK)
            log_err("hypercall table invalid at %s", bad && bad->name ? bad->name : "?");
        table_ready = true;
    }
    struct guest_mode m;
    virt->get_mode(v, &m);
    struct partition *p = v->part;
    struct guest_mem_range ram = { 0, p->mem_bytes };
    struct guest_mem_view view = { &ram, 1, p, guest_read_cb, guest_write_cb };
    struct hcall_caller caller = {
        .partition_id = p->id,
        .is_control = (p->flags & TV_PART_CONTROL) != 0,
        .cpl = (uint8_t)m.cpl,
        .wide = (m.efer & EFER_LMA) && m.cs_long,
        .mem = &view,
        .denials = &p->hcall_denials,
    };
    struct hcall_services svc = { v, svc_features, svc_partition_count, svc_partition_get, svc_log };
    struct hcall_env env = { &table, &svc, v };
    struct hcall_regs r = { v->regs.rax, v->regs.rbx, v->regs.rcx, v->regs.rdx,
                            v->regs.rsi, v->regs.rdi, v->regs.r8, v->regs.r10 };
    enum hcall_action act = hcall_dispatch(&env, &caller, &r);
    if (act == HCALL_INJECT_UD) {
        inject_ud(v);
        return;
    }
    v->regs.rax = r.rax;
    v->regs.rbx = r.rbx;
    v->regs.rcx = r.rcx;
    v->regs.rdx = r.rdx;
    v->regs.rsi = r.rsi;
    v->regs.rdi = r.rdi;
    v->regs.r8 = r.r8;
    v->regs.r10 = r.r10;
    if (act == HCALL_ADVANCE)
        vcpu_advance_rip(v, e);
}
