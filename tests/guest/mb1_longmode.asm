; mb1_longmode: a standalone Multiboot1 kernel that does not use the guest
; library.  It switches itself to long mode, writes the MSRs a guest may
; write (EFER, FS/GS/KERNEL_GS base, STAR/LSTAR/CSTAR/SFMASK, PAT, TSC_AUX,
; SYSENTER_CS/ESP/EIP), reads each back, prints one line per MSR on the
; 16550 at 0x3F8 and exits through port 0xf4 with 0 when every value read
; back equals the value written (1 otherwise, 2 on an exception).

MB1_MAGIC      equ 0x1BADB002
MB1_FLAGS      equ 0x00010002          ; memory info + a.out kludge
MB1_BOOT_MAGIC equ 0x2BADB002
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
mb1_header_addr equ __image_start      ; the header is the first thing in the image

section .data
align 8
gdt:
    dq 0
    dq 0x00AF9A000000FFFF              ; 0x08: 64-bit code
    dq 0x00CF92000000FFFF              ; 0x10: data
    dq 0x00CF9A000000FFFF              ; 0x18: 32-bit code
gdt_end:
align 4
    dw 0
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
align 8
idt_ptr:
    dw 256 * 16 - 1
    dq idt
boot_eax: dd 0

; MSR table: number, value to write, name.  EFER's value is filled in at run
; time from its current value (LME/LMA must stay set).
%macro MSR 3
    dd %1
    dd 0
    dq %2
    dq %%name
section .rodata
%%name: db %3, 0
section .data
%endmacro
align 8
msr_table:
efer_entry:
    MSR 0xC0000080, 0, "EFER"
    MSR 0xC0000100, 0x00007F1234560000, "FS_BASE"
    MSR 0xC0000101, 0xFFFF800012345000, "GS_BASE"
    MSR 0xC0000102, 0x00001111DEADB000, "KERNEL_GS_BASE"
    MSR 0xC0000081, 0x0023001000001234, "STAR"
    MSR 0xC0000082, 0xFFFFFFFF81000000, "LSTAR"
    MSR 0xC0000083, 0xFFFFFFFF81000100, "CSTAR"
    MSR 0xC0000084, 0x0000000000047700, "SFMASK"
    MSR 0x00000277, 0x0105060400070406, "PAT"
    MSR 0xC0000103, 0x000000000000002A, "TSC_AUX"
    MSR 0x00000174, 0x0000000000000010, "SYSENTER_CS"
    MSR 0x00000175, 0x0000000000123000, "SYSENTER_ESP"
    MSR 0x00000176, 0x0000000000104000, "SYSENTER_EIP"
msr_table_end:
MSR_ENTRY_SIZE equ 24

section .rodata
s_hello:    db "mb1_longmode: long mode reached, multiboot magic ", 0
s_msr:      db "MSR ", 0
s_wrote:    db " wrote=", 0
s_read:     db " read=", 0
s_ok:       db " ok", 10, 0
s_bad:      db " MISMATCH", 10, 0
s_pass:     db "mb1_longmode: PASS all MSRs read back", 10, 0
s_fail:     db "mb1_longmode: FAIL some MSRs differ", 10, 0
s_exc:      db "mb1_longmode: unexpected exception, rip ", 0
s_nl:       db 10, 0
hexdigits:  db "0123456789abcdef"

section .bss
align 4096
pml4:  resb 4096
pdpt:  resb 4096
pd:    resb 4096
idt:   resb 256 * 16
align 16
stack: resb 16384
stack_top:

section .text
bits 32
mb1_start:
    cli
    mov [boot_eax], eax
    lgdt [gdt_ptr]
    jmp 0x18:.flat
.flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb
    mov esp, stack_top
    ; identity map the first 1 GiB with 2 MiB pages
    mov dword [pml4], pdpt + 3
    mov dword [pdpt], pd + 3
    mov edi, pd
    mov eax, 0x83                      ; P | RW | PS
    mov ecx, 512
.fill:
    mov [edi], eax
    mov dword [edi + 4], 0
    add eax, 0x200000
    add edi, 8
    loop .fill
    mov eax, pml4
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5                     ; PAE
    mov cr4, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1 << 8                     ; LME
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | 1
    mov cr0, eax
    jmp 0x08:long64

bits 64
long64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, stack_top
    call idt_setup
    call serial_init

    lea rsi, [s_hello]
    call puts
    mov eax, [boot_eax]
    call puthex
    lea rsi, [s_nl]
    call puts

    ; EFER: keep what is set (LME, LMA) and add SCE and NXE.
    mov ecx, 0xC0000080
    rdmsr
    shl rdx, 32
    or rax, rdx
    or rax, (1 << 0) | (1 << 11)
    mov [efer_entry + 8], rax

    xor r15d, r15d                     ; mismatches
    lea rbx, [msr_table]
.next:
    lea rax, [msr_table_end]
    cmp rbx, rax
    jae .done
    mov ecx, [rbx]
    mov rax, [rbx + 8]
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov ecx, [rbx]
    rdmsr
    shl rdx, 32
    mov eax, eax
    or rax, rdx
    mov r12, rax                       ; value read back
    lea rsi, [s_msr]
    call puts
    mov rsi, [rbx + 16]
    call puts
    lea rsi, [s_wrote]
    call puts
    mov rax, [rbx + 8]
    call puthex
    lea rsi, [s_read]
    call puts
    mov rax, r12
    call puthex
    lea rsi, [s_ok]
    cmp r12, [rbx + 8]
    je .print
    inc r15d
    lea rsi, [s_bad]
.print:
    call puts
    add rbx, MSR_ENTRY_SIZE
    jmp .next
.done:
    ; the boot must have been Multiboot1
    cmp dword [boot_eax], MB1_BOOT_MAGIC
    je .magic_ok
    inc r15d
.magic_ok:
    lea rsi, [s_pass]
    test r15d, r15d
    jz .report
    lea rsi, [s_fail]
.report:
    call puts
    xor eax, eax
    test r15d, r15d
    setnz al
    jmp exit

; eax = code
exit:
    mov dx, EXIT_PORT
    out dx, eax
.park:
    cli
    hlt
    jmp .park

; Every vector goes to one handler: report and exit with 2.
idt_setup:
    lea rdi, [idt]
    lea rax, [exception]
    mov ecx, 256
.gate:
    mov [rdi], ax                      ; offset 15:0
    mov word [rdi + 2], 0x08           ; selector
    mov word [rdi + 4], 0x8E00         ; present interrupt gate
    mov rdx, rax
    shr rdx, 16
    mov [rdi + 6], dx                  ; offset 31:16
    shr rdx, 16
    mov [rdi + 8], edx                 ; offset 63:32
    mov dword [rdi + 12], 0
    add rdi, 16
    loop .gate
    lidt [idt_ptr]
    ret

exception:
    lea rsi, [s_exc]
    call puts
    ; the RIP is the top of the frame for vectors without an error code and
    ; the second word for those with one: print both words.
    mov rax, [rsp]
    call puthex
    mov al, ' '
    call putc
    mov rax, [rsp + 8]
    call puthex
    lea rsi, [s_nl]
    call puts
    mov eax, 2
    jmp exit

serial_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al
    mov dx, COM1
    mov al, 1
    out dx, al
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 3
    out dx, al
    mov dx, COM1 + 2
    mov al, 0xC7
    out dx, al
    ret

; al = byte
putc:
    push rdx
    push rax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop rax
    mov dx, COM1
    out dx, al
    pop rdx
    ret

; rsi = NUL-terminated string
puts:
    push rax
.loop:
    mov al, [rsi]
    test al, al
    jz .end
    call putc
    inc rsi
    jmp .loop
.end:
    pop rax
    ret

; rax = value, printed as 0x + 16 hex digits
puthex:
    push rcx
    push rbx
    mov rbx, rax
    mov al, '0'
    call putc
    mov al, 'x'
    call putc
    mov ecx, 16
.digit:
    rol rbx, 4
    mov eax, ebx
    and eax, 0xF
    mov al, [hexdigits + rax]
    call putc
    loop .digit
    pop rbx
    pop rcx
    ret
