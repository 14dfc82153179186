/* The id index of the listed records: a treap (a binary search tree on the
 * id whose nodes are also a max-heap on a priority), so a lookup by id and
 * "the first record after this cursor" take O(log n) expected steps instead
 * of a walk of the list.  Those run with the manager's lock held, which in
 * the monitor means with interrupts off, so their cost must not grow with
 * the number of tasks.
 *
 * The priority is a hash of the id: ids are handed out by the manager (never
 * chosen by a caller), so the tree's shape is that of a random treap whatever
 * the order of creations and removals.  Everything is iterative: the depth
 * needs no stack. */
#include "task_internal.h"

static uint64_t prio(const struct task_job *t)
{
    /* A 64-bit finaliser (xor-shift-multiply): neighbouring ids get
     * unrelated priorities. */
    uint64_t x = t->id;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* Splits `node` into the records with id < key (*lo) and id > key (*hi). */
static void split(struct task_job *node, uint64_t key, struct task_job **lo,
                  struct task_job **hi)
{
    struct task_job **l = lo, **h = hi;
    while (node) {
        if (node->id < key) {
            *l = node;
            l = &node->ix_right;
            node = node->ix_right;
        } else {
            *h = node;
            h = &node->ix_left;
            node = node->ix_left;
        }
    }
    *l = NULL;
    *h = NULL;
}

/* Joins two treaps where every id in a is below every id in b. */
static struct task_job *merge(struct task_job *a, struct task_job *b)
{
    struct task_job *root = NULL, **link = &root;
    while (a && b) {
        if (prio(a) > prio(b)) {
            *link = a;
            link = &a->ix_right;
            a = a->ix_right;
        } else {
            *link = b;
            link = &b->ix_left;
            b = b->ix_left;
        }
    }
    *link = a ? a : b;
    return root;
}

void task_index_insert(struct task_mgr *mgr, struct task_job *t)
{
    uint64_t p = prio(t);
    struct task_job **link = &mgr->index;
    while (*link && prio(*link) >= p)
        link = t->id < (*link)->id ? &(*link)->ix_left : &(*link)->ix_right;
    split(*link, t->id, &t->ix_left, &t->ix_right);
    *link = t;
}

void task_index_remove(struct task_mgr *mgr, struct task_job *t)
{
    struct task_job **link = &mgr->index;
    while (*link && *link != t)
        link = t->id < (*link)->id ? &(*link)->ix_left : &(*link)->ix_right;
    if (*link)
        *link = merge(t->ix_left, t->ix_right);
    t->ix_left = t->ix_right = NULL;
}

struct task_job *task_index_find(const struct task_mgr *mgr, uint64_t id)
{
    struct task_job *n = mgr->index;
    while (n && n->id != id)
        n = id < n->id ? n->ix_left : n->ix_right;
    return n;
}

struct task_job *task_index_after(const struct task_mgr *mgr, uint64_t cursor)
{
    struct task_job *n = mgr->index, *best = NULL;
    while (n) {
        if (n->id > cursor) {
            best = n;
            n = n->ix_left;
        } else {
            n = n->ix_right;
        }
    }
    return best;
}
