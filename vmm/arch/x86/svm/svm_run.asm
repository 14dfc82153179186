; One guest entry under SVM (AMD APM vol. 2 15.5): save the host's hidden
; state with VMSAVE, load the guest's with VMLOAD, VMRUN, then the reverse.
; The host GS base (per-CPU data) is back before the C code runs again.
bits 64
default rel
%include "vmm/arch/x86/guest_gprs.inc"

section .text
; void svm_vmrun(uint64_t vmcb_pa, struct vcpu_regs *regs, uint64_t host_save_pa)
; struct vcpu_regs: rax rbx rcx rdx rsi rdi rbp r8..r15 (8 bytes each)
global svm_vmrun
svm_vmrun:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rdx                ; [rsp+16] host save area
    push rsi                ; [rsp+8]  regs
    push rdi                ; [rsp+0]  vmcb

    mov rax, rdx
    vmsave                  ; rAX implicit              ; host FS/GS/TR/LDTR/KernelGSBase/STAR/SYSENTER

    mov rax, rsi
    LOAD_GUEST_GPRS rax

    mov rax, [rsp]          ; vmcb (guest RAX lives in the VMCB)
    vmload                  ; rAX implicit
    vmrun                  ; rAX implicit
    vmsave                  ; rAX implicit

    mov rax, [rsp + 8]      ; regs
    STORE_GUEST_GPRS rax

    mov rax, [rsp + 16]
    vmload                  ; rAX implicit              ; host hidden state back (GS base first of all)

    add rsp, 24
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

global svm_clgi
svm_clgi:
    clgi
    ret

global svm_stgi
svm_stgi:
    stgi
    ret
