/* Platform commands: help, version, partitions, exit. */
#include "console.h"
#include "guest.h"
#include "partition_list.h"
#include "tv_status.h"

static bool no_args(int argc, char **argv)
{
    if (argc > 1) {
        guest_printf("error: '%s' takes no arguments\n", argv[0]);
        return false;
    }
    return true;
}

int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    guest_puts("commands:\n");
    for (size_t i = 0; i < console_command_count; i++) {
        const struct console_command *c = &console_commands[i];
        guest_printf("  %-12s %-10s %s\n", c->name, c->args, c->help);
    }
    return 0;
}

int cmd_version(int argc, char **argv)
{
    if (!no_args(argc, argv))
        return 1;
    struct cpuid_regs r = cpuid(TV_CPUID_BASE, 0);
    char sig[13];
    __builtin_memcpy(sig, &r.ebx, 4);
    __builtin_memcpy(sig + 4, &r.ecx, 4);
    __builtin_memcpy(sig + 8, &r.edx, 4);
    sig[12] = '\0';
    for (int i = 0; i < 12; i++)
        if ((unsigned char)sig[i] < 0x20 || (unsigned char)sig[i] > 0x7e)
            sig[i] = '?';
    guest_printf("hypervisor signature: \"%s\" (max leaf 0x%x)\n", sig, r.eax);
    if (!guest_on_taskvisor()) {
        guest_puts("error: not running under Taskvisor\n");
        return 1;
    }
    uint32_t version = 0;
    uint64_t features = 0;
    tv_status_t st = tv_get_version(&version, &features);
    if (st != TV_OK) {
        guest_printf("error: GET_VERSION failed: %s\n", tv_status_name(st));
        return 1;
    }
    guest_printf("Taskvisor ABI %u.%u (this console built for %u.%u)\n", version >> 16,
                 version & 0xFFFF, TV_ABI_VERSION_MAJOR, TV_ABI_VERSION_MINOR);
    guest_printf("features: 0x%lx%s%s%s\n", (unsigned long)features,
                 (features & TV_FEAT_TASKS) ? " tasks" : "",
                 (features & TV_FEAT_TASK_EVENTS) ? " task-events" : "",
                 (features & TV_FEAT_TEST_CALLS) ? " test-calls" : "");
    return 0;
}

static struct tv_partition_record recs[GUEST_MAX_PARTITIONS];

int cmd_partitions(int argc, char **argv)
{
    if (!no_args(argc, argv))
        return 1;
    if (!guest_on_taskvisor()) {
        guest_puts("error: not running under Taskvisor\n");
        return 1;
    }
    uint32_t count = 0;
    tv_status_t st = guest_partition_list(recs, GUEST_MAX_PARTITIONS, &count);
    if (st == TV_E_BUFFER_TOO_SMALL) {
        guest_printf("note: %u partitions, showing the first %u\n", count, GUEST_MAX_PARTITIONS);
        st = TV_OK;
        count = GUEST_MAX_PARTITIONS;
    }
    if (st != TV_OK) {
        guest_printf("error: PARTITION_LIST failed: %s (%s)\n", tv_status_name(st),
                     tv_status_text(st));
        return 1;
    }
    guest_printf("%4s  %-20s %-8s %5s %10s  %s\n", "ID", "NAME", "STATE", "VCPUS", "MEMORY",
                 "FLAGS");
    for (uint32_t i = 0; i < count; i++) {
        const struct tv_partition_record *r = &recs[i];
        char name[TV_PARTITION_NAME_LEN + 1];
        __builtin_memcpy(name, r->name, TV_PARTITION_NAME_LEN);
        name[TV_PARTITION_NAME_LEN] = '\0';
        guest_printf("%4u  %-20s %-8s %5u %7lu MiB  %s%s", r->id, name,
                     guest_partition_state_name(r->state), r->vcpu_count,
                     (unsigned long)(r->memory_bytes >> 20),
                     (r->flags & TV_PARTITION_F_CONTROL) ? "control " : "",
                     (r->flags & TV_PARTITION_F_SELF) ? "self " : "");
        if (r->state == TV_PARTITION_EXITED)
            guest_printf("exit=%u", r->exit_code);
        guest_puts("\n");
    }
    guest_printf("%u partition%s\n", count, count == 1 ? "" : "s");
    return 0;
}

/* Returns only when the monitor could not turn the machine off. */
int cmd_shutdown(int argc, char **argv)
{
    if (!no_args(argc, argv))
        return 1;
    guest_puts("powering the machine off\n");
    tv_status_t st = tv_hypercall(TV_HC_POWER_OFF, 0, 0, 0, 0, 0, 0);
    guest_printf("power-off failed: %s (%s)\n", tv_status_name(st), tv_status_text(st));
    return 1;
}

int cmd_exit(int argc, char **argv)
{
    if (!no_args(argc, argv))
        return 1;
    guest_puts("stopping the control partition\n");
    guest_exit(GUEST_EXIT_OK);
}
