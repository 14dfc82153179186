#include "tv_status.h"

struct status_entry {
    const char *name;
    const char *text;
};

static const struct status_entry status_table[TV_STATUS_COUNT] = {
    [TV_OK]                 = { "OK", "success" },
    [TV_E_UNKNOWN_CALL]     = { "UNKNOWN_CALL", "unknown hypercall" },
    [TV_E_INVALID_ARGUMENT] = { "INVALID_ARGUMENT", "invalid argument" },
    [TV_E_ACCESS_DENIED]    = { "ACCESS_DENIED", "access denied" },
    [TV_E_NOT_FOUND]        = { "NOT_FOUND", "not found" },
    [TV_E_BUSY]             = { "BUSY", "resource busy" },
    [TV_E_INVALID_STATE]    = { "INVALID_STATE", "not allowed in the current state" },
    [TV_E_TIMEOUT]          = { "TIMEOUT", "timed out" },
    [TV_E_CONTINUE]         = { "CONTINUE", "call continues" },
    [TV_E_NOT_CANCELABLE]   = { "NOT_CANCELABLE", "task cannot be cancelled" },
    [TV_E_NO_MEMORY]        = { "NO_MEMORY", "out of memory" },
    [TV_E_IO]               = { "IO", "input/output error" },
    [TV_E_CORRUPT]          = { "CORRUPT", "corrupt data" },
    [TV_E_UNSUPPORTED]      = { "UNSUPPORTED", "not supported" },
    [TV_E_NO_SPACE]         = { "NO_SPACE", "no space left" },
    [TV_E_EXISTS]           = { "EXISTS", "already exists" },
    [TV_E_BUFFER_TOO_SMALL] = { "BUFFER_TOO_SMALL", "buffer too small" },
    [TV_E_CANCELLED]        = { "CANCELLED", "cancelled" },
    [TV_E_LIMIT]            = { "LIMIT", "limit reached" },
    [TV_E_WRONG_TYPE]       = { "WRONG_TYPE", "wrong type for this operation" },
    [TV_E_PARENT_MISSING]   = { "PARENT_MISSING", "parent disk not found" },
    [TV_E_PARENT_MODIFIED]  = { "PARENT_MODIFIED", "parent disk was modified" },
    [TV_E_READ_ONLY]        = { "READ_ONLY", "read-only" },
    [TV_E_FAULT]            = { "FAULT", "bad guest address" },
    [TV_E_FILE_TOO_LARGE]   = { "FILE_TOO_LARGE", "file too large for the volume" },
    [TV_E_BAD_PATH]         = { "BAD_PATH", "bad path (VOLUME:/dir/name.vhd, under 260 characters)" },
    [TV_E_SIZE_TOO_SMALL]   = { "SIZE_TOO_SMALL", "disk size too small (at least 3 MB)" },
    [TV_E_SIZE_TOO_LARGE]   = { "SIZE_TOO_LARGE", "disk size too large (at most 2,088,960 MB)" },
    [TV_E_CROSS_VOLUME]     = { "CROSS_VOLUME", "source and target must be on the same volume" },
    [TV_E_VM_RUNNING]       = { "VM_RUNNING", "the virtual machine is running" },
    [TV_E_VM_NOT_RUNNING]   = { "VM_NOT_RUNNING", "the virtual machine is not running" },
    [TV_E_CONTROL_PARTITION] = { "CONTROL_PARTITION", "not allowed on the control partition" },
    [TV_E_AGENT_NOT_PRESENT] = { "AGENT_NOT_PRESENT", "no guest agent in the virtual machine" },
    [TV_E_GUEST_LOCKED]     = { "GUEST_LOCKED", "the guest is locked (only a forced one works)" },
    [TV_E_SHUTDOWN_IN_PROGRESS] = { "SHUTDOWN_IN_PROGRESS", "a shutdown is already in progress" },
    [TV_E_NO_SESSION]       = { "NO_SESSION", "nobody is logged on" },
    [TV_E_INCOMPATIBLE_SAVED_STATE] = { "INCOMPATIBLE_SAVED_STATE", "the saved state is corrupt or does not match" },
};

const char *tv_status_name(tv_status_t status)
{
    if (status < 0 || status >= TV_STATUS_COUNT || !status_table[status].name)
        return "UNKNOWN_STATUS";
    return status_table[status].name;
}

const char *tv_status_text(tv_status_t status)
{
    if (status < 0 || status >= TV_STATUS_COUNT || !status_table[status].text)
        return "unknown status";
    return status_table[status].text;
}
