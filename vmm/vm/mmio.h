/* Guest-physical accesses outside RAM (nested page faults): the device
 * models' MMIO pages and the rest of the PC's 32-bit device window. */
#ifndef VMM_MMIO_H
#define VMM_MMIO_H

#include "vm/vcpu.h"

/* The window where a PC has its devices: from 3 GiB (or the end of RAM, if
 * higher) to 4 GiB.  Outside it nothing is ever mapped for a guest. */
#define MMIO_WINDOW_START 0xc0000000ull
#define MMIO_WINDOW_END   0x100000000ull

void mmio_handle_npf(struct vcpu *v, struct vm_exit *e);

#endif
