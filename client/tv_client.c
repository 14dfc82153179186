/* libtaskvisor: IVMTask mirrored over the task hypercalls.  Freestanding. */
#include "libtaskvisor.h"
#include "tv_string.h"

static tv_status_t call(struct tv_client *c, uint32_t code, uint64_t a0, uint64_t a1,
                        uint64_t a2, uint64_t a3, uint64_t *out)
{
    uint64_t args[5] = { a0, a1, a2, a3, 0 };
    uint64_t dummy = 0;
    return c->transport->call(c->transport->ctx, code, args, out ? out : &dummy);
}

tv_status_t tv_client_init(struct tv_client *client, const struct tv_transport *transport)
{
    if (!client || !transport || !transport->call || !transport->shared_alloc)
        return TV_E_INVALID_ARGUMENT;
    tv_memset(client, 0, sizeof *client);
    client->transport = transport;
    client->scratch = transport->shared_alloc(transport->ctx, TV_CLIENT_SCRATCH_SIZE, 4096,
                                              &client->scratch_gpa);
    return client->scratch ? TV_OK : TV_E_NO_MEMORY;
}

void tv_client_fini(struct tv_client *client)
{
    if (!client || !client->transport)
        return;
    tv_events_unregister(client);
    if (client->scratch && client->transport->shared_free)
        client->transport->shared_free(client->transport->ctx, client->scratch,
                                       TV_CLIENT_SCRATCH_SIZE);
    client->scratch = NULL;
    client->transport = NULL;
}

struct tv_task tv_task_handle(struct tv_client *client, uint64_t id)
{
    struct tv_task t = { client, id };
    return t;
}

uint64_t tv_task_id(struct tv_task task)
{
    return task.id;
}

tv_status_t tv_task_query(struct tv_task task, struct tv_task_info *out)
{
    struct tv_client *c = task.client;
    tv_status_t st = call(c, TV_HC_TASK_QUERY, task.id, c->scratch_gpa,
                          sizeof(struct tv_task_info), 0, NULL);
    if (st != TV_OK)
        return st;
    tv_memcpy(out, c->scratch, sizeof *out);
    /* The monitor terminates the strings; do not rely on it. */
    out->description[TV_TASK_DESC_MAX - 1] = '\0';
    out->error_description[TV_TASK_ERROR_MAX - 1] = '\0';
    if (out->description_len >= TV_TASK_DESC_MAX)
        out->description_len = (uint32_t)tv_strlen(out->description);
    if (out->error_description_len >= TV_TASK_ERROR_MAX)
        out->error_description_len = (uint32_t)tv_strlen(out->error_description);
    return TV_OK;
}

tv_status_t tv_task_cancel(struct tv_task task)
{
    return call(task.client, TV_HC_TASK_CANCEL, task.id, 0, 0, 0, NULL);
}

tv_status_t tv_task_pause(struct tv_task task)
{
    return call(task.client, TV_HC_TASK_PAUSE, task.id, 0, 0, 0, NULL);
}

tv_status_t tv_task_resume(struct tv_task task)
{
    return call(task.client, TV_HC_TASK_RESUME, task.id, 0, 0, 0, NULL);
}

tv_status_t tv_task_dismiss(struct tv_task task)
{
    return call(task.client, TV_HC_TASK_DISMISS, task.id, 0, 0, 0, NULL);
}

tv_status_t tv_task_wait_for_completion(struct tv_task task, int32_t timeout_ms)
{
    /* Sign-extended: -1 stays -1 in 64 bits; the monitor checks the range. */
    return call(task.client, TV_HC_TASK_WAIT, task.id, (uint64_t)(int64_t)timeout_ms, 0, 0,
                NULL);
}

static tv_status_t copy_text(const char *text, size_t len, char *buf, size_t size,
                             size_t *len_out)
{
    if (len_out)
        *len_out = len;
    if (size == 0)
        return TV_E_BUFFER_TOO_SMALL;
    size_t n = len < size - 1 ? len : size - 1;
    tv_memcpy(buf, text, n);
    buf[n] = '\0';
    return len < size ? TV_OK : TV_E_BUFFER_TOO_SMALL;
}

tv_status_t tv_task_description(struct tv_task task, char *buf, size_t size, size_t *len_out)
{
    struct tv_task_info info;
    tv_status_t st = tv_task_query(task, &info);
    if (st != TV_OK)
        return st;
    return copy_text(info.description, info.description_len, buf, size, len_out);
}

tv_status_t tv_task_error_description(struct tv_task task, char *buf, size_t size,
                                      size_t *len_out)
{
    struct tv_task_info info;
    tv_status_t st = tv_task_query(task, &info);
    if (st != TV_OK)
        return st;
    return copy_text(info.error_description, info.error_description_len, buf, size, len_out);
}

tv_status_t tv_task_error(struct tv_task task, int32_t *error_out)
{
    struct tv_task_info info;
    tv_status_t st = tv_task_query(task, &info);
    if (st == TV_OK)
        *error_out = info.error;
    return st;
}

tv_status_t tv_task_is_cancelable(struct tv_task task, bool *out)
{
    struct tv_task_info info;
    tv_status_t st = tv_task_query(task, &info);
    if (st == TV_OK)
        *out = (info.flags & TV_TASK_FLAG_CANCELABLE) != 0;
    return st;
}

tv_status_t tv_task_is_complete(struct tv_task task, bool *out)
{
    struct tv_task_info info;
    tv_status_t st = tv_task_query(task, &info);
    if (st == TV_OK)
        *out = (info.flags & TV_TASK_FLAG_COMPLETE) != 0;
    return st;
}

tv_status_t tv_task_percent_completed(struct tv_task task, int32_t *out)
{
    struct tv_task_info info;
    tv_status_t st = tv_task_query(task, &info);
    if (st == TV_OK)
        *out = (int32_t)(info.percent > 100 ? 100 : info.percent);
    return st;
}

tv_status_t tv_task_result(struct tv_task task, enum tv_task_result *out)
{
    struct tv_task_info info;
    tv_status_t st = tv_task_query(task, &info);
    if (st == TV_OK)
        *out = (enum tv_task_result)info.result;
    return st;
}

tv_status_t tv_task_list(struct tv_client *client, uint64_t cursor, uint32_t flags,
                         struct tv_task_event *out, size_t cap, size_t *count_out)
{
    const size_t chunk_cap = TV_CLIENT_SCRATCH_SIZE / sizeof(struct tv_task_event);
    size_t total = 0;
    while (total < cap) {
        size_t want = cap - total < chunk_cap ? cap - total : chunk_cap;
        uint64_t got = 0;
        tv_status_t st = call(client, TV_HC_TASK_LIST, cursor, client->scratch_gpa, want,
                              flags, &got);
        if (st != TV_OK)
            return st;
        if (got > want)
            return TV_E_CORRUPT; /* the monitor broke its contract */
        tv_memcpy(out + total, client->scratch, (size_t)got * sizeof *out);
        total += (size_t)got;
        if (got < want)
            break;
        cursor = out[total - 1].id;
    }
    *count_out = total;
    return TV_OK;
}

tv_status_t tv_events_register(struct tv_client *client, uint32_t vector)
{
    return tv_events_register_flags(client, vector, 0);
}

tv_status_t tv_events_register_flags(struct tv_client *client, uint32_t vector, uint32_t flags)
{
    /* A ring that is already registered stays registered (and allocated)
     * when a re-registration is refused: the monitor still writes to it. */
    bool fresh = !client->ring;
    if (fresh) {
        client->ring = client->transport->shared_alloc(client->transport->ctx,
                                                       TV_TASK_RING_SIZE, TV_TASK_RING_SIZE,
                                                       &client->ring_gpa);
        if (!client->ring)
            return TV_E_NO_MEMORY;
    }
    tv_status_t st = call(client, TV_HC_TASK_EVENTS_REGISTER, client->ring_gpa, vector, flags, 0,
                          NULL);
    if (st != TV_OK && fresh) {
        if (client->transport->shared_free)
            client->transport->shared_free(client->transport->ctx, client->ring,
                                           TV_TASK_RING_SIZE);
        client->ring = NULL;
    }
    return st;
}

tv_status_t tv_events_unregister(struct tv_client *client)
{
    if (!client->ring)
        return TV_E_INVALID_STATE;
    tv_status_t st = call(client, TV_HC_TASK_EVENTS_REGISTER, 0, 0, 0, 0, NULL);
    if (st == TV_OK) {
        if (client->transport->shared_free)
            client->transport->shared_free(client->transport->ctx, client->ring,
                                           TV_TASK_RING_SIZE);
        client->ring = NULL;
    }
    return st;
}

tv_status_t tv_events_read(struct tv_client *client, struct tv_task_event *out, size_t cap,
                           size_t *count_out, bool *overflowed)
{
    struct tv_task_ring *ring = client->ring;
    if (!ring)
        return TV_E_INVALID_STATE;
    if (client->transport->events_pull) {
        tv_status_t st = client->transport->events_pull(client->transport->ctx, ring);
        if (st != TV_OK)
            return st;
    }
    uint32_t capacity = ring->hdr.capacity;
    if (ring->hdr.magic != TV_TASK_RING_MAGIC || capacity == 0 ||
        capacity > TV_TASK_RING_CAPACITY)
        return TV_E_CORRUPT;
    uint32_t head = __atomic_load_n(&ring->hdr.head, __ATOMIC_ACQUIRE);
    uint32_t tail = ring->hdr.tail;
    size_t n = 0;
    if (head - tail > capacity)
        tail = head - capacity; /* cannot happen with a sane monitor */
    while (tail != head && n < cap) {
        out[n++] = ring->entries[tail % capacity];
        tail++;
    }
    __atomic_store_n(&ring->hdr.tail, tail, __ATOMIC_RELEASE);
    *overflowed = __atomic_exchange_n(&ring->hdr.overflow, 0, __ATOMIC_ACQ_REL) != 0;
    *count_out = n;
    return TV_OK;
}

tv_status_t tv_test_task_start(struct tv_client *client, const struct tv_task_test_spec *spec,
                               struct tv_task *task_out)
{
    tv_memcpy(client->scratch, spec, sizeof *spec);
    uint64_t id = 0;
    tv_status_t st = call(client, TV_HC_TEST_TASK_START, client->scratch_gpa, sizeof *spec, 0,
                          0, &id);
    if (st == TV_OK)
        *task_out = tv_task_handle(client, id);
    return st;
}

/* ---- Virtual machines ------------------------------------------------- */

static void vm_terminate(struct tv_vm_info *r)
{
    /* The monitor terminates the strings; do not rely on it. */
    r->name[sizeof r->name - 1] = '\0';
    r->image[sizeof r->image - 1] = '\0';
    r->cmdline[sizeof r->cmdline - 1] = '\0';
}

#define VM_SCRATCH_RECORDS (TV_CLIENT_SCRATCH_SIZE / sizeof(struct tv_vm_info))

tv_status_t tv_vm_list(struct tv_client *client, struct tv_vm_info *out, size_t cap,
                       size_t *count_out)
{
    size_t want = cap < VM_SCRATCH_RECORDS ? cap : VM_SCRATCH_RECORDS;
    uint64_t count = 0;
    tv_status_t st = call(client, TV_HC_VM_LIST, want ? client->scratch_gpa : 0, want, 0, 0,
                          &count);
    if (st != TV_OK)
        return st;
    size_t got = count < want ? (size_t)count : want;
    tv_memcpy(out, client->scratch, got * sizeof *out);
    for (size_t i = 0; i < got; i++)
        vm_terminate(&out[i]);
    *count_out = got;
    return TV_OK;
}

tv_status_t tv_vm_query(struct tv_client *client, uint32_t vm_id, struct tv_vm_info *out)
{
    tv_status_t st = call(client, TV_HC_VM_QUERY, vm_id, client->scratch_gpa,
                          sizeof(struct tv_vm_info), 0, NULL);
    if (st != TV_OK)
        return st;
    tv_memcpy(out, client->scratch, sizeof *out);
    vm_terminate(out);
    return TV_OK;
}

tv_status_t tv_vm_find(struct tv_client *client, const char *name, uint32_t *id_out)
{
    struct tv_vm_info recs[VM_SCRATCH_RECORDS];
    size_t n = 0;
    tv_status_t st = tv_vm_list(client, recs, VM_SCRATCH_RECORDS, &n);
    if (st != TV_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        if (tv_strcmp(recs[i].name, name) == 0) {
            *id_out = recs[i].id;
            return TV_OK;
        }
    }
    return TV_E_NOT_FOUND;
}

static tv_status_t vm_op(struct tv_client *client, uint32_t code, uint32_t vm_id,
                         struct tv_task *task_out)
{
    uint64_t id = 0;
    tv_status_t st = call(client, code, vm_id, 0, 0, 0, &id);
    if (st == TV_OK)
        *task_out = tv_task_handle(client, id);
    return st;
}

tv_status_t tv_vm_startup(struct tv_client *c, uint32_t vm_id, struct tv_task *task_out)
{
    return vm_op(c, TV_HC_VM_STARTUP, vm_id, task_out);
}

tv_status_t tv_vm_turn_off(struct tv_client *c, uint32_t vm_id, struct tv_task *task_out)
{
    return vm_op(c, TV_HC_VM_TURN_OFF, vm_id, task_out);
}

tv_status_t tv_vm_reset(struct tv_client *c, uint32_t vm_id, struct tv_task *task_out)
{
    return vm_op(c, TV_HC_VM_RESET, vm_id, task_out);
}

tv_status_t tv_vm_pause(struct tv_client *c, uint32_t vm_id, struct tv_task *task_out)
{
    return vm_op(c, TV_HC_VM_PAUSE, vm_id, task_out);
}

tv_status_t tv_vm_resume(struct tv_client *c, uint32_t vm_id, struct tv_task *task_out)
{
    return vm_op(c, TV_HC_VM_RESUME, vm_id, task_out);
}

tv_status_t tv_vm_save(struct tv_client *c, uint32_t vm_id, struct tv_task *task_out)
{
    return vm_op(c, TV_HC_VM_SAVE, vm_id, task_out);
}

/* ---- IVMGuestOS: through the guest agent -------------------------------- */

static tv_status_t guest_op(struct tv_client *client, uint32_t code, uint32_t vm_id,
                            uint32_t flags, struct tv_task *task_out)
{
    uint64_t id = 0;
    tv_status_t st = call(client, code, vm_id, flags, 0, 0, &id);
    if (st == TV_OK)
        *task_out = tv_task_handle(client, id);
    return st;
}

tv_status_t tv_vm_shutdown(struct tv_client *c, uint32_t vm_id, bool forced,
                           struct tv_task *task_out)
{
    return guest_op(c, TV_HC_VM_SHUTDOWN, vm_id, forced ? TV_VM_OP_F_FORCE : 0, task_out);
}

tv_status_t tv_vm_restart(struct tv_client *c, uint32_t vm_id, bool forced,
                          struct tv_task *task_out)
{
    return guest_op(c, TV_HC_VM_RESTART, vm_id, forced ? TV_VM_OP_F_FORCE : 0, task_out);
}

tv_status_t tv_vm_logoff(struct tv_client *c, uint32_t vm_id, struct tv_task *task_out)
{
    return vm_op(c, TV_HC_VM_LOGOFF, vm_id, task_out);
}

tv_status_t tv_vm_can_shutdown(struct tv_client *c, uint32_t vm_id, bool *can_out)
{
    uint64_t v = 0;
    tv_status_t st = call(c, TV_HC_VM_CAN_SHUTDOWN, vm_id, 0, 0, 0, &v);
    if (st == TV_OK && can_out)
        *can_out = v != 0;
    return st;
}
