/* The two search trees of the task manager, both treaps (binary search
 * trees whose nodes are also a max-heap on a priority):
 *   TASK_TREE_ID     every listed record, by id: a lookup by id and "the
 *                    first record after this cursor";
 *   TASK_TREE_QUEUE  the queued records, in run order (higher priority
 *                    first, then older first): the next task to run.
 * Each operation takes O(log n) expected steps instead of a walk of the
 * list.  They run with the manager's lock held, which in the monitor means
 * with interrupts off, so their cost must not grow with the number of tasks.
 *
 * The heap priority is a hash of the id: ids are handed out by the manager
 * (never chosen by a caller), so each tree has the shape of a random treap
 * whatever the order of creations and removals.  Everything is iterative:
 * the depth needs no stack. */
#include "task_internal.h"

static uint64_t heap_prio(const struct task_job *t)
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

#define LEFT(t, tree) ((t)->tree_link[tree][0])
#define RIGHT(t, tree) ((t)->tree_link[tree][1])

/* The tree's order: a comes before b.  Keys are unique (ids are). */
static bool before(const struct task_job *a, const struct task_job *b, int tree)
{
    if (tree == TASK_TREE_QUEUE && a->priority != b->priority)
        return a->priority > b->priority;
    return a->id < b->id;
}

/* Splits `node` into the records before `key` (*lo) and after it (*hi). */
static void split(struct task_job *node, const struct task_job *key, int tree,
                  struct task_job **lo, struct task_job **hi)
{
    struct task_job **l = lo, **h = hi;
    while (node) {
        if (before(node, key, tree)) {
            *l = node;
            l = &RIGHT(node, tree);
            node = RIGHT(node, tree);
        } else {
            *h = node;
            h = &LEFT(node, tree);
            node = LEFT(node, tree);
        }
    }
    *l = NULL;
    *h = NULL;
}

/* Joins two treaps where every record of a comes before every one of b. */
static struct task_job *merge(struct task_job *a, struct task_job *b, int tree)
{
    struct task_job *root = NULL, **link = &root;
    while (a && b) {
        if (heap_prio(a) > heap_prio(b)) {
            *link = a;
            link = &RIGHT(a, tree);
            a = RIGHT(a, tree);
        } else {
            *link = b;
            link = &LEFT(b, tree);
            b = LEFT(b, tree);
        }
    }
    *link = a ? a : b;
    return root;
}

void task_tree_insert(struct task_job **root, struct task_job *t, int tree)
{
    uint64_t p = heap_prio(t);
    struct task_job **link = root;
    while (*link && heap_prio(*link) >= p)
        link = before(t, *link, tree) ? &LEFT(*link, tree) : &RIGHT(*link, tree);
    split(*link, t, tree, &LEFT(t, tree), &RIGHT(t, tree));
    *link = t;
}

void task_tree_remove(struct task_job **root, struct task_job *t, int tree)
{
    struct task_job **link = root;
    while (*link && *link != t)
        link = before(t, *link, tree) ? &LEFT(*link, tree) : &RIGHT(*link, tree);
    if (*link)
        *link = merge(LEFT(t, tree), RIGHT(t, tree), tree);
    LEFT(t, tree) = RIGHT(t, tree) = NULL;
}

struct task_job *task_tree_first(struct task_job *root, int tree)
{
    while (root && LEFT(root, tree))
        root = LEFT(root, tree);
    return root;
}

struct task_job *task_index_find(const struct task_mgr *mgr, uint64_t id)
{
    struct task_job *n = mgr->index;
    while (n && n->id != id)
        n = id < n->id ? LEFT(n, TASK_TREE_ID) : RIGHT(n, TASK_TREE_ID);
    return n;
}

struct task_job *task_index_after(const struct task_mgr *mgr, uint64_t cursor)
{
    struct task_job *n = mgr->index, *best = NULL;
    while (n) {
        if (n->id > cursor) {
            best = n;
            n = LEFT(n, TASK_TREE_ID);
        } else {
            n = RIGHT(n, TASK_TREE_ID);
        }
    }
    return best;
}
