/* Protocol selection, plan validation and boot-info placement. */
#include <stdarg.h>

#include "boot_abi.h"
#include "guestload_internal.h"
#include "tv_fmt.h"
#include "tv_string.h"

tv_status_t gl_fail(char *err, size_t errlen, tv_status_t st, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        tv_vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

const char *guest_protocol_name(uint32_t protocol)
{
    switch (protocol) {
    case GUEST_PROTO_PVH: return "PVH";
    case GUEST_PROTO_MULTIBOOT1: return "Multiboot1";
    case GUEST_PROTO_LINUX: return "Linux bzImage";
    default: return "none";
    }
}

/* [a, a+alen) and [b, b+blen) intersect; ends do not overflow (checked). */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static tv_status_t check_mem_size(uint64_t mem, char *err, size_t errlen)
{
    if (mem < GUEST_MIN_MEM || (mem & 0xfff) || mem > (1ull << 52))
        return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT,
                       "guest memory size 0x%llx must be a multiple of 4 KiB, 2 MiB to 4 PiB",
                       (unsigned long long)mem);
    return TV_OK;
}

/* The initrd, when there is one: Linux only, page-aligned RAM below its
 * limit, clear of the segments, the boot-info area and the legacy hole. */
static tv_status_t check_initrd(const struct guest_load_plan *plan, char *err, size_t errlen)
{
    const uint64_t g = plan->initrd_gpa, n = plan->initrd_size, mem = plan->guest_mem_bytes;
    if (n == 0)
        return g == 0 ? TV_OK : gl_fail(err, errlen, TV_E_INVALID_ARGUMENT,
                                        "initrd address without a size");
    if (plan->protocol != GUEST_PROTO_LINUX)
        return gl_fail(err, errlen, TV_E_UNSUPPORTED, "%s kernels take no initrd",
                       guest_protocol_name(plan->protocol));
    if ((g & 0xfff) || g > mem || n > mem - g || g + n > plan->initrd_limit ||
        overlaps(g, n, GUEST_LEGACY_HOLE_START, GUEST_LEGACY_HOLE_END - GUEST_LEGACY_HOLE_START) ||
        overlaps(g, n, plan->bootinfo_gpa, GUEST_BOOTINFO_SIZE))
        return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT,
                       "initrd [0x%llx, +0x%llx) is not page-aligned free RAM below 0x%llx",
                       (unsigned long long)g, (unsigned long long)n,
                       (unsigned long long)plan->initrd_limit);
    for (uint32_t i = 0; i < plan->nsegments; i++) {
        if (overlaps(g, n, plan->seg[i].gpa, plan->seg[i].mem_size))
            return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT,
                           "initrd overlaps segment %u", i);
    }
    return TV_OK;
}

tv_status_t guest_plan_add_initrd(struct guest_load_plan *plan, uint64_t size,
                                  char *err, size_t errlen)
{
    if (!plan || size == 0)
        return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT, "empty initrd");
    if (plan->protocol != GUEST_PROTO_LINUX)
        return gl_fail(err, errlen, TV_E_UNSUPPORTED, "%s kernels take no initrd",
                       guest_protocol_name(plan->protocol));
    /* Highest first, as boot loaders do: the top of RAM (or of what the
     * kernel can address), then below every segment in the way. */
    uint64_t top = plan->guest_mem_bytes < plan->initrd_limit ? plan->guest_mem_bytes
                                                                : plan->initrd_limit;
    uint64_t len = (size + 0xfff) & ~0xfffull;
    if (size > plan->guest_mem_bytes || len > top)
        return gl_fail(err, errlen, TV_E_NO_SPACE, "initrd of %llu bytes does not fit in RAM",
                       (unsigned long long)size);
    for (uint32_t tries = 0; tries <= plan->nsegments + 1; tries++) {
        uint64_t g = (top - len) & ~0xfffull;
        plan->initrd_gpa = g;
        plan->initrd_size = size;
        if (check_initrd(plan, NULL, 0) == TV_OK)
            return TV_OK;
        /* Move below the lowest thing it hit. */
        uint64_t below = g;
        for (uint32_t i = 0; i < plan->nsegments; i++)
            if (overlaps(g, len, plan->seg[i].gpa, plan->seg[i].mem_size) &&
                plan->seg[i].gpa < below + len)
                below = plan->seg[i].gpa;
        if (overlaps(g, len, plan->bootinfo_gpa, GUEST_BOOTINFO_SIZE))
            below = plan->bootinfo_gpa < below ? plan->bootinfo_gpa : below;
        if (overlaps(g, len, GUEST_LEGACY_HOLE_START, GUEST_LEGACY_HOLE_END - GUEST_LEGACY_HOLE_START))
            below = GUEST_LEGACY_HOLE_START < below ? GUEST_LEGACY_HOLE_START : below;
        if (below >= top || below < len)
            break;
        top = below;
    }
    plan->initrd_gpa = 0;
    plan->initrd_size = 0;
    return gl_fail(err, errlen, TV_E_NO_SPACE,
                   "no room for an initrd of %llu bytes below 0x%llx beside the kernel",
                   (unsigned long long)size, (unsigned long long)plan->initrd_limit);
}

tv_status_t guest_plan_validate(const struct guest_load_plan *plan, char *err, size_t errlen)
{
    tv_status_t st = check_mem_size(plan->guest_mem_bytes, err, errlen);
    if (st != TV_OK)
        return st;
    if (plan->protocol != GUEST_PROTO_PVH && plan->protocol != GUEST_PROTO_MULTIBOOT1 &&
        plan->protocol != GUEST_PROTO_LINUX)
        return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT, "plan has no boot protocol");
    if (plan->nsegments == 0 || plan->nsegments > GUEST_MAX_SEGMENTS)
        return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT, "plan has %u segments",
                       plan->nsegments);
    if (plan->protocol == GUEST_PROTO_LINUX &&
        (plan->lnx_hdr_end <= LNX_SETUP_SECTS || plan->lnx_hdr_end > LNX_HEADER_END_MAX ||
         plan->lnx_hdr_end > plan->image_size || plan->lnx_cmdline_max >= GUEST_CMDLINE_MAX))
        return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT, "plan has a bad Linux setup header");
    const uint64_t mem = plan->guest_mem_bytes;
    const uint64_t bi = plan->bootinfo_gpa;
    if ((bi & 0xfff) || bi > mem || GUEST_BOOTINFO_SIZE > mem - bi ||
        bi > (1ull << 32) - GUEST_BOOTINFO_SIZE ||
        overlaps(bi, GUEST_BOOTINFO_SIZE, GUEST_LEGACY_HOLE_START,
                 GUEST_LEGACY_HOLE_END - GUEST_LEGACY_HOLE_START))
        return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT,
                       "boot-info area 0x%llx is not page-aligned RAM below 4 GiB",
                       (unsigned long long)bi);
    bool entry_ok = false;
    for (uint32_t i = 0; i < plan->nsegments; i++) {
        const struct guest_segment *s = &plan->seg[i];
        if (s->mem_size == 0 || s->file_size > s->mem_size)
            return gl_fail(err, errlen, TV_E_CORRUPT, "segment %u has bad sizes", i);
        if (!gl_in_file(s->file_offset, s->file_size, plan->image_size))
            return gl_fail(err, errlen, TV_E_CORRUPT, "segment %u lies past the end of the file", i);
        if (s->gpa > mem || s->mem_size > mem - s->gpa)
            return gl_fail(err, errlen, TV_E_NO_SPACE,
                           "segment %u [0x%llx, +0x%llx) is outside guest memory (0x%llx bytes)",
                           i, (unsigned long long)s->gpa, (unsigned long long)s->mem_size,
                           (unsigned long long)mem);
        if (overlaps(s->gpa, s->mem_size, GUEST_LEGACY_HOLE_START,
                     GUEST_LEGACY_HOLE_END - GUEST_LEGACY_HOLE_START))
            return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                           "segment %u at 0x%llx overlaps the legacy hole [0xA0000, 0x100000)",
                           i, (unsigned long long)s->gpa);
        if (overlaps(s->gpa, s->mem_size, bi, GUEST_BOOTINFO_SIZE))
            return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT,
                           "segment %u overlaps the boot-info area", i);
        for (uint32_t j = 0; j < i; j++) {
            if (overlaps(s->gpa, s->mem_size, plan->seg[j].gpa, plan->seg[j].mem_size))
                return gl_fail(err, errlen, TV_E_CORRUPT, "segments %u and %u overlap", j, i);
        }
        if (plan->entry >= s->gpa && plan->entry - s->gpa < s->mem_size)
            entry_ok = true;
    }
    if (!entry_ok)
        return gl_fail(err, errlen, TV_E_CORRUPT, "entry point 0x%x is in no loaded segment",
                       plan->entry);
    return check_initrd(plan, err, errlen);
}

/* Segments are already known to lie inside guest memory. */
static bool bootinfo_fits(const struct guest_load_plan *plan, uint64_t gpa)
{
    if (gpa + GUEST_BOOTINFO_SIZE > plan->guest_mem_bytes || gpa + GUEST_BOOTINFO_SIZE > (1ull << 32))
        return false;
    if (overlaps(gpa, GUEST_BOOTINFO_SIZE, GUEST_LEGACY_HOLE_START,
                 GUEST_LEGACY_HOLE_END - GUEST_LEGACY_HOLE_START))
        return false;
    for (uint32_t i = 0; i < plan->nsegments; i++) {
        if (overlaps(gpa, GUEST_BOOTINFO_SIZE, plan->seg[i].gpa, plan->seg[i].mem_size))
            return false;
    }
    return true;
}

static tv_status_t place_bootinfo(struct guest_load_plan *plan, char *err, size_t errlen)
{
    if (bootinfo_fits(plan, GUEST_BOOTINFO_LOW_GPA)) {
        plan->bootinfo_gpa = GUEST_BOOTINFO_LOW_GPA;
        return TV_OK;
    }
    uint64_t top = 0;
    for (uint32_t i = 0; i < plan->nsegments; i++) {
        uint64_t end = plan->seg[i].gpa + plan->seg[i].mem_size;
        if (end > top)
            top = end;
    }
    top = (top + 0xfff) & ~0xfffull;       /* top <= 2^52: no overflow */
    if (top < GUEST_LEGACY_HOLE_END && top + GUEST_BOOTINFO_SIZE > GUEST_LEGACY_HOLE_START)
        top = GUEST_LEGACY_HOLE_END;
    if (bootinfo_fits(plan, top)) {
        plan->bootinfo_gpa = top;
        return TV_OK;
    }
    return gl_fail(err, errlen, TV_E_NO_SPACE,
                   "no room for the %u-byte boot information below 4 GiB", GUEST_BOOTINFO_SIZE);
}

tv_status_t guest_image_plan(const void *image, size_t size, uint64_t guest_mem_bytes,
                             struct guest_load_plan *plan, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!plan)
        return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT, "no plan buffer");
    tv_memset(plan, 0, sizeof *plan);
    if (!image || size == 0)
        return gl_fail(err, errlen, TV_E_INVALID_ARGUMENT, "empty image");
    tv_status_t st = check_mem_size(guest_mem_bytes, err, errlen);
    if (st != TV_OK)
        return st;
    const uint8_t *img = image;
    plan->image_size = size;
    plan->guest_mem_bytes = guest_mem_bytes;

    struct gl_elf elf;
    bool is_elf = gl_is_elf(img, size), pvh = false;
    uint32_t pvh_entry = 0;
    if (is_elf) {
        st = gl_elf_open(img, size, &elf, err, errlen);
        if (st != TV_OK)
            return st;
        st = gl_elf_find_pvh_entry(&elf, &pvh, &pvh_entry, err, errlen);
        if (st != TV_OK)
            return st;
    }

    if (gl_bz_is_bzimage(img, size)) {
        st = gl_bz_plan(img, size, plan, err, errlen);
    } else if (pvh) {
        plan->protocol = GUEST_PROTO_PVH;
        plan->entry = pvh_entry;
        st = gl_elf_add_segments(&elf, plan, err, errlen);
    } else {
        bool mb = false;
        struct gl_mb1_header hdr;
        st = gl_mb1_find(img, size, &mb, &hdr, err, errlen);
        if (st != TV_OK)
            return st;
        if (!mb)
            return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                           "no PVH note and no Multiboot1 header");
        plan->protocol = GUEST_PROTO_MULTIBOOT1;
        plan->mb_flags = hdr.flags;
        if (hdr.flags & MB1_HDR_AOUT_KLUDGE) {
            st = gl_mb1_plan_kludge(img, size, &hdr, plan, err, errlen);
        } else if (is_elf) {
            st = gl_elf_add_segments(&elf, plan, err, errlen);
            if (st == TV_OK)
                st = gl_elf_physical_entry(&elf, &plan->entry, err, errlen);
        } else {
            st = gl_fail(err, errlen, TV_E_UNSUPPORTED,
                         "Multiboot1 image is not ELF and has no address fields (flags bit 16)");
        }
    }
    if (st != TV_OK)
        return st;

    /* Everything below is re-checked by guest_plan_validate; checking the
     * segments first gives the more useful message. */
    plan->bootinfo_gpa = 0;
    for (uint32_t i = 0; i < plan->nsegments; i++) {
        const struct guest_segment *s = &plan->seg[i];
        if (s->gpa > guest_mem_bytes || s->mem_size > guest_mem_bytes - s->gpa)
            return gl_fail(err, errlen, TV_E_NO_SPACE,
                           "segment %u [0x%llx, +0x%llx) does not fit in 0x%llx bytes of guest memory",
                           i, (unsigned long long)s->gpa, (unsigned long long)s->mem_size,
                           (unsigned long long)guest_mem_bytes);
    }
    st = place_bootinfo(plan, err, errlen);
    if (st != TV_OK)
        return st;
    return guest_plan_validate(plan, err, errlen);
}
