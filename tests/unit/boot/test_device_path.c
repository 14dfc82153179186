/* Unit tests for the device path scan that decides whether the firmware
 * console already reaches a serial port (boot/efi/device_path.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../../boot/efi/device_path.h"

static uint8_t path[256];
static size_t len;

static void node(uint8_t type, uint8_t subtype, uint16_t size)
{
    memset(path + len, 0xee, size >= 4 ? size : 4);
    path[len] = type;
    path[len + 1] = subtype;
    path[len + 2] = (uint8_t)size;
    path[len + 3] = (uint8_t)(size >> 8);
    len += size >= 4 ? size : 4;
}

static void pci_root(void) { node(0x02, 0x01, 12); }
static void pci(void) { node(0x01, 0x01, 6); }
static void serial_port(void) { node(0x02, 0x01, 12); node(0x03, 0x0e, 19); }  /* ACPI PNP0501 + UART */
static void vt100(void) { node(0x03, 0x0a, 20); }                          /* vendor terminal type */
static void end_instance(void) { node(0x7f, 0x01, 4); }
static void end_entire(void) { node(0x7f, 0xff, 4); }

static int reset(void **state)
{
    (void)state;
    len = 0;
    memset(path, 0, sizeof path);
    return 0;
}

static void finds_uart_in_any_instance(void **state)
{
    (void)state;
    /* OVMF's usual ConOut: the display, then the serial terminal. */
    pci_root(); pci(); end_instance();
    pci_root(); pci(); serial_port(); vt100(); end_entire();
    assert_true(tv_device_path_has_uart(path, len));
    reset(NULL);
    pci_root(); serial_port(); end_entire();
    assert_true(tv_device_path_has_uart(path, len));
}

static void no_uart_means_no(void **state)
{
    (void)state;
    pci_root(); pci(); end_entire();
    assert_false(tv_device_path_has_uart(path, len));
    /* nodes after the end of the entire path do not count */
    serial_port();
    assert_false(tv_device_path_has_uart(path, len));
    assert_false(tv_device_path_has_uart(path, 0));
    assert_false(tv_device_path_has_uart(path, 3));
}

static void malformed_paths_stop_the_scan(void **state)
{
    (void)state;
    /* a node claiming more bytes than the buffer holds */
    pci_root();
    node(0x01, 0x01, 200);
    assert_false(tv_device_path_has_uart(path, 20));
    /* a zero-length node would loop forever if followed */
    reset(NULL);
    pci_root();
    node(0x01, 0x01, 0);
    serial_port();
    assert_false(tv_device_path_has_uart(path, len));
    /* a UART node cut by the buffer's end is not trusted */
    reset(NULL);
    pci_root(); serial_port();
    assert_false(tv_device_path_has_uart(path, len - 1));
    assert_true(tv_device_path_has_uart(path, len));
    /* no end node at all: the scan ends with the buffer */
    reset(NULL);
    pci_root(); pci();
    assert_false(tv_device_path_has_uart(path, len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(finds_uart_in_any_instance, reset),
        cmocka_unit_test_setup(no_uart_means_no, reset),
        cmocka_unit_test_setup(malformed_paths_stop_the_scan, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
