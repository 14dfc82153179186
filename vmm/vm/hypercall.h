/* The monitor's one hypercall table: the platform calls plus the sections
 * services add at start-up (task calls now).  The table is checked once,
 * when it is sealed, before any partition runs: an invalid table refuses
 * to boot instead of failing on the first call. */
#ifndef VM_HYPERCALL_H
#define VM_HYPERCALL_H

#include "hcall/hcall.h"
#include "taskvisor/status.h"

#define HYPERCALL_MAX_SECTIONS 8

/* Adds a section (before hypercall_table_seal only). */
tv_status_t hypercall_add_section(const struct hcall_section *sec);
/* Checks the whole table; on failure logs the offending entry and returns
 * its status. */
tv_status_t hypercall_table_seal(void);

#endif
