/* Applies a load plan: segments, bss, boot-info structures, entry state.
 *
 * Boot-info area layout (GUEST_BOOTINFO_SIZE bytes at plan->bootinfo_gpa):
 *   +0x000  hvm_start_info (PVH), multiboot_info (Multiboot1) or the Linux
 *           zero page (struct boot_params, 4 KiB)
 *   +0x100  memory map (hvm_memmap_table_entry[] or Multiboot1 mmap entries)
 *   +0x200  boot loader name (Multiboot1)
 *   +0x1000 command line, NUL-terminated, < GUEST_CMDLINE_MAX bytes */
#include "boot_abi.h"
#include "guestload_internal.h"
#include "tv_string.h"

#define BI_INFO_OFF    0x000u
#define BI_MEMMAP_OFF  0x100u
#define BI_NAME_OFF    0x200u
#define BI_CMDLINE_OFF 0x1000u
#define BI_MAX_MEMMAP  3u

static const char loader_name[] = "Taskvisor";

_Static_assert(BI_INFO_OFF + sizeof(struct mb1_info) <= BI_MEMMAP_OFF, "boot info layout");
_Static_assert(BI_MEMMAP_OFF + BI_MAX_MEMMAP * 24 <= BI_NAME_OFF, "boot info layout");
_Static_assert(BI_CMDLINE_OFF + GUEST_CMDLINE_MAX <= GUEST_BOOTINFO_SIZE, "boot info layout");
_Static_assert(BI_INFO_OFF + LNX_ZP_SIZE <= BI_CMDLINE_OFF, "boot info layout");

struct memmap {
    uint64_t addr[BI_MAX_MEMMAP], len[BI_MAX_MEMMAP];
    uint32_t type[BI_MAX_MEMMAP];
    uint32_t n;
};

/* The fixed guest map documented in guestload.h (mem >= GUEST_MIN_MEM). */
static void build_memmap(uint64_t mem, struct memmap *m)
{
    m->addr[0] = 0;
    m->len[0] = GUEST_LEGACY_HOLE_START;
    m->type[0] = E820_RAM;
    m->addr[1] = GUEST_LEGACY_HOLE_START;
    m->len[1] = GUEST_LEGACY_HOLE_END - GUEST_LEGACY_HOLE_START;
    m->type[1] = E820_RESERVED;
    m->addr[2] = GUEST_LEGACY_HOLE_END;
    m->len[2] = mem - GUEST_LEGACY_HOLE_END;
    m->type[2] = E820_RAM;
    m->n = 3;
}

static tv_status_t write_zero(const struct guest_mem_writer *w, uint64_t gpa, uint64_t len)
{
    if (w->zero)
        return w->zero(w->ctx, gpa, len);
    static const uint8_t zeros[512];
    while (len) {
        size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
        tv_status_t st = w->write(w->ctx, gpa, zeros, n);
        if (st != TV_OK)
            return st;
        gpa += n;
        len -= n;
    }
    return TV_OK;
}

static tv_status_t write_pvh_info(const struct guest_load_plan *p, const struct guest_mem_writer *w,
                                  const struct memmap *m)
{
    uint64_t bi = p->bootinfo_gpa;
    struct hvm_memmap_table_entry e[BI_MAX_MEMMAP];
    tv_memset(e, 0, sizeof e);
    for (uint32_t i = 0; i < m->n; i++) {
        e[i].addr = m->addr[i];
        e[i].size = m->len[i];
        e[i].type = m->type[i];
    }
    tv_status_t st = w->write(w->ctx, bi + BI_MEMMAP_OFF, e, m->n * sizeof e[0]);
    if (st != TV_OK)
        return st;
    struct hvm_start_info si;
    tv_memset(&si, 0, sizeof si);
    si.magic = HVM_START_MAGIC;
    si.version = HVM_START_VERSION;
    si.cmdline_paddr = bi + BI_CMDLINE_OFF;
    si.memmap_paddr = bi + BI_MEMMAP_OFF;
    si.memmap_entries = m->n;
    /* No modules and no ACPI tables (rsdp_paddr 0) yet. */
    return w->write(w->ctx, bi + BI_INFO_OFF, &si, sizeof si);
}

static tv_status_t write_mb1_info(const struct guest_load_plan *p, const struct guest_mem_writer *w,
                                  const struct memmap *m)
{
    uint64_t bi = p->bootinfo_gpa;   /* < 4 GiB - area size: fits the 32-bit fields */
    struct mb1_mmap_entry e[BI_MAX_MEMMAP];
    tv_memset(e, 0, sizeof e);
    for (uint32_t i = 0; i < m->n; i++) {
        e[i].size = sizeof e[i] - 4;
        e[i].addr = m->addr[i];
        e[i].len = m->len[i];
        e[i].type = m->type[i];
    }
    tv_status_t st = w->write(w->ctx, bi + BI_MEMMAP_OFF, e, m->n * sizeof e[0]);
    if (st == TV_OK)
        st = w->write(w->ctx, bi + BI_NAME_OFF, loader_name, sizeof loader_name);
    if (st != TV_OK)
        return st;
    struct mb1_info mi;
    tv_memset(&mi, 0, sizeof mi);
    mi.flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MEM_MAP | MB1_INFO_LOADER_NAME;
    mi.mem_lower = GUEST_LEGACY_HOLE_START / 1024;
    uint64_t upper_kib = (p->guest_mem_bytes - GUEST_LEGACY_HOLE_END) / 1024;
    mi.mem_upper = upper_kib > UINT32_MAX ? UINT32_MAX : (uint32_t)upper_kib;
    mi.cmdline = (uint32_t)(bi + BI_CMDLINE_OFF);
    mi.mmap_addr = (uint32_t)(bi + BI_MEMMAP_OFF);
    mi.mmap_length = m->n * (uint32_t)sizeof e[0];
    mi.boot_loader_name = (uint32_t)(bi + BI_NAME_OFF);
    return w->write(w->ctx, bi + BI_INFO_OFF, &mi, sizeof mi);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* The zero page: the kernel's setup header copied from the file, what a
 * boot loader must fill in (boot.rst, "Details of header fields" marked
 * write/modify), and the E820 map.  Everything else stays 0, which says:
 * no video (screen_info empty, so no VGA console), no EDD, no EFI. */
static tv_status_t write_linux_zero_page(const struct guest_load_plan *p, const uint8_t *img,
                                         const struct guest_mem_writer *w,
                                         const struct memmap *m)
{
    static uint8_t zp[LNX_ZP_SIZE];   /* one load at a time: loaders are not reentrant */
    tv_memset(zp, 0, sizeof zp);
    tv_memcpy(zp + LNX_SETUP_SECTS, img + LNX_SETUP_SECTS, p->lnx_hdr_end - LNX_SETUP_SECTS);
    zp[LNX_TYPE_OF_LOADER] = LNX_LOADER_UNDEFINED;
    put32(zp + LNX_CODE32_START, p->entry);
    uint64_t cmd = p->bootinfo_gpa + BI_CMDLINE_OFF;
    put32(zp + LNX_CMD_LINE_PTR, (uint32_t)cmd);
    put32(zp + LNX_ZP_EXT_CMD_LINE_PTR, (uint32_t)(cmd >> 32));
    put32(zp + LNX_RAMDISK_IMAGE, (uint32_t)p->initrd_gpa);
    put32(zp + LNX_ZP_EXT_RAMDISK_IMAGE, (uint32_t)(p->initrd_gpa >> 32));
    put32(zp + LNX_RAMDISK_SIZE, (uint32_t)p->initrd_size);
    put32(zp + LNX_ZP_EXT_RAMDISK_SIZE, (uint32_t)(p->initrd_size >> 32));
    _Static_assert(BI_MAX_MEMMAP <= LNX_ZP_E820_MAX, "e820 table size");
    for (uint32_t i = 0; i < m->n; i++) {
        uint8_t *e = zp + LNX_ZP_E820_TABLE + 20 * i;
        put64(e, m->addr[i]);
        put64(e + 8, m->len[i]);
        put32(e + 16, m->type[i]);
    }
    zp[LNX_ZP_E820_ENTRIES] = (uint8_t)m->n;
    return w->write(w->ctx, p->bootinfo_gpa + BI_INFO_OFF, zp, sizeof zp);
}

tv_status_t guest_load_initrd(const struct guest_load_plan *plan, const void *initrd,
                              const struct guest_mem_writer *w)
{
    if (!plan || !initrd || !w || !w->write || plan->initrd_size == 0)
        return TV_E_INVALID_ARGUMENT;
    tv_status_t st = guest_plan_validate(plan, NULL, 0);
    if (st != TV_OK)
        return st;
    return w->write(w->ctx, plan->initrd_gpa, initrd, (size_t)plan->initrd_size);
}

static void flat_segment(struct guest_seg_reg *s, uint16_t sel, uint8_t type)
{
    tv_memset(s, 0, sizeof *s);
    s->selector = sel;
    s->type = type;
    s->s = 1;
    s->present = 1;
    s->db = 1;
    s->g = 1;
    s->limit = 0xffffffffu;
}

static void entry_state(const struct guest_load_plan *p, struct guest_entry_state *o)
{
    tv_memset(o, 0, sizeof *o);
    o->protocol = p->protocol;
    o->bootinfo_gpa = (uint32_t)p->bootinfo_gpa;
    o->rip = p->entry;
    o->rbx = p->bootinfo_gpa;
    if (p->protocol == GUEST_PROTO_MULTIBOOT1)
        o->rax = MB1_BOOTLOADER_MAGIC;
    if (p->protocol == GUEST_PROTO_LINUX) {
        o->rsi = p->bootinfo_gpa;    /* the zero page; EBX, EBP, EDI must be 0 */
        o->rbx = 0;
    }
    o->rflags = 0x2;                 /* reserved bit 1; IF and VM clear */
    o->cr0 = 0x11;                   /* PE | ET, paging off */
    flat_segment(&o->cs, 0x10, 0xb);
    flat_segment(&o->ds, 0x18, 0x3);
    o->es = o->ds;
    o->ss = o->ds;
    o->fs = o->ds;
    o->gs = o->ds;
    /* A busy 32-bit TSS, as PVH asks (base 0, limit 0x67). */
    o->tr.selector = 0x20;
    o->tr.type = 0xb;
    o->tr.present = 1;
    o->tr.limit = 0x67;
}

tv_status_t guest_image_load(const struct guest_load_plan *plan, const void *image,
                             const struct guest_mem_writer *w, const char *cmdline,
                             uint64_t guest_mem_bytes, struct guest_entry_state *out)
{
    if (!plan || !image || !w || !w->write || !out)
        return TV_E_INVALID_ARGUMENT;
    if (guest_mem_bytes != plan->guest_mem_bytes)
        return TV_E_INVALID_ARGUMENT;
    tv_status_t st = guest_plan_validate(plan, NULL, 0);
    if (st != TV_OK)
        return st;
    if (!cmdline)
        cmdline = "";
    size_t clen = tv_strnlen(cmdline, GUEST_CMDLINE_MAX);
    if (clen >= GUEST_CMDLINE_MAX ||
        (plan->protocol == GUEST_PROTO_LINUX && clen > plan->lnx_cmdline_max))
        return TV_E_INVALID_ARGUMENT;

    const uint8_t *img = image;
    for (uint32_t i = 0; i < plan->nsegments; i++) {
        const struct guest_segment *s = &plan->seg[i];
        if (s->file_size) {
            st = w->write(w->ctx, s->gpa, img + s->file_offset, (size_t)s->file_size);
            if (st != TV_OK)
                return st;
        }
        if (s->mem_size > s->file_size) {
            st = write_zero(w, s->gpa + s->file_size, s->mem_size - s->file_size);
            if (st != TV_OK)
                return st;
        }
    }

    st = write_zero(w, plan->bootinfo_gpa, GUEST_BOOTINFO_SIZE);
    if (st == TV_OK)
        st = w->write(w->ctx, plan->bootinfo_gpa + BI_CMDLINE_OFF, cmdline, clen + 1);
    if (st != TV_OK)
        return st;
    struct memmap m;
    build_memmap(guest_mem_bytes, &m);
    st = plan->protocol == GUEST_PROTO_PVH   ? write_pvh_info(plan, w, &m)
         : plan->protocol == GUEST_PROTO_LINUX ? write_linux_zero_page(plan, img, w, &m)
                                               : write_mb1_info(plan, w, &m);
    if (st != TV_OK)
        return st;
    entry_state(plan, out);
    return TV_OK;
}
