#!/usr/bin/env bash
# Exit-path costs of the monitor on QEMU TCG SVM, measured by a guest with
# RDTSC under -icount shift=3,sleep=off,align=off (guest time follows the
# instruction count: one instruction is 8 ns, and the figures repeat).
# The yardstick, in the same run: the bare reference monitor (bench/bare/)
# running the same bench guest; every exit figure is printed as a ratio to
# its VMMCALL round trip and checked against bench/exit-bounds.tsv.  Also:
# monitor entry -> first guest instruction at 16 MiB and 512 MiB, footprint,
# the guest's share beside CPU-bound tasks at task_share 20, 50 and 80, and
# cancel latency as a distribution.
# The exit figures and the start-up are the normal build's: it keeps running
# when its partitions have stopped, so the run ends at its line saying so and
# is judged by the guest's summary and exit code.  The task runs need the
# test build (the synthetic job), which ends the run with its verdict.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
out=build/bench/monitor
mkdir -p "$out"
plat=qemu-svm

# run_monitor normal|test NAME CFG QEMU_MEMORY IMAGE...: LOG=$out/NAME.log
run_monitor() {
    local build=$1 name=$2 cfg=$3 mem=$4 stop=()
    shift 4
    if [ "$build" = test ]; then
        cp build/monitor-test.elf "$out/monitor.elf"
    else
        cp build/monitor.elf "$out/monitor.elf"
        stop=(--stop-on 'INF mon: all [0-9]+ partitions have stopped')
    fi
    scripts/mkesp.sh "$out/$name.img" "$cfg" "$out/monitor.elf" "$@" >/dev/null
    scripts/run-qemu.sh --icount --memory "$mem" --log "$out/$name.log" --timeout 600 "${stop[@]}" \
        "$out/$name.img" >/dev/null 2>&1 || true
}
# normal_ok LOG PARTITION: the guest passed and exited with code 0.
normal_ok() {
    grep -aqE "OUT $2: GUEST SUMMARY: [1-9][0-9]* passed, 0 failed" "$1" &&
        grep -aq "INF $2: partition stopped: exited (code 0," "$1"
}
# cfg_with FILE OPTIONS MEMORY CMDLINE: a copy of FILE with monitor options,
# partition memory and command line replaced.
cfg_with() {
    sed -e "s/^options = .*/options = $2/" -e "s/^memory = .*/memory = $3/" \
        -e "s/^cmdline = .*/cmdline = $4/" "$1"
}

bench/bare/run-bare.sh qemu "$out/bare.log" build/guests/bench.elf iterations=20000 ||
    { echo "bare reference monitor failed; see $out/bare.log"; exit 1; }
bare=$(bench_cycles "$out/bare.log" hypercall_nop)

run_monitor normal bench bench/monitor/bench.cfg 256M build/guests/bench.elf
log=$out/bench.log
normal_ok "$log" bench || { echo "bench guest failed; see $log"; exit 1; }
khz=$(grep -aoE 'TSC [0-9]+ kHz' "$log" | head -1 | grep -oE '[0-9]+')
ns() { awk -v c="$1" -v k="$khz" 'BEGIN { printf "%.0f", c * 1000000 / k }'; }

run_monitor test tasks bench/monitor/tasks.cfg 256M build/guests/task_bench.elf
tlog=$out/tasks.log
grep -aq 'TASKVISOR SUMMARY: 2 passed, 0 failed' "$tlog" || { echo "task bench failed; see $tlog"; grep -a 'not ok\|worst' "$tlog"; bench_failed=1; }

echo "== QEMU TCG SVM (no next-RIP), guest virtual ns under -icount shift=3 (TSC $khz kHz)"
printf '%-24s %10s %-12s %9s\n' "figure" "per op" "" "ratio"
printf '%-24s %10s %-12s %8sx bare  (bare: %s cycles)\n' "bare VMMCALL round trip" "$(ns "$bare")" "ns" "1.00" "$bare"
for op in hypercall_nop cpuid_leaf0 hypercall_get_version; do
    bench_ratio "$plat" "$op" "$(ns "$(bench_cycles "$log" "$op")")" "$(ns "$bare")" ns
done
bench_ratio "$plat" task_query "$(ns "$(bench_cycles "$tlog" task_query)")" "$(ns "$bare")" ns
printf '%-24s %10s %-12s\n' "empty loop iteration" "$(ns "$(bench_cycles "$log" empty_loop)")" ns

# Start-up at 512 MiB: the same guest, a few iterations.
cfg_with bench/monitor/bench.cfg "debug_exit=0xf4" 512M "iterations=10" >"$out/bench512.cfg"
run_monitor normal bench512 "$out/bench512.cfg" 1G build/guests/bench.elf
normal_ok "$out/bench512.log" bench || { echo "bench guest at 512 MiB failed; see $out/bench512.log"; bench_failed=1; }
# startup_line LOG MIB BOUND_MS: monitor entry -> first guest instruction, checked.
startup_line() {
    local us
    us=$(grep -aoE 'first guest entry [0-9]+ us after monitor entry' "$1" | head -1 | grep -oE '[0-9]+' | head -1)
    if [ -n "$us" ] && [ "$us" -le $(($3 * 1000)) ]; then
        echo "start-up, $2 MiB partition: $us us from monitor entry to the first guest entry  ok   (bound $3 ms)"
    else
        echo "start-up, $2 MiB partition: ${us:-?} us from monitor entry to the first guest entry  FAIL (bound $3 ms)"
        bench_failed=1
    fi
}
startup_line "$log" 16 20
startup_line "$out/bench512.log" 512 25
grep -aoE 'footprint: .*' "$log" | head -1 | sed 's/^/monitor /'

# Scheduler share: the guest's loop beside two CPU-bound tasks, at three shares.
echo
echo "== guest loop beside 2 CPU-bound tasks (200 ms windows; start-up of the tasks in the stall)"
for share in 20 50 80; do
    if [ $share -eq 50 ]; then
        slog=$tlog
    else
        wait_us=$(( 2000 * share / (100 - share) )); [ $wait_us -lt 2000 ] && wait_us=2000
        cfg_with bench/monitor/tasks.cfg "debug_exit=0xf4 task_share=$share assert_vcpu_wait_us=$((wait_us + 200))" 16M \
            "task_share=$share" >"$out/tasks$share.cfg"
        run_monitor test "tasks$share" "$out/tasks$share.cfg" 256M build/guests/task_bench.elf
        slog=$out/tasks$share.log
        grep -aq 'TASKVISOR SUMMARY: 2 passed, 0 failed' "$slog" ||
            { echo "task bench at task_share=$share failed; see $slog"; grep -a 'not ok\|worst' "$slog"; bench_failed=1; }
    fi
    alone=$(grep -aoE 'BENCH loop_alone iterations=[0-9]+' "$slog" | sed 's/.*=//')
    loaded=$(grep -aoE 'BENCH loop_with_tasks iterations=[0-9]+' "$slog" | sed 's/.*=//')
    gap=$(grep -aoE 'BENCH loop_with_tasks iterations=[0-9]+ max_gap_us=[0-9]+' "$slog" | sed 's/.*=//')
    prog=$(grep -aoE 'BENCH task_progress units=[0-9,]+' "$slog" | sed 's/.*=//')
    if [ -z "$alone" ] || [ -z "$loaded" ]; then
        echo "task_share=$share: no figures"; bench_failed=1; continue
    fi
    want=$(awk -v s=$share 'BEGIN { printf "%.2f", (100 - s) / 100 }')
    got=$(awk -v a="$loaded" -v b="$alone" 'BEGIN { printf "%.3f", a / b }')
    # Within 5% of the promised share (relative).
    if awk -v g="$got" -v w="$want" 'BEGIN { d = g / w - 1; exit !(d <= 0.05 && d >= -0.05) }'; then v=ok; else v=FAIL; bench_failed=1; fi
    printf 'task_share=%-3s guest got %s of its solo throughput (promised %s) %-4s  longest stall %5s us, task units done in the window %s\n' \
        "$share" "$got" "$want" "$v" "$gap" "$prog"
done

echo
echo "== cancel latency (16 cancels of a CPU-bound job, each at a different point of its 2 ms unit)"
for what in cancel_to_state_us cancel_to_waiter_us; do
    grep -aoE "BENCH $what .*" "$tlog" | sed 's/^BENCH //' || { echo "no $what figures"; bench_failed=1; }
done
grep -aoE 'worst vCPU wait [0-9]+ us, bound [0-9]+ us: [A-Z]+' "$tlog" | sed 's/^/monitor (task_share=50): /'
echo
bench_finish
