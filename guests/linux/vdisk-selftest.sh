#!/bin/busybox sh
# The vm_disk_linux scenario's check (tv.vdisk on the command line): Debian's
# stock virtio drivers (modules from the kernel's own package, in /lib) find
# the monitor's virtio-blk disk as /dev/vda; the script reads the host's
# pattern (0x77 in the first 64 KiB) and writes what the host checks after
# the run (mkstore.sh check-vm: 0xA5 at sectors 200-215, 0x3C in the last
# sector).  Prints TASKVISOR-VDISK lines; exits with the number of failures.
failed=0
check() {
    if eval "$2"; then
        echo "TASKVISOR-VDISK: ok - $1"
    else
        echo "TASKVISOR-VDISK: not ok - $1"
        failed=$((failed + 1))
    fi
}
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
    insmod /lib/$m.ko || echo "TASKVISOR-VDISK: insmod $m failed"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "/dev/vda is there" '[ -b /dev/vda ]'
want=$(sed -n 's/.*tv\.sectors=\([0-9]*\).*/\1/p' /proc/cmdline)
size=$(cat /sys/block/vda/size 2>/dev/null)
check "its size is $size sectors (want $want)" '[ -n "$size" ] && [ "$size" = "$want" ]'
serial=$(cat /sys/block/vda/serial 2>/dev/null)
check "its serial is '$serial'" '[ "$serial" = tv-linux-0 ]'
got=$(dd if=/dev/vda bs=512 count=128 2>/dev/null | wc -c)
other=$(dd if=/dev/vda bs=512 count=128 2>/dev/null | tr -d '\167' | wc -c)
check "the first 64 KiB read ($got bytes) hold the host's 0x77 ($other other bytes)" \
    '[ "$got" = 65536 ] && [ "$other" = 0 ]'
head -c 8192 /dev/zero | tr '\000' '\245' | dd of=/dev/vda bs=512 seek=200 conv=fsync 2>/dev/null
check "wrote 0xA5 to sectors 200-215" '[ $? = 0 ]'
last=$((size - 1))
head -c 512 /dev/zero | tr '\000' '\074' | dd of=/dev/vda bs=512 seek=$last conv=fsync 2>/dev/null
check "wrote 0x3C to the last sector $last" '[ $? = 0 ]'
sync
echo 3 >/proc/sys/vm/drop_caches
other=$(dd if=/dev/vda bs=512 skip=200 count=16 2>/dev/null | tr -d '\245' | wc -c)
check "sectors 200-215 read back from the disk" '[ "$other" = 0 ]'
other=$(dd if=/dev/vda bs=512 skip=$last count=1 2>/dev/null | tr -d '\074' | wc -c)
check "the last sector reads back" '[ "$other" = 0 ]'
irqs=$(grep virtio /proc/interrupts | awk '{ s += $2 } END { print s + 0 }')
check "the disk interrupted the kernel ($irqs times, INTx through the I/O APIC)" '[ "$irqs" -gt 0 ]'
echo "TASKVISOR-VDISK: $failed failed"
exit $failed
