; One guest entry under VMX (Intel SDM vol. 3 ch. 26-27).  The VMCS holds
; the guest's RSP/RIP/RFLAGS and the host state; the other GPRs and CR2 are
; switched here.  HOST_RSP is written on every entry (the thread's stack),
; HOST_RIP points at vmx_exit_point once per VMCS.
bits 64
default rel
%include "vmm/arch/x86/guest_gprs.inc"

VMCS_HOST_RSP equ 0x6c14

section .text
; int vmx_enter(struct vcpu_regs *regs, uint64_t launched, uint64_t *guest_cr2)
; returns 0 after a VM exit, 1 on VMfailInvalid, 2 on VMfailValid
; struct vcpu_regs: rax rbx rcx rdx rsi rdi rbp r8..r15 (8 bytes each)
global vmx_enter
global vmx_exit_point
vmx_enter:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rdx                ; [rsp+16] guest CR2 slot
    push rsi                ; [rsp+8]  launched
    push rdi                ; [rsp+0]  regs

    mov rax, VMCS_HOST_RSP
    vmwrite rax, rsp
    mov rax, [rdx]
    mov cr2, rax

    mov rax, rdi
    LOAD_GUEST_GPRS rax
    cmp qword [rsp + 8], 0
    mov rax, [rax]          ; guest RAX last (MOV leaves the flags alone)
    jne .resume
    vmlaunch
    jmp .failed
.resume:
    vmresume
.failed:                    ; only reached on VMfail: CF=1 invalid, ZF=1 valid
    mov eax, 2
    jnc vmx_leave
    mov eax, 1
    jmp vmx_leave

vmx_exit_point:             ; RSP = HOST_RSP: the frame pushed above
    push rax
    mov rax, [rsp + 8]      ; regs
    pop qword [rax]         ; guest RAX
    STORE_GUEST_GPRS rax
    mov rbx, cr2
    mov rcx, [rsp + 16]
    mov [rcx], rbx
    xor eax, eax
vmx_leave:
    add rsp, 24
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

