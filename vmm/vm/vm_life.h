/* The life of a VM inside the monitor: its state (checked against the one
 * table, services/vm_state.c), the claim an operation holds on it, and the
 * operations themselves -- Startup, TurnOff, Reset, Pause, Resume -- as the
 * task drivers (services/vm_service.c) and the test hooks run them.
 * Each operation may get its task job (progress, cancel point) or NULL. */
#ifndef VMM_VM_LIFE_H
#define VMM_VM_LIFE_H

#include <stdbool.h>
#include <stdint.h>
#include "taskvisor/status.h"
#include "taskvisor/vm.h"
#include "task/task_driver.h"

struct partition;

/* Moves p to `to` if the table allows it (bumps seq, raises the event);
 * TV_E_INVALID_STATE (and no change) otherwise. */
tv_status_t vm_set_state(struct partition *p, uint32_t to);
uint32_t vm_get_state(const struct partition *p);

/* Who hears about state changes (the task event ring).  Called without
 * the VM lock, from any thread. */
typedef void (*vm_event_fn)(uint32_t vm_id, uint64_t seq, uint32_t state);
void vm_set_event_sink(vm_event_fn fn);

/* Reserves p for `op` (enum vm_op) if its state allows it (vm_op_check)
 * and no other operation holds it (TV_E_BUSY); vm_unclaim gives it back. */
tv_status_t vm_claim(struct partition *p, uint32_t op);
void vm_unclaim(struct partition *p);

/* A snapshot of p for VM_LIST / VM_QUERY. */
void vm_fill_info(const struct partition *p, uint32_t caller_id, struct tv_vm_info *out);

/* The operations.  The caller holds the claim.
 * startup: cancelable (TV_E_CANCELLED, VM left turned off) until the vCPU
 * is handed to the scheduler; returns after the guest's first entry.
 * Progress: bytes of RAM reserved + image + initrd loaded.
 * turn_off: never cancelable; returns once everything is freed.
 * Progress: bytes of guest RAM given back.
 * reset: turn_off then startup (not cancelable): a fresh boot.
 * pause / resume: return once the vCPU is held / running again. */
tv_status_t vm_startup(struct partition *p, struct task_job *job);
tv_status_t vm_turn_off(struct partition *p, struct task_job *job);
tv_status_t vm_reset(struct partition *p, struct task_job *job);
tv_status_t vm_pause(struct partition *p, struct task_job *job);
tv_status_t vm_resume(struct partition *p, struct task_job *job);

/* Save and restore (vm/vm_save.c, docs/savestate.md).
 * save: the vCPU held, memory (the chunks the guest touched), vCPU and
 * device state written to "<save_path>.tmp", flushed, then renamed over
 * save_path (the commit, the point of no return), then the partition
 * released: SAVED.  Cancelable until the commit: the temporary file is
 * removed and the VM continues as it was.  Progress: bytes of memory.
 * restore (vm_startup of a SAVED VM): RESTORING, the partition built
 * without its image, the file parsed and checked (INCOMPATIBLE_SAVED_STATE
 * on any mismatch or damage: the VM stays SAVED), the state applied, the
 * file removed, the vCPU launched.  Cancelable until the file is removed. */
tv_status_t vm_save(struct partition *p, struct task_job *job);
tv_status_t vm_restore(struct partition *p, struct task_job *job);
#ifdef TV_TEST_BUILD
void vm_save_test_set_corrupt(uint64_t nth);
#endif

/* Through the guest agent (vm/vm_guest_os.c, docs/agent.md): the request,
 * then at most agent_timeout_ms for the answer (TV_E_TIMEOUT, a forced
 * request too: Virtual PC documents no fallback to TurnOff), then for DONE
 * a TurnOff (shutdown) or a Reset (restart: a fresh boot).  Cancelable
 * until the agent answered (request withdrawn, VM untouched).  Errors:
 * GUEST_LOCKED, NO_SESSION, SHUTDOWN_IN_PROGRESS, AGENT_NOT_PRESENT (the
 * agent left), VM_NOT_RUNNING (the VM stopped meanwhile; for a shutdown a
 * VM that turned itself off is a success). */
#define VM_AGENT_TIMEOUT_MS_DEFAULT 5000u
void vm_set_agent_timeout_ms(uint64_t ms);
tv_status_t vm_shutdown(struct partition *p, struct task_job *job, bool forced);
tv_status_t vm_restart(struct partition *p, struct task_job *job, bool forced);
tv_status_t vm_logoff(struct partition *p, struct task_job *job);

#endif
