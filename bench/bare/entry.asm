; The bare reference monitor's entry: a Multiboot1 kernel (a.out kludge, so
; QEMU's -kernel and GRUB's `multiboot` both load this ELF64 file).  Enters in
; 32-bit protected mode with paging off, identity-maps 4 GiB with 2 MiB pages
; (US set: the same tables serve as SVM's nested page table), enters long
; mode and calls bare_main(magic, info).  Also the two world-switch stubs.

MB1_MAGIC equ 0x1BADB002
MB1_FLAGS equ 0x00010003          ; page-aligned modules, memory info, a.out kludge

extern __bare_start, __bare_data_end, __bare_bss_end
extern bare_main
global _bare_start32, bare_pml4, bare_gdt, bare_svm_run, bare_vmx_run, bare_vmx_exit

section .multiboot progbits alloc noexec nowrite align=4
mb1_header:
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)
    dd mb1_header
    dd __bare_start
    dd __bare_data_end
    dd __bare_bss_end
    dd _bare_start32

section .data
align 16
; null, 64-bit code 0x08, data 0x10, 64-bit TSS 0x18 (filled in by bare_main:
; VM entry on VMX needs a non-null host TR).
bare_gdt:
    dq 0
    dq 0x00AF9A000000FFFF
    dq 0x00CF92000000FFFF
    dq 0, 0
bare_gdt_end:
align 4
    dw 0
gdt_ptr32:
    dw bare_gdt_end - bare_gdt - 1
    dd bare_gdt
boot_magic: dd 0
boot_info:  dd 0

section .bss
align 4096
bare_pml4: resb 4096
bare_pdpt: resb 4096
bare_pd:   resb 4096 * 4
align 16
           resb 32768
stack_top:

section .text
bits 32
_bare_start32:
    cli
    cld
    mov [boot_magic], eax
    mov [boot_info], ebx
    mov esp, stack_top
    mov dword [bare_pml4], bare_pdpt + 0x7
    mov edi, bare_pdpt
    mov eax, bare_pd + 0x7
    mov ecx, 4
.pdpt:
    mov [edi], eax
    add eax, 4096
    add edi, 8
    loop .pdpt
    mov edi, bare_pd
    xor eax, eax
    xor edx, edx
    mov ecx, 2048
.pd:
    mov ebx, eax
    or ebx, 0x87                ; P | RW | US | PS
    mov [edi], ebx
    mov [edi + 4], edx
    add eax, 0x200000
    adc edx, 0
    add edi, 8
    loop .pd
    mov eax, bare_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5              ; PAE
    mov cr4, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1 << 8              ; LME
    wrmsr
    mov eax, cr0
    and eax, ~((1 << 30) | (1 << 29))
    or eax, (1 << 31) | (1 << 5) | 1    ; PG | NE | PE
    mov cr0, eax
    lgdt [gdt_ptr32]
    jmp 0x08:.long

bits 64
.long:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, stack_top
    mov edi, [boot_magic]
    mov esi, [boot_info]
    call bare_main
.hang:
    cli
    hlt
    jmp .hang

; struct gregs (bare.c): rbx rcx rdx rsi rdi rbp r8..r15 rax, 15 qwords
; (RAX only for VMX: SVM switches it through the VMCB).
%macro LOAD_GUEST 1                  ; RDI as %1: loaded last
    mov rbx, [%1 + 0]
    mov rcx, [%1 + 8]
    mov rdx, [%1 + 16]
    mov rsi, [%1 + 24]
    mov rbp, [%1 + 40]
    mov r8,  [%1 + 48]
    mov r9,  [%1 + 56]
    mov r10, [%1 + 64]
    mov r11, [%1 + 72]
    mov r12, [%1 + 80]
    mov r13, [%1 + 88]
    mov r14, [%1 + 96]
    mov r15, [%1 + 104]
    mov rdi, [%1 + 32]
%endmacro
%macro SAVE_GUEST 0                  ; RDI holds the struct's address
    mov [rdi + 0], rbx
    mov [rdi + 8], rcx
    mov [rdi + 16], rdx
    mov [rdi + 24], rsi
    mov [rdi + 40], rbp
    mov [rdi + 48], r8
    mov [rdi + 56], r9
    mov [rdi + 64], r10
    mov [rdi + 72], r11
    mov [rdi + 80], r12
    mov [rdi + 88], r13
    mov [rdi + 96], r14
    mov [rdi + 104], r15
%endmacro

; void bare_svm_run(uint64_t vmcb_pa, struct gregs *g)
; VMRUN switches RAX/RSP/RIP/RFLAGS through the VMCB; the rest is ours.
bare_svm_run:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rsi
    mov rax, rdi
    mov rdi, rsi
    LOAD_GUEST rdi
    vmrun
    push rdi
    mov rdi, [rsp + 8]
    SAVE_GUEST
    pop qword [rdi + 32]
    pop rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

; int bare_vmx_run(struct gregs *g, int launched): 0 after a VM exit,
; 1 when VMLAUNCH/VMRESUME failed.  HOST_RIP is bare_vmx_exit.
bare_vmx_run:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rdi
    mov rax, 0x6C14             ; HOST_RSP
    vmwrite rax, rsp
    test esi, esi
    mov rax, [rdi + 112]
    LOAD_GUEST rdi
    jnz .resume
    vmlaunch
    jmp .fail
.resume:
    vmresume
.fail:
    pop rdi
    mov eax, 1
    jmp vmx_out
bare_vmx_exit:
    push rdi
    mov rdi, [rsp + 8]
    SAVE_GUEST
    mov [rdi + 112], rax
    pop qword [rdi + 32]
    pop rdi
    xor eax, eax
vmx_out:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
