/* svm_insns: the SVM instructions a guest must not use all raise #UD. */
#include "guest.h"

static uint8_t scratch[4096] __attribute__((aligned(4096)));

static void do_vmrun(void *a) { __asm__ volatile("vmrun" :: "a"(a) : "memory"); }
static void do_vmload(void *a) { __asm__ volatile("vmload" :: "a"(a) : "memory"); }
static void do_vmsave(void *a) { __asm__ volatile("vmsave" :: "a"(a) : "memory"); }
static void do_stgi(void *a) { (void)a; __asm__ volatile("stgi" ::: "memory"); }
static void do_clgi(void *a) { (void)a; __asm__ volatile("clgi" ::: "memory"); }
static void do_skinit(void *a) { __asm__ volatile("skinit" :: "a"(a) : "memory"); }
static void do_invlpga(void *a) { __asm__ volatile("invlpga" :: "a"(a), "c"(0) : "memory"); }

struct insn {
    const char *name;
    void (*fn)(void *);
};

static const struct insn insns[] = {
    { "VMRUN", do_vmrun },   { "VMLOAD", do_vmload }, { "VMSAVE", do_vmsave },
    { "STGI", do_stgi },     { "CLGI", do_clgi },     { "SKINIT", do_skinit },
    { "INVLPGA", do_invlpga },
};

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    for (size_t i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
        struct guest_trap t;
        int v = guest_try(insns[i].fn, scratch, &t);
        reportf(v == VEC_UD, "%s raises #UD (got %s)", insns[i].name,
                v == GUEST_NO_TRAP ? "no exception" : guest_vector_name(v));
    }
    /* Still alive and able to make a hypercall after all of that. */
    if (guest_on_taskvisor()) {
        tv_status_t st = tv_hypercall(TV_HC_NOP, 0, 0, 0, 0, 0, NULL);
        reportf(st == TV_OK, "NOP hypercall afterwards (status %d)", st);
    } else {
        report_skip("NOP hypercall afterwards", "not running under Taskvisor");
    }
    guest_exit_summary();
}
