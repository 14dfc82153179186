/* Smallest PVH kernel: an ELF64 with XEN_ELFNOTE_PHYS32_ENTRY; the entry
 * runs in 32-bit protected mode and just halts (loader tests only). */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4, 4, 18          /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long start
    .section .text.head, "ax"
    .code32
    .globl start
start:
    cli
1:  hlt
    jmp 1b
    .data
msg: .asciz "pvh"
    .bss
    .space 0x800
