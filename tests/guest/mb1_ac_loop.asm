; mb1_ac_loop: the benign #AC delivery loop, in 32-bit protected mode (in
; 64-bit mode delivery aligns the stack, so there is no loop there).  At
; CPL 3 with CR0.AM and EFLAGS.AC set and a misaligned ESP, a misaligned
; load raises #AC; its gate leads to CPL-3 code, so the delivery pushes on
; the same misaligned stack and raises #AC again, forever, before any
; handler instruction runs.  A CPU that does not exit on #AC is then held
; by this guest with no exit at all; the monitor intercepts #AC, so each
; round exits and the neighbours keep running.  If the handler ever runs
; (no loop on this CPU), its HLT faults to a CPL-0 handler that says so
; and exits with 1.

MB1_MAGIC      equ 0x1BADB002
MB1_FLAGS      equ 0x00010002
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
    dq 0x00CF9A000000FFFF              ; 0x08: 32-bit code, DPL 0
    dq 0x00CF92000000FFFF              ; 0x10: data, DPL 0
    dq 0x00CFFA000000FFFF              ; 0x18 (0x1b): 32-bit code, DPL 3
    dq 0x00CFF2000000FFFF              ; 0x20 (0x23): data, DPL 3
tss_desc:                              ; 0x28: 32-bit TSS (base patched)
    dw 103, 0
    db 0, 0x89, 0, 0
gdt_end:
align 4
    dw 0
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
align 4
    dw 0
idt_ptr:
    dw 32 * 8 - 1
    dd idt
msg_armed: db "mb1_ac_loop: loop armed", 10, 0
msg_ran:   db "mb1_ac_loop: FAIL the #AC handler ran (no loop on this CPU)", 10, 0

section .bss
align 16
idt: resb 32 * 8
tss: resb 104
kstack: resb 4096
kstack_top:
ustack: resb 4096
ustack_top:
probe: resb 16

section .text
bits 32
puts:
    mov dx, COM1
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    ret

; gate(ecx = vector, eax = handler, bx = selector, dl = type/attr)
set_gate:
    mov [idt + ecx * 8], ax
    mov [idt + ecx * 8 + 2], bx
    mov byte [idt + ecx * 8 + 4], 0
    mov [idt + ecx * 8 + 5], dl
    shr eax, 16
    mov [idt + ecx * 8 + 6], ax
    ret

mb1_start:
    cli
    mov esp, kstack_top
    lgdt [gdt_ptr]
    jmp 0x08:.reload
.reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, tss
    mov [tss_desc + 2], ax
    shr eax, 16
    mov [tss_desc + 4], al
    mov [tss_desc + 7], ah
    mov dword [tss + 4], kstack_top    ; ESP0
    mov dword [tss + 8], 0x10          ; SS0
    mov word [tss + 102], 104          ; no I/O bitmap
    mov ax, 0x28
    ltr ax
    xor ecx, ecx
.fill:                                 ; every vector: CPL-0 `ran` handler
    mov eax, kernel_fault
    mov bx, 0x08
    mov dl, 0x8E
    push ecx
    call set_gate
    pop ecx
    inc ecx
    cmp ecx, 32
    jne .fill
    mov ecx, 17                        ; #AC: a DPL-3 gate to CPL-3 code
    mov eax, user_ac_handler
    mov bx, 0x1b
    mov dl, 0xEE
    call set_gate
    lidt [idt_ptr]
    mov eax, cr0
    or eax, 1 << 18                    ; CR0.AM
    mov cr0, eax
    mov esi, msg_armed
    call puts
    ; IRET to CPL 3: EFLAGS.AC, a misaligned user stack.
    push dword 0x23
    push dword ustack_top - 2
    push dword (1 << 18) | 2
    push dword 0x1b
    push dword user_start
    iret

user_start:
    mov ax, 0x23
    mov ds, ax
    mov es, ax
    mov eax, [probe + 1]               ; misaligned: #AC
.spin:
    jmp .spin

user_ac_handler:
    hlt                                ; CPL 3: #GP to kernel_fault

kernel_fault:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov esi, msg_ran
    call puts
    mov dx, EXIT_PORT
    mov eax, 1
    out dx, eax
.hang:
    hlt
    jmp .hang
