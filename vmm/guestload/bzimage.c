/* Linux bzImage kernels (x86 boot protocol 2.10 and later).
 *
 * The file is: a boot sector and setup_sects sectors of real-mode setup code
 * (whose setup header at 0x1f1 describes the kernel), then the
 * protected-mode kernel, which decompresses itself.  Taskvisor starts it
 * through the 32-bit boot protocol (boot.rst, "32-bit boot protocol"): flat
 * 4 GiB CS = 0x10 and DS/ES/SS = 0x18, paging off, interrupts off, ESI = the
 * zero page, EIP = the protected-mode load address.  That is the entry state
 * every Taskvisor vCPU starts in (vcpu_reset_pm32); the kernel's own
 * startup_32 then builds its page tables and enters long mode, so the 64-bit
 * entry (load address + 0x200 with loader-built page tables) is not needed.
 * The real-mode setup code is never run: the loader fills the zero page
 * itself (guest_load.c). */
#include "boot_abi.h"
#include "guestload_internal.h"

#define LNX_SECTOR      512u
#define LNX_LOW_LOAD    0x100000u   /* where a kernel that cannot relocate must go */

bool gl_bz_is_bzimage(const uint8_t *img, size_t size)
{
    return size >= LNX_INIT_SIZE + 4 && gl_rd16(img + LNX_BOOT_FLAG) == 0xAA55 &&
           gl_rd32(img + LNX_HEADER) == LNX_HDRS_MAGIC;
}

tv_status_t gl_bz_plan(const uint8_t *img, size_t size, struct guest_load_plan *plan,
                       char *err, size_t errlen)
{
    uint16_t version = gl_rd16(img + LNX_VERSION);
    if (version < LNX_MIN_VERSION)
        return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                       "Linux boot protocol %u.%02u is older than 2.10",
                       version >> 8, version & 0xff);
    uint8_t loadflags = img[LNX_LOADFLAGS];
    if (!(loadflags & LNX_LOADED_HIGH))
        return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                       "zImage (kernel loaded below 1 MiB) is not supported");
    uint32_t hdr_end = LNX_HEADER + img[LNX_JUMP + 1];
    if (hdr_end < LNX_INIT_SIZE + 4 || hdr_end > LNX_HEADER_END_MAX || hdr_end > size)
        return gl_fail(err, errlen, TV_E_CORRUPT, "setup header ends at 0x%x (outside 0x%x..0x%x)",
                       hdr_end, LNX_INIT_SIZE + 4, LNX_HEADER_END_MAX);
    uint32_t sects = img[LNX_SETUP_SECTS] ? img[LNX_SETUP_SECTS] : 4;
    uint64_t pm_off = (uint64_t)(sects + 1) * LNX_SECTOR;
    if (pm_off >= size)
        return gl_fail(err, errlen, TV_E_CORRUPT,
                       "%u setup sectors leave no protected-mode kernel in %llu bytes", sects,
                       (unsigned long long)size);
    uint64_t pm_size = size - pm_off;
    uint64_t init_size = gl_rd32(img + LNX_INIT_SIZE);
    uint64_t need = init_size > pm_size ? init_size : pm_size;

    /* A relocatable kernel goes at its preferred address when that is
     * aligned and fits, else at the first aligned address from 1 MiB;
     * any other kernel at 1 MiB (code32_start is then 1 MiB). */
    const uint64_t mem = plan->guest_mem_bytes;
    uint64_t load = LNX_LOW_LOAD;
    if (img[LNX_RELOCATABLE]) {
        uint64_t align = gl_rd32(img + LNX_KERNEL_ALIGNMENT);
        if (align == 0 || (align & (align - 1)) || align > (1u << 30))
            return gl_fail(err, errlen, TV_E_CORRUPT, "kernel_alignment 0x%llx is not a power "
                           "of two up to 1 GiB", (unsigned long long)align);
        uint64_t pref = gl_rd64(img + LNX_PREF_ADDRESS);
        if (pref >= LNX_LOW_LOAD && !(pref & (align - 1)) && pref < mem && need <= mem - pref)
            load = pref;
        else
            load = (LNX_LOW_LOAD + align - 1) & ~(align - 1);
    } else if (gl_rd32(img + LNX_CODE32_START) != LNX_LOW_LOAD) {
        return gl_fail(err, errlen, TV_E_UNSUPPORTED,
                       "non-relocatable kernel with code32_start 0x%x (not 1 MiB)",
                       gl_rd32(img + LNX_CODE32_START));
    }
    if (load >= mem || need > mem - load || load + need > (1ull << 32))
        return gl_fail(err, errlen, TV_E_NO_SPACE,
                       "the kernel needs 0x%llx bytes at 0x%llx (init_size), more than the "
                       "0x%llx bytes of guest memory below 4 GiB", (unsigned long long)need,
                       (unsigned long long)load, (unsigned long long)mem);
    plan->protocol = GUEST_PROTO_LINUX;
    plan->nsegments = 1;
    plan->seg[0].file_offset = pm_off;
    plan->seg[0].file_size = pm_size;
    plan->seg[0].gpa = load;
    /* The memory past the file is the kernel's decompression space; it
     * need not be zero, but a cleared one keeps the guest's first state
     * independent of what the pages held before. */
    plan->seg[0].mem_size = need;
    plan->entry = (uint32_t)load;
    plan->lnx_hdr_end = hdr_end;
    uint32_t cmax = gl_rd32(img + LNX_CMDLINE_SIZE);
    plan->lnx_cmdline_max = cmax < GUEST_CMDLINE_MAX - 1 ? cmax : GUEST_CMDLINE_MAX - 1;
    plan->initrd_limit = (uint64_t)gl_rd32(img + LNX_INITRD_ADDR_MAX) + 1;
    return TV_OK;
}
