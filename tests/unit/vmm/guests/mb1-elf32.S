/* Smallest Multiboot1 ELF32 kernel (loader tests only). */
    .section .text.head, "ax"
    .code32
    .balign 4
    .long 0x1BADB002, 3, -(0x1BADB002 + 3)
    .long 0
    .globl start
start:
    cli
1:  hlt
    jmp 1b
    .bss
    .space 0x400
