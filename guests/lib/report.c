/* TAP output for test guests: "ok N - name" / "not ok N - name" and a
 * closing "GUEST SUMMARY: N passed, N failed" line. */
#include "guest.h"
#include "tv_fmt.h"

static unsigned passed, failed, skipped;

bool report(const char *name, bool ok)
{
    if (ok)
        passed++;
    else
        failed++;
    guest_printf("%sok %u - %s\n", ok ? "" : "not ", passed + failed, name);
    return ok;
}

bool reportf(bool ok, const char *fmt, ...)
{
    char name[200];
    va_list ap;
    va_start(ap, fmt);
    tv_vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    return report(name, ok);
}

void report_skip(const char *name, const char *why)
{
    skipped++;
    guest_printf("# SKIP %s: %s\n", name, why);
}

void report_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    guest_puts("# ");
    guest_vprintf(fmt, ap);
    va_end(ap);
    guest_puts("\n");
}

unsigned report_passed(void) { return passed; }
unsigned report_failed(void) { return failed; }

__attribute__((noreturn)) void guest_exit_summary(void)
{
    if (skipped)
        guest_printf("# %u check(s) skipped\n", skipped);
    if (passed == 0 && failed == 0) {
        /* A guest that checked nothing has not passed. */
        guest_printf("not ok %u - guest ran no checks\n", 1u);
        failed = 1;
    }
    guest_printf("GUEST SUMMARY: %u passed, %u failed\n", passed, failed);
    guest_exit(failed ? GUEST_EXIT_TESTS_FAILED : GUEST_EXIT_OK);
}
