/* Taskvisor hypercall ABI (shared by monitor, guests and clients).
 *
 * Instruction: VMMCALL on AMD, VMCALL on Intel (a guest may use either; the
 * monitor accepts the one its CPU runs).  Must be issued at CPL 0, otherwise
 * #UD is injected.
 * 64-bit callers: call code in RAX; arguments in RDI, RSI, RDX, R10, R8.
 * 32-bit callers: call code in EAX; arguments in EBX, ECX, EDX, ESI, EDI.
 * Result: tv_status_t in RAX (include/taskvisor/status.h); some calls return a
 * second value in RDX (EDX for 32-bit callers: low half only).
 * Pointers are guest-physical addresses inside the caller's own memory.
 * See docs/hypercalls.md for every call. */
#ifndef TASKVISOR_HYPERCALL_H
#define TASKVISOR_HYPERCALL_H

#include <stdint.h>

#define TV_ABI_VERSION_MAJOR 1
#define TV_ABI_VERSION_MINOR 0

/* CPUID leaf 0x40000000: EAX = highest hypervisor leaf,
 * EBX:ECX:EDX = "TaskvisorTV!" */
#define TV_CPUID_BASE         0x40000000u
#define TV_CPUID_SIGNATURE_EBX 0x6b736154u /* "Task" */
#define TV_CPUID_SIGNATURE_ECX 0x6f736976u /* "viso" */
#define TV_CPUID_SIGNATURE_EDX 0x21565472u /* "rTV!" */
/* 0x40000001: EAX = ABI major<<16 | minor; EBX = feature bits (TV_FEAT_*) */
/* 0x40000010: EAX = TSC frequency in kHz, EBX = virtual APIC timer frequency in kHz */
#define TV_CPUID_LEAF_VERSION 0x40000001u
#define TV_CPUID_LEAF_TIMING  0x40000010u
#define TV_CPUID_MAX_LEAF     TV_CPUID_LEAF_TIMING

/* Call codes.  0x000-0x0ff: platform; 0x100-0x1ff: tasks; 0x200-0x2ff: disks;
 * 0x300-0x3ff: virtual machines (include/taskvisor/vm.h);
 * 0xf00-0xfff: test builds only (absent from normal builds: UNKNOWN_CALL). */
enum tv_hypercall {
    TV_HC_NOP                  = 0x000, /* cheapest exit: returns TV_OK */
    TV_HC_GET_VERSION          = 0x001, /* RDX <- major<<16|minor; R?: see docs */
    TV_HC_PARTITION_LIST       = 0x002, /* management */
    TV_HC_POWER_OFF            = 0x003, /* management: returns only on failure */

    TV_HC_TASK_QUERY           = 0x100,
    TV_HC_TASK_LIST            = 0x101,
    TV_HC_TASK_CANCEL          = 0x102,
    TV_HC_TASK_PAUSE           = 0x103,
    TV_HC_TASK_RESUME          = 0x104,
    TV_HC_TASK_DISMISS         = 0x105,
    TV_HC_TASK_WAIT            = 0x106,
    TV_HC_TASK_EVENTS_REGISTER = 0x107,

    /* 0x200-0x20f: the image store's short calls (records in
     * taskvisor/volume.h); 0x210-0x21f: the long disk operations
     * (taskvisor/disk.h).  All management. */
    TV_HC_VOLUME_LIST          = 0x200,
    TV_HC_DIR_LIST             = 0x201,
    TV_HC_DISK_INFO            = 0x202,
    TV_HC_DIR_CREATE           = 0x203, /* a0 gpa, a1 length of "VOLUME:/path" of a new folder */
    TV_HC_DISK_START           = 0x210, /* a0 task type, a1 gpa of its record, a2 size -> o0 task id */

    TV_HC_VM_LIST              = 0x300,
    TV_HC_VM_QUERY             = 0x301,
    TV_HC_VM_STARTUP           = 0x302,
    TV_HC_VM_TURN_OFF          = 0x303,
    TV_HC_VM_RESET             = 0x304,
    TV_HC_VM_PAUSE             = 0x305,
    TV_HC_VM_RESUME            = 0x306,
    TV_HC_VM_SHUTDOWN          = 0x307, /* through the guest agent */
    TV_HC_VM_RESTART           = 0x308,
    TV_HC_VM_LOGOFF            = 0x309,
    TV_HC_VM_CAN_SHUTDOWN      = 0x30a, /* a query, not a task */
    TV_HC_VM_SAVE              = 0x30b, /* a task: the VM's state to its file, then SAVED */
    /* 0x380-0x38f: the guest agent's own calls (include/taskvisor/agent.h);
     * not management calls: a partition acts on its own agent only. */
    TV_HC_AGENT_ANNOUNCE       = 0x380,
    TV_HC_AGENT_POLL           = 0x381,
    TV_HC_AGENT_ANSWER         = 0x382,
    TV_HC_AGENT_DEPART         = 0x383,

    TV_HC_TEST_TASK_START      = 0xf00, /* test builds only */
};

/* Feature bits reported by GET_VERSION (RSI) and CPUID 0x40000001 EBX. */
#define TV_FEAT_TASKS       (1u << 0)
#define TV_FEAT_TASK_EVENTS (1u << 1)
#define TV_FEAT_VMS         (1u << 2) /* the VM_* calls */
#define TV_FEAT_AGENT       (1u << 3) /* the AGENT_* calls */
#define TV_FEAT_TEST_CALLS  (1u << 31)

/* Guest-visible test/exit device: a 32-bit OUT of code to this port stops the
 * calling partition and records the code (0 = success).  It never ends the
 * emulator run; only the monitor does that. */
#define TV_GUEST_EXIT_PORT  0x00f4

#endif
