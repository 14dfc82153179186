/* Multiboot1 flat binary using the a.out kludge (flags bit 16), linked at
 * LOAD_BASE and turned into a raw image with objcopy (loader tests only). */
    .section .text.head, "ax"
    .code32
    .balign 4
hdr:
    .long 0x1BADB002, 0x10003, -(0x1BADB002 + 0x10003)
    .long hdr, _load_start, _load_end, _bss_end, start
    .globl start
start:
    cli
1:  hlt
    jmp 1b
    .data
    .long 0x12345678
    .bss
    .space 0x1000
