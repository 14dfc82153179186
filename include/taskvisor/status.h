/* Taskvisor ABI: status codes returned by every hypercall and by the portable
 * subsystems (task/, storage/).  Values are stable: never renumber, only append. */
#ifndef TASKVISOR_STATUS_H
#define TASKVISOR_STATUS_H

#include <stdint.h>

typedef int32_t tv_status_t;

enum {
    TV_OK                   = 0,  /* success */
    TV_E_UNKNOWN_CALL       = 1,  /* hypercall code not known */
    TV_E_INVALID_ARGUMENT   = 2,  /* an argument is out of range or malformed */
    TV_E_ACCESS_DENIED      = 3,  /* caller lacks the privilege for this call */
    TV_E_NOT_FOUND          = 4,  /* no object with that id/name */
    TV_E_BUSY               = 5,  /* resource in use; retry later */
    TV_E_INVALID_STATE      = 6,  /* object is in a state that forbids the verb */
    TV_E_TIMEOUT            = 7,  /* the wait ran out before the event */
    TV_E_CONTINUE           = 8,  /* internal: resume the call later (continuation) */
    TV_E_NOT_CANCELABLE     = 9,  /* task cannot be cancelled (IVMTask Cancel E_FAIL) */
    TV_E_NO_MEMORY          = 10, /* allocation failed */
    TV_E_IO                 = 11, /* read/write/flush failed */
    TV_E_CORRUPT            = 12, /* on-disk or in-memory structure is malformed */
    TV_E_UNSUPPORTED        = 13, /* valid request this build or hardware cannot do */
    TV_E_NO_SPACE           = 14, /* out of room on the backing store */
    TV_E_EXISTS             = 15, /* target already exists */
    TV_E_BUFFER_TOO_SMALL   = 16, /* caller buffer too small; required size reported */
    TV_E_CANCELLED          = 17, /* the operation was cancelled */
    TV_E_LIMIT              = 18, /* a configured limit was reached */
    TV_E_WRONG_TYPE         = 19, /* object of the wrong type for the operation */
    TV_E_PARENT_MISSING     = 20, /* differencing disk's parent cannot be found */
    TV_E_PARENT_MODIFIED    = 21, /* parent unique id / timestamp mismatch */
    TV_E_READ_ONLY          = 22, /* target is read-only */
    TV_E_FAULT              = 23, /* a guest pointer could not be accessed */
    TV_E_FILE_TOO_LARGE     = 24, /* file would pass the volume's per-file limit (FAT32: 4 GiB - 1) */
    TV_E_BAD_PATH           = 25, /* path malformed: not VOLUME:/..., relative, no .vhd, too long, bad character */
    TV_E_SIZE_TOO_SMALL     = 26, /* disk size below 3 MB (Virtual PC's VM_E_IMAGE_SIZE_TOO_SMALL) */
    TV_E_SIZE_TOO_LARGE     = 27, /* disk size above 2,088,960 MB (VM_E_IMAGE_SIZE_TOO_LARGE) */
    TV_E_CROSS_VOLUME       = 28, /* source and target on different volumes: not supported */
    TV_E_VM_RUNNING         = 29, /* the VM is running (Virtual PC VM_E_VM_RUNNING) */
    TV_E_VM_NOT_RUNNING     = 30, /* the VM is not running (VM_E_VM_NOT_RUNNING) */
    TV_E_CONTROL_PARTITION  = 31, /* not allowed on the control partition itself */
    TV_E_AGENT_NOT_PRESENT  = 32, /* no guest agent for this (VM_E_ADDITIONS_FEATURE_NOT_AVAIL) */
    TV_E_GUEST_LOCKED       = 33, /* the guest is locked: only a forced one works (MACHINE_LOCKED) */
    TV_E_SHUTDOWN_IN_PROGRESS = 34, /* a shutdown or restart is already under way */
    TV_E_NO_SESSION         = 35, /* logoff: nobody logged on (NO_SUCH_LOGON_SESSION) */
    TV_E_INCOMPATIBLE_SAVED_STATE = 36, /* a saved state that is corrupt or does not match the VM, CPU or monitor (vmTaskResult_IncompatibleSavedStateError) */
    TV_STATUS_COUNT
};

#endif
