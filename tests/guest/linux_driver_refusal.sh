#!/usr/bin/env bash
# taskvisor.ko refuses to load where the monitor is not Taskvisor: the Linux
# partition's kernel and initramfs booted directly by QEMU TCG (no monitor;
# CPUID 0x40000000 carries no Taskvisor signature).  /init's insmod must
# fail with the driver's own line, and the shell must still come up (the
# tv.selftest marker, then the exit port).  Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
kernel=build/guests/vmlinuz
initrd=build/guests/linux-initramfs.cpio.gz
out=build/test-logs/linux_driver_refusal
mkdir -p "$out"
log=$out/serial.log
for f in "$kernel" "$initrd"; do
    [ -f "$f" ] || { echo "not ok - linux driver refusal: $f missing (run make)"; exit 0; }
done
cmdline="console=ttyS0,115200 8250.nr_uarts=1 acpi=off pci=off tsc=reliable io_delay=none reboot=t rdinit=/init mitigations=off tv.selftest"
timeout -s KILL 240 nice -n 10 qemu-system-x86_64 -machine pc -accel tcg -cpu qemu64 -m 256M \
    -nodefaults -display none -no-reboot -monitor none -serial "file:$log" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$kernel" -initrd "$initrd" -append "$cmdline" </dev/null >/dev/null 2>&1
rc=$?
fails=0
check() {
    if grep -aqE -- "$2" "$log"; then echo "ok - linux driver refusal: $1"
    else echo "not ok - linux driver refusal: $1 (no /$2/ in $log)"; fails=$((fails + 1)); fi
}
check "insmod refused with the driver's reason" \
    'TASKVISOR-LINUX: driver not loaded: taskvisor: not running under Taskvisor \(CPUID 0x40000000 signature is not TaskvisorTV!\); not loading'
check "the shell still ran" 'TASKVISOR-LINUX: shell ran: 42'
# isa-debug-exit: (code << 1) | 1, so tvexit 0 is status 1.
if [ "$rc" = 1 ]; then echo "ok - linux driver refusal: left through the exit port with 0"
else echo "not ok - linux driver refusal: QEMU status $rc, want 1"; fi
exit 0
