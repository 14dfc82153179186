/* libtaskvisor over /dev/taskvisor: see linux_transport.h. */
#include "linux_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

tv_status_t tv_linux_status_of_errno(int err)
{
    switch (err) {
    case 0: return TV_OK;
    case EACCES:
    case EPERM: return TV_E_ACCESS_DENIED;
    case ENOENT:
    case ENODEV:
    case ENXIO:
    case ENOTTY:
    case EOPNOTSUPP: return TV_E_UNSUPPORTED;
    case EINVAL: return TV_E_INVALID_ARGUMENT;
    case EINTR: return TV_E_CANCELLED;
    case ENOMEM: return TV_E_NO_MEMORY;
    case EFAULT: return TV_E_FAULT;
    default: return TV_E_IO;
    }
}

/* One ioctl; EINTR is retried except for waits (a signal ends a wait). */
static tv_status_t dev_ioctl(struct tv_linux *lx, unsigned long cmd, void *arg, bool restart)
{
    for (;;) {
        if (ioctl(lx->fd, cmd, arg) == 0) {
            lx->last_errno = 0;
            return TV_OK;
        }
        if (errno == EINTR && restart)
            continue;
        lx->last_errno = errno;
        return tv_linux_status_of_errno(errno);
    }
}

/* A call's answer with one output: the device's failure when the ioctl
 * failed, else the monitor's status, and on success *out = value. */
static tv_status_t answer(tv_status_t ioctl_st, uint32_t status, uint64_t value, uint64_t *out)
{
    if (ioctl_st != TV_OK)
        return ioctl_st;
    if (status == TV_OK)
        *out = value;
    return (tv_status_t)status;
}

/* A query's answer (TASK_QUERY, VM_QUERY): o0 = the record's size on OK
 * and BUFFER_TOO_SMALL; on OK the record goes to the caller's buffer. */
static tv_status_t query_answer(tv_status_t ioctl_st, uint32_t status, const void *rec,
                                size_t size, uint64_t buf, uint64_t *out)
{
    if (ioctl_st != TV_OK)
        return ioctl_st;
    if (status == TV_OK || status == TV_E_BUFFER_TOO_SMALL)
        *out = size;
    if (status == TV_OK)
        memcpy((void *)(uintptr_t)buf, rec, size);
    return (tv_status_t)status;
}

static tv_status_t do_query(struct tv_linux *lx, const uint64_t a[5], uint64_t *out)
{
    if (a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    if (a[2] < sizeof(struct tv_task_info)) {
        *out = sizeof(struct tv_task_info);
        return TV_E_BUFFER_TOO_SMALL;
    }
    struct tvdev_task_query q;
    memset(&q, 0, sizeof q);
    q.id = a[0];
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_TASK_QUERY, &q, true);
    return query_answer(st, q.status, &q.info, sizeof q.info, a[1], out);
}

static tv_status_t do_list(struct tv_linux *lx, const uint64_t a[5], uint64_t *out)
{
    if (a[4] || a[2] > TVDEV_LIST_MAX || a[3] > UINT32_MAX)
        return TV_E_INVALID_ARGUMENT;
    struct tvdev_task_list l;
    memset(&l, 0, sizeof l);
    l.cursor = a[0];
    l.entries = a[2] ? a[1] : 0;
    l.capacity = (uint32_t)a[2];
    l.flags = (uint32_t)a[3];
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_TASK_LIST, &l, true);
    return answer(st, l.status, l.count, out);
}

static tv_status_t do_verb(struct tv_linux *lx, uint32_t verb, const uint64_t a[5])
{
    if (a[1] || a[2] || a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    struct tvdev_task_verb v;
    memset(&v, 0, sizeof v);
    v.id = a[0];
    v.verb = verb;
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_TASK_VERB, &v, true);
    return st != TV_OK ? st : (tv_status_t)v.status;
}

static tv_status_t do_wait(struct tv_linux *lx, const uint64_t a[5])
{
    int64_t timeout = (int64_t)a[1];
    if (a[2] || a[3] || a[4] || timeout < INT32_MIN || timeout > INT32_MAX)
        return TV_E_INVALID_ARGUMENT;
    struct tvdev_task_wait w;
    memset(&w, 0, sizeof w);
    w.id = a[0];
    w.timeout_ms = (int32_t)timeout;
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_TASK_WAIT, &w, false);
    return st != TV_OK ? st : (tv_status_t)w.status;
}

static tv_status_t do_events(struct tv_linux *lx, const uint64_t a[5])
{
    /* The interrupt is the driver's business: a client passes vector 0.
     * a2 TV_TASK_EVENTS_F_VM: VM state changes too. */
    if (a[1] || (a[2] & ~(uint64_t)TV_TASK_EVENTS_F_VM) || a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    struct tvdev_events e;
    memset(&e, 0, sizeof e);
    if (a[0])
        e.enable = TVDEV_SUBSCRIBE_TASKS | ((a[2] & TV_TASK_EVENTS_F_VM) ? TVDEV_SUBSCRIBE_VMS : 0);
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_EVENTS, &e, true);
    if (st != TV_OK || !a[0])
        return st;
    /* What the monitor does to its own ring at registration. */
    struct tv_task_ring *ring = (struct tv_task_ring *)(uintptr_t)a[0];
    memset(&ring->hdr, 0, sizeof ring->hdr);
    ring->hdr.magic = TV_TASK_RING_MAGIC;
    ring->hdr.capacity = TV_TASK_RING_CAPACITY;
    return TV_OK;
}

static tv_status_t do_test_start(struct tv_linux *lx, const uint64_t a[5], uint64_t *out)
{
    if (a[1] != sizeof(struct tv_task_test_spec) || a[2] || a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    struct tvdev_test_start t;
    memset(&t, 0, sizeof t);
    memcpy(&t.spec, (const void *)(uintptr_t)a[0], sizeof t.spec);
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_TEST_START, &t, true);
    if (st == TV_E_UNSUPPORTED)
        st = TV_E_UNKNOWN_CALL; /* not a test build */
    return answer(st, t.status, t.id, out);
}

/* DISK_START: a1 is the client's token for its record (its user address);
 * the driver copies the record through a kernel buffer. */
static tv_status_t do_disk_start(struct tv_linux *lx, const uint64_t a[5], uint64_t *out)
{
    if (a[0] > UINT32_MAX || a[2] > TVDEV_DISK_IN_MAX || a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    struct tvdev_disk d;
    memset(&d, 0, sizeof d);
    d.call = TV_HC_DISK_START;
    d.arg = (uint32_t)a[0];
    d.in = a[1];
    d.in_size = (uint32_t)a[2];
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_DISK, &d, true);
    return answer(st, d.status, d.result, out);
}

/* DIR_CREATE: a0 is the token of the path (in the client's scratch page), a1
 * its length; the driver copies it through a kernel buffer. */
static tv_status_t do_dir_create(struct tv_linux *lx, const uint64_t a[5])
{
    if (a[1] == 0 || a[1] > TVDEV_DIR_PATH_MAX || a[2] || a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    struct tvdev_disk d;
    memset(&d, 0, sizeof d);
    d.call = TV_HC_DIR_CREATE;
    d.in = a[0];
    d.in_size = (uint32_t)a[1];
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_DISK, &d, true);
    return st != TV_OK ? st : (tv_status_t)d.status;
}

static tv_status_t do_vm_list(struct tv_linux *lx, const uint64_t a[5], uint64_t *out)
{
    if (a[1] > TVDEV_VM_LIST_MAX || a[2] || a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    struct tvdev_vm_list l;
    memset(&l, 0, sizeof l);
    l.entries = a[1] ? a[0] : 0;
    l.capacity = (uint32_t)a[1];
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_VM_LIST, &l, true);
    return answer(st, l.status, l.total, out);
}

static tv_status_t do_vm_query(struct tv_linux *lx, const uint64_t a[5], uint64_t *out)
{
    if (a[0] > UINT32_MAX || a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    if (a[2] < sizeof(struct tv_vm_info)) {
        *out = sizeof(struct tv_vm_info);
        return TV_E_BUFFER_TOO_SMALL;
    }
    struct tvdev_vm_query q;
    memset(&q, 0, sizeof q);
    q.id = (uint32_t)a[0];
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_VM_QUERY, &q, true);
    return query_answer(st, q.status, &q.info, sizeof q.info, a[1], out);
}

static tv_status_t do_vm_op(struct tv_linux *lx, uint32_t code, const uint64_t a[5], uint64_t *out)
{
    if (a[0] > UINT32_MAX || a[1] > UINT32_MAX || a[2] || a[3] || a[4])
        return TV_E_INVALID_ARGUMENT;
    struct tvdev_vm_op v;
    memset(&v, 0, sizeof v);
    v.call = code;
    v.id = (uint32_t)a[0];
    v.flags = (uint32_t)a[1]; /* shutdown/restart: TV_VM_OP_F_FORCE; the driver refuses others */
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_VM_OP, &v, true);
    return answer(st, v.status, v.task, out);
}

static tv_status_t lx_call(void *ctx, uint32_t code, const uint64_t a[5], uint64_t *out)
{
    struct tv_linux *lx = ctx;
    switch (code) {
    case TV_HC_NOP:
    case TV_HC_GET_VERSION: {
        struct tvdev_version v;
        tv_status_t st = tv_linux_version(lx, &v);
        if (st == TV_OK && v.status == TV_OK && code == TV_HC_GET_VERSION)
            *out = v.abi;
        return st != TV_OK ? st : (tv_status_t)v.status;
    }
    case TV_HC_POWER_OFF: return tv_linux_power_off(lx);
    case TV_HC_TASK_QUERY: return do_query(lx, a, out);
    case TV_HC_TASK_LIST: return do_list(lx, a, out);
    case TV_HC_TASK_CANCEL: return do_verb(lx, TV_TASK_VERB_CANCEL, a);
    case TV_HC_TASK_PAUSE: return do_verb(lx, TV_TASK_VERB_PAUSE, a);
    case TV_HC_TASK_RESUME: return do_verb(lx, TV_TASK_VERB_RESUME, a);
    case TV_HC_TASK_DISMISS: return do_verb(lx, TV_TASK_VERB_DISMISS, a);
    case TV_HC_TASK_WAIT: return do_wait(lx, a);
    case TV_HC_TASK_EVENTS_REGISTER: return do_events(lx, a);
    case TV_HC_TEST_TASK_START: return do_test_start(lx, a, out);
    case TV_HC_DISK_START: return do_disk_start(lx, a, out);
    case TV_HC_DIR_CREATE: return do_dir_create(lx, a);
    case TV_HC_VM_LIST: return do_vm_list(lx, a, out);
    case TV_HC_VM_QUERY: return do_vm_query(lx, a, out);
    case TV_HC_VM_STARTUP:
    case TV_HC_VM_TURN_OFF:
    case TV_HC_VM_RESET:
    case TV_HC_VM_PAUSE:
    case TV_HC_VM_RESUME:
    case TV_HC_VM_SHUTDOWN:
    case TV_HC_VM_RESTART:
    case TV_HC_VM_LOGOFF:
    case TV_HC_VM_CAN_SHUTDOWN:
    case TV_HC_VM_SAVE: return do_vm_op(lx, code, a, out);
    default: return TV_E_UNSUPPORTED; /* not offered by the device */
    }
}

static void *lx_alloc(void *ctx, size_t size, size_t align, uint64_t *gpa_out)
{
    (void)ctx;
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, size) != 0)
        return NULL;
    memset(p, 0, size);
    *gpa_out = (uint64_t)(uintptr_t)p; /* a token for lx_call, never the monitor's */
    return p;
}

static void lx_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    (void)size;
    free(ptr);
}

/* Appends what the device has queued to the client's ring, as a producer. */
static tv_status_t lx_events_pull(void *ctx, struct tv_task_ring *ring)
{
    struct tv_linux *lx = ctx;
    uint32_t cap = ring->hdr.capacity;
    for (;;) {
        uint32_t used = ring->hdr.head - __atomic_load_n(&ring->hdr.tail, __ATOMIC_ACQUIRE);
        if (used >= cap)
            return TV_OK; /* the rest waits in the driver */
        struct tvdev_event ev[32];
        size_t want = cap - used < 32 ? cap - used : 32;
        ssize_t got = read(lx->fd, ev, want * sizeof ev[0]);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return TV_OK;
            if (errno == EINTR)
                continue;
            lx->last_errno = errno;
            return tv_linux_status_of_errno(errno);
        }
        size_t n = (size_t)got / sizeof ev[0];
        uint32_t head = ring->hdr.head;
        for (size_t i = 0; i < n; i++) {
            if (ev[i].flags & TVDEV_EVENT_LOST) {
                __atomic_store_n(&ring->hdr.overflow, 1, __ATOMIC_RELEASE);
                continue;
            }
            struct tv_task_event *e = &ring->entries[head % cap];
            e->id = ev[i].id;
            e->seq = ev[i].seq;
            e->state = ev[i].state;
            e->percent = ev[i].percent;
            head++;
        }
        __atomic_store_n(&ring->hdr.head, head, __ATOMIC_RELEASE);
        if (n < want)
            return TV_OK;
    }
}

tv_status_t tv_linux_open(struct tv_linux *lx, const char *path)
{
    memset(lx, 0, sizeof *lx);
    lx->fd = -1;
    /* Non-blocking: events_pull must not sleep; ioctls are not affected. */
    int fd = open(path ? path : TV_LINUX_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        lx->last_errno = errno;
        return tv_linux_status_of_errno(errno);
    }
    lx->fd = fd;
    lx->transport.ctx = lx;
    lx->transport.call = lx_call;
    lx->transport.shared_alloc = lx_alloc;
    lx->transport.shared_free = lx_free;
    lx->transport.events_pull = lx_events_pull;
    return TV_OK;
}

void tv_linux_close(struct tv_linux *lx)
{
    if (lx->fd >= 0)
        close(lx->fd);
    lx->fd = -1;
}

const struct tv_transport *tv_linux_transport(struct tv_linux *lx)
{
    return &lx->transport;
}

int tv_linux_fd(const struct tv_linux *lx)
{
    return lx->fd;
}

tv_status_t tv_linux_version(struct tv_linux *lx, struct tvdev_version *out)
{
    memset(out, 0, sizeof *out);
    return dev_ioctl(lx, TVDEV_IOC_VERSION, out, true);
}

tv_status_t tv_linux_vm_list(struct tv_linux *lx, struct tv_vm_info *out, uint32_t cap,
                             uint32_t *count_out, uint32_t *total_out)
{
    if (cap > TVDEV_VM_LIST_MAX)
        cap = TVDEV_VM_LIST_MAX;
    struct tvdev_vm_list l;
    memset(&l, 0, sizeof l);
    l.entries = cap ? (uint64_t)(uintptr_t)out : 0;
    l.capacity = cap;
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_VM_LIST, &l, true);
    if (st != TV_OK)
        return st;
    if (l.status != TV_OK)
        return (tv_status_t)l.status;
    for (uint32_t i = 0; i < l.count; i++) { /* the monitor's strings, terminated */
        out[i].name[TV_VM_NAME_LEN - 1] = '\0';
        out[i].image[TV_VM_PATH_LEN - 1] = '\0';
        out[i].cmdline[TV_VM_CMDLINE_LEN - 1] = '\0';
    }
    *count_out = l.count;
    *total_out = l.total;
    return TV_OK;
}

tv_status_t tv_linux_power_off(struct tv_linux *lx)
{
    struct tvdev_power_off p;
    memset(&p, 0, sizeof p);
    tv_status_t st = dev_ioctl(lx, TVDEV_IOC_POWER_OFF, &p, true);
    return st != TV_OK ? st : (tv_status_t)p.status;
}
