/* Merge a differencing disk into its parent, crash-safely.
 *
 * The child is the redo log: it is not touched until the merge is done.
 * Before the first write to the parent a small journal "<parent>.tvjournal"
 * naming the child is written and flushed (the commit point).  The parent
 * is then updated in place; at the end it is flushed, the journal removed,
 * and the child deleted.  Whenever the parent is opened for writing and a
 * valid journal is found, the merge is redone from the child (copying the
 * child's sectors again is idempotent) and completed.  Opened read-only, a
 * parent with a pending journal is refused (TV_E_BUSY) except beneath the
 * journal's own child, which still hides every sector the merge touches. */
#include "vhd_internal.h"
#include "vhd_op.h"

#include "tv_fmt.h"
#include "tv_string.h"

#define JOURNAL_SIZE 2048u
#define JOURNAL_NAME_OFF 52u
static const uint8_t journal_magic[8] = { 'T', 'V', 'M', 'E', 'R', 'G', 'E', '1' };

struct journal {
    uint8_t child_uid[16];
    uint8_t parent_uid[16];
    char child[TV_VHD_NAME_MAX];
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
    vhd_put32(raw + 8, 1);
    tv_memcpy(raw + 16, j->child_uid, 16);
    tv_memcpy(raw + 32, j->parent_uid, 16);
    vhd_put32(raw + 48, (uint32_t)n);
    tv_memcpy(raw + JOURNAL_NAME_OFF, j->child, n);
    vhd_put32(raw + 12, vhd_checksum(raw, JOURNAL_SIZE, 12));
}

static tv_status_t journal_decode(const uint8_t raw[JOURNAL_SIZE], struct journal *j)
{
    uint32_t n = vhd_be32(raw + 48);
    if (tv_memcmp(raw, journal_magic, 8) != 0 || vhd_be32(raw + 8) != 1 ||
        vhd_be32(raw + 12) != vhd_checksum(raw, JOURNAL_SIZE, 12) || n == 0 ||
        n >= TV_VHD_NAME_MAX || n > JOURNAL_SIZE - JOURNAL_NAME_OFF)
        return TV_E_CORRUPT;
    tv_memcpy(j->child_uid, raw + 16, 16);
    tv_memcpy(j->parent_uid, raw + 32, 16);
    tv_memcpy(j->child, raw + JOURNAL_NAME_OFF, n);
    j->child[n] = 0;
    return TV_OK;
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
    uint32_t block;
    uint8_t *buf;
    uint8_t *bm;
};

static tv_status_t write_journal(struct merge_op *m)
{
    tv_storage_t *st = m->op.st;
    struct journal j;
    uint8_t raw[JOURNAL_SIZE];
    tv_memcpy(j.child_uid, m->c->footer.uid, 16);
    tv_memcpy(j.parent_uid, m->p->footer.uid, 16);
    if (tv_strlcpy(j.child, m->child, sizeof j.child) > JOURNAL_SIZE - JOURNAL_NAME_OFF - 1)
        return TV_E_LIMIT;
    journal_encode(&j, raw);
    tv_sfile_t *f;
    tv_status_t s = st->create(st->ctx, m->journal, &f);
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
        s = tv_vhd_open(st, m->child, TV_VHD_OPEN_NO_PARENT, &m->c);
        if (s != TV_OK)
            return s == TV_E_NOT_FOUND ? TV_E_CORRUPT : s;
        if (m->c->kind != TV_VHD_DIFF || tv_memcmp(m->c->footer.uid, m->expect_child_uid, 16) != 0)
            return TV_E_CORRUPT; /* the journal names a different disk */
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
    if (tv_memcmp(m->p->footer.uid, m->c->header.parent_uid, 16) != 0)
        return TV_E_PARENT_MODIFIED;
    if (m->p->size != m->c->size)
        return TV_E_UNSUPPORTED;
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
    m->p = NULL;
    tv_status_t s = tv_vhd_close(p); /* everything in the parent is down */
    if (s != TV_OK)
        return s;
    s = st->remove(st->ctx, m->journal);
    if (s != TV_OK)
        return s;
    tv_vhd_close(m->c);
    m->c = NULL;
    s = st->remove(st->ctx, m->child);
    if (s == TV_E_NOT_FOUND)
        s = TV_OK;
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

tv_status_t vhd_recover(tv_storage_t *st, const char *name, const uint8_t *via_child_uid, bool writable)
{
    char jname[TV_VHD_NAME_MAX + 16];
    uint8_t raw[JOURNAL_SIZE];
    struct journal j;
    tv_sfile_t *f;
    uint64_t size;
    if (vhd_journal_name(name, jname, sizeof jname) != TV_OK)
        return TV_E_LIMIT;
    tv_status_t s = st->open(st->ctx, jname, false, &f);
    if (s == TV_E_NOT_FOUND)
        return TV_OK;
    if (s != TV_OK)
        return s;
    s = st->size(f, &size);
    if (s == TV_OK)
        s = size < JOURNAL_SIZE ? TV_E_CORRUPT : st->read(f, 0, raw, JOURNAL_SIZE);
    st->close(f);
    if (s == TV_OK)
        s = journal_decode(raw, &j);
    if (s == TV_E_CORRUPT) {
        /* Torn before its flush finished: the parent was never written. */
        return writable ? (st->remove(st->ctx, jname) == TV_E_IO ? TV_E_IO : TV_OK) : TV_OK;
    }
    if (s != TV_OK)
        return s;
    if (!writable)
        return via_child_uid && tv_memcmp(via_child_uid, j.child_uid, 16) == 0 ? TV_OK : TV_E_BUSY;

    struct merge_op *m;
    s = new_merge(st, j.child, &m);
    if (s != TV_OK)
        return s;
    m->recovering = true;
    tv_memcpy(m->expect_child_uid, j.child_uid, 16);
    tv_strlcpy(m->parent, name, sizeof m->parent);
    s = tv_vhd_op_run(&m->op, NULL, NULL);
    tv_vhd_op_destroy(&m->op);
    return s;
}
