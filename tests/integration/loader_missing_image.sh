#!/usr/bin/env bash
# A config naming a file that is not on the ESP: the loader prints which
# file, from which config line, is missing, on the firmware console (which
# OVMF mirrors on the serial port), and returns an error to the firmware,
# which reports the failed boot option.  Also: a missing monitor and a
# missing config file.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/loader_lib.sh
need_build
d=$(workdir loader_missing_image)
cfg='\taskvisor\taskvisor.cfg'

# 1. A partition image that is not there (line 8).
cat >"$d/taskvisor.cfg" <<'CFG'
monitor = testmon.elf

[partition ctl]
image = ctl.bin
memory = 16M

[partition guest]
image = missing.bin
memory = 8M
CFG
printf 'CONTROL\n' >"$d/ctl.bin"
scripts/mkesp.sh "$d/image.img" "$d/taskvisor.cfg" "$TESTMON" "$d/ctl.bin" >/dev/null 2>&1
boot "$d/image.img" "$d/image.log" --stop-on "$FW_FAILED"
log=$d/image.log
check "missing image: the run ended at the firmware's boot failure (status 125)" test "$boot_rc" -eq 125
check "missing image: the error names the config file, line 8, the partition and the file" \
    has_line "$log" "taskvisor: error: $cfg:8: partition 'guest': image 'missing.bin' (\\taskvisor\\missing.bin): file not found"
check "missing image: the loader says it returns to the firmware" \
    has_line "$log" "taskvisor: error: boot failed (EFI_NOT_FOUND); returning to the firmware"
check "missing image: the firmware received the error status (Not Found)" \
    bash -c "tr -d '\r' <'$log' | grep -qE 'BdsDxe: failed to start Boot[0-9]+ .*: Not Found'"
check "missing image: the monitor was not entered" bash -c "! grep -q TESTMON '$log'"
[ "$tap_failed" -eq 0 ] || show_log "$log"

# 2. The monitor image is not there (line 2).
printf '# no monitor on this ESP\nmonitor = \\taskvisor\\nothere.elf\n[partition ctl]\nimage = ctl.bin\nmemory = 16M\n' \
    >"$d/nomon.cfg"
scripts/mkesp.sh "$d/nomon.img" "$d/nomon.cfg" "$d/ctl.bin" >/dev/null 2>&1
boot "$d/nomon.img" "$d/nomon.log" --stop-on "$FW_FAILED"
check "missing monitor: error names line 2 and the file" \
    has_line "$d/nomon.log" "taskvisor: error: $cfg:2: monitor image '\\taskvisor\\nothere.elf' (\\taskvisor\\nothere.elf): file not found"
check "missing monitor: the firmware received the error status" test "$boot_rc" -eq 125

# 3. No config file at all (an ESP made by hand, without mkesp).
truncate -s 16M "$d/nocfg.img"
mkfs.vfat -n TASKVISOR "$d/nocfg.img" >/dev/null
MTOOLS_SKIP_CHECK=1 mmd -i "$d/nocfg.img" ::/EFI ::/EFI/BOOT
MTOOLS_SKIP_CHECK=1 mcopy -i "$d/nocfg.img" "$LOADER" ::/EFI/BOOT/BOOTX64.EFI
boot "$d/nocfg.img" "$d/nocfg.log" --stop-on "$FW_FAILED"
check "missing config: error names the config file" \
    has_line "$d/nocfg.log" "taskvisor: error: $cfg: file not found"
check "missing config: the firmware received the error status" test "$boot_rc" -eq 125
finish
