/* Hosted test helper: writes small ELF32/ELF64 images byte by byte, so tests
 * can make valid kernels and precisely broken ones. */
#ifndef TESTS_ELF_BUILDER_H
#define TESTS_ELF_BUILDER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct tph {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

#define TB_PHOFF 64u

/* Writes the ELF header and n program headers at TB_PHOFF. */
static inline void tb_elf(uint8_t *buf, bool is64, uint64_t entry, const struct tph *ph, unsigned n)
{
    memset(buf, 0, TB_PHOFF);
    memcpy(buf, "\x7f" "ELF", 4);
    buf[4] = is64 ? 2 : 1;
    buf[5] = 1;
    buf[6] = 1;
    put16(buf + 16, 2);                   /* ET_EXEC */
    put16(buf + 18, is64 ? 62 : 3);
    put32(buf + 20, 1);
    if (is64) {
        put64(buf + 24, entry);
        put64(buf + 32, TB_PHOFF);
        put16(buf + 52, 64);
        put16(buf + 54, 56);
        put16(buf + 56, (uint16_t)n);
    } else {
        put32(buf + 24, (uint32_t)entry);
        put32(buf + 28, TB_PHOFF);
        put16(buf + 40, 52);
        put16(buf + 42, 32);
        put16(buf + 44, (uint16_t)n);
    }
    for (unsigned i = 0; i < n; i++) {
        if (is64) {
            uint8_t *p = buf + TB_PHOFF + 56 * i;
            put32(p, ph[i].type);
            put32(p + 4, 7);
            put64(p + 8, ph[i].offset);
            put64(p + 16, ph[i].vaddr);
            put64(p + 24, ph[i].paddr);
            put64(p + 32, ph[i].filesz);
            put64(p + 40, ph[i].memsz);
            put64(p + 48, ph[i].align);
        } else {
            uint8_t *p = buf + TB_PHOFF + 32 * i;
            put32(p, ph[i].type);
            put32(p + 4, (uint32_t)ph[i].offset);
            put32(p + 8, (uint32_t)ph[i].vaddr);
            put32(p + 12, (uint32_t)ph[i].paddr);
            put32(p + 16, (uint32_t)ph[i].filesz);
            put32(p + 20, (uint32_t)ph[i].memsz);
            put32(p + 24, 7);
            put32(p + 28, (uint32_t)ph[i].align);
        }
    }
}

/* Writes a note {namesz 4 "Xen", type, desc} at p; returns its length. */
static inline unsigned tb_xen_note(uint8_t *p, uint32_t type, uint64_t value, unsigned descsz)
{
    put32(p, 4);
    put32(p + 4, descsz);
    put32(p + 8, type);
    memcpy(p + 12, "Xen", 4);
    if (descsz == 8)
        put64(p + 16, value);
    else
        put32(p + 16, (uint32_t)value);
    return 16 + ((descsz + 3) & ~3u);
}

/* Writes a Multiboot1 header at p (12 bytes, or 32 with address fields). */
static inline void tb_mb1(uint8_t *p, uint32_t flags, const uint32_t *addr5)
{
    put32(p, 0x1BADB002u);
    put32(p + 4, flags);
    put32(p + 8, (uint32_t)-(0x1BADB002u + flags));
    if (addr5)
        for (int i = 0; i < 5; i++)
            put32(p + 12 + 4 * i, addr5[i]);
}

#endif
