/* Multiboot2 boot information parser (see mb2_info.h). */
#include "mb2_info.h"

#include <stdbool.h>

#include "tv_fmt.h"
#include "tv_string.h"

enum { TAG_END = 0, TAG_CMDLINE = 1, TAG_MODULE = 3, TAG_MMAP = 6 };

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    tv_memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    tv_memcpy(&v, p, sizeof v);
    return v;
}

/* A string tag's text must end with a NUL inside the tag. */
static const char *tag_string(const uint8_t *tag, uint32_t off, uint32_t size)
{
    if (off >= size)
        return 0;
    for (uint32_t i = off; i < size; i++)
        if (tag[i] == 0)
            return (const char *)tag + off;
    return 0;
}

tv_status_t tv_mb2_parse(const void *info, size_t max_size, struct tv_mb2_info *out,
                         char *why, size_t ws)
{
    const uint8_t *b = info;
    tv_memset(out, 0, sizeof *out);
    out->cmdline = "";
    if (max_size < 16) {
        tv_snprintf(why, ws, "boot information shorter than its header");
        return TV_E_CORRUPT;
    }
    uint32_t total = rd32(b);
    if (total < 16 || total > max_size) {
        tv_snprintf(why, ws, "boot information size %u is implausible", total);
        return TV_E_CORRUPT;
    }
    out->total_size = total;
    bool ended = false, have_mmap = false;
    for (uint32_t off = 8; off + 8 <= total;) {
        const uint8_t *tag = b + off;
        uint32_t type = rd32(tag), size = rd32(tag + 4);
        if (size < 8 || size > total - off) {
            tv_snprintf(why, ws, "tag %u at offset %u has size %u beyond the information", type,
                        off, size);
            return TV_E_CORRUPT;
        }
        if (type == TAG_END) {
            ended = true;
            break;
        }
        if (type == TAG_CMDLINE) {
            const char *s = tag_string(tag, 8, size);
            if (!s) { tv_snprintf(why, ws, "command line tag without a terminating NUL"); return TV_E_CORRUPT; }
            out->cmdline = s;
        } else if (type == TAG_MODULE) {
            const char *s = tag_string(tag, 16, size);
            if (!s) { tv_snprintf(why, ws, "module tag without a terminating NUL"); return TV_E_CORRUPT; }
            if (out->module_count == TV_MB2_MAX_MODULES) {
                tv_snprintf(why, ws, "more than %d modules", TV_MB2_MAX_MODULES);
                return TV_E_LIMIT;
            }
            struct tv_mb2_module *m = &out->modules[out->module_count++];
            m->start = rd32(tag + 8);
            m->end = rd32(tag + 12);
            m->string = s;
            if (m->end < m->start) {
                tv_snprintf(why, ws, "module '%s' ends before it starts", s);
                return TV_E_CORRUPT;
            }
        } else if (type == TAG_MMAP) {
            if (size < 16) { tv_snprintf(why, ws, "memory map tag too short"); return TV_E_CORRUPT; }
            uint32_t esize = rd32(tag + 8);
            if (esize < 24 || esize % 8) {
                tv_snprintf(why, ws, "memory map entry size %u is not supported", esize);
                return TV_E_CORRUPT;
            }
            for (uint32_t e = 16; e + esize <= size; e += esize) {
                if (out->mmap_count == TV_MB2_MAX_MMAP) {
                    tv_snprintf(why, ws, "more than %d memory map entries", TV_MB2_MAX_MMAP);
                    return TV_E_LIMIT;
                }
                struct tv_mb2_mmap_entry *m = &out->mmap[out->mmap_count++];
                m->base = rd64(tag + e);
                m->length = rd64(tag + e + 8);
                m->type = rd32(tag + e + 16);
            }
            have_mmap = true;
        }
        off += (size + 7) & ~7u;
    }
    if (!ended) {
        tv_snprintf(why, ws, "boot information has no end tag");
        return TV_E_CORRUPT;
    }
    if (!have_mmap) {
        tv_snprintf(why, ws, "the boot loader gave no memory map");
        return TV_E_NOT_FOUND;
    }
    return TV_OK;
}
