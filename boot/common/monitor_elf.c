/* Monitor ELF validation and loading (see monitor_elf.h).  The file is
 * untrusted: every header field is checked before it is used, every sum is
 * checked for overflow, and headers are copied out with tv_memcpy so an
 * unaligned or truncated buffer never causes an unaligned or stray access. */
#include "monitor_elf.h"

#include "tv_fmt.h"
#include "tv_string.h"

/* The ELF64 structures, as laid out in the file (little-endian x86-64). */
struct elf64_ehdr {
    uint8_t  ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf64_dyn {
    int64_t tag;
    uint64_t val;
};

struct elf64_rela {
    uint64_t offset, info;
    int64_t addend;
};

enum {
    ET_DYN = 3, EM_X86_64 = 62, EV_CURRENT = 1,
    ELFCLASS64 = 2, ELFDATA2LSB = 1,
    PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_TLS = 7,
    PF_X = 1,
    DT_NULL = 0, DT_NEEDED = 1, DT_PLTRELSZ = 2, DT_RELA = 7, DT_RELASZ = 8,
    DT_RELAENT = 9, DT_REL = 17, DT_RELSZ = 18, DT_JMPREL = 23, DT_RELRSZ = 35,
    DT_RELR = 36,
    R_X86_64_RELATIVE = 8,
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF header layout");
_Static_assert(sizeof(struct elf64_phdr) == 56, "program header layout");
_Static_assert(sizeof(struct elf64_rela) == 24, "rela layout");

__attribute__((format(printf, 4, 5)))
static tv_status_t fail(tv_status_t st, char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && why_size)
        tv_vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    return st;
}

/* True when [off, off+len) lies inside [0, size) without overflow. */
static int in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static void read_phdr(const uint8_t *file, const struct elf64_ehdr *eh, unsigned i,
                      struct elf64_phdr *ph)
{
    tv_memcpy(ph, file + eh->phoff + (uint64_t)i * sizeof *ph, sizeof *ph);
}

static tv_status_t check_ehdr(const uint8_t *file, size_t size, struct elf64_ehdr *eh,
                              char *why, size_t ws)
{
    if (size < sizeof *eh)
        return fail(TV_E_CORRUPT, why, ws, "file is too short for an ELF header (%zu bytes)", size);
    tv_memcpy(eh, file, sizeof *eh);
    if (eh->ident[0] != 0x7f || eh->ident[1] != 'E' || eh->ident[2] != 'L' || eh->ident[3] != 'F')
        return fail(TV_E_CORRUPT, why, ws, "not an ELF file (bad magic)");
    if (eh->ident[4] != ELFCLASS64)
        return fail(TV_E_UNSUPPORTED, why, ws, "not a 64-bit ELF (class %u)", eh->ident[4]);
    if (eh->ident[5] != ELFDATA2LSB)
        return fail(TV_E_UNSUPPORTED, why, ws, "not a little-endian ELF");
    if (eh->ident[6] != EV_CURRENT || eh->version != EV_CURRENT)
        return fail(TV_E_UNSUPPORTED, why, ws, "unknown ELF version");
    if (eh->machine != EM_X86_64)
        return fail(TV_E_UNSUPPORTED, why, ws, "not an x86-64 ELF (machine %u)", eh->machine);
    if (eh->type != ET_DYN)
        return fail(TV_E_UNSUPPORTED, why, ws,
                    "ELF type %u is not ET_DYN: the monitor must be linked -pie at base 0",
                    eh->type);
    if (eh->ehsize < sizeof *eh)
        return fail(TV_E_CORRUPT, why, ws, "ELF header size %u is too small", eh->ehsize);
    if (eh->phentsize != sizeof(struct elf64_phdr))
        return fail(TV_E_CORRUPT, why, ws, "program header size %u is not %zu",
                    eh->phentsize, sizeof(struct elf64_phdr));
    if (eh->phnum == 0 || eh->phnum > TV_ELF_MAX_PHDRS)
        return fail(TV_E_CORRUPT, why, ws, "%u program headers (expected 1 to %d)",
                    eh->phnum, TV_ELF_MAX_PHDRS);
    if (eh->phoff % 8 || !in_bounds(eh->phoff, (uint64_t)eh->phnum * sizeof(struct elf64_phdr), size))
        return fail(TV_E_CORRUPT, why, ws,
                    "program headers at offset 0x%llx lie outside the file (truncated?)",
                    (unsigned long long)eh->phoff);
    return TV_OK;
}

static tv_status_t check_load(const struct elf64_phdr *ph, unsigned i, size_t size,
                              uint64_t prev_end, char *why, size_t ws)
{
    if (ph->filesz > ph->memsz)
        return fail(TV_E_CORRUPT, why, ws, "segment %u: file size exceeds memory size", i);
    if (!in_bounds(ph->offset, ph->filesz, size))
        return fail(TV_E_CORRUPT, why, ws,
                    "segment %u: bytes 0x%llx+0x%llx lie outside the %zu-byte file (truncated?)",
                    i, (unsigned long long)ph->offset, (unsigned long long)ph->filesz, size);
    if (!in_bounds(ph->vaddr, ph->memsz, TV_ELF_MAX_SPAN))
        return fail(TV_E_LIMIT, why, ws,
                    "segment %u: address 0x%llx+0x%llx is beyond the %llu MiB image limit", i,
                    (unsigned long long)ph->vaddr, (unsigned long long)ph->memsz,
                    (unsigned long long)(TV_ELF_MAX_SPAN >> 20));
    if (ph->align > 1) {
        if (ph->align & (ph->align - 1))
            return fail(TV_E_CORRUPT, why, ws, "segment %u: alignment 0x%llx is not a power of two",
                        i, (unsigned long long)ph->align);
        if (ph->align > TV_ELF_MAX_ALIGN)
            return fail(TV_E_UNSUPPORTED, why, ws, "segment %u: alignment 0x%llx is above 2 MiB",
                        i, (unsigned long long)ph->align);
        if ((ph->vaddr - ph->offset) & (ph->align - 1))
            return fail(TV_E_CORRUPT, why, ws,
                        "segment %u: address and file offset disagree modulo the alignment", i);
    }
    if (ph->vaddr < prev_end)
        return fail(TV_E_CORRUPT, why, ws,
                    "segment %u overlaps the previous one or is out of address order", i);
    return TV_OK;
}

/* Reads the dynamic section for the RELA table; refuses anything needing a
 * dynamic linker. */
static tv_status_t check_dynamic(const uint8_t *file, size_t size, const struct elf64_phdr *ph,
                                 struct tv_elf_image *img, uint64_t *rela_size,
                                 int *has_rela, char *why, size_t ws)
{
    if (!in_bounds(ph->offset, ph->filesz, size))
        return fail(TV_E_CORRUPT, why, ws, "dynamic section lies outside the file (truncated?)");
    uint64_t relaent = sizeof(struct elf64_rela);
    for (uint64_t off = 0; off + sizeof(struct elf64_dyn) <= ph->filesz; off += sizeof(struct elf64_dyn)) {
        struct elf64_dyn d;
        tv_memcpy(&d, file + ph->offset + off, sizeof d);
        switch (d.tag) {
        case DT_NULL:
            off = ph->filesz; /* ends the loop */
            break;
        case DT_NEEDED:
            return fail(TV_E_UNSUPPORTED, why, ws, "the monitor needs a shared library");
        case DT_REL:
        case DT_RELSZ:
            if (d.val)
                return fail(TV_E_UNSUPPORTED, why, ws, "REL relocations are not supported (only RELA)");
            break;
        case DT_PLTRELSZ:
        case DT_JMPREL:
            if (d.val)
                return fail(TV_E_UNSUPPORTED, why, ws, "PLT relocations are not supported");
            break;
        case DT_RELR:
        case DT_RELRSZ:
            if (d.val)
                return fail(TV_E_UNSUPPORTED, why, ws,
                            "packed RELR relocations are not supported (link without "
                            "-z pack-relative-relocs)");
            break;
        case DT_RELA:
            img->rela_offset = d.val;
            *has_rela = 1;
            break;
        case DT_RELASZ:
            *rela_size = d.val;
            break;
        case DT_RELAENT:
            relaent = d.val;
            break;
        default:
            break;
        }
    }
    if (relaent != sizeof(struct elf64_rela))
        return fail(TV_E_CORRUPT, why, ws, "DT_RELAENT is %llu, not 24", (unsigned long long)relaent);
    return TV_OK;
}

tv_status_t tv_elf_inspect(const void *file_ptr, size_t size, struct tv_elf_image *img,
                           char *why, size_t ws)
{
    const uint8_t *file = file_ptr;
    struct elf64_ehdr eh;
    tv_memset(img, 0, sizeof *img);
    tv_status_t st = check_ehdr(file, size, &eh, why, ws);
    if (st != TV_OK)
        return st;

    uint64_t end = 0, align = TV_ELF_PAGE, rela_size = 0;
    int has_rela = 0, dynamic_seen = 0, entry_ok = 0;
    for (unsigned i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        read_phdr(file, &eh, i, &ph);
        if (ph.type == PT_INTERP)
            return fail(TV_E_UNSUPPORTED, why, ws, "the monitor asks for an interpreter");
        if (ph.type == PT_TLS)
            return fail(TV_E_UNSUPPORTED, why, ws, "thread-local storage is not supported");
        if (ph.type == PT_DYNAMIC) {
            if (dynamic_seen++)
                return fail(TV_E_CORRUPT, why, ws, "more than one dynamic section");
            st = check_dynamic(file, size, &ph, img, &rela_size, &has_rela, why, ws);
            if (st != TV_OK)
                return st;
        }
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        st = check_load(&ph, i, size, end, why, ws);
        if (st != TV_OK)
            return st;
        img->load_count++;
        end = ph.vaddr + ph.memsz;
        if (ph.align > align)
            align = ph.align;
        if ((ph.flags & PF_X) && eh.entry >= ph.vaddr && eh.entry < end)
            entry_ok = 1;
    }
    if (img->load_count == 0)
        return fail(TV_E_CORRUPT, why, ws, "no loadable segment");
    if (!entry_ok)
        return fail(TV_E_CORRUPT, why, ws,
                    "entry point 0x%llx is not inside an executable segment",
                    (unsigned long long)eh.entry);
    img->span = (end + TV_ELF_PAGE - 1) & ~(TV_ELF_PAGE - 1);
    img->align = align;
    img->entry = eh.entry;

    if (has_rela || rela_size) {
        if (!has_rela)
            return fail(TV_E_CORRUPT, why, ws, "DT_RELASZ without DT_RELA");
        if (rela_size % sizeof(struct elf64_rela))
            return fail(TV_E_CORRUPT, why, ws, "DT_RELASZ is not a multiple of 24");
        /* The table must be file-backed data of one segment. */
        int inside = 0;
        for (unsigned i = 0; i < eh.phnum && !inside; i++) {
            struct elf64_phdr ph;
            read_phdr(file, &eh, i, &ph);
            if (ph.type == PT_LOAD && img->rela_offset >= ph.vaddr &&
                in_bounds(img->rela_offset - ph.vaddr, rela_size, ph.filesz))
                inside = 1;
        }
        if (!inside)
            return fail(TV_E_CORRUPT, why, ws,
                        "relocation table 0x%llx+0x%llx is not inside a segment's file data",
                        (unsigned long long)img->rela_offset, (unsigned long long)rela_size);
        img->rela_count = rela_size / sizeof(struct elf64_rela);
        if (img->rela_count == 0)
            img->rela_offset = 0;
    }
    return TV_OK;
}

/* True when [off, off+8) lies inside one PT_LOAD segment's memory. */
static int target_in_segment(const uint8_t *file, const struct elf64_ehdr *eh, uint64_t off)
{
    for (unsigned i = 0; i < eh->phnum; i++) {
        struct elf64_phdr ph;
        read_phdr(file, eh, i, &ph);
        if (ph.type == PT_LOAD && off >= ph.vaddr && in_bounds(off - ph.vaddr, 8, ph.memsz))
            return 1;
    }
    return 0;
}

tv_status_t tv_elf_load(const void *file_ptr, size_t size, const struct tv_elf_image *img,
                        void *dest_ptr, uint64_t base, char *why, size_t ws)
{
    const uint8_t *file = file_ptr;
    uint8_t *dest = dest_ptr;
    struct elf64_ehdr eh;
    tv_status_t st = check_ehdr(file, size, &eh, why, ws);
    if (st != TV_OK)
        return st;
    if (base & (img->align - 1))
        return fail(TV_E_INVALID_ARGUMENT, why, ws, "load address is not aligned");

    tv_memset(dest, 0, img->span);
    for (unsigned i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        read_phdr(file, &eh, i, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        /* Re-checked so a caller passing a different img cannot overflow dest. */
        if (!in_bounds(ph.offset, ph.filesz, size) || !in_bounds(ph.vaddr, ph.memsz, img->span) ||
            ph.filesz > ph.memsz)
            return fail(TV_E_CORRUPT, why, ws, "segment %u does not match the inspected image", i);
        tv_memcpy(dest + ph.vaddr, file + ph.offset, ph.filesz);
    }

    if (img->rela_count && !in_bounds(img->rela_offset, img->rela_count * sizeof(struct elf64_rela),
                                      img->span))
        return fail(TV_E_CORRUPT, why, ws, "relocation table outside the image");
    for (uint64_t i = 0; i < img->rela_count; i++) {
        struct elf64_rela r;
        tv_memcpy(&r, dest + img->rela_offset + i * sizeof r, sizeof r);
        uint32_t type = (uint32_t)r.info;
        if (type != R_X86_64_RELATIVE || (r.info >> 32) != 0)
            return fail(TV_E_UNSUPPORTED, why, ws,
                        "relocation %llu has type %u: only R_X86_64_RELATIVE is supported",
                        (unsigned long long)i, type);
        if (!target_in_segment(file, &eh, r.offset))
            return fail(TV_E_CORRUPT, why, ws,
                        "relocation %llu writes at 0x%llx, outside the loaded segments",
                        (unsigned long long)i, (unsigned long long)r.offset);
        if (r.addend < 0 || (uint64_t)r.addend > img->span)
            return fail(TV_E_CORRUPT, why, ws,
                        "relocation %llu points at 0x%llx, outside the image",
                        (unsigned long long)i, (unsigned long long)r.addend);
        uint64_t value = base + (uint64_t)r.addend;
        tv_memcpy(dest + r.offset, &value, sizeof value);
    }
    return TV_OK;
}
