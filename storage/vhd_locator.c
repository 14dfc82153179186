/* Parent locators: writing W2ku/W2ru entries for a new differencing disk and
 * finding the parent of an existing one.
 *
 * We write W2ku (the parent's name as given, normally absolute) and W2ru
 * (".\" + path relative to the child's directory), both UTF-16LE with
 * backslashes, and the parent name field (relative, UTF-16BE) as vhd-lib
 * does.  When resolving we accept what other tools write: Windows paths with
 * a drive letter or backslashes, relative POSIX paths in a W2ku entry
 * (vhd-lib), MacX file URLs, and the parent name field as a last resort.
 * Relative paths are taken against the child's directory. */
#include "vhd_internal.h"

#include "tv_string.h"

#define LOCATOR_MAX_BYTES 4096u

static uint32_t round_sector(uint32_t n)
{
    return (n + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
}

static void slashes(char *p, char from, char to)
{
    for (; *p; p++)
        if (*p == from)
            *p = to;
}

tv_status_t vhd_write_locators(tv_vhd_t *child, const char *parent_name, uint64_t *next_off,
                               bool write_now)
{
    char dir[TV_VHD_NAME_MAX], rel[TV_VHD_NAME_MAX], text[TV_VHD_NAME_MAX + 4];
    uint8_t utf16[2 * (TV_VHD_NAME_MAX + 4)];
    size_t len;
    tv_status_t s = vhd_path_dir(child->name, dir, sizeof dir);
    if (s == TV_OK)
        s = vhd_path_relative_names(dir, parent_name, rel, sizeof rel);
    if (s != TV_OK)
        return s;

    /* Parent name field: the relative path, UTF-16BE (at most 256 units). */
    tv_memset(child->header.parent_name, 0, sizeof child->header.parent_name);
    s = vhd_utf8_to_utf16(rel, child->header.parent_name, sizeof child->header.parent_name, true, &len);
    if (s != TV_OK)
        return s;

    for (int i = 0; i < VHD_LOCATORS; i++)
        tv_memset(&child->header.loc[i], 0, sizeof child->header.loc[i]);
    for (int i = 0; i < 2; i++) {
        size_t pos = 0;
        if (i == 0) {
            pos = tv_strlcpy(text, parent_name, sizeof text);
        } else {
            bool up = rel[0] == '.' && rel[1] == '.';
            pos = tv_strlcpy(text, up ? "" : "./", sizeof text);
            pos = tv_strlcpy(text + pos, rel, sizeof text - pos) + pos;
        }
        if (pos >= sizeof text)
            return TV_E_LIMIT;
        slashes(text, '/', '\\');
        s = vhd_utf8_to_utf16(text, utf16, sizeof utf16, false, &len);
        if (s != TV_OK)
            return s;
        struct vhd_locator *l = &child->header.loc[i];
        l->code = i == 0 ? VHD_PLAT_W2KU : VHD_PLAT_W2RU;
        l->length = (uint32_t)len;
        l->space = round_sector((uint32_t)len);
        l->offset = *next_off;
        *next_off += l->space;
        if (write_now) {
            tv_memset(utf16 + len, 0, l->space - len);
            s = child->st->write(child->f, l->offset, utf16, l->space);
            if (s != TV_OK)
                return s;
        }
    }
    return TV_OK;
}

/* Turns locator text into a name the seam understands, relative paths taken
 * against the child's directory. */
static tv_status_t locator_to_name(const char *dir, char *text, char *out, size_t size)
{
    char *p = text;
    slashes(p, '\\', '/');
    if (tv_strncmp(p, "file://", 7) == 0)
        p += 7;
    if (((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':')
        p += 2; /* a drive letter: keep the path below it */
    if (!p[0])
        return TV_E_NOT_FOUND;
    return vhd_path_join(dir, p, out, size);
}

/* Reads locator i's text as UTF-8 (raw: LOCATOR_MAX_BYTES of scratch);
 * TV_E_NOT_FOUND when unusable. */
static tv_status_t read_locator(tv_vhd_t *child, int i, uint8_t *raw, char *out, size_t size)
{
    const struct vhd_locator *l = &child->header.loc[i];
    if (l->length == 0 || l->length > LOCATOR_MAX_BYTES || l->offset > child->file_size ||
        l->length > child->file_size - l->offset)
        return TV_E_NOT_FOUND;
    tv_status_t s = child->st->read(child->f, l->offset, raw, l->length);
    if (s != TV_OK)
        return s;
    if (l->code == VHD_PLAT_MACX) {
        size_t n = l->length < size - 1 ? l->length : size - 1;
        tv_memcpy(out, raw, n);
        out[n] = 0;
        return TV_OK;
    }
    return vhd_utf16_to_utf8(raw, l->length, false, out, size);
}

/* vhd_open_parent's buffers: on the heap, because it recurses once per
 * level of the chain (up to TV_VHD_MAX_DEPTH) and the monitor's threads
 * have 16 KiB stacks (7 KiB a level on the stack overflowed at depth 2). */
struct parent_scratch {
    char dir[TV_VHD_NAME_MAX], text[TV_VHD_NAME_MAX], name[TV_VHD_NAME_MAX];
    uint8_t raw[LOCATOR_MAX_BYTES];
};

static tv_status_t find_parent(tv_vhd_t *child, unsigned flags, unsigned depth, struct parent_scratch *b);

tv_status_t vhd_open_parent(tv_vhd_t *child, unsigned flags, unsigned depth)
{
    struct parent_scratch *b = tv_st_alloc(child->st, sizeof *b);
    if (!b)
        return TV_E_NO_MEMORY;
    tv_status_t s = find_parent(child, flags, depth, b);
    tv_st_free(child->st, b);
    return s;
}

static tv_status_t find_parent(tv_vhd_t *child, unsigned flags, unsigned depth, struct parent_scratch *b)
{
    static const uint32_t order[] = { VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_MACX };
    char *dir = b->dir, *text = b->text, *name = b->name;
    unsigned pflags = flags & (TV_VHD_OPEN_NO_RECOVER | TV_VHD_OPEN_NO_PARENT);
    tv_vhd_t *mismatch = NULL;
    tv_status_t s = vhd_path_dir(child->name, dir, TV_VHD_NAME_MAX);
    if (s != TV_OK)
        return s;

    /* Candidates: locators in preference order, then the parent name field. */
    for (unsigned k = 0; k <= 3 * VHD_LOCATORS; k++) {
        if (k < 3 * VHD_LOCATORS) {
            int i = (int)(k % VHD_LOCATORS);
            if (child->header.loc[i].code != order[k / VHD_LOCATORS])
                continue;
            if (read_locator(child, i, b->raw, text, TV_VHD_NAME_MAX) != TV_OK)
                continue;
        } else if (vhd_utf16_to_utf8(child->header.parent_name, sizeof child->header.parent_name, true,
                                     text, TV_VHD_NAME_MAX) != TV_OK) {
            continue;
        }
        if (locator_to_name(dir, text, name, TV_VHD_NAME_MAX) != TV_OK)
            continue;
        if (tv_strcmp(name, child->name) == 0)
            return TV_E_CORRUPT; /* the disk names itself as its parent */
        tv_vhd_t *p;
        s = vhd_open_ex(child->st, name, pflags, depth + 1, child->footer.uid, &p);
        if (s == TV_E_NOT_FOUND || s == TV_E_WRONG_TYPE)
            continue;
        if (s != TV_OK) {
            tv_vhd_close(mismatch);
            return s;
        }
        if (tv_memcmp(p->footer.uid, child->footer.uid, 16) == 0) {
            tv_vhd_close(p);
            tv_vhd_close(mismatch);
            return TV_E_CORRUPT; /* parent has the child's id: a loop */
        }
        if (tv_memcmp(p->footer.uid, child->header.parent_uid, 16) == 0) {
            tv_vhd_close(mismatch);
            child->parent = p;
            if (p->size != child->size)
                child->warn |= TV_VHD_WARN_PARENT_SIZE; /* resized after the child was made */
            return TV_OK;
        }
        if (!mismatch)
            mismatch = p;
        else
            tv_vhd_close(p);
    }
    if (!mismatch)
        return TV_E_PARENT_MISSING;
    if (!(flags & TV_VHD_OPEN_FIX_PARENT)) {
        tv_vhd_close(mismatch);
        return TV_E_PARENT_MODIFIED;
    }
    /* Startup2's FixParentTimestampMismatch: adopt the parent we found. */
    child->parent = mismatch;
    if (mismatch->size != child->size)
        child->warn |= TV_VHD_WARN_PARENT_SIZE;
    tv_memcpy(child->header.parent_uid, mismatch->footer.uid, 16);
    child->header.parent_timestamp = mismatch->footer.timestamp;
    if (!(flags & TV_VHD_OPEN_WRITE))
        return TV_OK;
    s = vhd_write_header(child);
    return s == TV_OK ? tv_st_flush(child->st, child->f) : s;
}
