#!/usr/bin/env bash
# The UEFI loader boots the test monitor through the full hand-off: config
# parsed, monitor relocated and entered with interrupts off, partitions
# loaded, memory map / RSDP / options delivered in boot_info.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/loader_lib.sh
need_build
d=$(workdir loader_boot)

cat >"$d/taskvisor.cfg" <<'CFG'
# test configuration
monitor   = testmon.elf
log_level = info
options   = hello=1 x=2

[partition ctl]
image   = ctl.bin
memory  = 16M
cmdline = console=ttyS0 quiet
control = yes

[partition guest1]
image  = \images\guest1.bin
memory = 8M
CFG
printf 'CONTROL-IMAGE-1\nmore bytes\n' >"$d/ctl.bin"
head -c 10000 /dev/zero | tr '\0' 'g' | sed '1s/^/GUEST-ONE\n/' >"$d/guest1.bin"

scripts/mkesp.sh "$d/esp.img" "$d/taskvisor.cfg" "$TESTMON" "$d/ctl.bin" \
    "$d/guest1.bin=/images/guest1.bin" >/dev/null
check "mkesp built the ESP" test -s "$d/esp.img"
start=$SECONDS
boot "$d/esp.img" "$d/serial.log"
log=$d/serial.log
echo "# boot took $((SECONDS - start)) s, run-qemu status $boot_rc"
check "QEMU ended through isa-debug-exit with the pass value (status 33)" test "$boot_rc" -eq 33
check "the test monitor passed its boot_info checks" has_line "$log" "TESTMON: PASS"
bi_version=$(sed -n 's/^#define TV_BOOT_INFO_VERSION *\([0-9]*\).*/\1/p' boot/common/boot_info.h)
check "boot_info carries both partitions, the control one first" \
    has_line "$log" "TESTMON: boot_info v$bi_version partitions=2 first=ctl "
check "partition 0: name, control flag, memory, path, size, cmdline, image bytes" \
    has_line "$log" "TESTMON: partition 0 name=ctl control=1 memory=16384K image=ctl.bin size=27 cmdline='console=ttyS0 quiet' head='CONTROL-IMAGE-1'"
check "partition 1 loaded from a path outside \\taskvisor (\\images\\guest1.bin)" \
    has_line "$log" "TESTMON: partition 1 name=guest1 control=0 memory=8192K image=\\images\\guest1.bin size=10010 cmdline='' head='GUEST-ONE'"
check "memory map, RSDP, log level, options and relocations arrived" \
    bash -c "tr -d '\r' <'$log' | grep -qE \"mem_count=[1-9][0-9]* usable=[1-9][0-9]*M loaded=[1-9][0-9]*K rsdp=found log_level=2 options='hello=1 x=2' reloc=relocated\""
check "the loader reported the monitor's relocations" \
    bash -c "tr -d '\r' <'$log' | grep -qE 'taskvisor: monitor .taskvisor.testmon.elf: [0-9]+ KiB at 0x[0-9a-f]+, entry 0x[0-9a-f]+, [1-9][0-9]* relocations'"
# ConOut reaches the serial port under OVMF: each loader line appears once.
check "loader lines are not printed twice on the serial port" \
    test "$(tr -d '\r' <"$log" | grep -c '^taskvisor: UEFI loader$')" -eq 1
check "no GOP without a display device: boot_info has no framebuffer" \
    has_line "$log" "TESTMON: no framebuffer"
[ "$tap_failed" -eq 0 ] || show_log "$log"

# Again with a VGA device (GOP framebuffer) and deterministic icount time.
failed_before=$tap_failed
boot "$d/esp.img" "$d/vga.log" --icount -- -device VGA
check "with VGA and --icount: the test monitor passed (status 33)" test "$boot_rc" -eq 33
check "with VGA: the GOP framebuffer arrived in boot_info" \
    bash -c "tr -d '\r' <'$d/vga.log' | grep -qE 'TESTMON: framebuffer [1-9][0-9]*x[1-9][0-9]* pitch [1-9][0-9]* format [0-9] at 0x[0-9a-f]+'"
[ "$tap_failed" -eq "$failed_before" ] || show_log "$d/vga.log"
finish
