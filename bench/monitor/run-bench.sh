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

# Tasks (test build of the monitor: the synthetic job is reachable only there).
echo
cp build/monitor-test.elf "$out/monitor.elf"
scripts/mkesp.sh "$out/esp-tasks.img" bench/monitor/tasks.cfg "$out/monitor.elf" build/guests/task_bench.elf >/dev/null
scripts/run-qemu.sh --icount --log "$out/tasks.log" --timeout 300 "$out/esp-tasks.img" >/dev/null 2>&1 || true
tlog=$out/tasks.log
grep -aq 'TASKVISOR SUMMARY: 2 passed, 0 failed' "$tlog" || { echo "task bench failed; see $tlog"; grep -a 'not ok\|worst' "$tlog"; exit 1; }
tc() { grep -aoE "BENCH $1 [a-z_]+=[0-9]+" "$tlog" | tail -1 | sed 's/.*=//'; }
tnop=$(tc hypercall_nop); tver=$(tc hypercall_get_version); tq=$(tc task_query)
printf '%-28s %12s %10s\n' "task call (guest TSC cycles)" "cycles/op" "vs GET_VERSION"
printf '%-28s %12s %10s\n' hypercall_nop "$tnop" "$(awk -v a="$tnop" -v b="$tver" 'BEGIN { printf "%.2fx", a / b }')"
printf '%-28s %12s %10s\n' hypercall_get_version "$tver" "1.00x"
printf '%-28s %12s %10s\n' task_query "$tq" "$(awk -v a="$tq" -v b="$tver" 'BEGIN { printf "%.2fx", a / b }')"
alone=$(grep -aoE 'BENCH loop_alone iterations=[0-9]+' "$tlog" | sed 's/.*=//')
loaded=$(grep -aoE 'BENCH loop_with_tasks iterations=[0-9]+' "$tlog" | sed 's/.*=//')
gap=$(grep -aoE 'BENCH loop_with_tasks iterations=[0-9]+ max_gap_us=[0-9]+' "$tlog" | sed 's/.*=//')
echo "guest loop beside 2 CPU-bound tasks: $(awk -v a="$loaded" -v b="$alone" 'BEGIN { printf "%.2f", a / b }') of its throughput alone ($loaded vs $alone iterations in 200 ms), longest stall $gap us"
echo "cancel latency (TASK_CANCEL to cancelled, guest time): $(tc cancel_latency_us) us"
grep -aoE 'worst vCPU wait [0-9]+ us, bound [0-9]+ us: [A-Z]+' "$tlog" | sed 's/^/monitor: /'
