/* The event ring: {id, seq, state, percent} appended for every state change
 * and every whole-percent step.  The ring page belongs to the control
 * partition, so nothing read from it is trusted: the producer keeps its own
 * head, capacity and lost counters and reads only the consumer's tail. */
#include "task_internal.h"
#include "tv_string.h"

static void store32(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Appends one entry (lock held). */
static void append(struct task_events *ev, const struct tv_task_event *entry, bool progress_only)
{
    struct tv_task_ring *ring = ev->ring;
    if (!ring)
        return;
    uint32_t tail = __atomic_load_n(&ring->hdr.tail, __ATOMIC_ACQUIRE);
    uint32_t used = ev->head - tail;
    if (used > ev->capacity)
        used = ev->capacity; /* a consumer that wrote nonsense sees overflow */

    /* Progress alone must not fill the ring: above 3/4 it is coalesced into
     * the task's next event (which carries the current percent). */
    if (progress_only && used >= ev->capacity - ev->capacity / 4) {
        ev->coalesced++;
        return;
    }
    if (used >= ev->capacity) {
        ev->lost++;
        store32(&ring->hdr.lost, ev->lost);
        store32(&ring->hdr.overflow, 1);
    } else {
        ring->entries[ev->head % ev->capacity] = *entry;
        ev->head++;
        store32(&ring->hdr.head, ev->head); /* release: entry before head */
        ev->emitted++;
    }
    if (ev->notify && ev->vector)
        ev->notify(ev->notify_ctx, ev->vector);
}

void task_events_emit(struct task_job *t, bool progress_only)
{
    struct tv_task_event e = { t->id, t->seq, t->state, t->percent };
    append(&t->mgr->events, &e, progress_only);
}

tv_status_t task_events_post(struct task_mgr *mgr, uint32_t kind, uint64_t id, uint64_t seq,
                             uint32_t state)
{
    if (kind == TV_EVENT_KIND_TASK || kind > 31u || state > 0xffffu)
        return TV_E_INVALID_ARGUMENT;
    struct tv_task_event e = { id, seq, kind << TV_EVENT_KIND_SHIFT | state, 0 };
    tp_lock_acquire(mgr->lock);
    /* Only a consumer that asked for this kind gets it: one written before
     * the kind existed sees task entries alone, as it always did. */
    if (mgr->events.kinds & (1u << kind))
        append(&mgr->events, &e, false);
    tp_lock_release(mgr->lock);
    return TV_OK;
}

tv_status_t task_events_register(struct task_mgr *mgr, struct tv_task_ring *ring,
                                 uint32_t vector, task_notify_fn notify, void *notify_ctx)
{
    if (ring && ((uintptr_t)ring & 7u))
        return TV_E_INVALID_ARGUMENT;
    if (vector != 0 && (vector < 32 || vector > 255))
        return TV_E_INVALID_ARGUMENT;
    tp_lock_acquire(mgr->lock);
    struct task_events *ev = &mgr->events;
    ev->ring = ring;
    ev->capacity = (uint32_t)TV_TASK_RING_CAPACITY;
    ev->head = 0;
    ev->lost = 0;
    ev->vector = ring ? vector : 0;
    ev->kinds = 0; /* tasks only, until task_events_set_kinds */
    ev->notify = ring ? notify : NULL;
    ev->notify_ctx = ring ? notify_ctx : NULL;
    if (ring) {
        tv_memset(ring, 0, sizeof *ring);
        ring->hdr.capacity = ev->capacity;
        store32(&ring->hdr.magic, TV_TASK_RING_MAGIC);
    }
    tp_lock_release(mgr->lock);
    return TV_OK;
}

tv_status_t task_events_set_kinds(struct task_mgr *mgr, uint32_t kinds)
{
    if (kinds & 1u)
        return TV_E_INVALID_ARGUMENT; /* bit 0 is the tasks': always on */
    tp_lock_acquire(mgr->lock);
    mgr->events.kinds = mgr->events.ring ? kinds : 0;
    tp_lock_release(mgr->lock);
    return TV_OK;
}
