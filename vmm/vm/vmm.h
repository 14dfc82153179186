/* The virtualization backend and the partitions. */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include "boot/common/boot_info.h"
#include "taskvisor/status.h"

/* Picks the backend, enables it and creates the partitions (not running). */
tv_status_t vmm_init(const struct tv_boot_info *bi);
/* Starts every partition's vCPU thread and the console poller. */
tv_status_t vmm_run(const struct tv_boot_info *bi);

#endif
