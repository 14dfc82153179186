; Interrupt and exception entry stubs for all 256 vectors.  Each stub pushes
; a zero error code when the CPU does not, then its vector, and jumps to one
; common path that saves every general register into a struct trap_frame
; (guests/lib/guest.h) and calls trap_dispatch(frame).  The dispatcher may
; rewrite the frame (RIP, RSP, RAX...) to resume elsewhere.

extern trap_dispatch
global guest_isr_table

section .text
bits 64

; Vectors whose exceptions push an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX
%assign v 0
%rep 256
isr_%[v]:
%if !(v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30)
    push 0
%endif
    push v
    jmp isr_common
%assign v v + 1
%endrep

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    mov rbx, rsp
    and rsp, -16
    call trap_dispatch
    mov rsp, rbx
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16             ; vector and error code
    iretq

section .rodata
align 8
guest_isr_table:
%assign v 0
%rep 256
    dq isr_%[v]
%assign v v + 1
%endrep
