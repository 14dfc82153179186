/* /dev/taskvisor: argument checks and the pure logic of the driver (see
 * tvdev_decode.h).  Compiles in the kernel and hosted. */
#include "tvdev_decode.h"

/* "AuthenticAMD", "HygonGenuine", "GenuineIntel" in EBX, EDX, ECX order. */
static bool vendor_is(const struct tvd_cpuid *v, uint32_t b, uint32_t d, uint32_t c)
{
    return v->ebx == b && v->edx == d && v->ecx == c;
}

enum tvd_probe tvd_probe(const struct tvd_cpuid *vendor, const struct tvd_cpuid *base,
                         const struct tvd_cpuid *version, bool *vmmcall)
{
    if (base->ebx != TV_CPUID_SIGNATURE_EBX || base->ecx != TV_CPUID_SIGNATURE_ECX ||
        base->edx != TV_CPUID_SIGNATURE_EDX)
        return TVD_PROBE_NO_SIGNATURE;
    if (base->eax < TV_CPUID_LEAF_VERSION)
        return TVD_PROBE_NO_VERSION;
    if ((version->eax >> 16) != TV_ABI_VERSION_MAJOR)
        return TVD_PROBE_ABI_MAJOR;
    /* APM vol. 3 "VMMCALL" and SDM vol. 3C 25.1.3 (VMCALL): each vendor's
     * guest instruction; the other one is #UD on that vendor's CPU. */
    if (vendor_is(vendor, 0x68747541u, 0x69746e65u, 0x444d4163u) || /* AuthenticAMD */
        vendor_is(vendor, 0x6f677948u, 0x6e65476eu, 0x656e6975u))   /* HygonGenuine */
        *vmmcall = true;
    else if (vendor_is(vendor, 0x756e6547u, 0x49656e69u, 0x6c65746eu)) /* GenuineIntel */
        *vmmcall = false;
    else
        return TVD_PROBE_UNKNOWN_VENDOR;
    return TVD_PROBE_OK;
}

bool tvd_check_query(const struct tvdev_task_query *q)
{
    return q->reserved == 0;
}

bool tvd_check_list(const struct tvdev_task_list *l)
{
    if (l->reserved[0] || l->reserved[1])
        return false;
    if (l->capacity > TVDEV_LIST_MAX || (l->flags & ~(uint32_t)TV_TASK_LIST_UNFINISHED))
        return false;
    if (l->capacity == 0)
        return true;
    /* The user array must not wrap the address space (copy_to_user checks
     * the rest). */
    uint64_t bytes = (uint64_t)l->capacity * sizeof(struct tv_task_event);
    return l->entries != 0 && l->entries + bytes > l->entries;
}

bool tvd_check_verb(const struct tvdev_task_verb *v, uint32_t *code)
{
    static const uint32_t codes[TV_TASK_VERB_COUNT] = {
        [TV_TASK_VERB_CANCEL] = TV_HC_TASK_CANCEL,
        [TV_TASK_VERB_PAUSE] = TV_HC_TASK_PAUSE,
        [TV_TASK_VERB_RESUME] = TV_HC_TASK_RESUME,
        [TV_TASK_VERB_DISMISS] = TV_HC_TASK_DISMISS,
    };
    if (v->reserved[0] || v->reserved[1] || v->verb >= TV_TASK_VERB_COUNT)
        return false;
    *code = codes[v->verb];
    return true;
}

bool tvd_check_wait(const struct tvdev_task_wait *w)
{
    if (w->reserved[0] || w->reserved[1])
        return false;
    return w->timeout_ms == TV_TASK_WAIT_FOREVER ||
           (w->timeout_ms >= 0 && w->timeout_ms <= TV_TASK_WAIT_MAX_MS);
}

bool tvd_check_power_off(const struct tvdev_power_off *p)
{
    for (size_t i = 0; i < sizeof p->reserved / sizeof p->reserved[0]; i++)
        if (p->reserved[i])
            return false;
    return true;
}

bool tvd_check_events(const struct tvdev_events *e)
{
    for (size_t i = 0; i < sizeof e->reserved / sizeof e->reserved[0]; i++)
        if (e->reserved[i])
            return false;
    return (e->enable & ~TVDEV_SUBSCRIBE_ALL) == 0;
}

bool tvd_event_wanted(uint32_t enable, uint32_t state)
{
    switch (TV_EVENT_KIND(state)) {
    case TV_EVENT_KIND_TASK: return (enable & TVDEV_SUBSCRIBE_TASKS) != 0;
    case TV_EVENT_KIND_VM: return (enable & TVDEV_SUBSCRIBE_VMS) != 0;
    default: return false;
    }
}

bool tvd_check_test_start(const struct tvdev_test_start *t)
{
    if (t->reserved || t->spec.reserved)
        return false;
    /* The description must be terminated inside its field. */
    for (size_t i = 0; i < TV_TASK_DESC_MAX; i++)
        if (t->spec.description[i] == '\0')
            return true;
    return false;
}

size_t tvd_disk_record_size(uint32_t type)
{
    switch (type) {
    case TV_TASK_TYPE_DISK_CREATE_FIXED:
    case TV_TASK_TYPE_DISK_CREATE_DYNAMIC: return sizeof(struct tv_disk_create_args);
    case TV_TASK_TYPE_DISK_CREATE_DIFF: return sizeof(struct tv_disk_create_diff_args);
    case TV_TASK_TYPE_DISK_MERGE:
    case TV_TASK_TYPE_DISK_COMPACT:
    case TV_TASK_TYPE_DISK_CHECK: return sizeof(struct tv_disk_image_args);
    case TV_TASK_TYPE_DISK_MERGE_TO:
    case TV_TASK_TYPE_DISK_CONVERT: return sizeof(struct tv_disk_copy_args);
    default: return 0; /* DISK_RECOVER is the mount's own, the rest are not disk types */
    }
}

/* A user range that is present and does not wrap (copy_*_user checks the rest). */
static bool user_range(uint64_t addr, uint64_t bytes)
{
    return addr != 0 && addr + bytes > addr;
}

bool tvd_check_disk(const struct tvdev_disk *d)
{
    if (d->reserved0 || d->reserved[0] || d->reserved[1])
        return false;
    switch (d->call) {
    case TV_HC_DISK_START: {
        size_t want = tvd_disk_record_size(d->arg);
        return want != 0 && d->in_size == want && want <= TVDEV_DISK_IN_MAX &&
               user_range(d->in, want) && d->out == 0 && d->out_size == 0;
    }
    case TV_HC_DIR_CREATE:
        /* The folder's path ("VOLUME:/path", no NUL): the monitor's
         * limit is 1023 bytes; no output, no argument. */
        return d->arg == 0 && d->in_size >= 1 && d->in_size <= TVDEV_DIR_PATH_MAX &&
               user_range(d->in, d->in_size) && d->out == 0 && d->out_size == 0;
    /* The image store's other calls (0x200-0x20f) will come here, each
     * checking its own input record and output buffer. */
    default:
        return false;
    }
}

bool tvd_check_vm_list(const struct tvdev_vm_list *l)
{
    if (l->reserved[0] || l->reserved[1] || l->capacity > TVDEV_VM_LIST_MAX)
        return false;
    return l->capacity == 0 ||
           user_range(l->entries, (uint64_t)l->capacity * sizeof(struct tv_vm_info));
}

bool tvd_check_vm_query(const struct tvdev_vm_query *q)
{
    return q->reserved[0] == 0 && q->reserved[1] == 0;
}

bool tvd_check_vm_op(const struct tvdev_vm_op *o)
{
    if (o->reserved[0] || o->reserved[1])
        return false;
    switch (o->call) {
    case TV_HC_VM_SHUTDOWN:
    case TV_HC_VM_RESTART:
        return (o->flags & ~TV_VM_OP_F_FORCE) == 0;
    case TV_HC_VM_STARTUP:
    case TV_HC_VM_TURN_OFF:
    case TV_HC_VM_RESET:
    case TV_HC_VM_PAUSE:
    case TV_HC_VM_RESUME:
    case TV_HC_VM_LOGOFF:
    case TV_HC_VM_SAVE:
    case TV_HC_VM_CAN_SHUTDOWN:
        return o->flags == 0;
    default:
        return false;
    }
}

uint32_t tvd_vm_list_written(uint64_t total, uint32_t capacity)
{
    return total < capacity ? (uint32_t)total : capacity;
}

void tvd_wait_begin(struct tvd_wait *w, int32_t timeout_ms, uint64_t now_ns)
{
    w->forever = timeout_ms == TV_TASK_WAIT_FOREVER;
    w->deadline_ns = w->forever ? 0 : now_ns + (uint64_t)(uint32_t)timeout_ms * 1000000u;
}

bool tvd_wait_next(const struct tvd_wait *w, uint64_t now_ns, uint32_t *slice_ms)
{
    if (w->forever) {
        *slice_ms = TVD_WAIT_SLICE_MS;
        return false;
    }
    if (now_ns >= w->deadline_ns) {
        *slice_ms = 0; /* one last look: finished or TIMEOUT */
        return true;
    }
    uint64_t left_ns = w->deadline_ns - now_ns;
    uint64_t left_ms = (left_ns + 999999u) / 1000000u; /* rounded up: never early */
    if (left_ms <= TVD_WAIT_SLICE_MS) {
        *slice_ms = (uint32_t)left_ms;
        return true;
    }
    *slice_ms = TVD_WAIT_SLICE_MS;
    return false;
}

bool tvd_ring_take(struct tv_task_ring *ring, struct tv_task_event *out, size_t cap,
                   size_t *count, bool *lost)
{
    *count = 0;
    *lost = false;
    uint32_t capacity = __atomic_load_n(&ring->hdr.capacity, __ATOMIC_RELAXED);
    if (__atomic_load_n(&ring->hdr.magic, __ATOMIC_RELAXED) != TV_TASK_RING_MAGIC ||
        capacity == 0 || capacity > TV_TASK_RING_CAPACITY)
        return false;
    uint32_t head = __atomic_load_n(&ring->hdr.head, __ATOMIC_ACQUIRE);
    uint32_t tail = __atomic_load_n(&ring->hdr.tail, __ATOMIC_RELAXED);
    if (head - tail > capacity) {
        /* More than the ring holds: entries were overwritten or the indices
         * are garbage.  Keep the newest ring-full and report the loss. */
        tail = head - capacity;
        *lost = true;
    }
    size_t n = 0;
    while (tail != head && n < cap) {
        out[n++] = ring->entries[tail % capacity];
        tail++;
    }
    __atomic_store_n(&ring->hdr.tail, tail, __ATOMIC_RELEASE);
    if (__atomic_exchange_n(&ring->hdr.overflow, 0, __ATOMIC_ACQ_REL) != 0)
        *lost = true;
    *count = n;
    return true;
}

void tvd_queue_init(struct tvd_queue *q)
{
    q->head = q->tail = 0;
    q->lost = false;
}

bool tvd_queue_empty(const struct tvd_queue *q)
{
    return q->head == q->tail && !q->lost;
}

void tvd_queue_mark_lost(struct tvd_queue *q)
{
    q->lost = true;
}

void tvd_queue_push(struct tvd_queue *q, const struct tv_task_event *ev)
{
    if (q->head - q->tail >= TVD_QUEUE_LEN) {
        q->lost = true; /* the reader is behind: it re-lists */
        return;
    }
    struct tvdev_event *e = &q->ev[q->head % TVD_QUEUE_LEN];
    e->id = ev->id;
    e->seq = ev->seq;
    e->state = ev->state;
    e->percent = ev->percent;
    e->flags = 0;
    e->reserved = 0;
    q->head++;
}

bool tvd_queue_pop(struct tvd_queue *q, struct tvdev_event *out)
{
    if (q->lost) {
        /* The marker says "everything queued before is incomplete": drop
         * what is queued too, the reader re-lists anyway. */
        q->lost = false;
        q->tail = q->head;
        out->id = 0;
        out->seq = 0;
        out->state = 0;
        out->percent = 0;
        out->flags = TVDEV_EVENT_LOST;
        out->reserved = 0;
        return true;
    }
    if (q->head == q->tail)
        return false;
    *out = q->ev[q->tail % TVD_QUEUE_LEN];
    q->tail++;
    return true;
}
