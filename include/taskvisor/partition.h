/* Taskvisor ABI: partition records returned by TV_HC_PARTITION_LIST.
 * Shared by the monitor, the control partition's driver and clients.
 * Layout is fixed (little-endian, no implicit padding); only append fields by
 * using the reserved words, never reorder. */
#ifndef TASKVISOR_PARTITION_H
#define TASKVISOR_PARTITION_H

#include <stdint.h>

#define TV_PARTITION_NAME_LEN 32   /* bytes, NUL-terminated and NUL-padded */

/* Partition lifecycle as the monitor sees it. */
enum tv_partition_state {
    TV_PARTITION_STOPPED  = 0,  /* created, not (yet / any more) running */
    TV_PARTITION_RUNNING  = 1,  /* at least one vCPU runnable or running */
    TV_PARTITION_PAUSED   = 2,  /* held by the monitor (e.g. during a task) */
    TV_PARTITION_EXITED   = 3,  /* stopped itself through the exit port */
    TV_PARTITION_CRASHED  = 4,  /* stopped by the monitor after a fatal exit */
};

/* tv_partition_record.flags */
#define TV_PARTITION_F_CONTROL  (1u << 0)  /* the control partition */
#define TV_PARTITION_F_SELF     (1u << 1)  /* the partition that made the call */

struct tv_partition_record {
    uint32_t id;               /* stable for the monitor's lifetime */
    uint32_t state;            /* enum tv_partition_state */
    uint32_t flags;            /* TV_PARTITION_F_* */
    uint32_t vcpu_count;
    uint64_t memory_bytes;     /* guest RAM assigned */
    uint32_t exit_code;        /* code written to the exit port (state EXITED) */
    uint32_t reserved0;        /* zero */
    char     name[TV_PARTITION_NAME_LEN];
};

#define TV_PARTITION_RECORD_SIZE 64u
_Static_assert(sizeof(struct tv_partition_record) == TV_PARTITION_RECORD_SIZE,
               "tv_partition_record is part of the ABI");

#endif
