/* Hypercall decoding and dispatch (portable: no arch code, no libc).
 *
 * The vendor exit handler copies the caller's general-purpose registers into
 * a struct hcall_regs, describes the caller (CPL, code width, privilege,
 * memory), calls hcall_dispatch() and acts on the returned action:
 *   HCALL_ADVANCE   write the registers back and advance RIP past the call;
 *   HCALL_CONTINUE  write the registers back, do NOT advance RIP (the guest
 *                   re-executes the call later: a continuation);
 *   HCALL_INJECT_UD inject #UD, registers untouched.
 * All permission checks live in hcall_dispatch(), in this order:
 *   CPL > 0 -> #UD; unknown (or test-only in a normal build) -> UNKNOWN_CALL;
 *   management call from a non-control partition -> ACCESS_DENIED (logged);
 *   then the handler. */
#ifndef VMM_HCALL_H
#define VMM_HCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/hypercall.h"
#include "taskvisor/partition.h"
#include "taskvisor/status.h"
#include "hcall_guest_mem.h"

/* The registers a hypercall reads or writes.  Others are never touched. */
struct hcall_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, r8, r10;
};

#define HCALL_NARGS 5   /* a0..a4: RDI RSI RDX R10 R8 / EBX ECX EDX ESI EDI */
#define HCALL_NOUTS 3   /* o0..o2: RDX RSI RDI     / EDX ESI EDI           */

enum hcall_action {
    HCALL_ADVANCE = 0,
    HCALL_CONTINUE = 1,
    HCALL_INJECT_UD = 2,
};

/* Services the monitor provides to the platform handlers.  Any callback may be
 * NULL: the call that needs it then answers TV_E_UNSUPPORTED. */
struct hcall_services {
    void *ctx;
    /* Feature bits (TV_FEAT_*) for GET_VERSION; TV_FEAT_TEST_CALLS is
     * set or cleared by the dispatcher according to the build. */
    uint32_t (*features)(void *ctx);
    /* Number of partitions, and record `index` (0-based, < count) of the
     * partition list.  The handler clears the record before calling. */
    uint32_t (*partition_count)(void *ctx);
    tv_status_t (*partition_get)(void *ctx, uint32_t index,
                                 struct tv_partition_record *rec);
    /* One log line (no trailing newline). */
    void (*log)(void *ctx, const char *line);
    /* Turns the machine off; returns only on failure, with its status. */
    tv_status_t (*power_off)(void *ctx);
};

/* Who is calling. */
struct hcall_caller {
    uint32_t partition_id;
    bool is_control;           /* the configured control partition */
    uint8_t cpl;               /* current privilege level (0..3) */
    bool wide;                 /* 64-bit code (EFER.LMA && CS.L): 64-bit convention */
    const struct guest_mem_view *mem;   /* the caller's RAM */
    /* Optional per-partition count of ACCESS_DENIED answers, kept by the
     * monitor.  When set, only the first 8 denials and then every power of
     * two are logged, so a guest cannot flood the (slow) log; NULL logs all. */
    uint32_t *denials;
};

/* What a handler sees and returns. */
struct hcall_ctx {
    const struct hcall_caller *caller;
    const struct hcall_services *svc;
    void *host;                /* opaque pointer for handlers added by the monitor */
    uint64_t arg[HCALL_NARGS]; /* already zero-extended for 32-bit callers */
    /* Outputs: a handler sets out[i] and bit i of out_mask. */
    uint64_t out[HCALL_NOUTS];
    uint32_t out_mask;
    /* Continuation: a handler returning TV_E_CONTINUE may rewrite arguments
     * (e.g. remaining wait time): set arg[i] and bit i of arg_update_mask. */
    uint32_t arg_update_mask;
};

/* Helpers the handlers share (one copy, so every call decodes alike). */

/* Arguments from `first` on must be zero (room for future use). */
static inline bool rest_zero(const uint64_t args[HCALL_NARGS], unsigned first)
{
    for (unsigned i = first; i < HCALL_NARGS; i++)
        if (args[i])
            return false;
    return true;
}

/* Sets output o0 (RDX / EDX). */
static inline void set_out0(struct hcall_ctx *ctx, uint64_t value)
{
    ctx->out[0] = value;
    ctx->out_mask |= 1u;
}

typedef tv_status_t (*hcall_handler_fn)(struct hcall_ctx *ctx);

#define HCALL_F_MGMT      (1u << 0)  /* control partition only */
#define HCALL_F_TEST_ONLY (1u << 1)  /* exists only in builds with TV_TEST_BUILD */

struct hcall_desc {
    uint32_t code;             /* enum tv_hypercall */
    const char *name;
    uint32_t flags;            /* HCALL_F_* */
    hcall_handler_fn handler;
};

/* A table is a list of sections, so other files can contribute calls
 * (platform calls here, task calls from the monitor) without editing this
 * directory.  Codes must be unique across all sections: hcall_table_check(). */
struct hcall_section {
    const struct hcall_desc *calls;
    size_t count;
    /* Optional: the section's state for this caller, handed to its handlers
     * as ctx->host (e.g. the task calls' per-partition state).  Without it
     * handlers get env->host.  A NULL answer makes the call UNSUPPORTED. */
    void *(*caller_state)(void *owner, const struct hcall_caller *caller);
    void *owner;
};

struct hcall_table {
    const struct hcall_section *sections;
    size_t nsections;
};

/* The platform calls implemented in hcall_platform.c. */
extern const struct hcall_section hcall_platform_section;
/* GET_VERSION's two outputs (RDX: major<<16 | minor, RSI: TV_FEAT_* bits,
 * TV_FEAT_TEST_CALLS as the build has it): its handler's answer, also
 * given by the monitor's exit fast path without the dispatcher. */
void hcall_version_outputs(const struct hcall_services *svc, uint64_t out[2]);

/* True when this build answers test-only calls (compiled with TV_TEST_BUILD). */
extern const bool hcall_test_build;

/* Checks a table once at start-up: unique codes, names and handlers present,
 * known flags.  On failure *bad (if not NULL) names the offending entry. */
tv_status_t hcall_table_check(const struct hcall_table *table,
                              const struct hcall_desc **bad);

/* Finds `code`; test-only entries are found only when allow_test_only.
 * *section (if not NULL) is set to the section holding the entry. */
const struct hcall_desc *hcall_lookup(const struct hcall_table *table,
                                      uint64_t code, bool allow_test_only,
                                      const struct hcall_section **section);

struct hcall_env {
    const struct hcall_table *table;
    const struct hcall_services *svc;
    void *host;
};

/* Decodes the call in *regs for *caller, checks permissions, runs the
 * handler and writes the results into *regs (see the action comments).
 * Result registers: RAX = status (zero-extended 32-bit value); outputs in
 * RDX, RSI, RDI (for 32-bit callers zero-extended 32-bit values, only the
 * ones the call defines).  Registers a call does not define are preserved. */
enum hcall_action hcall_dispatch(const struct hcall_env *env,
                                 const struct hcall_caller *caller,
                                 struct hcall_regs *regs);

#endif
