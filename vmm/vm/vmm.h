/* Starting the virtualization backend and the partitions. */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include "boot/common/boot_info.h"
#include "taskvisor/status.h"

tv_status_t vmm_start(const struct tv_boot_info *bi);

#endif
