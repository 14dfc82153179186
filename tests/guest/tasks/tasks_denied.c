/* A partition that is not the control partition: every task call is refused. */
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    static const uint32_t calls[] = {
        TV_HC_TASK_QUERY, TV_HC_TASK_LIST, TV_HC_TASK_CANCEL, TV_HC_TASK_PAUSE,
        TV_HC_TASK_RESUME, TV_HC_TASK_DISMISS, TV_HC_TASK_WAIT, TV_HC_TASK_EVENTS_REGISTER,
    };
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        struct tv_hc_out o;
        tv_status_t st = tv_hypercall(calls[i], 1, 0, 0, 0, 0, &o);
        reportf(st == TV_E_ACCESS_DENIED, "task call %#x from a non-control partition: %d",
                calls[i], st);
    }
    guest_exit_summary();
    return 0;
}
