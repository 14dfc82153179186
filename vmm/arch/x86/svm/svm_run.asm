; One guest entry under SVM (AMD APM vol. 2 15.5): save the host's hidden
; state with VMSAVE, load the guest's with VMLOAD, VMRUN, then the reverse.
; The host GS base (per-CPU data) is back before the C code runs again.
bits 64
default rel

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
    mov rbx, [rax + 8*1]
    mov rcx, [rax + 8*2]
    mov rdx, [rax + 8*3]
    mov rsi, [rax + 8*4]
    mov rdi, [rax + 8*5]
    mov rbp, [rax + 8*6]
    mov r8,  [rax + 8*7]
    mov r9,  [rax + 8*8]
    mov r10, [rax + 8*9]
    mov r11, [rax + 8*10]
    mov r12, [rax + 8*11]
    mov r13, [rax + 8*12]
    mov r14, [rax + 8*13]
    mov r15, [rax + 8*14]

    mov rax, [rsp]          ; vmcb (guest RAX lives in the VMCB)
    vmload                  ; rAX implicit
    vmrun                  ; rAX implicit
    vmsave                  ; rAX implicit

    mov rax, [rsp + 8]      ; regs
    mov [rax + 8*1], rbx
    mov [rax + 8*2], rcx
    mov [rax + 8*3], rdx
    mov [rax + 8*4], rsi
    mov [rax + 8*5], rdi
    mov [rax + 8*6], rbp
    mov [rax + 8*7], r8
    mov [rax + 8*8], r9
    mov [rax + 8*9], r10
    mov [rax + 8*10], r11
    mov [rax + 8*11], r12
    mov [rax + 8*12], r13
    mov [rax + 8*13], r14
    mov [rax + 8*14], r15

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
