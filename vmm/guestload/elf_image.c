/* ELF32/ELF64 executable parsing for guest kernels: header checks, program
 * headers, PT_LOAD segments at their physical addresses, the PVH entry note.
 * The image is untrusted: every offset and size is checked before use and
 * all arithmetic is done in 64 bits on values that cannot overflow it. */
#include "boot_abi.h"
#include "guestload_internal.h"
#include "tv_string.h"

bool gl_is_elf(const uint8_t *img, size_t size)
{
    return size >= 4 && img[0] == 0x7f && img[1] == 'E' && img[2] == 'L' && img[3] == 'F';
}

tv_status_t gl_elf_open(const uint8_t *img, size_t size, struct gl_elf *elf,
                        char *err, size_t errlen)
{
    tv_memset(elf, 0, sizeof *elf);
    if (!gl_is_elf(img, size) || size < 16)
        return gl_fail(err, errlen, TV_E_CORRUPT, "not an ELF file");
    uint8_t cls = img[4];
    if (cls != ELF_CLASS32 && cls != ELF_CLASS64)
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF class %u is neither 32 nor 64-bit", cls);
    if (img[5] != ELF_DATA_LSB)
        return gl_fail(err, errlen, TV_E_UNSUPPORTED, "ELF is not little-endian");
    if (img[6] != 1)
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF ident version %u is not 1", img[6]);
    elf->is64 = cls == ELF_CLASS64;
    uint64_t ehsize = elf->is64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;
    if (size < ehsize)
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF header truncated (%zu bytes)", size);
    elf->img = img;
    elf->size = size;

    uint16_t type = gl_rd16(img + 16), machine = gl_rd16(img + 18);
    uint32_t version = gl_rd32(img + 20);
    if (type != ELF_ET_EXEC)
        return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                       "ELF type %u is not an executable (ET_EXEC)", type);
    if (machine != (elf->is64 ? ELF_EM_X86_64 : ELF_EM_386))
        return gl_fail(err, errlen, TV_E_UNSUPPORTED, "ELF machine %u is not %s", machine,
                       elf->is64 ? "x86-64" : "i386");
    if (version != 1)
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF version %u is not 1", version);

    uint16_t phnum;
    if (elf->is64) {
        elf->entry = gl_rd64(img + 24);
        elf->phoff = gl_rd64(img + 32);
        elf->phentsize = gl_rd16(img + 54);
        phnum = gl_rd16(img + 56);
    } else {
        elf->entry = gl_rd32(img + 24);
        elf->phoff = gl_rd32(img + 28);
        elf->phentsize = gl_rd16(img + 42);
        phnum = gl_rd16(img + 44);
    }
    uint32_t want = elf->is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;
    if (phnum == 0)
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF has no program headers");
    if (phnum == ELF_PN_XNUM || phnum > GUEST_MAX_PHDRS)
        return gl_fail(err, errlen, TV_E_LIMIT, "ELF has %u program headers (limit %u)",
                       phnum, GUEST_MAX_PHDRS);
    if (elf->phentsize != want)
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF program header size %u, expected %u",
                       elf->phentsize, want);
    elf->phnum = phnum;
    /* phnum <= 64 and phentsize <= 56: the product cannot overflow. */
    if (!gl_in_file(elf->phoff, (uint64_t)phnum * want, size))
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF program headers lie past the end of the file");
    if (elf->phoff % (elf->is64 ? 8 : 4))
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF program header table is misaligned");
    return TV_OK;
}

void gl_elf_phdr(const struct gl_elf *elf, uint32_t index, struct gl_phdr *ph)
{
    const uint8_t *p = elf->img + elf->phoff + (uint64_t)index * elf->phentsize;
    if (elf->is64) {
        ph->type = gl_rd32(p);
        ph->flags = gl_rd32(p + 4);
        ph->offset = gl_rd64(p + 8);
        ph->vaddr = gl_rd64(p + 16);
        ph->paddr = gl_rd64(p + 24);
        ph->filesz = gl_rd64(p + 32);
        ph->memsz = gl_rd64(p + 40);
        ph->align = gl_rd64(p + 48);
    } else {
        ph->type = gl_rd32(p);
        ph->offset = gl_rd32(p + 4);
        ph->vaddr = gl_rd32(p + 8);
        ph->paddr = gl_rd32(p + 12);
        ph->filesz = gl_rd32(p + 16);
        ph->memsz = gl_rd32(p + 20);
        ph->flags = gl_rd32(p + 24);
        ph->align = gl_rd32(p + 28);
    }
}

static uint64_t align_up4or8(uint64_t v, uint64_t a)
{
    return (v + (a - 1)) & ~(a - 1);   /* v < 2^33 here: no overflow */
}

/* Walks the notes of one PT_NOTE segment. */
static tv_status_t scan_notes(const struct gl_elf *elf, const struct gl_phdr *ph,
                              bool *found, uint32_t *entry, char *err, size_t errlen)
{
    if (!gl_in_file(ph->offset, ph->filesz, elf->size))
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF note segment lies past the end of the file");
    uint64_t a = ph->align == 8 ? 8 : 4;
    const uint8_t *p = elf->img + ph->offset;
    uint64_t left = ph->filesz;
    while (left >= 12) {
        uint64_t namesz = gl_rd32(p), descsz = gl_rd32(p + 4);
        uint32_t type = gl_rd32(p + 8);
        uint64_t name_span = align_up4or8(namesz, a), desc_span = align_up4or8(descsz, a);
        /* 12 + spans < 2^35: no overflow; the last desc need not be padded. */
        if (12 + name_span + descsz > left)
            return gl_fail(err, errlen, TV_E_CORRUPT, "ELF note runs past its segment");
        const uint8_t *name = p + 12, *desc = p + 12 + name_span;
        if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && tv_memcmp(name, "Xen", 4) == 0) {
            uint64_t value;
            if (descsz == 4)
                value = gl_rd32(desc);
            else if (descsz == 8)
                value = gl_rd64(desc);
            else
                return gl_fail(err, errlen, TV_E_CORRUPT,
                               "PVH entry note has a %u-byte value (expected 4 or 8)",
                               (unsigned)descsz);
            if (value > UINT32_MAX)
                return gl_fail(err, errlen, TV_E_CORRUPT,
                               "PVH entry 0x%llx is above 4 GiB", (unsigned long long)value);
            if (!*found) {          /* the first note wins */
                *found = true;
                *entry = (uint32_t)value;
            }
        }
        uint64_t step = 12 + name_span + desc_span;
        if (step >= left)
            break;
        p += step;
        left -= step;
    }
    return TV_OK;
}

tv_status_t gl_elf_find_pvh_entry(const struct gl_elf *elf, bool *found, uint32_t *entry,
                                  char *err, size_t errlen)
{
    *found = false;
    *entry = 0;
    for (uint32_t i = 0; i < elf->phnum; i++) {
        struct gl_phdr ph;
        gl_elf_phdr(elf, i, &ph);
        if (ph.type != ELF_PT_NOTE)
            continue;
        tv_status_t st = scan_notes(elf, &ph, found, entry, err, errlen);
        if (st != TV_OK)
            return st;
    }
    return TV_OK;
}

tv_status_t gl_elf_add_segments(const struct gl_elf *elf, struct guest_load_plan *plan,
                                char *err, size_t errlen)
{
    for (uint32_t i = 0; i < elf->phnum; i++) {
        struct gl_phdr ph;
        gl_elf_phdr(elf, i, &ph);
        if (ph.type == ELF_PT_INTERP)
            return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                           "ELF asks for a program interpreter (not a kernel)");
        if (ph.type != ELF_PT_LOAD)
            continue;
        if (ph.filesz > ph.memsz)
            return gl_fail(err, errlen, TV_E_CORRUPT,
                           "ELF segment %u: file size 0x%llx exceeds memory size 0x%llx", i,
                           (unsigned long long)ph.filesz, (unsigned long long)ph.memsz);
        if (ph.memsz == 0)
            continue;
        if (!gl_in_file(ph.offset, ph.filesz, elf->size))
            return gl_fail(err, errlen, TV_E_CORRUPT,
                           "ELF segment %u lies past the end of the file", i);
        if (ph.align > 1) {
            if (ph.align & (ph.align - 1))
                return gl_fail(err, errlen, TV_E_CORRUPT,
                               "ELF segment %u alignment 0x%llx is not a power of two", i,
                               (unsigned long long)ph.align);
            if ((ph.offset ^ ph.vaddr) & (ph.align - 1))
                return gl_fail(err, errlen, TV_E_CORRUPT,
                               "ELF segment %u offset and address disagree modulo its alignment", i);
        }
        if (ph.paddr + ph.memsz < ph.paddr)
            return gl_fail(err, errlen, TV_E_CORRUPT,
                           "ELF segment %u wraps around the address space", i);
        if (plan->nsegments >= GUEST_MAX_SEGMENTS)
            return gl_fail(err, errlen, TV_E_LIMIT, "more than %u loadable segments",
                           GUEST_MAX_SEGMENTS);
        struct guest_segment *s = &plan->seg[plan->nsegments++];
        s->file_offset = ph.offset;
        s->file_size = ph.filesz;
        s->gpa = ph.paddr;
        s->mem_size = ph.memsz;
    }
    if (plan->nsegments == 0)
        return gl_fail(err, errlen, TV_E_CORRUPT, "ELF has no loadable segment");
    return TV_OK;
}

tv_status_t gl_elf_physical_entry(const struct gl_elf *elf, uint32_t *entry,
                                  char *err, size_t errlen)
{
    for (uint32_t i = 0; i < elf->phnum; i++) {
        struct gl_phdr ph;
        gl_elf_phdr(elf, i, &ph);
        if (ph.type != ELF_PT_LOAD || ph.memsz == 0)
            continue;
        if (elf->entry < ph.vaddr || elf->entry - ph.vaddr >= ph.memsz)
            continue;
        uint64_t phys = ph.paddr + (elf->entry - ph.vaddr);   /* < paddr + memsz: checked */
        if (phys > UINT32_MAX)
            return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                           "entry point 0x%llx is above 4 GiB", (unsigned long long)phys);
        *entry = (uint32_t)phys;
        return TV_OK;
    }
    return gl_fail(err, errlen, TV_E_CORRUPT, "ELF entry 0x%llx is in no loadable segment",
                   (unsigned long long)elf->entry);
}
