; Monitor entry, interrupt stubs and the thread context switch.
; Assembled as position-independent code (the monitor is a PIE placed anywhere).
bits 64
default rel

extern monitor_main
extern trap_dispatch

section .text.entry
global monitor_entry
; void monitor_entry(struct tv_boot_info *bi): called by the loader (SysV ABI),
; interrupts off, on the loader's stack.  Switch to our own stack at once.
monitor_entry:
    cli
    cld
    lea rsp, [boot_stack_top]
    xor ebp, ebp
    call monitor_main
.halt:
    cli
    hlt
    jmp .halt

section .text

; Every vector gets a stub that pushes a uniform frame:
; [vector][error code][rip][cs][rflags][rsp][ss] with a dummy error code
; where the CPU pushes none (SDM vol. 3 6.13).
%macro TRAP_NOERR 1
trap_stub_%1:
    push qword 0
    push qword %1
    jmp trap_common
%endmacro
%macro TRAP_ERR 1
trap_stub_%1:
    push qword %1
    jmp trap_common
%endmacro

%assign v 0
%rep 256
%if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21 || v == 29 || v == 30
    TRAP_ERR v
%else
    TRAP_NOERR v
%endif
%assign v v+1
%endrep

trap_common:
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
    mov rdi, rsp            ; struct trap_frame *
    mov rbx, rsp
    and rsp, -16
    call trap_dispatch
    mov rsp, rbx
global trap_return
trap_return:
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
    add rsp, 16             ; vector, error code
    iretq

section .data.rel.ro
align 8
global trap_stub_table
trap_stub_table:
%assign v 0
%rep 256
    dq trap_stub_ %+ v
%assign v v+1
%endrep

section .text
; void context_switch(uint64_t *save_rsp, uint64_t new_rsp)
; Saves the callee-saved registers of the current thread on its stack, stores
; its stack pointer, and resumes the other thread where it last switched out.
global context_switch
context_switch:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

; First code a new thread runs: r12 = function, r13 = argument.
extern thread_start
global thread_entry_trampoline
thread_entry_trampoline:
    mov rdi, r12
    mov rsi, r13
    xor ebp, ebp
    call thread_start
    ud2

; void gdt_load(void *gdtr, uint16_t code_sel, uint16_t data_sel, uint16_t tss_sel)
global gdt_load
gdt_load:
    lgdt [rdi]
    mov ax, dx
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    ; far return to reload CS
    lea rax, [.reloaded]
    push rsi
    push rax
    retfq
.reloaded:
    ltr cx
    ret

section .bss
align 4096
boot_stack:
    resb 32768
boot_stack_top:
