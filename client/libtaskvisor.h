/* libtaskvisor: the control partition's C API for Taskvisor tasks.
 *
 * Mirrors Windows Virtual PC's IVMTask one to one (Cancel, WaitForCompletion,
 * Description, Error, ErrorDescription, ID, IsCancelable, IsComplete,
 * PercentCompleted, Result) and adds pause, resume, dismiss, a full
 * snapshot, listing and events.  Freestanding: no libc; the transport that
 * actually issues hypercalls is supplied by the caller (struct tv_transport),
 * so the same library serves the freestanding control guest and a hosted
 * control VM or the in-process loopback used by tests.
 *
 * A struct tv_client is used by one thread at a time (it owns one shared
 * scratch buffer); give each thread its own client.
 * Every function returns a tv_status_t; outputs are written only on TV_OK
 * (and on TV_E_BUFFER_TOO_SMALL for the string getters). */
#ifndef LIBTASKVISOR_H
#define LIBTASKVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/hypercall.h"
#include "taskvisor/status.h"
#include "taskvisor/task.h"
#include "taskvisor/vm.h"
#include "taskvisor/volume.h"

struct tv_transport {
    void *ctx;
    /* Issues hypercall `code` with five arguments and returns its status
     * (RAX); *out receives RDX.  A continued call (TV_E_CONTINUE) is
     * re-issued by the transport itself (VMCALL does so naturally because
     * RIP is not advanced), so callers never see TV_E_CONTINUE. */
    tv_status_t (*call)(void *ctx, uint32_t code, const uint64_t args[5], uint64_t *out);
    /* Memory the monitor may access: returns a pointer to `size` zeroed bytes
     * aligned to `align` (in guest-physical terms too) and its
     * guest-physical address, or NULL. */
    void *(*shared_alloc)(void *ctx, size_t size, size_t align, uint64_t *gpa_out);
    void (*shared_free)(void *ctx, void *ptr, size_t size);
    /* Optional (NULL for transports whose monitor writes the ring itself):
     * called by tv_events_read before it reads the ring, to append what the
     * transport has received to the ring as its producer would (entries,
     * then head; overflow set when events were lost).  The Linux transport
     * uses it: there the driver owns the monitor's ring and the client's
     * ring is an ordinary buffer fed from /dev/taskvisor. */
    tv_status_t (*events_pull)(void *ctx, struct tv_task_ring *ring);
};

#define TV_CLIENT_SCRATCH_SIZE 4096u

struct tv_client {
    const struct tv_transport *transport;
    void *scratch;            /* TV_CLIENT_SCRATCH_SIZE bytes shared with the monitor */
    uint64_t scratch_gpa;
    struct tv_task_ring *ring; /* registered event ring, NULL if none */
    uint64_t ring_gpa;
};

tv_status_t tv_client_init(struct tv_client *client, const struct tv_transport *transport);
void tv_client_fini(struct tv_client *client); /* unregisters events too */

/* A task handle: what IVMTask is.  Cheap to copy; holds no resources. */
struct tv_task {
    struct tv_client *client;
    uint64_t id;
};
struct tv_task tv_task_handle(struct tv_client *client, uint64_t id);

/* ---- IVMTask ------------------------------------------------------------ */
/* TV_OK accepted; TV_E_NOT_CANCELABLE (IVMTask's E_FAIL: the task goes on);
 * TV_E_INVALID_STATE (finished or already cancelling); TV_E_NOT_FOUND. */
tv_status_t tv_task_cancel(struct tv_task task);
/* timeout_ms: -1 forever, 0..4,000,000.  TV_OK finished, TV_E_TIMEOUT,
 * TV_E_INVALID_ARGUMENT for any other timeout. */
tv_status_t tv_task_wait_for_completion(struct tv_task task, int32_t timeout_ms);
/* Copies the text (NUL-terminated) into buf; *len_out = its full length.
 * TV_E_BUFFER_TOO_SMALL when size <= length (buf then holds a truncated,
 * terminated prefix if size > 0). */
tv_status_t tv_task_description(struct tv_task task, char *buf, size_t size, size_t *len_out);
tv_status_t tv_task_error(struct tv_task task, int32_t *error_out);
tv_status_t tv_task_error_description(struct tv_task task, char *buf, size_t size,
                                      size_t *len_out);
uint64_t tv_task_id(struct tv_task task);
tv_status_t tv_task_is_cancelable(struct tv_task task, bool *out);
tv_status_t tv_task_is_complete(struct tv_task task, bool *out);
tv_status_t tv_task_percent_completed(struct tv_task task, int32_t *out);
tv_status_t tv_task_result(struct tv_task task, enum tv_task_result *out);

/* ---- Beyond IVMTask ----------------------------------------------------- */
tv_status_t tv_task_pause(struct tv_task task);
tv_status_t tv_task_resume(struct tv_task task);
tv_status_t tv_task_dismiss(struct tv_task task);
/* Every property in one consistent snapshot. */
tv_status_t tv_task_query(struct tv_task task, struct tv_task_info *out);
/* Briefs of tasks with id > cursor, ascending; *count_out < cap means the
 * end was reached, else pass out[cap-1].id as the next cursor. */
tv_status_t tv_task_list(struct tv_client *client, uint64_t cursor, uint32_t flags,
                         struct tv_task_event *out, size_t cap, size_t *count_out);

/* ---- Events ------------------------------------------------------------- */
/* Allocates and registers the ring; vector 0 = no interrupt (poll). */
tv_status_t tv_events_register(struct tv_client *client, uint32_t vector);
/* The same with TASK_EVENTS_REGISTER flags: TV_TASK_EVENTS_F_VM adds the VM
 * state changes (entries of kind TV_EVENT_KIND_VM) to the task events. */
tv_status_t tv_events_register_flags(struct tv_client *client, uint32_t vector, uint32_t flags);
tv_status_t tv_events_unregister(struct tv_client *client);
/* Takes up to cap events.  *overflowed is set when events were lost since
 * the last call: re-query every task (tv_task_list) to resynchronise. */
tv_status_t tv_events_read(struct tv_client *client, struct tv_task_event *out, size_t cap,
                           size_t *count_out, bool *overflowed);

/* ---- Image store (client/tv_volumes.c) ------------------------------------ */
/* Volume records from index first on, at most cap; *count_out = records
 * written, *total_out (may be NULL) = volumes in all (0 while none is
 * mounted: the call waits for the boot-time mount to finish). */
tv_status_t tv_volume_list(struct tv_client *client, uint32_t first, struct tv_volume_info *out,
                           size_t cap, size_t *count_out, uint32_t *total_out);
/* Entries of the directory "VOLUME:/path" from entry number cursor on, at
 * most cap; *count_out < cap means the end was reached, else pass cursor +
 * *count_out as the next cursor. */
tv_status_t tv_dir_list(struct tv_client *client, const char *path, uint64_t cursor,
                        struct tv_dir_entry *out, size_t cap, size_t *count_out);
/* Type, sizes and parent chain of the image "VOLUME:/path.vhd". */
tv_status_t tv_disk_info(struct tv_client *client, const char *path, struct tv_disk_info *out);
/* Makes the folder "VOLUME:/path" (DIR_CREATE); its parent must exist. */
tv_status_t tv_dir_create(struct tv_client *client, const char *path);

/* ---- Test builds ---------------------------------------------------------- */
tv_status_t tv_test_task_start(struct tv_client *client, const struct tv_task_test_spec *spec,
                               struct tv_task *task_out);

/* ---- Virtual machines (IVMVirtualMachine) ----------------------------
 * VM records (include/taskvisor/vm.h) and the operations, each a task.
 * The operations refuse before any task exists: TV_E_NOT_FOUND (unknown
 * VM), TV_E_VM_RUNNING, TV_E_VM_NOT_RUNNING, TV_E_INVALID_STATE (pause of a
 * paused VM, resume of a running one), TV_E_BUSY (another operation works
 * on it), TV_E_CONTROL_PARTITION (turn off, reset or pause of the control
 * partition).  Startup is cancelable until the guest's first instruction
 * (a cancel leaves the VM turned off); the others are not cancelable.
 * VM state changes arrive on the event ring (registered with
 * tv_events_register_flags(..., TV_TASK_EVENTS_F_VM)) as entries whose
 * TV_EVENT_KIND(state) is TV_EVENT_KIND_VM. */
/* Up to cap records (at most 8 per call); *count_out = records written. */
tv_status_t tv_vm_list(struct tv_client *client, struct tv_vm_info *out, size_t cap,
                       size_t *count_out);
tv_status_t tv_vm_query(struct tv_client *client, uint32_t vm_id, struct tv_vm_info *out);
/* The id of the VM called name; TV_E_NOT_FOUND if none. */
tv_status_t tv_vm_find(struct tv_client *client, const char *name, uint32_t *id_out);
tv_status_t tv_vm_startup(struct tv_client *client, uint32_t vm_id, struct tv_task *task_out);
tv_status_t tv_vm_turn_off(struct tv_client *client, uint32_t vm_id, struct tv_task *task_out);
tv_status_t tv_vm_reset(struct tv_client *client, uint32_t vm_id, struct tv_task *task_out);
tv_status_t tv_vm_pause(struct tv_client *client, uint32_t vm_id, struct tv_task *task_out);
tv_status_t tv_vm_resume(struct tv_client *client, uint32_t vm_id, struct tv_task *task_out);
/* Save (docs/savestate.md): the VM's memory, vCPU and device state to its
 * saved-state file, then the VM is off and SAVED; tv_vm_startup resumes
 * it.  Refused with TV_E_VM_NOT_RUNNING (off or saved), TV_E_BUSY,
 * TV_E_CONTROL_PARTITION, TV_E_UNSUPPORTED (no file configured).  The
 * task's progress is in bytes of memory; it is cancelable until the file
 * is committed (the VM keeps running, no new saved state).  A Startup from
 * a file that is damaged or does not match ends with
 * TV_E_INCOMPATIBLE_SAVED_STATE and the VM stays SAVED. */
tv_status_t tv_vm_save(struct tv_client *client, uint32_t vm_id, struct tv_task *task_out);

/* ---- Through the guest agent (IVMGuestOS, docs/agent.md) --------------
 * Refused up front like the others, plus TV_E_AGENT_NOT_PRESENT (the VM's
 * agent did not announce the operation) and TV_E_SHUTDOWN_IN_PROGRESS (a
 * shutdown or restart holds the VM).  The task is cancelable until the
 * agent answered (the VM is then left as it was); its error can be
 * TV_E_TIMEOUT (no answer within the monitor's agent_timeout_ms; forced
 * too: no fallback to TurnOff), TV_E_GUEST_LOCKED (only a forced
 * shutdown/restart passes a lock), TV_E_NO_SESSION (logoff),
 * TV_E_SHUTDOWN_IN_PROGRESS (the guest is shutting down already).
 * Shutdown ends with the VM turned off; Restart with a fresh boot. */
tv_status_t tv_vm_shutdown(struct tv_client *client, uint32_t vm_id, bool forced,
                           struct tv_task *task_out);
tv_status_t tv_vm_restart(struct tv_client *client, uint32_t vm_id, bool forced,
                          struct tv_task *task_out);
tv_status_t tv_vm_logoff(struct tv_client *client, uint32_t vm_id, struct tv_task *task_out);
/* CanShutdown: *can_out = the VM runs, its agent announced shutdown and no
 * operation holds it (false for a VM that is off). */
tv_status_t tv_vm_can_shutdown(struct tv_client *client, uint32_t vm_id, bool *can_out);

#endif
