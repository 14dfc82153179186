/* Device path scanning (see device_path.h). */
#include "device_path.h"

enum {
    DP_MESSAGING = 0x03, DP_MSG_UART = 0x0e,
    DP_END = 0x7f, DP_END_ENTIRE = 0xff,
    DP_HEADER = 4,
};

int tv_device_path_has_uart(const void *path, size_t size)
{
    const uint8_t *dp = path;
    size_t off = 0;
    while (size - off >= DP_HEADER && off < size) {
        uint8_t type = dp[off], subtype = dp[off + 1];
        size_t len = (size_t)dp[off + 2] | ((size_t)dp[off + 3] << 8);
        if (len < DP_HEADER || len > size - off)
            return 0;
        if (type == DP_MESSAGING && subtype == DP_MSG_UART)
            return 1;
        if (type == DP_END && subtype == DP_END_ENTIRE)
            return 0;
        off += len;
    }
    return 0;
}
