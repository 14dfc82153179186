/* Hosted (pthreads) implementation of task_platform.h: extra controls for
 * tests.  Hosted code only. */
#ifndef TASK_PLATFORM_HOSTED_H
#define TASK_PLATFORM_HOSTED_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Manual clock: from now on tp_now_ns() returns a value the test sets.
 * tp_sleep_ns() then advances nothing and returns after a short real pause.
 * start_ns must be > 0. */
void tp_hosted_clock_manual(uint64_t start_ns);
/* Back to the real CLOCK_MONOTONIC clock (the default). */
void tp_hosted_clock_real(void);
/* Moves the manual clock forward and wakes every sleeper so they re-check
 * their deadlines. */
void tp_hosted_clock_advance(uint64_t delta_ns);

/* Allocation accounting (every tp_alloc not yet freed). */
struct tp_hosted_alloc_stats {
    uint64_t live_blocks;
    uint64_t live_bytes;
    uint64_t total_allocs;
};
void tp_hosted_alloc_stats(struct tp_hosted_alloc_stats *out);
/* Makes the n-th next tp_alloc (1 = the very next) return NULL; 0 disables. */
void tp_hosted_fail_alloc_after(uint64_t n);

/* Count of live tp_thread objects (started and not yet joined). */
uint64_t tp_hosted_live_threads(void);

#endif
