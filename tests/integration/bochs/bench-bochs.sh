#!/usr/bin/env bash
# Exit-path costs on Bochs, measured by the bench guest (build/guests/bench.elf)
# with RDTSC, beside the no-op hypercall of the same run: VMCALL round trip
# and CPUID exit on Intel VMX (corei7_skylake_x), VMMCALL and CPUID on AMD
# SVM (ryzen).  Bochs' time follows its instruction count (clock sync=none,
# fixed ips), so the guest figures repeat from run to run; they say how many
# emulated cycles an exit costs, not what hardware would do.  Also: monitor
# entry -> first guest instruction through GRUB and Multiboot2.
# Usage: bench-bochs.sh [CPU_MODEL...]   (default: corei7_skylake_x ryzen)
set -euo pipefail
cd "$(dirname "$0")/../../.."
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(corei7_skylake_x ryzen)
for cpu in "${models[@]}"; do
    out=build/bench/bochs/$cpu
    mkdir -p "$out"
    scripts/mkiso.sh "$out/bench.iso" bench/monitor/bench.cfg build/monitor.elf \
        build/guests/bench.elf >/dev/null
    start=$(date +%s%N)
    rc=0
    scripts/run-bochs.sh --cpu "$cpu" --log "$out/serial.log" --timeout 600 "$out/bench.iso" \
        >"$out/bochs.out" 2>&1 || rc=$?
    wall=$(( ($(date +%s%N) - start) / 1000000 ))
    log=$out/serial.log
    # Figures only from a run the monitor passed: its pass exit (status 0)
    # and its own summary line (never a guest's "OUT name:" line).
    if [ $rc -ne 0 ] ||
        ! grep -aqE '^\[ *[0-9]+\.[0-9]{6}\] INF [^ ]+: TASKVISOR SUMMARY: 1 passed, 0 failed' "$log"; then
        echo "bench guest failed on $cpu ($(tail -1 "$out/bochs.out")); see $log"
        exit 1
    fi
    cycles() { grep -aoE "BENCH $1 cycles=[0-9]+" "$log" | tail -1 | sed 's/.*cycles=//'; }
    nop=$(cycles hypercall_nop)
    echo "== Bochs $cpu ($(grep -aoE 'started on [A-Za-z ]+' "$log" | head -1 | sed 's/started on //'), wall ${wall} ms)"
    printf '%-28s %12s %10s\n' "operation (guest TSC cycles)" "cycles/op" "vs NOP"
    for op in empty_loop hypercall_nop hypercall_get_version cpuid_leaf0; do
        c=$(cycles "$op")
        [ -n "$c" ] || { echo "no figure for $op"; exit 1; }
        printf '%-28s %12s %10s\n' "$op" "$c" "$(awk -v a="$c" -v b="$nop" 'BEGIN { printf "%.2fx", a / b }')"
    done
    grep -aoE 'first guest entry [0-9]+ us after monitor entry' "$log" | head -1 | sed 's/^/monitor: /'
    tsc=$(grep -aoE 'TSC [0-9]+ kHz' "$log" | head -1)
    echo "(emulated time: Bochs ips=4000000, $tsc as the monitor calibrated it)"
done
