/* Names for tv_partition_state values, for guest output. */
#include "partition_list.h"

const char *guest_partition_state_name(uint32_t state)
{
    switch (state) {
    case TV_PARTITION_STOPPED: return "stopped";
    case TV_PARTITION_RUNNING: return "running";
    case TV_PARTITION_PAUSED: return "paused";
    case TV_PARTITION_EXITED: return "exited";
    case TV_PARTITION_CRASHED: return "crashed";
    default: return "?";
    }
}
