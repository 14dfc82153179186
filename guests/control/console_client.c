/* The libtaskvisor client the console's commands share the set-up of:
 * refused off Taskvisor, initialised on first use (and tried again on the
 * next command when that failed). */
#include "console.h"
#include "guest.h"
#include "guest_transport.h"
#include "tv_status.h"

bool console_client(struct tv_client *client, const char *what)
{
    if (!guest_on_taskvisor()) {
        guest_puts("error: not running under Taskvisor\n");
        return false;
    }
    /* tv_client_init leaves the scratch page unset when it fails */
    if (!client->scratch) {
        tv_status_t st = tv_client_init(client, &guest_transport);
        if (st != TV_OK) {
            guest_printf("error: %s: %s\n", what, tv_status_name(st));
            return false;
        }
    }
    return true;
}
