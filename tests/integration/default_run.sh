#!/usr/bin/env bash
# What `make run` does for a new user, end to end: the default ESP
# (config/default.cfg: Linux as the control partition) boots in QEMU with
# the serial console on this script's pipe, the shell answers `tvctl
# version`, and `poweroff` (busybox signals /init, which runs tvctl poweroff -> POWER_OFF -> ACPI S5) ends
# QEMU with status 0.  Prints TAP and the time to the shell.
set -uo pipefail
cd "$(dirname "$0")/../.."
esp=build/esp.img
out=build/test-logs/default_run
mkdir -p "$out"
log=$out/serial.log
fifo=$out/stdin
[ -f "$esp" ] || { echo "not ok - default run: $esp missing (run make)"; exit 0; }
rm -f "$fifo" "$log"
mkfifo "$fifo"
start=$(date +%s.%N)
timeout -s KILL 400 nice -n 5 scripts/run-qemu.sh "$esp" <"$fifo" >"$log" 2>&1 &
qemu=$!
exec 3>"$fifo"
# Waits up to $2 seconds for /$1/ in the log; false if QEMU ended or time ran out.
wait_for() {
    local end=$((SECONDS + $2))
    while [ $SECONDS -lt $end ]; do
        grep -aqE -- "$1" "$log" && return 0
        kill -0 "$qemu" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}
fails=0
report() { if [ "$1" = 0 ]; then echo "ok - default run: $2"; else echo "not ok - default run: $2"; fails=$((fails + 1)); fi; }
wait_for 'TASKVISOR-LINUX: driver loaded' 300; up=$?
shell_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
report $up "Linux came up with the driver loaded (${shell_s} s after QEMU started)"
sleep 2
echo 'tvctl version' >&3
wait_for '^monitor ABI [0-9]+\.[0-9]+' 60; report $? "tvctl version answered in the shell"
echo 'poweroff' >&3
wait "$qemu"; rc=$?
exec 3>&-
report $([ "$rc" = 0 ] && echo 0 || echo 1) "poweroff ended QEMU with status 0 (got $rc)"
[ $fails = 0 ] || echo "# serial log: $log"
exit 0
