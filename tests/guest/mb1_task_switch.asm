; mb1_task_switch: a standalone Multiboot1 kernel that stays in 32-bit
; protected mode and jumps to a TSS (a hardware task switch).  Neither
; vendor's backend emulates task switching (VMX exit reason 9, SVM
; TASK_SWITCH intercept): the monitor injects #GP(TSS selector) on both.
; The guest's #GP handler checks the error code and exits with 0; if the new
; task ever runs, or another exception comes, it exits with 1 or 2.

MB1_MAGIC      equ 0x1BADB002
MB1_FLAGS      equ 0x00010002          ; memory info + a.out kludge
COM1           equ 0x3F8
EXIT_PORT      equ 0xF4

extern __image_start, __data_end, __bss_start, __bss_end
global mb1_start

section .multiboot progbits alloc noexec nowrite align=4
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)
    dd mb1_header_addr
    dd __image_start
    dd __data_end
    dd __bss_end
    dd mb1_start
mb1_header_addr equ __image_start

section .data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF              ; 0x08: 32-bit code
    dq 0x00CF92000000FFFF              ; 0x10: data
tss_desc:                              ; 0x18: available 32-bit TSS (base patched)
    dw 103, 0
    db 0, 0x89, 0, 0
tss_desc2:                             ; 0x20: the current task's TSS
    dw 103, 0
    db 0, 0x89, 0, 0
gdt_end:
align 4
    dw 0
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
msg_start: db "mb1_task_switch: jumping to TSS selector 0x18", 10, 0
msg_back:  db "mb1_task_switch: FAIL the task switch returned", 10, 0
msg_gp:    db "mb1_task_switch: PASS #GP(0x18) for the task switch", 10, 0
msg_badgp: db "mb1_task_switch: FAIL #GP with another error code", 10, 0
msg_exc:   db "mb1_task_switch: FAIL unexpected exception", 10, 0
align 8
idt:
%rep 32
    dw 0, 0x08, 0x8E00, 0              ; offsets patched at run time
%endrep
idt_end:
align 4
    dw 0
idt_ptr:
    dw idt_end - idt - 1
    dd idt

section .bss
align 16
tss_new: resb 104
tss_cur: resb 104
stack: resb 4096
stack_top:

section .text
bits 32
puts:                                   ; esi: NUL-terminated string
    mov dx, COM1
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    ret

patch_base:                             ; edi: descriptor, eax: base
    mov [edi + 2], ax
    shr eax, 16
    mov [edi + 4], al
    mov [edi + 7], ah
    ret

mb1_start:
    cli
    mov esp, stack_top
    lgdt [gdt_ptr]
    jmp 0x08:.reload
.reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov edi, tss_desc
    mov eax, tss_new
    call patch_base
    mov edi, tss_desc2
    mov eax, tss_cur
    call patch_base
    ; The new task starts at `back` with flat segments and its own stack.
    mov dword [tss_new + 32], back      ; EIP
    mov dword [tss_new + 36], 0x2       ; EFLAGS
    mov dword [tss_new + 56], stack_top ; ESP
    mov dword [tss_new + 76], 0x08      ; CS
    mov dword [tss_new + 72], 0x10      ; ES
    mov dword [tss_new + 80], 0x10      ; SS
    mov dword [tss_new + 84], 0x10      ; DS
    mov eax, cr3
    mov [tss_new + 28], eax
    ; IDT: every vector to `other_exc`, #GP to `gp_handler`.
    mov ecx, 0
.fill:
    mov eax, other_exc
    cmp ecx, 13
    jne .set
    mov eax, gp_handler
.set:
    mov [idt + ecx * 8], ax
    shr eax, 16
    mov [idt + ecx * 8 + 6], ax
    inc ecx
    cmp ecx, 32
    jne .fill
    lidt [idt_ptr]
    mov ax, 0x20
    ltr ax
    mov esi, msg_start
    call puts
    jmp 0x18:0                          ; hardware task switch
back:
    mov esi, msg_back
    mov eax, 1
    jmp finish
gp_handler:
    pop eax                             ; error code
    cmp eax, 0x18
    mov esi, msg_badgp
    mov eax, 1
    jne finish
    mov esi, msg_gp
    mov eax, 0
    jmp finish
other_exc:
    mov esi, msg_exc
    mov eax, 2
finish:
    push eax
    call puts
    pop eax
    mov dx, EXIT_PORT
    out dx, eax
.hang:
    hlt
    jmp .hang
