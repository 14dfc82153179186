#!/usr/bin/env bash
# Exit-path costs of the monitor, measured by a guest with RDTSC under QEMU
# -icount (guest time follows the instruction count, so the figures repeat).
# Peers in the same run: the no-op hypercall (the cheapest exit) and an empty
# loop.  Also: monitor entry -> first guest instruction, and footprint.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench/monitor
mkdir -p "$out"
cp build/monitor.elf "$out/monitor.elf"
scripts/mkesp.sh "$out/esp.img" bench/monitor/bench.cfg "$out/monitor.elf" build/guests/bench.elf >/dev/null
scripts/run-qemu.sh --icount --log "$out/serial.log" --timeout 300 "$out/esp.img" >/dev/null 2>&1 || true
log=$out/serial.log
grep -aq 'TASKVISOR SUMMARY: 1 passed, 0 failed' "$log" || { echo "bench guest failed; see $log"; exit 1; }
cycles() { grep -aoE "BENCH $1 cycles=[0-9]+" "$log" | tail -1 | sed 's/.*cycles=//'; }
nop=$(cycles hypercall_nop)
printf '%-28s %12s %10s\n' "operation (guest TSC cycles)" "cycles/op" "vs NOP"
for op in empty_loop hypercall_nop hypercall_get_version cpuid_leaf0; do
    c=$(cycles "$op")
    [ -n "$c" ] || { echo "no figure for $op"; exit 1; }
    printf '%-28s %12s %10s\n' "$op" "$c" "$(awk -v a="$c" -v b="$nop" 'BEGIN { printf "%.2fx", a / b }')"
done
grep -aoE 'first guest entry [0-9]+ us after monitor entry' "$log" | head -1 | sed 's/^/monitor: /'
grep -aoE 'footprint: .*' "$log" | head -1 | sed 's/^/monitor /'
tsc=$(grep -aoE 'TSC [0-9]+ kHz' "$log" | head -1)
echo "(guest time under -icount shift=3; $tsc as the monitor calibrated it)"
