; Entry of the test monitor (tests only).  The loader calls
; void entry(struct tv_boot_info *bi) with the SysV ABI, interrupts off, on
; its own stack; like the real monitor, switch to our own stack at once.
bits 64
default rel

section .text
global testmon_entry
extern testmon_main

testmon_entry:
    pushfq
    pop rsi                     ; RFLAGS at entry (IF must be clear)
    mov rdx, rsp                ; the loader's stack pointer, for the report
    lea rsp, [stack_top]
    call testmon_main           ; (bi in rdi, rflags, loader rsp)
.hang:
    cli
    hlt
    jmp .hang

section .bss
align 16
stack:
    resb 16384
stack_top:
