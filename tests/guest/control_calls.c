/* control_calls: management hypercalls from the control partition.
 * Command line: "min_partitions=N" (default 2: the scenario runs a second
 * partition next to this one) and "name=NAME" (this partition's name in the
 * config, default "control_calls"). */
#include "guest.h"
#include "partition_list.h"
#include "tv_string.h"

static struct tv_partition_record recs[GUEST_MAX_PARTITIONS];

int guest_main(const struct guest_boot *boot)
{
    char name[TV_PARTITION_NAME_LEN] = "control_calls", num[24];
    uint64_t min_parts = 2;
    guest_cmdline_value("name", name, sizeof(name));
    if (guest_cmdline_value("min_partitions", num, sizeof(num)) && !guest_parse_u64(num, &min_parts))
        min_parts = 2;

    uint32_t count = 0;
    tv_status_t st = guest_partition_list(recs, GUEST_MAX_PARTITIONS, &count);
    reportf(st == TV_OK, "PARTITION_LIST status %d", st);
    reportf(count >= min_parts && count <= GUEST_MAX_PARTITIONS,
            "PARTITION_LIST count %u >= %lu", count, (unsigned long)min_parts);

    bool self_found = false, self_flag_ok = false, mem_ok = false;
    for (uint32_t i = 0; i < count && i < GUEST_MAX_PARTITIONS; i++) {
        const struct tv_partition_record *r = &recs[i];
        guest_printf("# partition id=%u name=%.*s state=%s flags=0x%x vcpus=%u mem=%lu KiB\n",
                     r->id, TV_PARTITION_NAME_LEN, r->name, guest_partition_state_name(r->state),
                     r->flags, r->vcpu_count, (unsigned long)(r->memory_bytes >> 10));
        if (tv_strncmp(r->name, name, TV_PARTITION_NAME_LEN) == 0) {
            self_found = true;
            self_flag_ok = (r->flags & TV_PARTITION_F_SELF) && (r->flags & TV_PARTITION_F_CONTROL) &&
                           r->state == TV_PARTITION_RUNNING;
            mem_ok = boot->mem_bytes != 0 && r->memory_bytes == boot->mem_bytes;
        }
    }
    reportf(self_found, "own name \"%s\" listed", name);
    report("own record flagged SELF and CONTROL, state running", self_flag_ok);
    report("own record memory size matches the boot information", mem_ok);

    uint32_t needed = 0;
    st = guest_partition_list(recs, 0, &needed);
    reportf(st == TV_E_BUFFER_TOO_SMALL && needed == count,
            "capacity 0 gives BUFFER_TOO_SMALL with the count (status %d count %u)", st, needed);

    if (boot->mem_bytes != 0) {
        struct tv_partition_record *beyond =
            (struct tv_partition_record *)(uintptr_t)(boot->mem_bytes + 4096);
        st = guest_partition_list(beyond, GUEST_MAX_PARTITIONS, NULL);
        reportf(st == TV_E_INVALID_ARGUMENT, "buffer beyond RAM gives INVALID_ARGUMENT (status %d)",
                st);
        /* Straddling the end of RAM is just as invalid. */
        beyond = (struct tv_partition_record *)(uintptr_t)(boot->mem_bytes - 64);
        st = guest_partition_list(beyond, 2, NULL);
        reportf(st == TV_E_INVALID_ARGUMENT, "buffer straddling the end of RAM is refused (status %d)",
                st);
    } else {
        report("memory size known from the boot information", false);
    }
    guest_exit_summary();
}
