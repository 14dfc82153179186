/* A VM's virtual disks: each "disk = VOLUME:/path.vhd" of its definition
 * is a VHD chain in the image store, opened for the run at Startup (the
 * exclusive lock the engine takes on a writable image makes the disk
 * operations refuse it as in use) and closed when the VM turns off; the
 * guest sees it as a virtio-blk PCI function (vmm/dev/virtio_pci_blk.c)
 * on the partition's PCI bus (vmm/dev/vpci.c), slot 1 + its index, BAR 0
 * at VM_DISK_BAR_BASE + index * VBLK_BAR_SIZE, INTA# on I/O APIC pin
 * VM_DISK_FIRST_PIN + index.
 *
 * Requests are served on a task-class kernel thread per disk, never on the
 * vCPU's thread: a notification (an MMIO write the vCPU emulates) only
 * wakes that thread, which reads and writes the image (blocking on the
 * block driver) and completes by posting the interrupt. */
#ifndef VMM_VM_DISKS_H
#define VMM_VM_DISKS_H

#include <stdbool.h>
#include <stdint.h>

#include "taskvisor/status.h"

struct partition;

#define VM_DISK_BAR_BASE  0xfe000000u
#define VM_DISK_FIRST_PIN 16u   /* the I/O APIC pins above the ISA ones */

/* Opens every disk of the definition and puts the devices on the PCI bus
 * with their threads started.  Idempotent for a run (a second call finds
 * them open).  Blocks on the image store (it waits for the volumes to be
 * mounted): from a task or vCPU thread, before the guest's first
 * instruction.  On failure nothing stays open; the status says why
 * (NOT_FOUND for an unknown volume or file, BUSY when in use, ...). */
tv_status_t vm_disks_start(struct partition *p);
/* Stops the threads (after the request each is performing) and closes the
 * images.  Idempotent; a no-op for a VM without disks. */
void vm_disks_stop(struct partition *p);
/* The partition has a PCI bus (it has disks). */
bool vm_disks_present(const struct partition *p);
/* Port I/O at 0xCF8-0xCFF and MMIO of the BARs, from the vCPU's exits:
 * false when the access is not theirs. */
bool vm_disks_port_read(struct partition *p, uint16_t port, unsigned size, uint32_t *value);
bool vm_disks_port_write(struct partition *p, uint16_t port, unsigned size, uint32_t value);
bool vm_disks_mmio_read(struct partition *p, uint64_t gpa, unsigned size, uint64_t *value);
bool vm_disks_mmio_write(struct partition *p, uint64_t gpa, unsigned size, uint64_t value);

#endif
