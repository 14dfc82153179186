/* The saved-state file of a VM (VM_SAVE writes it, a Startup of a SAVED VM
 * reads it): format, writer helpers and the parser.  Portable: the monitor
 * streams it to a volume through the storage seam, the tests and the fuzz
 * target parse memory buffers.  Layout in docs/savestate.md.
 *
 * The file is untrusted input: the header is checked field by field (magic,
 * version, sizes, its own CRC) and against what must match (memory size,
 * vCPU count, backend vendor, the FPU features the state depends on, the
 * monitor ABI); every record's type, length and fields are checked before
 * anything reaches a VM; the body CRC covers every byte after the header
 * and is checked at the end, before the VM ever runs.  Any failure is
 * TV_E_INCOMPATIBLE_SAVED_STATE. */
#ifndef SERVICES_VM_SAVEFILE_H
#define SERVICES_VM_SAVEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taskvisor/status.h"

#define SAVE_MAGIC        "TVSAVED\n"      /* 8 bytes, no NUL */
#define SAVE_VERSION      1u
#define SAVE_HEADER_SIZE  128u
/* Bumped whenever a record's layout or meaning changes (the monitor ABI
 * the state depends on); a file of another ABI is incompatible. */
#define SAVE_MONITOR_ABI  1u
#define SAVE_CHUNK        (2ull << 20)     /* memory goes in 2 MiB chunks */
#define SAVE_FPU_BYTES    4096u            /* the vCPU's FXSAVE/XSAVE page */
#define SAVE_MAX_MEMORY   (64ull << 30)

enum save_vendor { SAVE_VENDOR_SVM = 1, SAVE_VENDOR_VMX = 2 };

/* fpu_flags */
#define SAVE_FPU_XSAVE (1u << 0)
#define SAVE_FPU_PKU   (1u << 1)

/* What the state depends on: checked equal at restore. */
struct save_compat {
    uint64_t memory_bytes;
    uint32_t vcpu_count;
    uint32_t vendor;          /* enum save_vendor */
    uint64_t xcr0_mask;       /* XCR0 bits the monitor lets guests use */
    uint32_t fpu_flags;       /* SAVE_FPU_* */
    uint32_t monitor_abi;     /* SAVE_MONITOR_ABI */
};

/* The header, decoded (the file holds it little-endian at offset 0). */
struct save_header {
    uint32_t version;
    uint32_t header_size;
    uint64_t file_size;       /* header included */
    uint32_t body_crc;        /* CRC-32 of bytes [header_size, file_size) */
    uint32_t record_count;    /* END included */
    struct save_compat compat;
    char vm_name[32];         /* NUL-terminated; informational */
};

enum save_record_type {
    SAVE_REC_VCPU    = 1,   /* struct save_vcpu */
    SAVE_REC_FPU     = 2,   /* SAVE_FPU_BYTES */
    SAVE_REC_DEVICES = 3,   /* struct save_devices */
    SAVE_REC_MEMORY  = 4,   /* chunk bitmap, then the present chunks */
    SAVE_REC_END     = 5,   /* empty, last */
    SAVE_REC_COUNT
};
#define SAVE_RECORD_HEAD 16u  /* u32 type, u32 zero, u64 payload length */

/* One segment register in the backend's own encoding (attr: SVM's packed
 * 12-bit form, VMX's access-rights word with its unusable bit 16); the
 * vendor is in the header, so a backend only ever reads its own. */
struct save_seg {
    uint16_t sel;
    uint16_t pad;
    uint32_t attr;
    uint32_t limit;
    uint32_t pad2;
    uint64_t base;
};
enum { SAVE_ES, SAVE_CS, SAVE_SS, SAVE_DS, SAVE_FS, SAVE_GS,
       SAVE_GDTR, SAVE_LDTR, SAVE_IDTR, SAVE_TR, SAVE_SEG_COUNT };

/* save_vcpu.pending_event: the event being delivered when the VM stopped.
 * Both vendors share the layout of the low word (SVM EVENTINJ, APM 15.20;
 * VMX VM-entry interruption information, SDM 24.8.3): vector 7:0, type
 * 10:8 (each vendor's own numbers), error valid 11, valid 31; the error
 * code is in 63:32. */
#define SAVE_EVT_VALID     (1ull << 31)
#define SAVE_EVT_ERR_VALID (1ull << 11)
/* save_vcpu.interruptibility, the backend's own form: VMX interruptibility
 * state bits 3:0 (STI, MOV SS, SMI, NMI blocking; SDM 24.4.2), SVM
 * INT_STATE bit 0 (interrupt shadow; APM 15.21.5). */
#define SAVE_INTR_MASK     0xfu

/* Everything of one vCPU; the backend fills the part it keeps in its
 * control block (segments, control and debug registers, the MSRs the
 * VMCB/VMCS holds, the pending event, interruptibility), common code the
 * rest.  Fixed layout, every field 8-aligned. */
struct save_vcpu {
    uint64_t gpr[16];         /* rax rbx rcx rdx rsi rdi rbp r8..r15 rsp (struct vcpu_regs order) */
    uint64_t rip, rflags;
    struct save_seg seg[SAVE_SEG_COUNT];
    uint64_t cr0, cr2, cr3, cr4;
    uint64_t dr[4], dr6, dr7;
    uint64_t efer;            /* guest-visible */
    uint64_t pat, star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pdpte[4];        /* VMX PAE paging; 0 otherwise */
    uint64_t xcr0;
    uint64_t guest_tsc;       /* the guest's TSC when it stopped */
    uint64_t tsc_adjust, tsc_aux, misc_enable_xor, mcg_status;
    uint64_t pending_event;   /* SAVE_EVT_* form, 0 = none */
    uint32_t interruptibility;/* SAVE_INTR_* */
    uint32_t cpl;
    uint32_t pkru;
    uint32_t halted;          /* 0 or 1 */
    uint32_t irq_window;      /* 0 or 1: an interrupt-window exit was asked */
    uint32_t event_insn_len;  /* VMX: instruction length of a software event (0-15) */
    uint64_t debugctl;        /* VMX: IA32_DEBUGCTL of the guest; 0 on SVM */
};

/* The per-partition devices (vmm/dev): virtual UART, CMOS RTC, I/O APIC,
 * the xAPIC-only registers and the virtual local APIC with its timer
 * (times relative to the moment the VM stopped). */
struct save_devices {
    /* vuart */
    uint8_t uart_ier, uart_lcr, uart_mcr, uart_scr, uart_dll, uart_dlm;
    uint8_t uart_thre_pending, uart_irq_line;
    uint32_t uart_line_len, uart_rx_head, uart_rx_tail, uart_pad;
    char uart_line[200];
    uint8_t uart_rx[256];
    /* cmos */
    uint8_t cmos_index;
    uint8_t cmos_pad[7];
    uint8_t cmos_ram[128];
    /* ioapic */
    uint32_t ioapic_id, ioapic_ioregsel;
    uint64_t ioapic_redir[24];
    uint32_t ioapic_level, ioapic_pad;
    /* xapic */
    uint32_t xapic_ldr, xapic_dfr, xapic_icr_low, xapic_icr_high;
    /* vapic */
    uint64_t apic_base;
    uint32_t apic_id, apic_tpr, apic_svr, apic_lvt_timer, apic_lvt_error;
    uint32_t apic_lvt_lint0, apic_lvt_lint1, apic_initial_count, apic_divide_config;
    uint32_t apic_nmi_pending;
    uint64_t apic_tsc_deadline;
    uint64_t apic_timer_left_ns;    /* until the next expiry; 0 = disarmed */
    uint64_t apic_timer_period_ns;
    uint64_t apic_timer_elapsed_ns; /* since the count was loaded */
    uint64_t apic_irr[4], apic_isr[4];
    uint64_t posted_irr[4];
};

/* ---- CRC ---------------------------------------------------------------- */
uint32_t save_crc32(uint32_t crc, const void *buf, size_t len);

/* ---- Writing ------------------------------------------------------------ */
/* Encodes the header (its CRC included) into out[SAVE_HEADER_SIZE]. */
void save_header_encode(const struct save_header *h, uint8_t out[SAVE_HEADER_SIZE]);
/* A record head: out[SAVE_RECORD_HEAD]. */
void save_record_head(uint32_t type, uint64_t length, uint8_t out[SAVE_RECORD_HEAD]);
/* Bytes of the memory record's bitmap for memory_bytes (8-aligned). */
uint64_t save_bitmap_bytes(uint64_t memory_bytes);

/* A sequential writer of the body: each put goes to write() at the
 * running offset (from SAVE_HEADER_SIZE) and into the body CRC.  The
 * header is written last (save_writer_finish), once the body is complete. */
typedef tv_status_t (*save_write_fn)(void *ctx, uint64_t off, const void *buf, size_t len);
struct save_writer {
    save_write_fn write;
    void *ctx;
    uint64_t off;
    uint32_t crc;
    uint32_t records;
};
void save_writer_init(struct save_writer *w, save_write_fn write, void *ctx);
tv_status_t save_writer_put(struct save_writer *w, const void *buf, size_t len);
tv_status_t save_writer_record(struct save_writer *w, uint32_t type, uint64_t length);
/* Writes the END record and the header (compat and name from h); returns
 * the file size in *size. */
tv_status_t save_writer_finish(struct save_writer *w, struct save_header *h, uint64_t *size);

/* ---- Reading ------------------------------------------------------------ */
/* Decodes and checks the header, then checks it against want (NULL: no
 * compatibility check, the fuzz target's and tvsave's case) and the actual
 * file size.  TV_E_INCOMPATIBLE_SAVED_STATE on any problem. */
tv_status_t save_header_decode(const uint8_t in[SAVE_HEADER_SIZE], uint64_t file_size,
                               const struct save_compat *want, struct save_header *out);

/* Field checks of the fixed records (what could not come from a running
 * VM: flags out of range, indexes past their buffers, reserved bits). */
tv_status_t save_vcpu_check(const struct save_vcpu *v);
tv_status_t save_devices_check(const struct save_devices *d);
/* The legacy/XSAVE header of an FPU image (SDM 13.4): MXCSR reserved bits
 * clear (mxcsr_mask as the CPU reports it, 0 = the default 0xffbf), and
 * with XSAVE: XSTATE_BV within xcr0_mask, XCOMP_BV zero (standard form),
 * the header's reserved bytes zero.  What XRSTOR would fault on. */
tv_status_t save_fpu_check(const uint8_t fpu[SAVE_FPU_BYTES], bool xsave, uint64_t xcr0_mask,
                           uint32_t mxcsr_mask);

/* The parser: reads a whole file through read(), validates the structure
 * (each record once, in order VCPU FPU DEVICES MEMORY END, lengths exact,
 * the memory bitmap within the memory size, nothing after END) and the
 * body CRC, and hands each piece to the sink.  A sink returning an error
 * stops the parse with that error.  Memory is handed over in pieces of at
 * most buf_len bytes (gpa, bytes). */
struct save_sink {
    void *ctx;
    tv_status_t (*vcpu)(void *ctx, const struct save_vcpu *v);
    tv_status_t (*fpu)(void *ctx, const uint8_t *fpu);
    tv_status_t (*devices)(void *ctx, const struct save_devices *d);
    tv_status_t (*memory)(void *ctx, uint64_t gpa, const void *data, size_t len);
    /* Progress in bytes of memory restored so far; may cancel. */
    tv_status_t (*progress)(void *ctx, uint64_t done);
};
typedef tv_status_t (*save_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);
/* buf: a scratch buffer of buf_len bytes (a multiple of 4096, at least
 * 8192: the memory bitmap takes its first 4 KiB).  The fpu/xsave check parameters
 * are the restoring CPU's.  Errors from read() are returned as they are
 * (an I/O error is not an incompatible state); everything about the
 * contents is TV_E_INCOMPATIBLE_SAVED_STATE. */
tv_status_t save_parse(save_read_fn read, void *rctx, uint64_t file_size,
                       const struct save_compat *want, uint32_t mxcsr_mask,
                       const struct save_sink *sink, void *buf, size_t buf_len,
                       struct save_header *hdr);

#endif
