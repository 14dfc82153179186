/* VM commands of the control console, through libtaskvisor: `vms` lists
 * the VMs (with what their guest agent offers and CanShutdown), `vm
 * start|off|reset|pause|resume NAME` and, through the guest agent, `vm
 * shutdown|restart [--force] NAME` and `vm logoff NAME` run the operation
 * as a task and draw its progress until it ends. */
#include "console.h"
#include "guest.h"
#include "guest_transport.h"
#include "tv_fmt.h"
#include "tv_status.h"
#include "tv_string.h"

static struct tv_client client;

static const char *const vm_state_names[TV_VM_STATE_COUNT] = {
    "invalid", "off", "saved", "turning on", "restoring", "running", "paused", "saving",
    "turning off", "merging drives",
};

static const char *vm_state(uint32_t s)
{
    return s < TV_VM_STATE_COUNT ? vm_state_names[s] : "?";
}

static bool ready(void)
{
    return console_client(&client, "VM client");
}

uint32_t console_vm_state(const char *name)
{
    uint32_t id;
    struct tv_vm_info info;
    if (!ready() || tv_vm_find(&client, name, &id) != TV_OK || tv_vm_query(&client, id, &info) != TV_OK)
        return 0;
    return info.state;
}

int cmd_vms(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!ready())
        return 1;
    struct tv_vm_info vms[8];
    size_t n = 0;
    tv_status_t st = tv_vm_list(&client, vms, 8, &n);
    if (st != TV_OK) {
        guest_printf("vms: %s (%s)\n", tv_status_name(st), tv_status_text(st));
        return 1;
    }
    guest_printf("ID  NAME             STATE         MEMORY  STARTS  CAN-SHUTDOWN  AGENT  FLAGS\n");
    for (size_t i = 0; i < n; i++) {
        const struct tv_vm_info *r = &vms[i];
        bool can = false;
        tv_vm_can_shutdown(&client, r->id, &can);
        uint32_t caps = (r->flags >> TV_VM_F_AGENT_SHIFT) & TV_AGENT_CAPS_ALL;
        char agent[4] = "---";
        if (caps & TV_AGENT_CAP_SHUTDOWN) agent[0] = 's';
        if (caps & TV_AGENT_CAP_RESTART) agent[1] = 'r';
        if (caps & TV_AGENT_CAP_LOGOFF) agent[2] = 'l';
        guest_printf("%-3u %-16s %-13s %4llu MiB %6llu  %-12s  %-5s  %s%s%s%s\n", r->id, r->name,
                     vm_state(r->state), (unsigned long long)(r->memory_bytes >> 20),
                     (unsigned long long)r->start_count, can ? "yes" : "no", agent,
                     (r->flags & TV_VM_F_CONTROL) ? "control " : "",
                     (r->flags & TV_VM_F_SELF) ? "self " : "",
                     (r->flags & TV_VM_F_AUTOSTART) ? "autostart " : "",
                     (r->flags & TV_VM_F_BUSY) ? "busy" : "");
    }
    return 0;
}

#define BAR_WIDTH 30

/* "[#########.....]  42%  1234/5678" on one line, redrawn in place. */
static void draw_bar(const struct tv_task_info *info)
{
    char bar[BAR_WIDTH + 1];
    unsigned full = info->percent * BAR_WIDTH / 100;
    for (unsigned i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < full ? '#' : '.';
    bar[BAR_WIDTH] = 0;
    guest_printf("\r[%s] %3u%%  %llu/%llu", bar, info->percent, (unsigned long long)info->done,
                 (unsigned long long)info->total);
}

static tv_status_t do_shutdown(struct tv_client *c, uint32_t id, bool forced, struct tv_task *t)
{
    return tv_vm_shutdown(c, id, forced, t);
}

static tv_status_t do_restart(struct tv_client *c, uint32_t id, bool forced, struct tv_task *t)
{
    return tv_vm_restart(c, id, forced, t);
}

static const struct {
    const char *word;
    tv_status_t (*op)(struct tv_client *, uint32_t, struct tv_task *);
    tv_status_t (*forceable)(struct tv_client *, uint32_t, bool, struct tv_task *);
} verbs[] = {
    { "start", tv_vm_startup, 0 }, { "off", tv_vm_turn_off, 0 }, { "reset", tv_vm_reset, 0 },
    { "pause", tv_vm_pause, 0 },   { "resume", tv_vm_resume, 0 },
    { "shutdown", 0, do_shutdown }, { "restart", 0, do_restart }, { "logoff", tv_vm_logoff, 0 },
    { "save", tv_vm_save, 0 },
};

#define VM_USAGE "usage: vm start|off|reset|pause|resume|logoff|save NAME, vm shutdown|restart [--force] NAME\n"

int cmd_vm(int argc, char **argv)
{
    bool force = argc == 4 && tv_strcmp(argv[2], "--force") == 0;
    if (argc != 3 && !force) {
        guest_puts(VM_USAGE);
        return 1;
    }
    const char *name = argv[argc - 1];
    size_t v = 0;
    while (v < sizeof verbs / sizeof verbs[0] && tv_strcmp(verbs[v].word, argv[1]) != 0)
        v++;
    if (v == sizeof verbs / sizeof verbs[0]) {
        guest_printf("vm: unknown operation '%s' (start, off, reset, pause, resume, shutdown, "
                     "restart, logoff, save)\n", argv[1]);
        return 1;
    }
    if (force && !verbs[v].forceable) {
        guest_printf("vm %s: --force is for shutdown and restart only\n", argv[1]);
        return 1;
    }
    if (!ready())
        return 1;
    uint32_t id;
    tv_status_t st = tv_vm_find(&client, name, &id);
    if (st != TV_OK) {
        guest_printf("vm %s %s: no such VM (%s)\n", argv[1], name, tv_status_name(st));
        return 1;
    }
    struct tv_task t;
    st = verbs[v].forceable ? verbs[v].forceable(&client, id, force, &t)
                            : verbs[v].op(&client, id, &t);
    if (st != TV_OK) {
        guest_printf("vm %s %s: refused: %s (%s)\n", argv[1], name, tv_status_name(st),
                     tv_status_text(st));
        return 1;
    }
    struct tv_task_info info;
    uint32_t shown = 101;
    for (;;) {
        if (tv_task_query(t, &info) != TV_OK)
            break;
        if (info.percent != shown && info.total) {
            draw_bar(&info);
            shown = info.percent;
        }
        if (info.flags & TV_TASK_FLAG_COMPLETE)
            break;
        tv_task_wait_for_completion(t, 50);
    }
    if (shown != 101)
        guest_puts("\n");
    struct tv_vm_info r;
    bool have = tv_vm_query(&client, id, &r) == TV_OK;
    int failed = info.result != TV_TASK_RESULT_SUCCESS;
    if (failed)
        guest_printf("vm %s %s: task %llu failed: %s (%s)\n", argv[1], name,
                     (unsigned long long)t.id, tv_status_name(info.error),
                     info.error_description);
    else
        guest_printf("vm %s %s: done (task %llu), now %s\n", argv[1], name,
                     (unsigned long long)t.id, have ? vm_state(r.state) : "?");
    tv_task_dismiss(t);
    return failed;
}
