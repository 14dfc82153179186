/* mgmt_denied: a partition that is not the control partition gets
 * ACCESS_DENIED for management calls and no data; GET_VERSION still works. */
#include "guest.h"
#include "partition_list.h"
#include "tv_string.h"

static struct tv_partition_record recs[4];

int guest_main(const struct guest_boot *boot)
{
    (void)boot;
    tv_memset(recs, 0xA5, sizeof(recs));
    uint32_t count = 0xdeadbeef;
    tv_status_t st = guest_partition_list(recs, 4, &count);
    reportf(st == TV_E_ACCESS_DENIED, "PARTITION_LIST gives ACCESS_DENIED (status %d)", st);
    bool untouched = true;
    for (size_t i = 0; i < sizeof(recs); i++)
        if (((const uint8_t *)recs)[i] != 0xA5)
            untouched = false;
    report("denied call wrote nothing into the buffer", untouched);

    st = guest_partition_list(recs, 0, &count);
    reportf(st == TV_E_ACCESS_DENIED, "PARTITION_LIST with capacity 0 is denied too (status %d)", st);

    uint32_t version = 0;
    st = tv_get_version(&version, NULL);
    reportf(st == TV_OK && version == ((TV_ABI_VERSION_MAJOR << 16) | TV_ABI_VERSION_MINOR),
            "GET_VERSION still works (status %d version 0x%x)", st, version);
    st = tv_hypercall(TV_HC_NOP, 0, 0, 0, 0, 0, NULL);
    reportf(st == TV_OK, "NOP still works (status %d)", st);
    guest_exit_summary();
}
