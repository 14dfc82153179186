#!/usr/bin/env bash
# Truncated and corrupt monitor images are refused with the reason, the
# config line and the file, and the loader returns an error to the firmware.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/loader_lib.sh
need_build
d=$(workdir loader_bad_monitor)
cfg='\taskvisor\taskvisor.cfg'
printf 'CONTROL\n' >"$d/ctl.bin"

# run_case NAME MONITOR-FILE EXPECTED-REASON
run_case() {
    local name=$1 mon=$2 reason=$3
    mkdir -p "$d/$name"
    cp "$mon" "$d/$name/monitor.elf"
    printf 'log_level = warn\nmonitor = monitor.elf\n[partition ctl]\nimage = ctl.bin\nmemory = 16M\n' \
        >"$d/$name/taskvisor.cfg"
    scripts/mkesp.sh "$d/$name/esp.img" "$d/$name/taskvisor.cfg" "$d/$name/monitor.elf" \
        "$d/ctl.bin" >/dev/null
    boot "$d/$name/esp.img" "$d/$name/serial.log" --stop-on "$FW_FAILED"
    local log=$d/$name/serial.log size failed_before=$tap_failed
    size=$(stat -c %s "$mon")
    check "$name: the loader names line 2, the file, its size and the reason" \
        has_line "$log" "taskvisor: error: $cfg:2: monitor image '\\taskvisor\\monitor.elf' ($size bytes) is not a loadable monitor: $reason"
    check "$name: the firmware received the error status (Load Error)" \
        bash -c "tr -d '\r' <'$log' | grep -qE 'BdsDxe: failed to start Boot[0-9]+ .*: Load Error' && [ $boot_rc -eq 125 ]"
    check "$name: the monitor was not entered" bash -c "! grep -q TESTMON '$log'"
    [ "$tap_failed" -eq "$failed_before" ] || show_log "$log"
}

head -c 3000 "$TESTMON" >"$d/truncated.elf"
run_case truncated "$d/truncated.elf" \
    "segment 1: bytes 0x1000+0x"
printf 'This is not an ELF file at all, just some text that is longer than an ELF header.\n' >"$d/text.elf"
run_case not-elf "$d/text.elf" "not an ELF file (bad magic)"
# A non-PIE executable: e_type (offset 16) patched to ET_EXEC.
cp "$TESTMON" "$d/exec.elf"
printf '\x02' | dd of="$d/exec.elf" bs=1 seek=16 conv=notrunc status=none
run_case not-pie "$d/exec.elf" "ELF type 2 is not ET_DYN: the monitor must be linked -pie at base 0"
finish
