/* PARTITION_LIST helper shared by the test guests and the control partition. */
#ifndef TV_GUEST_PARTITION_LIST_H
#define TV_GUEST_PARTITION_LIST_H

#include "guest.h"
#include "taskvisor/partition.h"

#define GUEST_MAX_PARTITIONS 32

/* Calls PARTITION_LIST with a buffer of capacity records (the buffer is
 * guest memory; it is identity mapped, so its address is its GPA).  *count
 * receives RDX (the number of partitions). */
static inline tv_status_t guest_partition_list(struct tv_partition_record *buf,
                                               uint32_t capacity, uint32_t *count)
{
    struct tv_hc_out out = { 0, 0, 0 };
    tv_status_t st = tv_hypercall(TV_HC_PARTITION_LIST, (uint64_t)(uintptr_t)buf, capacity, 0,
                                  0, 0, &out);
    if (count)
        *count = (uint32_t)out.rdx;
    return st;
}

const char *guest_partition_state_name(uint32_t state);

#endif
