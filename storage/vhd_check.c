/* Check (and optionally repair) one image and its parent chain.
 *
 * Checked: both footers (cookie, checksum, fields, identical copies), the
 * dynamic header, every BAT entry (inside the file, clear of the metadata,
 * not overlapping another block, not past the disk size), bitmaps (padding
 * bits), parent locators, the end of the file, the parent chain (present,
 * unchanged, no loops) and leftovers of interrupted operations.
 *
 * Repairs (only what is safe): a missing, corrupt or stale end footer is
 * rewritten from the copy at offset 0 and the reverse; a BAT entry pointing
 * outside the file or past the disk size is cleared (its data reported
 * lost); space after the last block (a file cut short or left long during
 * block allocation) is trimmed back to a consistent end; bitmap padding is
 * cleared; an interrupted merge is finished and stale temporaries removed. */
#include "vhd_internal.h"
#include "vhd_op.h"

#include "tv_fmt.h"
#include "tv_status.h"
#include "tv_string.h"

#define CHECK_BLOCKS_PER_STEP 256u

struct check_op {
    tv_vhd_op_t op;
    char name[TV_VHD_NAME_MAX];
    bool repair;
    tv_vhd_report_fn report;
    void *ctx;
    struct tv_vhd_check_result *res;
    struct tv_vhd_check_result local;
    int phase;
    tv_vhd_t *v;           /* opened without recovery, no parent */
    uint32_t block;
    uint64_t meta_end;     /* end of header + BAT */
    bool bat_changed;
    bool bm_fixed_any;
    bool footer_fix;
};

static void say(struct check_op *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* level: 0 info, 1 warning, 2 error, 3 error repaired */
static void say(struct check_op *c, int level, const char *fmt, ...)
{
    char line[384];
    va_list ap;
    va_start(ap, fmt);
    int n = tv_snprintf(line, sizeof line, "%s: ",
                        level == 0 ? "info" : level == 1 ? "warning" : level == 2 ? "error" : "repaired");
    if (n > 0 && (size_t)n < sizeof line)
        tv_vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (level == 1)
        c->res->warnings++;
    if (level >= 2)
        c->res->errors++;
    if (level == 3)
        c->res->repaired++;
    if (c->report)
        c->report(c->ctx, level >= 2, line);
}

static bool file_exists(tv_storage_t *st, const char *name)
{
    tv_sfile_t *f;
    if (st->open(st->ctx, name, 0, &f) != TV_OK)
        return false;
    st->close(f);
    return true;
}

/* Leftovers of interrupted operations. */
static tv_status_t check_leftovers(struct check_op *c)
{
    tv_storage_t *st = c->op.st;
    char other[TV_VHD_NAME_MAX + 16];
    enum vhd_journal_state js;
    char child[TV_VHD_NAME_MAX];
    tv_status_t s = vhd_journal_name(c->name, other, sizeof other);
    if (s == TV_OK)
        s = vhd_journal_inspect(st, c->name, &js, child, sizeof child);
    if (s != TV_OK)
        return s;
    if (js == VHD_JOURNAL_TORN) {
        if (c->repair && st->remove(st->ctx, other) == TV_OK)
            say(c, 3, "torn merge journal %s removed (the merge never started)", other);
        else
            say(c, 1, "torn merge journal %s (the merge never started; removed by a writable open)", other);
    } else if (js == VHD_JOURNAL_READY) {
        if (c->repair) {
            s = vhd_recover(st, c->name, NULL, true, NULL);
            if (s != TV_OK) {
                say(c, 2, "interrupted merge into this disk could not be finished: %s", tv_status_text(s));
                return s;
            }
            say(c, 3, "interrupted merge of %s into this disk finished from its journal", child);
        } else {
            say(c, 2, "interrupted merge of %s into this disk pending (journal %s): finished by check --repair "
                "or the next writable open", child, other);
        }
    } else if (js != VHD_JOURNAL_NONE) {
        const char *why = js == VHD_JOURNAL_CHILD_MISSING ? "is missing" : "is a different disk (unique id differs)";
        if (c->repair) {
            s = vhd_journal_abandon(st, c->name);
            if (s != TV_OK) {
                say(c, 2, "merge journal %s could not be cleared: %s", other, tv_status_text(s));
                return s;
            }
            say(c, 3, "merge journal %s named child %s, which %s: the merge cannot be finished; journal "
                "removed and this disk given a new unique id (it may hold part of the merge, so its other "
                "children now refuse it as changed)", other, child, why);
        } else {
            say(c, 2, "merge journal %s names child %s, which %s: the merge cannot be finished (check --repair "
                "clears the journal and gives this disk a new unique id)", other, child, why);
        }
    }
    if (vhd_path_suffix(c->name, ".tvtmp", other, sizeof other) == TV_OK && file_exists(st, other)) {
        if (c->repair && st->remove(st->ctx, other) == TV_OK)
            say(c, 3, "removed %s left by an interrupted operation", other);
        else
            say(c, 1, "%s left by an interrupted operation", other);
    }
    return TV_OK;
}

static void check_footer_fields(struct check_op *c)
{
    const struct vhd_footer *f = &c->v->footer;
    uint16_t cyl;
    uint8_t h, s;
    if (!(f->features & VHD_FEATURE_RESERVED))
        say(c, 1, "footer features field lacks the reserved bit 0x2");
    if (f->original_size != f->current_size)
        say(c, 1, "original size %llu differs from current size %llu",
            (unsigned long long)f->original_size, (unsigned long long)f->current_size);
    vhd_geometry(f->current_size, &cyl, &h, &s);
    if (cyl != f->cylinders || h != f->heads || s != f->sectors)
        say(c, 1, "geometry %u/%u/%u differs from %u/%u/%u computed from the size", f->cylinders,
            f->heads, f->sectors, cyl, h, s);
    else if ((uint64_t)cyl * h * s * VHD_SECTOR != f->current_size && f->current_size < VHD_CHS_MAX_SECTORS * VHD_SECTOR)
        say(c, 0, "size is not a CHS product: some readers (qemu for most creators) see %llu bytes",
            (unsigned long long)cyl * h * s * VHD_SECTOR);
    if (f->saved_state)
        say(c, 1, "saved-state flag is set");
}

/* Phase 0: footers, header, BAT entries against the file. */
static tv_status_t check_start(struct check_op *c)
{
    tv_storage_t *st = c->op.st;
    tv_status_t s = check_leftovers(c);
    if (s != TV_OK)
        return s;
    s = vhd_open_ex(st, c->name, TV_VHD_OPEN_NO_PARENT | TV_VHD_OPEN_NO_RECOVER | VHD_OPEN_NO_JOURNAL |
                    VHD_OPEN_TOLERANT | (c->repair ? TV_VHD_OPEN_WRITE | TV_VHD_OPEN_DEFERRED : 0), 0, NULL,
                    &c->v);
    if (s != TV_OK) {
        say(c, 2, "cannot open: %s", tv_status_text(s));
        return s;
    }
    tv_vhd_t *v = c->v;
    say(c, 0, "%s disk, %llu bytes, file %llu bytes", tv_vhd_kind_name(v->kind), (unsigned long long)v->size,
        (unsigned long long)v->file_size);
    if (v->end_footer_bad) {
        c->footer_fix = true;
        say(c, c->repair ? 3 : 2, "end footer missing, corrupt or stale%s",
            c->repair ? ": rewritten from the copy at offset 0" : "");
    }
    if (v->copy_footer_bad) {
        c->footer_fix = true;
        say(c, c->repair ? 3 : 2, "footer copy at offset 0 corrupt%s", c->repair ? ": rewritten from the end footer" : "");
    }
    check_footer_fields(c);
    if (v->kind == TV_VHD_FIXED) {
        if (v->file_size != v->size + VHD_FOOTER_SIZE)
            say(c, 1, "file is %llu bytes longer than data plus footer",
                (unsigned long long)(v->file_size - v->size - VHD_FOOTER_SIZE));
        return TV_OK;
    }
    c->meta_end = v->header.bat_offset + ((uint64_t)v->entries * 4 + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
    if (v->entries > v->used_entries)
        say(c, 0, "BAT has %u entries, the disk needs %u", v->entries, v->used_entries);
    uint64_t limit = v->end_footer_bad ? v->file_size : v->file_size - VHD_FOOTER_SIZE;
    for (uint32_t i = 0; i < v->entries; i++) {
        if (v->bat[i] == VHD_BAT_UNUSED)
            continue;
        uint64_t off = (uint64_t)v->bat[i] * VHD_SECTOR;
        uint64_t end = off + v->bm_bytes + v->block_size;
        const char *what = NULL;
        if (i >= v->used_entries)
            what = "is past the disk size";
        else if (end > limit)
            what = "points outside the file";
        else if (off < c->meta_end)
            what = "overlaps the header or BAT";
        if (!what)
            continue;
        if (c->repair && i >= v->used_entries) {
            v->bat[i] = VHD_BAT_UNUSED;
            c->bat_changed = true;
            say(c, 3, "BAT entry %u %s: cleared", i, what);
        } else if (c->repair && end > limit) {
            v->bat[i] = VHD_BAT_UNUSED;
            c->bat_changed = true;
            c->res->lost_bytes += v->block_size;
            say(c, 3, "BAT entry %u %s: cleared, %u bytes of data lost (block %u reads as %s)", i, what,
                v->block_size, i, v->kind == TV_VHD_DIFF ? "the parent" : "zeros");
        } else {
            say(c, 2, "BAT entry %u (sector %u) %s", i, v->bat[i], what);
        }
    }
    /* Overlaps between blocks: sort (sector, index) pairs. */
    uint32_t n = 0;
    for (uint32_t i = 0; i < v->entries; i++)
        n += v->bat[i] != VHD_BAT_UNUSED;
    uint64_t *keys = n ? tv_st_alloc(st, (size_t)n * 8) : NULL;
    if (n && !keys)
        return TV_E_NO_MEMORY;
    n = 0;
    for (uint32_t i = 0; i < v->entries; i++)
        if (v->bat[i] != VHD_BAT_UNUSED)
            keys[n++] = (uint64_t)v->bat[i] << 24 | i;
    /* heap sort */
    for (uint32_t k = n / 2; k-- > 0;) {
        for (uint32_t r = k;;) {
            uint32_t ch = 2 * r + 1;
            if (ch >= n) break;
            if (ch + 1 < n && keys[ch + 1] > keys[ch]) ch++;
            if (keys[r] >= keys[ch]) break;
            uint64_t t = keys[r]; keys[r] = keys[ch]; keys[ch] = t; r = ch;
        }
    }
    for (uint32_t e = n; e-- > 1;) {
        uint64_t t = keys[0]; keys[0] = keys[e]; keys[e] = t;
        for (uint32_t r = 0;;) {
            uint32_t ch = 2 * r + 1;
            if (ch >= e) break;
            if (ch + 1 < e && keys[ch + 1] > keys[ch]) ch++;
            if (keys[r] >= keys[ch]) break;
            uint64_t u = keys[r]; keys[r] = keys[ch]; keys[ch] = u; r = ch;
        }
    }
    uint32_t overlaps = 0;
    for (uint32_t k = 1; k < n; k++) {
        uint64_t prev_end = (keys[k - 1] >> 24) * VHD_SECTOR + v->bm_bytes + v->block_size;
        if ((keys[k] >> 24) * VHD_SECTOR < prev_end && overlaps++ < 16)
            say(c, 2, "blocks %u and %u overlap in the file", (uint32_t)(keys[k - 1] & 0xFFFFFF),
                (uint32_t)(keys[k] & 0xFFFFFF));
    }
    if (overlaps > 16)
        say(c, 2, "%u more overlapping blocks", overlaps - 16);
    tv_st_free(st, keys);
    /* Locators. */
    for (int i = 0; i < VHD_LOCATORS; i++) {
        const struct vhd_locator *l = &v->header.loc[i];
        if (l->code == VHD_PLAT_NONE)
            continue;
        if (l->code != VHD_PLAT_W2KU && l->code != VHD_PLAT_W2RU && l->code != VHD_PLAT_MACX &&
            l->code != VHD_PLAT_WI2R && l->code != VHD_PLAT_WI2K)
            say(c, 1, "parent locator %d has an unknown platform code 0x%08x", i, l->code);
        uint64_t lend = l->offset + l->length;
        if (l->offset < VHD_HEADER_OFFSET + VHD_HEADER_SIZE || lend > limit ||
            (l->offset < c->meta_end && lend > v->header.bat_offset))
            say(c, 2, "parent locator %d data overlaps the header or BAT or lies outside the file", i);
        for (uint32_t b = 0; b < v->entries; b++) {
            if (v->bat[b] == VHD_BAT_UNUSED)
                continue;
            uint64_t bo = (uint64_t)v->bat[b] * VHD_SECTOR;
            if (l->offset < bo + v->bm_bytes + v->block_size && lend > bo) {
                say(c, 2, "parent locator %d data overlaps block %u", i, b);
                break;
            }
        }
        if (v->kind != TV_VHD_DIFF)
            say(c, 1, "parent locator %d in a disk that is not differencing", i);
    }
    c->op.total = (uint64_t)tv_vhd_allocated_blocks(v) * v->block_size;
    return TV_OK;
}

/* Phase 1: bitmaps of a batch of blocks. */
static tv_status_t check_bitmaps(struct check_op *c)
{
    tv_vhd_t *v = c->v;
    uint32_t bits = v->block_size / VHD_SECTOR;
    for (uint32_t k = 0; k < CHECK_BLOCKS_PER_STEP && c->block < v->used_entries; c->block++) {
        uint32_t b = c->block;
        if (v->bat[b] == VHD_BAT_UNUSED ||
            (uint64_t)v->bat[b] * VHD_SECTOR + v->bm_bytes + v->block_size > v->file_size)
            continue;
        k++;
        tv_status_t s = vhd_load_bitmap(v, b);
        if (s != TV_OK)
            return s;
        bool pad = false;
        for (uint32_t i = bits; i < v->bm_bytes * 8; i++)
            if (vhd_bit(v->bm, i)) {
                pad = true;
                if (c->repair)
                    vhd_clear_bit(v->bm, i);
            }
        if (pad) {
            if (c->repair)
                v->bm_dirty = true;
            say(c, c->repair ? 3 : 2, "block %u bitmap has bits set in its padding%s", b,
                c->repair ? ": cleared" : "");
        }
        if (vhd_is_zero(v->bm, (bits + 7) / 8))
            say(c, 1, "block %u is allocated but its bitmap is empty (compact drops it)", b);
        c->op.done += v->block_size;
    }
    return c->block < v->used_entries ? TV_E_CONTINUE : TV_OK;
}

/* Phase 2: the end of the file, repairs, the parent chain. */
static tv_status_t check_finish(struct check_op *c)
{
    tv_storage_t *st = c->op.st;
    tv_vhd_t *v = c->v;
    tv_status_t s = TV_OK;
    if (v->kind == TV_VHD_DYNAMIC || v->kind == TV_VHD_DIFF) {
        uint64_t end = c->meta_end;
        for (uint32_t i = 0; i < v->entries; i++)
            if (v->bat[i] != VHD_BAT_UNUSED) {
                uint64_t e = (uint64_t)v->bat[i] * VHD_SECTOR + v->bm_bytes + v->block_size;
                if (e > end)
                    end = e;
            }
        for (int i = 0; i < VHD_LOCATORS; i++) {
            const struct vhd_locator *l = &v->header.loc[i];
            uint64_t e = l->offset + (l->space > l->length ? l->space : l->length);
            if (l->code != VHD_PLAT_NONE && l->length <= 65536 && e <= v->file_size && e > end)
                end = e;
        }
        end = (end + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
        uint64_t footer_at = v->end_footer_bad ? v->file_size : v->file_size - VHD_FOOTER_SIZE;
        if (footer_at != end && !(footer_at < end)) {
            say(c, c->repair ? 3 : 1, "%llu bytes after the last block%s",
                (unsigned long long)(footer_at - end), c->repair ? ": trimmed" : " (unused)");
            c->footer_fix = true;
        }
        v->next_free = end;
        if (c->repair && (c->bat_changed || c->footer_fix || v->bm_dirty)) {
            if (c->bat_changed) {
                v->bat_dirty_lo = 0;
                v->bat_dirty_hi = v->entries - 1;
            }
            v->footer_moved = true;
            s = vhd_sync_metadata(v);
            if (s == TV_OK)
                s = vhd_write_footers(v);
            if (s == TV_OK)
                s = st->flush(v->f);
            if (s == TV_OK)
                c->op.outcome = TV_VHD_OUTCOME_REPAIRED;
        }
    } else if (c->repair && c->footer_fix) {
        s = vhd_write_footers(v);
        if (s == TV_OK)
            s = st->flush(v->f);
        if (s == TV_OK)
            c->op.outcome = TV_VHD_OUTCOME_REPAIRED;
    }
    if (s != TV_OK) {
        say(c, 2, "repair failed: %s", tv_status_text(s));
        return s;
    }

    /* Parent chain: walk it one level at a time, remembering unique ids. */
    uint8_t seen[TV_VHD_MAX_DEPTH + 1][16];
    unsigned depth = 0;
    tv_vhd_t *cur = v;
    c->v = NULL;
    cur->flags &= ~(unsigned)TV_VHD_OPEN_WRITE;
    tv_memcpy(seen[depth++], cur->footer.uid, 16);
    while (cur->kind == TV_VHD_DIFF) {
        s = vhd_open_parent(cur, TV_VHD_OPEN_NO_PARENT | TV_VHD_OPEN_NO_RECOVER, depth);
        if (s != TV_OK) {
            say(c, 2, "parent of %s: %s", cur->name, s == TV_E_CORRUPT ? "loop in the parent chain or corrupt parent"
                                                         : tv_status_text(s));
            break;
        }
        tv_vhd_t *p = cur->parent;
        if (cur->warn & TV_VHD_WARN_PARENT_SIZE)
            say(c, 2, "parent %s is %llu bytes but %s is %llu: the parent was resized after the child was "
                "created (unique id unchanged)", p->name, (unsigned long long)p->size, cur->name,
                (unsigned long long)cur->size);
        cur->parent = NULL;
        tv_vhd_close(cur);
        cur = p;
        bool loop = false;
        for (unsigned i = 0; i < depth; i++)
            loop |= tv_memcmp(seen[i], cur->footer.uid, 16) == 0;
        if (loop || depth > TV_VHD_MAX_DEPTH) {
            say(c, 2, "loop in the parent chain at %s", cur->name);
            break;
        }
        tv_memcpy(seen[depth++], cur->footer.uid, 16);
        say(c, 0, "parent %s (%s) found, unique id matches", cur->name, tv_vhd_kind_name(cur->kind));
    }
    tv_vhd_close(cur);
    tv_snprintf(c->op.detail, sizeof c->op.detail, "%u errors (%u repaired), %u warnings%s", c->res->errors,
                c->res->repaired, c->res->warnings,
                c->res->repaired ? "" : (c->repair ? "" : "; nothing written"));
    return TV_OK;
}

static tv_status_t check_step(tv_vhd_op_t *op)
{
    struct check_op *c = (struct check_op *)op;
    tv_status_t s;
    switch (c->phase) {
    case 0:
        s = check_start(c);
        if (s != TV_OK)
            return s;
        c->phase = c->v->kind == TV_VHD_FIXED ? 2 : 1;
        return TV_E_CONTINUE;
    case 1:
        s = check_bitmaps(c);
        if (s == TV_OK)
            c->phase = 2;
        return s == TV_OK ? TV_E_CONTINUE : s;
    default:
        op->cancelable = false; /* repairs are written now */
        s = check_finish(c);
        if (s == TV_OK && c->res->errors > c->res->repaired)
            s = TV_E_CORRUPT;
        return s;
    }
}

static void check_destroy(tv_vhd_op_t *op)
{
    struct check_op *c = (struct check_op *)op;
    if (c->v) {
        c->v->flags &= ~(unsigned)TV_VHD_OPEN_WRITE;
        tv_vhd_close(c->v);
    }
}

static const struct tv_vhd_op_class check_class = { "check", check_step, NULL, check_destroy };

tv_status_t tv_vhd_op_check(tv_storage_t *st, const char *name, bool repair, tv_vhd_report_fn report,
                            void *ctx, struct tv_vhd_check_result *result, tv_vhd_op_t **out)
{
    struct check_op *c = tv_st_alloc(st, sizeof *c);
    if (!c)
        return TV_E_NO_MEMORY;
    tv_memset(c, 0, sizeof *c);
    c->op.cls = &check_class;
    c->op.st = st;
    c->op.cancelable = true;
    c->repair = repair;
    c->report = report;
    c->ctx = ctx;
    c->res = result ? result : &c->local;
    tv_memset(c->res, 0, sizeof *c->res);
    if (tv_strlcpy(c->name, name, sizeof c->name) >= sizeof c->name) {
        tv_st_free(st, c);
        return TV_E_LIMIT;
    }
    *out = &c->op;
    return TV_OK;
}
