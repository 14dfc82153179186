; Guest library entry: boots from either Multiboot1 (a.out kludge, so any
; Multiboot loader, QEMU's -kernel included, can load the ELF64 image) or PVH
; (XEN_ELFNOTE_PHYS32_ENTRY).  Both enter here in 32-bit protected mode with
; paging off.  We identity-map the first 4 GiB with 2 MiB pages, switch to long
; mode and call guest_lib_start(magic, info) in C.

MB1_MAGIC        equ 0x1BADB002
MB1_BOOT_MAGIC   equ 0x2BADB002
; bit 0: page-align modules, bit 1: memory info, bit 16: a.out kludge
MB1_FLAGS        equ 0x00010003

PVH_START_MAGIC  equ 0x336ec578
XEN_ELFNOTE_PHYS32_ENTRY equ 18

SEL_CODE64  equ 0x08
SEL_DATA    equ 0x10
SEL_CODE32  equ 0x18

extern __image_start, __data_end, __bss_start, __bss_end
extern guest_lib_start
extern guest_gdt
global _start32
global guest_boot_magic, guest_boot_info
global guest_pml4

section .multiboot progbits alloc noexec nowrite align=4
mb1_header:
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)
    dd mb1_header       ; header_addr
    dd __image_start    ; load_addr
    dd __data_end       ; load_end_addr
    dd __bss_end        ; bss_end_addr
    dd _start32         ; entry_addr

section .note.Xen note alloc noexec nowrite align=4
    dd 4                          ; namesz ("Xen\0")
    dd 4                          ; descsz
    dd XEN_ELFNOTE_PHYS32_ENTRY   ; type
    db "Xen", 0
    dd _start32

section .data
align 4
guest_boot_magic: dd 0   ; EAX at entry (0x2BADB002 for Multiboot1)
guest_boot_info:  dd 0   ; EBX at entry (multiboot_info or hvm_start_info)
align 4
    dw 0
guest_gdt_ptr32:         ; 6-byte pseudo-descriptor for LGDT in 32-bit mode
    dw 8 * 8 - 1         ; gdt.c: uint64_t guest_gdt[8]
    dd guest_gdt

section .bss
align 4096
guest_pml4:  resb 4096
boot_pdpt:   resb 4096
boot_pd:     resb 4096 * 4
align 16
boot_stack:  resb 65536
boot_stack_top:

section .text.boot progbits alloc exec nowrite align=16
bits 32
_start32:
    cli
    cld
    ; EAX/EBX go to .data (not .bss: we clear .bss next).
    mov [guest_boot_magic], eax
    mov [guest_boot_info], ebx

    lgdt [guest_gdt_ptr32]
    jmp SEL_CODE32:.flat32
.flat32:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax

    ; Clear .bss: loaders should, but the contract does not promise it.
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    shr ecx, 2
    xor eax, eax
    rep stosd
    mov esp, boot_stack_top

    ; PML4[0] -> PDPT; PDPT[0..3] -> 4 page directories of 2 MiB pages.
    ; US is set everywhere so tests can run code at CPL 3.
    mov dword [guest_pml4], boot_pdpt + 0x7
    mov edi, boot_pdpt
    mov eax, boot_pd + 0x7
    mov ecx, 4
.pdpt:
    mov [edi], eax
    add eax, 4096
    add edi, 8
    loop .pdpt

    mov edi, boot_pd
    xor eax, eax            ; low half of the physical address
    xor edx, edx            ; high half (bits 32+)
    mov ecx, 2048
.pd:
    mov ebx, eax
    or ebx, 0x87            ; P | RW | US | PS
    mov [edi], ebx
    mov [edi + 4], edx
    add eax, 0x200000
    adc edx, 0
    add edi, 8
    loop .pd

    mov eax, guest_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, (1 << 5)        ; PAE
    mov cr4, eax
    mov ecx, 0xC0000080     ; EFER
    rdmsr
    or eax, (1 << 8)        ; LME
    wrmsr
    mov eax, cr0
    and eax, ~((1 << 30) | (1 << 29))   ; caches on (CD = NW = 0)
    or eax, (1 << 31) | (1 << 16) | 1   ; PG | WP | PE
    mov cr0, eax
    jmp SEL_CODE64:long_mode

bits 64
long_mode:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, boot_stack_top
    xor ebp, ebp
    mov edi, [guest_boot_magic]
    mov esi, [guest_boot_info]
    call guest_lib_start
.hang:
    cli
    hlt
    jmp .hang
