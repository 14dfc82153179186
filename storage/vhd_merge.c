/* Merge a differencing disk into its parent, crash-safely.
 *
 * The child is the redo log: it is not touched until the merge is done.
 * Before the first write to the parent a small journal "<parent>.tvjournal"
 * naming the child is written and flushed (the commit point).  The parent
 * is then updated in place; at the end it is flushed, its footers get the
 * new unique id (flushed), the child is deleted, and the journal removed.
 * Whenever the parent is opened for writing and a
 * valid journal is found, the merge is redone from the child (copying the
 * child's sectors again is idempotent) and completed.  Opened read-only, a
 * parent with a pending journal is refused (TV_E_INVALID_STATE) except
 * beneath the journal's own child, which still hides every sector the merge
 * touches.
 *
 * The journal names the child relative to the journal's own directory, so
 * recovery works from any working directory.  It also holds the unique id
 * the parent gets when the merge completes: the parent's contents change,
 * so its other children must see a changed parent (TV_E_PARENT_MODIFIED)
 * rather than silently read new data beneath their own.  Recorded before
 * the first write, the id is the same when a redo finishes the merge.
 * Child and parent are locked exclusively for the whole merge. */
#include "vhd_internal.h"
#include "vhd_op.h"

#include "tv_fmt.h"
#include "tv_string.h"

#define JOURNAL_SIZE 2048u
#define JOURNAL_V1_NAME_OFF 52u /* version 1: the child's name as typed */
#define JOURNAL_NAME_OFF 72u    /* version 2: new parent id and time, relative name */
static const uint8_t journal_magic[8] = { 'T', 'V', 'M', 'E', 'R', 'G', 'E', '1' };

struct journal {
    uint32_t version;
    uint8_t child_uid[16];
    uint8_t parent_uid[16];
    uint8_t new_uid[16];        /* the parent's unique id after the merge */
    uint32_t new_timestamp;
    char child[TV_VHD_NAME_MAX]; /* v2: relative to the journal's directory */
};

tv_status_t vhd_journal_name(const char *image, char *out, size_t size)
{
    return vhd_path_suffix(image, ".tvjournal", out, size);
}

static void journal_encode(const struct journal *j, uint8_t raw[JOURNAL_SIZE])
{
    size_t n = tv_strlen(j->child);
    tv_memset(raw, 0, JOURNAL_SIZE);
    tv_memcpy(raw, journal_magic, 8);
    vhd_put32(raw + 8, 2);
    tv_memcpy(raw + 16, j->child_uid, 16);
    tv_memcpy(raw + 32, j->parent_uid, 16);
    vhd_put32(raw + 48, (uint32_t)n);
    tv_memcpy(raw + 52, j->new_uid, 16);
    vhd_put32(raw + 68, j->new_timestamp);
    tv_memcpy(raw + JOURNAL_NAME_OFF, j->child, n);
    vhd_put32(raw + 12, vhd_checksum(raw, JOURNAL_SIZE, 12));
}

static tv_status_t journal_decode(const uint8_t raw[JOURNAL_SIZE], struct journal *j)
{
    uint32_t n = vhd_be32(raw + 48), version = vhd_be32(raw + 8);
    uint32_t at = version == 1 ? JOURNAL_V1_NAME_OFF : JOURNAL_NAME_OFF;
    if (tv_memcmp(raw, journal_magic, 8) != 0 || (version != 1 && version != 2) ||
        vhd_be32(raw + 12) != vhd_checksum(raw, JOURNAL_SIZE, 12) || n == 0 ||
        n >= TV_VHD_NAME_MAX || n > JOURNAL_SIZE - at)
        return TV_E_CORRUPT;
    tv_memset(j, 0, sizeof *j);
    j->version = version;
    tv_memcpy(j->child_uid, raw + 16, 16);
    tv_memcpy(j->parent_uid, raw + 32, 16);
    if (version == 2) {
        tv_memcpy(j->new_uid, raw + 52, 16);
        j->new_timestamp = vhd_be32(raw + 68);
    }
    tv_memcpy(j->child, raw + at, n);
    j->child[n] = 0;
    return TV_OK;
}

/* Reads the journal of image name: TV_E_NOT_FOUND when there is none,
 * TV_E_CORRUPT when it is torn. */
static tv_status_t journal_read(tv_storage_t *st, const char *name, struct journal *j)
{
    char jname[TV_VHD_NAME_MAX + 16];
    uint8_t raw[JOURNAL_SIZE];
    tv_sfile_t *f;
    uint64_t size;
    if (vhd_journal_name(name, jname, sizeof jname) != TV_OK)
        return TV_E_LIMIT;
    tv_status_t s = st->open(st->ctx, jname, 0, &f);
    if (s != TV_OK)
        return s;
    s = st->size(f, &size);
    if (s == TV_OK)
        s = size < JOURNAL_SIZE ? TV_E_CORRUPT : st->read(f, 0, raw, JOURNAL_SIZE);
    st->close(f);
    return s == TV_OK ? journal_decode(raw, j) : s;
}

static bool name_present(tv_storage_t *st, const char *name)
{
    tv_sfile_t *f;
    if (st->open(st->ctx, name, 0, &f) != TV_OK)
        return false;
    st->close(f);
    return true;
}

/* The child's seam name: relative names are taken against the directory of
 * the parent (the journal's); a version 1 journal holds the name as typed,
 * tried first. */
static tv_status_t journal_child(tv_storage_t *st, const char *parent, const struct journal *j, char *out,
                                 size_t size)
{
    char dir[TV_VHD_NAME_MAX];
    if (j->version == 1 && name_present(st, j->child))
        return tv_strlcpy(out, j->child, size) < size ? TV_OK : TV_E_LIMIT;
    tv_status_t s = vhd_path_dir(parent, dir, sizeof dir);
    return s == TV_OK ? vhd_path_join(dir, j->child, out, size) : s;
}

struct merge_op {
    tv_vhd_op_t op;
    char child[TV_VHD_NAME_MAX];
    char parent[TV_VHD_NAME_MAX];
    char journal[TV_VHD_NAME_MAX + 16];
    tv_vhd_t *c, *p;
    bool started;
    bool opened;
    bool recovering;    /* redo after a crash: journal already there */
    uint8_t expect_child_uid[16];
    uint8_t old_uid[16];     /* the parent's id before the merge */
    uint8_t new_uid[16];     /* ... and after it */
    uint32_t new_timestamp;
    bool new_id;             /* false only when redoing a version 1 journal */
    uint32_t block;
    uint8_t *buf;
    uint8_t *bm;
};

static tv_status_t write_journal(struct merge_op *m)
{
    tv_storage_t *st = m->op.st;
    struct journal j;
    uint8_t raw[JOURNAL_SIZE];
    char dir[TV_VHD_NAME_MAX];
    tv_memcpy(j.child_uid, m->c->footer.uid, 16);
    tv_memcpy(j.parent_uid, m->old_uid, 16);
    tv_memcpy(j.new_uid, m->new_uid, 16);
    j.new_timestamp = m->new_timestamp;
    tv_status_t s = vhd_path_dir(m->parent, dir, sizeof dir);
    if (s == TV_OK)
        s = vhd_path_relative_names(dir, m->child, j.child, sizeof j.child);
    if (s != TV_OK || tv_strlen(j.child) > JOURNAL_SIZE - JOURNAL_NAME_OFF - 1)
        return TV_E_LIMIT;
    journal_encode(&j, raw);
    tv_sfile_t *f;
    s = st->create(st->ctx, m->journal, &f);
    if (s == TV_E_EXISTS)
        return TV_E_BUSY; /* another merge into this parent is running */
    if (s != TV_OK)
        return s;
    s = st->write(f, 0, raw, JOURNAL_SIZE);
    if (s == TV_OK)
        s = st->flush(f); /* the commit point: always flushed */
    st->close(f);
    if (s != TV_OK)
        st->remove(st->ctx, m->journal);
    return s;
}

/* Opens the child (own data only) and the parent for writing, both locked
 * exclusively: no other process may read or write them meanwhile. */
static tv_status_t merge_open(struct merge_op *m)
{
    tv_storage_t *st = m->op.st;
    tv_status_t s;
    if (!m->recovering) {
        s = tv_vhd_open(st, m->child, VHD_OPEN_LOCK_EXCL, &m->c);
        if (s != TV_OK)
            return s;
        if (m->c->kind != TV_VHD_DIFF)
            return TV_E_WRONG_TYPE;
        if (tv_strlcpy(m->parent, m->c->parent->name, sizeof m->parent) >= sizeof m->parent)
            return TV_E_LIMIT;
        tv_vhd_close(m->c->parent); /* reopened for writing below */
        m->c->parent = NULL;
    } else {
        s = tv_vhd_open(st, m->child, TV_VHD_OPEN_NO_PARENT | VHD_OPEN_LOCK_EXCL, &m->c);
        if (s == TV_E_NOT_FOUND || s == TV_E_CORRUPT || s == TV_E_WRONG_TYPE)
            return TV_E_INVALID_STATE; /* the journal's child is gone: check --repair */
        if (s != TV_OK)
            return s;
        if (m->c->kind != TV_VHD_DIFF || tv_memcmp(m->c->footer.uid, m->expect_child_uid, 16) != 0)
            return TV_E_INVALID_STATE; /* the journal names a different disk */
    }
    if (vhd_journal_name(m->parent, m->journal, sizeof m->journal) != TV_OK)
        return TV_E_LIMIT;
    s = vhd_open_ex(st, m->parent, TV_VHD_OPEN_WRITE | TV_VHD_OPEN_DEFERRED |
                    (m->recovering ? VHD_OPEN_NO_JOURNAL : 0), 0, NULL, &m->p);
    if (s == TV_E_ACCESS_DENIED)
        return TV_E_READ_ONLY;
    if (s != TV_OK)
        return s;
    if (m->p->kind == TV_VHD_RAW)
        return TV_E_WRONG_TYPE;
    /* A redo may find the parent with its new id already (footers written,
     * journal not yet removed). */
    bool known = tv_memcmp(m->p->footer.uid, m->c->header.parent_uid, 16) == 0 ||
                 (m->recovering && m->new_id && tv_memcmp(m->p->footer.uid, m->new_uid, 16) == 0);
    if (!known)
        return TV_E_PARENT_MODIFIED;
    if (m->p->size != m->c->size)
        return TV_E_UNSUPPORTED;
    if (!m->recovering) {
        tv_memcpy(m->old_uid, m->p->footer.uid, 16);
        do
            st->entropy(st->ctx, m->new_uid, 16);
        while (tv_memcmp(m->new_uid, m->old_uid, 16) == 0 || tv_memcmp(m->new_uid, m->c->footer.uid, 16) == 0);
        m->new_timestamp = st->now(st->ctx);
        m->new_id = true;
    }
    m->buf = tv_st_alloc(st, m->c->block_size);
    if (!m->buf)
        return TV_E_NO_MEMORY;
    m->op.total = (uint64_t)tv_vhd_allocated_blocks(m->c) * m->c->block_size;
    return TV_OK;
}

/* Copies one allocated child block's present sectors into the parent. */
static tv_status_t merge_block(struct merge_op *m)
{
    tv_vhd_t *c = m->c;
    while (m->block < c->used_entries && c->bat[m->block] == VHD_BAT_UNUSED)
        m->block++;
    if (m->block >= c->used_entries)
        return TV_OK;
    uint32_t b = m->block++;
    uint32_t bs = c->block_size;
    uint64_t base = (uint64_t)b * bs;
    uint32_t sectors = (uint32_t)((c->size - base < bs ? c->size - base : bs) / VHD_SECTOR);
    tv_status_t s = vhd_load_bitmap(c, b);
    uint64_t data = vhd_block_offset(c, b) + c->bm_bytes;
    /* Only the child's present runs are read and written. */
    for (uint32_t i = 0; s == TV_OK && i < sectors;) {
        if (!vhd_bit(c->bm, i)) {
            i++;
            continue;
        }
        uint32_t j = i + 1;
        while (j < sectors && vhd_bit(c->bm, j))
            j++;
        size_t off = (size_t)i * VHD_SECTOR, len = (size_t)(j - i) * VHD_SECTOR;
        s = c->st->read(c->f, data + off, m->buf + off, len);
        if (s == TV_OK)
            s = tv_vhd_write(m->p, base + off, m->buf + off, len);
        i = j;
    }
    m->op.done += bs;
    return s == TV_OK ? TV_E_CONTINUE : s;
}

static tv_status_t merge_finish(struct merge_op *m)
{
    tv_storage_t *st = m->op.st;
    tv_vhd_t *p = m->p;
    /* Data, bitmaps and BAT down first; then the new identity. */
    tv_status_t s = tv_vhd_flush(p);
    if (s == TV_OK && m->new_id) {
        tv_memcpy(p->footer.uid, m->new_uid, 16);
        p->footer.timestamp = m->new_timestamp;
        s = vhd_write_footers(p);
    }
    if (s != TV_OK)
        return s;
    m->p = NULL;
    s = tv_vhd_close(p); /* everything in the parent is down */
    if (s != TV_OK)
        return s;
    /* With a new id the parent itself says the merge is complete, so the
     * child goes before the journal: no merged child can linger beside a
     * parent its id no longer matches.  (A version 1 redo: journal first.) */
    if (!m->new_id) {
        s = st->remove(st->ctx, m->journal);
        if (s != TV_OK)
            return s;
    }
    s = st->remove(st->ctx, m->child); /* while still open and locked */
    if (s == TV_E_NOT_FOUND)
        s = TV_OK;
    tv_vhd_close(m->c);
    m->c = NULL;
    if (s == TV_OK && m->new_id)
        s = st->remove(st->ctx, m->journal);
    if (s != TV_OK)
        return s;
    m->op.outcome = TV_VHD_OUTCOME_COMPLETED;
    tv_snprintf(m->op.detail, sizeof m->op.detail, "merged %s into %s; %s deleted", m->child,
                m->parent, m->child);
    return s;
}

static tv_status_t merge_step(tv_vhd_op_t *op)
{
    struct merge_op *m = (struct merge_op *)op;
    tv_status_t s;
    if (!m->opened) {
        m->opened = true;
        s = merge_open(m);
        if (s != TV_OK)
            return s;
        op->at_commit = true; /* next: the journal, the point of no return */
        return TV_E_CONTINUE;
    }
    if (!m->started) {
        m->started = true;
        s = m->recovering ? TV_OK : write_journal(m);
        if (s != TV_OK)
            return s;
        op->cancelable = false;
        op->at_commit = false;
        return TV_E_CONTINUE;
    }
    s = merge_block(m);
    if (s == TV_OK)
        s = merge_finish(m);
    if (s != TV_OK && s != TV_E_CONTINUE)
        tv_snprintf(op->detail, sizeof op->detail,
                    "merge of %s stopped after commit: finished when %s is next opened for writing",
                    m->child, m->parent);
    return s;
}

static void merge_rollback(tv_vhd_op_t *op)
{
    struct merge_op *m = (struct merge_op *)op;
    tv_snprintf(op->detail, sizeof op->detail, "%s and its parent unchanged", m->child);
}

static void merge_destroy(tv_vhd_op_t *op)
{
    struct merge_op *m = (struct merge_op *)op;
    if (m->p) {
        if (op->cancelable)
            m->p->flags &= ~(unsigned)TV_VHD_OPEN_WRITE; /* never written */
        tv_vhd_close(m->p);
    }
    tv_vhd_close(m->c);
    tv_st_free(op->st, m->buf);
}

static const struct tv_vhd_op_class merge_class = { "merge", merge_step, merge_rollback, merge_destroy };

static tv_status_t new_merge(tv_storage_t *st, const char *child, struct merge_op **out)
{
    struct merge_op *m = tv_st_alloc(st, sizeof *m);
    if (!m)
        return TV_E_NO_MEMORY;
    tv_memset(m, 0, sizeof *m);
    m->op.cls = &merge_class;
    m->op.st = st;
    m->op.cancelable = true;
    if (tv_strlcpy(m->child, child, sizeof m->child) >= sizeof m->child) {
        tv_st_free(st, m);
        return TV_E_LIMIT;
    }
    *out = m;
    return TV_OK;
}

tv_status_t tv_vhd_op_merge(tv_storage_t *st, const char *child, tv_vhd_op_t **out)
{
    struct merge_op *m;
    tv_status_t s = new_merge(st, child, &m);
    if (s == TV_OK)
        *out = &m->op;
    return s;
}

/* True when the parent already carries the id the journal gives it: every
 * sector of the merge was down before that footer was written. */
static bool merge_was_done(tv_storage_t *st, const char *parent, const struct journal *j)
{
    tv_vhd_t *p;
    if (j->version != 2 ||
        vhd_open_ex(st, parent, TV_VHD_OPEN_NO_PARENT | TV_VHD_OPEN_NO_RECOVER | VHD_OPEN_NO_JOURNAL, 0, NULL,
                    &p) != TV_OK)
        return false;
    bool done = tv_memcmp(p->footer.uid, j->new_uid, 16) == 0;
    tv_vhd_close(p);
    return done;
}

tv_status_t vhd_recover(tv_storage_t *st, const char *name, const uint8_t *via_child_uid, bool writable,
                        struct vhd_uid_alias *alias)
{
    struct journal j;
    tv_status_t s = journal_read(st, name, &j);
    if (s == TV_E_NOT_FOUND)
        return TV_OK;
    if (s == TV_E_CORRUPT) {
        /* Torn before its flush finished: the parent was never written. */
        char jname[TV_VHD_NAME_MAX + 16];
        vhd_journal_name(name, jname, sizeof jname);
        return writable ? (st->remove(st->ctx, jname) == TV_E_IO ? TV_E_IO : TV_OK) : TV_OK;
    }
    if (s != TV_OK)
        return s;
    if (!writable) {
        if (!via_child_uid || tv_memcmp(via_child_uid, j.child_uid, 16) != 0)
            return TV_E_INVALID_STATE; /* merge pending: finished at the next writable open */
        if (alias && j.version == 2) {
            alias->set = true;
            tv_memcpy(alias->from, j.new_uid, 16);
            tv_memcpy(alias->to, j.parent_uid, 16);
        }
        return TV_OK;
    }

    struct merge_op *m;
    char child[TV_VHD_NAME_MAX];
    s = journal_child(st, name, &j, child, sizeof child);
    if (s != TV_OK)
        return s;
    if (!name_present(st, child) && merge_was_done(st, name, &j)) {
        char jname[TV_VHD_NAME_MAX + 16];
        vhd_journal_name(name, jname, sizeof jname);
        return st->remove(st->ctx, jname); /* stopped between deleting the child and the journal */
    }
    s = new_merge(st, child, &m);
    if (s != TV_OK)
        return s;
    m->recovering = true;
    tv_memcpy(m->expect_child_uid, j.child_uid, 16);
    tv_memcpy(m->old_uid, j.parent_uid, 16);
    tv_memcpy(m->new_uid, j.new_uid, 16);
    m->new_timestamp = j.new_timestamp;
    m->new_id = j.version == 2;
    tv_strlcpy(m->parent, name, sizeof m->parent);
    s = tv_vhd_op_run(&m->op, NULL, NULL);
    tv_vhd_op_destroy(&m->op);
    return s;
}

tv_status_t vhd_journal_inspect(tv_storage_t *st, const char *name, enum vhd_journal_state *state,
                                char *child, size_t size)
{
    struct journal j;
    *state = VHD_JOURNAL_NONE;
    child[0] = 0;
    tv_status_t s = journal_read(st, name, &j);
    if (s == TV_E_NOT_FOUND)
        return TV_OK;
    if (s == TV_E_CORRUPT) {
        *state = VHD_JOURNAL_TORN;
        return TV_OK;
    }
    if (s == TV_OK)
        s = journal_child(st, name, &j, child, size);
    if (s != TV_OK)
        return s;
    tv_vhd_t *c;
    s = tv_vhd_open(st, child, TV_VHD_OPEN_NO_PARENT | TV_VHD_OPEN_NO_RECOVER, &c);
    if (s == TV_E_BUSY) {
        *state = VHD_JOURNAL_READY; /* the merge is running now */
        return TV_OK;
    }
    if (s != TV_OK) {
        *state = merge_was_done(st, name, &j) ? VHD_JOURNAL_READY : VHD_JOURNAL_CHILD_MISSING;
        return TV_OK;
    }
    *state = c->kind == TV_VHD_DIFF && tv_memcmp(c->footer.uid, j.child_uid, 16) == 0 ? VHD_JOURNAL_READY
                                                                                       : VHD_JOURNAL_CHILD_WRONG;
    tv_vhd_close(c);
    return TV_OK;
}

tv_status_t vhd_journal_abandon(tv_storage_t *st, const char *name)
{
    struct journal j;
    char jname[TV_VHD_NAME_MAX + 16];
    tv_status_t s = journal_read(st, name, &j);
    if (s == TV_OK)
        s = vhd_journal_name(name, jname, sizeof jname);
    if (s != TV_OK)
        return s;
    if (j.version == 1) {
        st->entropy(st->ctx, j.new_uid, 16);
        j.new_timestamp = st->now(st->ctx);
    }
    /* The parent may hold part of the merge: a new identity makes every
     * child of it see a changed parent instead of silently mixed data. */
    tv_vhd_t *p;
    s = vhd_open_ex(st, name, TV_VHD_OPEN_WRITE | TV_VHD_OPEN_NO_PARENT | VHD_OPEN_NO_JOURNAL, 0, NULL, &p);
    if (s != TV_OK)
        return s;
    tv_memcpy(p->footer.uid, j.new_uid, 16);
    p->footer.timestamp = j.new_timestamp;
    s = vhd_write_footers(p);
    tv_status_t cs = tv_vhd_close(p);
    if (s == TV_OK)
        s = cs;
    return s == TV_OK ? st->remove(st->ctx, jname) : s;
}
