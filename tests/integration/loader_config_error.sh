#!/usr/bin/env bash
# Config errors stop the loader with FILE:LINE: reason, before any image is
# loaded, and the loader returns an error to the firmware.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/loader_lib.sh
need_build
d=$(workdir loader_config_error)
cfg='\taskvisor\taskvisor.cfg'
printf 'CONTROL\n' >"$d/ctl.bin"

# A syntax error on line 5.
cat >"$d/syntax.cfg" <<'CFG'
monitor = testmon.elf
[partition ctl]
image = ctl.bin
memory = 16M
this line has no equals sign
CFG
scripts/mkesp.sh "$d/syntax.img" "$d/syntax.cfg" "$TESTMON" "$d/ctl.bin" >/dev/null
boot "$d/syntax.img" "$d/syntax.log" --stop-on "$FW_FAILED"
log=$d/syntax.log
check "syntax error: FILE:LINE: reason on the console/serial" \
    has_line "$log" "taskvisor: error: $cfg:5: expected 'key = value', '[partition NAME]' or a # comment, got 'this line has no equals sign'"
check "syntax error: the loader returns EFI_INVALID_PARAMETER to the firmware" \
    has_line "$log" "taskvisor: error: boot failed (EFI_INVALID_PARAMETER); returning to the firmware"
check "syntax error: the firmware received the error status" \
    bash -c "tr -d '\r' <'$log' | grep -qE 'BdsDxe: failed to start Boot[0-9]+ .*: Invalid Parameter' && [ $boot_rc -eq 125 ]"
check "syntax error: nothing was loaded" bash -c "! grep -qE 'taskvisor: (monitor|partition) |TESTMON' '$log'"
[ "$tap_failed" -eq 0 ] || show_log "$log"

# Two control partitions (line 9).
cat >"$d/control.cfg" <<'CFG'
monitor = testmon.elf
[partition a]
image = ctl.bin
memory = 16M
control = yes
[partition b]
image = ctl.bin
memory = 16M
control = yes
CFG
scripts/mkesp.sh "$d/control.img" "$d/control.cfg" "$TESTMON" "$d/ctl.bin" >/dev/null
boot "$d/control.img" "$d/control.log" --stop-on "$FW_FAILED"
check "second control partition: FILE:LINE: reason" \
    has_line "$d/control.log" "taskvisor: error: $cfg:9: only one partition may be the control partition: 'a' (line 2) already is"
check "second control partition: the firmware received the error status" test "$boot_rc" -eq 125
finish
