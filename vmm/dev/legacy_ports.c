/* Legacy PC ports (see legacy_ports.h). */
#include "dev/legacy_ports.h"

#define PORT_PIT_FIRST  0x40
#define PORT_PIT_LAST   0x43
#define PORT_SYS_CTRL_B 0x61
#define SYS_CTRL_B_OUT2 0x20

bool legacy_port_read(uint16_t port, unsigned size, uint32_t *value)
{
    (void)size;
    if (port >= PORT_PIT_FIRST && port <= PORT_PIT_LAST) {
        *value = 0;
        return true;
    }
    if (port == PORT_SYS_CTRL_B) {
        *value = SYS_CTRL_B_OUT2;
        return true;
    }
    return false;
}
