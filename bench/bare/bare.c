/* The bare reference monitor of `make bench`: the least a monitor can do per
 * exit, to read Taskvisor's exit costs against.  It loads one Multiboot1 guest
 * (the first module; its string is the guest's command line) into identity-
 * mapped memory, enters it once through SVM+NPT or VMX+EPT+unrestricted
 * guest, and then only answers: VMMCALL/VMCALL with RAX=0 (TV_OK) and RIP
 * advanced (by next-RIP or the exit's instruction length where the CPU gives
 * them, else by the known 3 bytes), CPUID with the host's own values and RIP
 * advanced (2 bytes).  The guest's I/O and MSR accesses are not intercepted:
 * it writes the serial port and its exit port itself.  HLT or anything else
 * ends the run through port 0xf4 (0x10 after a HLT, 0x11 otherwise).
 * Shares no code with the monitor on purpose: it is the yardstick. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bare_hw.h"

extern uint64_t bare_gdt[5];
int bare_vmx_run(struct gregs *g, int launched);
extern char bare_vmx_exit[];

static struct gregs g;
static uint8_t page_vmcb[4096] __attribute__((aligned(4096)));
static uint8_t page_hsave[4096] __attribute__((aligned(4096)));
static uint8_t page_vmxon[4096] __attribute__((aligned(4096)));
static uint8_t page_msrbm[4096] __attribute__((aligned(4096)));
static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[4][512] __attribute__((aligned(4096)));
static uint8_t tss[104] __attribute__((aligned(16)));
/* The guest's boot information and command line (identity-mapped: the guest
 * reads them where they are). */
static uint32_t guest_mbi[16];
static char guest_cmdline[256];
/* The module is copied here first: the loader may have put it where the
 * guest's image goes. */
static uint8_t module_copy[4u << 20];

/* ---- hardware access (outb, inb, rdmsr, wrmsr: bare_hw.h) ---- */
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t rdcr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t rdcr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t rdcr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void wrcr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v)); }
static inline void wrcr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v)); }

/* ---- serial output (COM1, as the firmware left it; putc_, puts_: bare_hw.h) ---- */
static void serial_init(void)
{
    outb(0x3f9, 0);      /* no interrupts */
    outb(0x3fb, 0x80);   /* divisor latch */
    outb(0x3f8, 1);      /* 115200 baud */
    outb(0x3f9, 0);
    outb(0x3fb, 0x03);   /* 8N1 */
    outb(0x3fa, 0xc7);   /* FIFOs on, cleared */
}
static void puthex(uint64_t v)
{
    puts_("0x");
    for (int i = 60; i >= 0; i -= 4)
        putc_("0123456789abcdef"[(v >> i) & 15]);
}

static __attribute__((noreturn)) void finish(uint8_t code, const char *why, uint64_t detail)
{
    puts_("BARE: ");
    puts_(why);
    puts_(" ");
    puthex(detail);
    puts_("\n");
    outb(0xf4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void copy(void *d, const void *s, uint64_t n)
{
    uint8_t *dd = d;
    const uint8_t *ss = s;
    while (n--)
        *dd++ = *ss++;
}
static void zero(void *d, uint64_t n) { uint8_t *dd = d; while (n--) *dd++ = 0; }

/* ---- the guest: a Multiboot1 image with the a.out kludge ---- */
struct mb1_mod { uint32_t start, end, string, reserved; };

static uint32_t load_guest(uint32_t info)
{
    const uint32_t *mbi = (const uint32_t *)(uintptr_t)info;
    if (!(mbi[0] & (1u << 3)) || mbi[5] == 0)
        finish(0x11, "no guest module", mbi[0]);
    const struct mb1_mod *mod = (const struct mb1_mod *)(uintptr_t)mbi[6];
    uint64_t size = mod->end - mod->start;
    if (size > sizeof module_copy)
        finish(0x11, "guest module too large", size);
    copy(module_copy, (const void *)(uintptr_t)mod->start, size);
    if (mod->string) {
        const char *s = (const char *)(uintptr_t)mod->string;
        uint32_t n = 0;
        while (s[n] && n + 1 < sizeof guest_cmdline) {
            guest_cmdline[n] = s[n];
            n++;
        }
        guest_cmdline[n] = 0;
    }
    for (uint64_t off = 0; off + 32 <= size && off < 8192; off += 4) {
        const uint32_t *h = (const uint32_t *)(module_copy + off);
        if (h[0] != 0x1BADB002u || h[0] + h[1] + h[2] != 0 || !(h[1] & (1u << 16)))
            continue;
        uint32_t header_addr = h[3], load = h[4], load_end = h[5], bss_end = h[6], entry = h[7];
        uint64_t file_off = off - (header_addr - load);
        if (load < 0x100000 || load_end < load || bss_end < load_end ||
            (uint64_t)bss_end > 0x1000000 || file_off + (load_end - load) > size)
            finish(0x11, "guest Multiboot header out of range", load);
        copy((void *)(uintptr_t)load, module_copy + file_off, load_end - load);
        zero((void *)(uintptr_t)load_end, bss_end - load_end);
        guest_mbi[0] = (1u << 0) | (1u << 2); /* memory sizes, command line */
        guest_mbi[1] = 640;
        guest_mbi[2] = 63 * 1024;
        guest_mbi[4] = (uint32_t)(uintptr_t)guest_cmdline;
        return entry;
    }
    finish(0x11, "guest has no Multiboot1 header with load addresses", 0);
}

/* ---- SVM (APM vol. 2, 15.5 and appendix B: VMCB layout) ---- */
#define VMCB(off, type) VMCB_AT(page_vmcb, off, type)

static __attribute__((noreturn)) void run_svm(uint32_t entry)
{
    uint32_t r[4];
    cpuid(0x8000000a, 0, r);
    bool nrips = (r[3] >> 3) & 1;
    svm_enable(page_hsave);
    VMCB(0x00c, uint32_t) = (1u << 18) | (1u << 24) | (1u << 31); /* CPUID, HLT, SHUTDOWN */
    VMCB(0x010, uint32_t) = (1u << 0) | (1u << 1);                /* VMRUN, VMMCALL */
    VMCB(0x058, uint32_t) = 1;                                    /* ASID */
    VMCB(0x090, uint64_t) = 1;                                    /* nested paging */
    VMCB(0x0b0, uint64_t) = (uint64_t)(uintptr_t)bare_pml4;       /* nCR3 */
    svm_guest_flat32(page_vmcb, entry);
    VMCB(0x5f8, uint64_t) = 0x2badb002;        /* RAX: the Multiboot1 magic */
    g.rbx = (uint64_t)(uintptr_t)guest_mbi;
    puts_(nrips ? "BARE: SVM with next-RIP, entering the guest\n"
                : "BARE: SVM without next-RIP, entering the guest\n");
    uint64_t vmcb_pa = (uint64_t)(uintptr_t)page_vmcb;
    for (;;) {
        bare_svm_run(vmcb_pa, &g);
        uint64_t code = VMCB(0x070, uint64_t);
        if (code == 0x81) {                        /* VMMCALL */
            VMCB(0x5f8, uint64_t) = 0;
            VMCB(0x578, uint64_t) = nrips ? VMCB(0x0c8, uint64_t) : VMCB(0x578, uint64_t) + 3;
        } else if (code == 0x72) {                 /* CPUID */
            cpuid((uint32_t)VMCB(0x5f8, uint64_t), (uint32_t)g.rcx, r);
            VMCB(0x5f8, uint64_t) = r[0];
            g.rbx = r[1];
            g.rcx = r[2];
            g.rdx = r[3];
            VMCB(0x578, uint64_t) = nrips ? VMCB(0x0c8, uint64_t) : VMCB(0x578, uint64_t) + 2;
        } else if (code == 0x78) {
            finish(0x10, "guest halted at", VMCB(0x578, uint64_t));
        } else {
            finish(0x11, "unexpected SVM exit", code);
        }
    }
}

/* ---- VMX (SDM vol. 3C, chapters 24-27) ---- */
static inline void vmwrite(uint64_t f, uint64_t v) { __asm__ volatile("vmwrite %1, %0" :: "r"(f), "rm"(v) : "cc"); }
static inline uint64_t vmread(uint64_t f) { uint64_t v; __asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(f) : "cc"); return v; }

/* Controls: bits the capability MSR requires set (low half) are forced on,
 * bits it does not allow (high half clear) are refused. */
static uint32_t ctl(uint32_t msr, uint32_t want, const char *what)
{
    uint64_t cap = rdmsr(msr);
    uint32_t v = (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
    if ((v & want) != want)
        finish(0x11, what, want & ~v);
    return v;
}

static __attribute__((noreturn)) void run_vmx(uint32_t entry)
{
    uint64_t basic = rdmsr(0x480);
    bool truectl = (basic >> 55) & 1;
    uint64_t fc = rdmsr(0x3a);
    if (!(fc & 1))
        wrmsr(0x3a, fc | 1 | 4);                          /* lock, VMXON outside SMX */
    else if (!(fc & 4))
        finish(0x11, "VMX disabled by IA32_FEATURE_CONTROL", fc);
    wrcr0((rdcr0() | rdmsr(0x486)) & rdmsr(0x487));
    wrcr4(((rdcr4() | (1u << 13)) | rdmsr(0x488)) & rdmsr(0x489));
    *(uint32_t *)page_vmxon = (uint32_t)basic & 0x7fffffff;
    *(uint32_t *)page_vmcb = (uint32_t)basic & 0x7fffffff;
    uint64_t pa = (uint64_t)(uintptr_t)page_vmxon;
    uint8_t fail;
    __asm__ volatile("vmxon %1; setbe %0" : "=r"(fail) : "m"(pa) : "cc", "memory");
    if (fail)
        finish(0x11, "VMXON failed", 0);
    pa = (uint64_t)(uintptr_t)page_vmcb;
    __asm__ volatile("vmclear %1; setbe %0" : "=r"(fail) : "m"(pa) : "cc", "memory");
    __asm__ volatile("vmptrld %1; setbe %0" : "=r"(fail) : "m"(pa) : "cc", "memory");
    if (fail)
        finish(0x11, "VMPTRLD failed", 0);

    /* EPT: identity map of 4 GiB, 2 MiB leaves, write-back. */
    ept_pml4[0] = (uint64_t)(uintptr_t)ept_pdpt | 7;
    for (int i = 0; i < 4; i++) {
        ept_pdpt[i] = (uint64_t)(uintptr_t)ept_pd[i] | 7;
        for (int j = 0; j < 512; j++)
            ept_pd[i][j] = ((uint64_t)(i * 512 + j) << 21) | 7 | (6u << 3) | (1u << 7);
    }

    vmwrite(0x4000, ctl(truectl ? 0x48d : 0x481, 0, "pin controls"));
    /* HLT exiting, MSR bitmaps (all clear: no MSR exits), secondary controls. */
    vmwrite(0x4002, ctl(truectl ? 0x48e : 0x482, (1u << 7) | (1u << 28) | (1u << 31), "processor controls"));
    vmwrite(0x401e, ctl(0x48b, (1u << 1) | (1u << 7), "EPT and unrestricted guest"));
    /* 64-bit host, save/load EFER on exit; load EFER on entry. */
    vmwrite(0x400c, ctl(truectl ? 0x48f : 0x483, (1u << 9) | (1u << 20) | (1u << 21), "exit controls"));
    vmwrite(0x4012, ctl(truectl ? 0x490 : 0x484, 1u << 15, "entry controls"));
    vmwrite(0x2004, (uint64_t)(uintptr_t)page_msrbm);
    vmwrite(0x201a, (uint64_t)(uintptr_t)ept_pml4 | 0x1e);
    vmwrite(0x4004, 0);                                    /* exception bitmap */
    vmwrite(0x2800, ~0ull);                                /* VMCS link pointer */
    /* CR0.NE and CR4.VMXE must stay set: owned by us, shadowed for the guest. */
    vmwrite(0x6000, 1u << 5);
    vmwrite(0x6004, 0x31);
    vmwrite(0x6002, 1u << 13);
    vmwrite(0x6006, 0);

    /* Host state: this code's own. */
    uint64_t tssa = (uint64_t)(uintptr_t)tss;
    bare_gdt[3] = 0x67 | ((tssa & 0xffffff) << 16) | (0x89ull << 40) | (((tssa >> 24) & 0xff) << 56);
    bare_gdt[4] = tssa >> 32;
    __asm__ volatile("ltr %w0" :: "r"(0x18));
    struct __attribute__((packed)) { uint16_t lim; uint64_t base; } gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    vmwrite(0x6c00, rdcr0());
    vmwrite(0x6c02, rdcr3());
    vmwrite(0x6c04, rdcr4());
    vmwrite(0x0c00, 0x10); vmwrite(0x0c02, 0x08); vmwrite(0x0c04, 0x10);
    vmwrite(0x0c06, 0x10); vmwrite(0x0c08, 0); vmwrite(0x0c0a, 0); vmwrite(0x0c0c, 0x18);
    vmwrite(0x6c06, 0); vmwrite(0x6c08, 0); vmwrite(0x6c0a, tssa);
    vmwrite(0x6c0c, gdtr.base); vmwrite(0x6c0e, 0);
    vmwrite(0x4c00, 0); vmwrite(0x6c10, 0); vmwrite(0x6c12, 0);
    vmwrite(0x2c02, rdmsr(0xc0000080));
    vmwrite(0x6c16, (uint64_t)(uintptr_t)bare_vmx_exit);

    /* Guest state: 32-bit flat protected mode, paging off (Multiboot1). */
    static const uint16_t sel[6] = { 0x10, 0x08, 0x10, 0x10, 0x10, 0x10 }; /* ES CS SS DS FS GS */
    for (int i = 0; i < 6; i++) {
        vmwrite(0x0800 + 2 * i, sel[i]);
        vmwrite(0x4800 + 2 * i, 0xffffffff);
        vmwrite(0x4814 + 2 * i, i == 1 ? 0xc09b : 0xc093);
        vmwrite(0x6806 + 2 * i, 0);
    }
    vmwrite(0x080c, 0); vmwrite(0x480c, 0); vmwrite(0x4820, 1u << 16); vmwrite(0x6812, 0);
    vmwrite(0x080e, 0); vmwrite(0x480e, 0x67); vmwrite(0x4822, 0x8b); vmwrite(0x6814, 0);
    vmwrite(0x4810, 0xffff); vmwrite(0x6816, 0);
    vmwrite(0x4812, 0xffff); vmwrite(0x6818, 0);
    vmwrite(0x6800, 0x31);                                 /* CR0: PE | ET | NE */
    vmwrite(0x6802, 0);
    vmwrite(0x6804, 1u << 13);                             /* CR4: VMXE (shadowed) */
    vmwrite(0x681a, 0x400);
    vmwrite(0x681c, 0);
    vmwrite(0x681e, entry);
    vmwrite(0x6820, 2);
    vmwrite(0x6822, 0);
    vmwrite(0x4824, 0);
    vmwrite(0x4826, 0);
    vmwrite(0x482a, 0); vmwrite(0x6824, 0); vmwrite(0x6826, 0);
    vmwrite(0x2806, 0);                                    /* guest EFER */
    g.rbx = (uint64_t)(uintptr_t)guest_mbi;
    g.rax = 0x2badb002;
    puts_("BARE: VMX, entering the guest\n");
    int launched = 0;
    uint32_t r[4];
    for (;;) {
        if (bare_vmx_run(&g, launched))
            finish(0x11, "VM entry failed, VM-instruction error", vmread(0x4400));
        launched = 1;
        uint32_t reason = (uint32_t)vmread(0x4402);
        if (reason == 18) {                                /* VMCALL */
            g.rax = 0;
            vmwrite(0x681e, vmread(0x681e) + vmread(0x440c));
        } else if (reason == 10) {                         /* CPUID */
            cpuid((uint32_t)g.rax, (uint32_t)g.rcx, r);
            g.rax = r[0];
            g.rbx = r[1];
            g.rcx = r[2];
            g.rdx = r[3];
            vmwrite(0x681e, vmread(0x681e) + vmread(0x440c));
        } else if (reason == 12) {
            finish(0x10, "guest halted at", vmread(0x681e));
        } else {
            finish(0x11, "unexpected VMX exit", reason | ((uint64_t)vmread(0x6400) << 32));
        }
    }
}

void bare_main(uint32_t magic, uint32_t info)
{
    serial_init();
    puts_("BARE: reference monitor\n");
    if (magic != 0x2badb002u)
        finish(0x11, "not started by a Multiboot1 loader", magic);
    uint32_t entry = load_guest(info);
    uint32_t r[4];
    cpuid(0x80000001, 0, r);
    bool svm = (r[2] >> 2) & 1;
    cpuid(1, 0, r);
    bool vmx = (r[2] >> 5) & 1;
    if (svm) {
        cpuid(0x8000000a, 0, r);
        if (!(r[3] & 1))
            finish(0x11, "SVM without nested paging", r[3]);
        run_svm(entry);
    }
    if (vmx)
        run_vmx(entry);
    finish(0x11, "neither SVM nor VMX", 0);
}
