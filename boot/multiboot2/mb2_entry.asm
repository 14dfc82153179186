; Multiboot2 entry (Multiboot2 spec 3.1, 3.3): GRUB jumps here in 32-bit
; protected mode, paging off, EAX = magic, EBX = the boot information.  We
; map the first 4 GiB 1:1 with 2 MiB pages, enter long mode and call
; mb2_main(magic, info) on our own stack.  Linked at a fixed address
; (boot/multiboot2/mb2.ld), so plain absolute addresses are fine.
bits 32

MB2_MAGIC   equ 0xE85250D6
MB2_ARCH    equ 0                   ; i386 protected mode
MB2_HDR_LEN equ 24                  ; 16-byte header + the 8-byte end tag

section .mb2_header
align 8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH
    dd MB2_HDR_LEN
    dd (0x100000000 - (MB2_MAGIC + MB2_ARCH + MB2_HDR_LEN)) & 0xFFFFFFFF
    dw 0, 0                         ; end tag
    dd 8

section .text32 exec
global mb2_entry
extern mb2_main
mb2_entry:
    cli
    cld
    mov [saved_magic], eax
    mov [saved_info], ebx
    mov esp, stack_top

    ; PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB leaves.
    mov edi, pml4
    xor eax, eax
    mov ecx, (6 * 4096) / 4
    rep stosd
    mov eax, pdpt
    or eax, 3                       ; present, writable
    mov [pml4], eax
    xor ecx, ecx
.pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, pd
    or eax, 3
    mov [pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .pdpt
    xor ecx, ecx                    ; 2048 entries: 4 GiB
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                    ; present, writable, 2 MiB page
    mov edx, ecx
    shr edx, 11                     ; bits 32+ of the address (0 below 4 GiB)
    mov [pd + ecx * 8], eax
    mov [pd + ecx * 8 + 4], edx
    inc ecx
    cmp ecx, 2048
    jb .pd

    mov eax, cr4
    or eax, (1 << 5) | (1 << 9) | (1 << 10)   ; PAE, OSFXSR, OSXMMEXCPT (as UEFI leaves them)
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, 0xC0000080             ; EFER
    rdmsr
    or eax, (1 << 8)                ; LME
    wrmsr
    mov eax, cr0
    and eax, ~(1 << 2)              ; EM off
    or eax, (1 << 31) | (1 << 1) | (1 << 0) | (1 << 5)  ; PG, MP, PE, NE
    mov cr0, eax
    lgdt [gdt_desc]
    jmp 0x08:long_entry

bits 64
long_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, stack_top
    xor ebp, ebp
    mov edi, [saved_magic]
    mov esi, [saved_info]
    call mb2_main
.halt:
    cli
    hlt
    jmp .halt

; void mb2_enter_monitor(uint64_t entry, void *boot_info): the monitor takes
; its boot information SysV-style and switches to its own stack at once.
global mb2_enter_monitor
mb2_enter_monitor:
    mov rax, rdi
    mov rdi, rsi
    call rax
    jmp long_entry.halt

section .data
align 16
gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 64-bit code
    dq 0x00CF92000000FFFF           ; data
gdt_desc:
    dw gdt_desc - gdt - 1
    dq gdt
saved_magic: dd 0
saved_info:  dd 0

section .bss
alignb 4096
pml4:  resb 4096
pdpt:  resb 4096
pd:    resb 4 * 4096
stack: resb 65536
stack_top:
