; Resumable calls, the mechanism behind guest_try() and guest_run_user().
;
; long guest_ctx_call(uint64_t *saved_rsp, long (*fn)(void *), void *arg)
;   saves the callee-saved registers, stores RSP in *saved_rsp and calls
;   fn(arg).  If fn returns, its value is returned.  If instead a trap is
;   taken, trap_dispatch rewrites the trap frame to RIP = guest_ctx_resume,
;   RSP = *saved_rsp, RAX = value, CS/SS = kernel: the iretq then lands below
;   and guest_ctx_call returns value as if fn had returned it.
;
; long guest_user_enter(long (*fn)(void *), void *arg, uint64_t user_rsp)
;   (called through guest_ctx_call) iretq's to fn(arg) at CPL 3 on the user
;   stack; fn's return address is guest_user_return, which hands the result
;   back with INT 0x80 (a DPL 3 gate).

SEL_UDATA  equ 0x20 | 3
SEL_UCODE  equ 0x28 | 3
GUEST_USER_RETURN_VECTOR equ 0x80

global guest_ctx_call, guest_ctx_resume, guest_user_enter, guest_user_return

section .text
bits 64
guest_ctx_call:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rax, rsi
    mov rdi, rdx
    call rax
guest_ctx_resume:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

guest_user_enter:
    and rdx, -16
    sub rdx, 8
    mov rax, guest_user_return
    mov [rdx], rax          ; fn's return address, on the user stack
    push SEL_UDATA          ; SS
    push rdx                ; RSP
    push 0x2                ; RFLAGS: IF = 0 at CPL 3
    push SEL_UCODE          ; CS
    push rdi                ; RIP
    mov rdi, rsi
    xor esi, esi
    xor edx, edx
    xor ecx, ecx
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    xor ebx, ebx
    xor ebp, ebp
    iretq

guest_user_return:          ; runs at CPL 3
    mov rdi, rax
    int GUEST_USER_RETURN_VECTOR
    ud2                     ; never resumed
