/* Scanning a UEFI device path (as stored in the ConOut variable) without EFI
 * headers, so the decision "does the console already reach a serial port?"
 * is unit-tested and fuzzed like the other portable parts. */
#ifndef TV_DEVICE_PATH_H
#define TV_DEVICE_PATH_H

#include <stddef.h>
#include <stdint.h>

/* True when the (possibly multi-instance) device path of size bytes holds a
 * UART messaging node (type 3, subtype 14).  Stops at the end-of-entire-path
 * node, at a node shorter than its 4-byte header, or at a node running past
 * size: a malformed path never causes a read outside the buffer. */
int tv_device_path_has_uart(const void *path, size_t size);

#endif
