; One guest entry under VMX (Intel SDM vol. 3 ch. 26-27).  The VMCS holds
; the guest's RSP/RIP/RFLAGS and the host state; the other GPRs and CR2 are
; switched here.  HOST_RSP is written on every entry (the thread's stack),
; HOST_RIP points at vmx_exit_point once per VMCS.
bits 64
default rel

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

