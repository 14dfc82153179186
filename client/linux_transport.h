/* libtaskvisor's transport in a Linux control partition: every call goes
 * through /dev/taskvisor (guests/linux/driver, include/taskvisor/tvdev.h).
 *
 * The "guest-physical addresses" libtaskvisor hands this transport are only
 * tokens for its own buffers (their user addresses); the transport turns
 * each call into the device's ioctl, and the driver copies through kernel
 * buffers, so no user address reaches the monitor.  Events: the driver owns
 * the monitor's ring; tv_events_register subscribes the device file and
 * tv_events_read fills the client's ring from read() (events_pull).  Poll
 * tv_linux_fd() for POLLIN to sleep until an event comes.
 * The disk operations (DISK_START) and the VM calls (VM_LIST, VM_QUERY,
 * the operations) go through the device's disk and VM classes, so
 * client/tv_disk.c and tv_client.c's VM functions work unchanged.
 * Calls the device does not offer (PARTITION_LIST) answer
 * TV_E_UNSUPPORTED; a wait interrupted by a signal answers TV_E_CANCELLED
 * (the wait was given up, the task goes on). */
#ifndef LINUX_TRANSPORT_H
#define LINUX_TRANSPORT_H

#include "libtaskvisor.h"
#include "taskvisor/tvdev.h"

#define TV_LINUX_DEVICE "/dev/taskvisor"

struct tv_linux {
    struct tv_transport transport;
    int fd;
    int last_errno;           /* errno of the last failed ioctl/open (0 = none) */
};

/* Opens the device (NULL = TV_LINUX_DEVICE).  TV_E_ACCESS_DENIED: not
 * root; TV_E_UNSUPPORTED: no device (driver not loaded); *lx->last_errno
 * says more. */
tv_status_t tv_linux_open(struct tv_linux *lx, const char *path);
void tv_linux_close(struct tv_linux *lx);
const struct tv_transport *tv_linux_transport(struct tv_linux *lx);
int tv_linux_fd(const struct tv_linux *lx);
/* The driver's and the monitor's versions (TVDEV_IOC_VERSION). */
tv_status_t tv_linux_version(struct tv_linux *lx, struct tvdev_version *out);
/* POWER_OFF: returns only when the machine could not be powered off (the
 * monitor's status, or the device's). */
tv_status_t tv_linux_power_off(struct tv_linux *lx);
/* Every VM in one call (up to cap, at most TVDEV_VM_LIST_MAX records, where
 * libtaskvisor's tv_vm_list is bounded by its scratch page): *count_out
 * records written, *total_out the monitor's number of VMs. */
tv_status_t tv_linux_vm_list(struct tv_linux *lx, struct tv_vm_info *out, uint32_t cap,
                             uint32_t *count_out, uint32_t *total_out);
/* An errno from the device as a status. */
tv_status_t tv_linux_status_of_errno(int err);

#endif
