/* Names for tv_status_t values, for logs, tools and tests. */
#ifndef TV_STATUS_NAMES_H
#define TV_STATUS_NAMES_H

#include "taskvisor/status.h"

/* Stable upper-case name ("INVALID_ARGUMENT"); "UNKNOWN_STATUS" for others. */
const char *tv_status_name(tv_status_t status);
/* Short human sentence for the status. */
const char *tv_status_text(tv_status_t status);

#endif
