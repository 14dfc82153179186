#!/usr/bin/env bash
# Exit-path costs on Bochs, measured by the bench guests with RDTSC: on Intel
# VMX (corei7_skylake_x) and AMD SVM (ryzen).  Bochs' time follows its
# instruction count (clock sync=none, fixed ips): the guest's TSC cycles are
# emulated instructions, and the figures repeat from run to run; they say how
# many emulated instructions an exit costs, not what hardware would do.
# The yardstick, in the same run: the bare reference monitor (bench/bare/)
# with the same guest; every exit figure is a ratio to its VMCALL/VMMCALL
# round trip, checked against bench/exit-bounds.tsv.  TASK_QUERY from
# task_bench (mode=roundtrips) on the test monitor.  Also: monitor entry ->
# first guest instruction through GRUB and Multiboot2.
# Usage: bench-bochs.sh [CPU_MODEL...]   (default: corei7_skylake_x ryzen)
set -euo pipefail
cd "$(dirname "$0")/../../.."
source bench/lib.sh
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(corei7_skylake_x ryzen)
# run_mon OUT NAME CFG IMAGE: the test monitor (it ends the run with its verdict).
run_mon() {
    local out=$1 name=$2 cfg=$3 img=$4 rc=0
    scripts/mkiso.sh "$out/$name.iso" "$cfg" build/monitor-test.elf=monitor.elf "$img" >/dev/null
    scripts/run-bochs.sh --cpu "$cpu" --log "$out/$name.log" --timeout 600 "$out/$name.iso" \
        >"$out/$name.out" 2>&1 || rc=$?
    # Figures only from a run the monitor passed: its pass exit (status 0)
    # and its own summary line (never a guest's "OUT name:" line).
    if [ $rc -ne 0 ] ||
        ! grep -aqE '^\[ *[0-9]+\.[0-9]{6}\] INF [^ ]+: TASKVISOR SUMMARY: [1-9][0-9]* passed, 0 failed' "$out/$name.log"; then
        echo "$name failed on $cpu ($(tail -1 "$out/$name.out")); see $out/$name.log"
        return 1
    fi
}
for cpu in "${models[@]}"; do
    out=build/bench/bochs/$cpu
    mkdir -p "$out"
    case $cpu in ryzen|*amd*|*zen*|*athlon*|*phenom*|*opteron*|*turion*) plat=bochs-svm ;; *) plat=bochs-vmx ;; esac
    bench/bare/run-bare.sh "$cpu" "$out/bare.log" build/guests/bench.elf iterations=20000 ||
        { echo "bare reference monitor failed on $cpu; see $out/bare.log"; exit 1; }
    bare=$(bench_cycles "$out/bare.log" hypercall_nop)
    run_mon "$out" bench bench/monitor/bench.cfg build/guests/bench.elf || exit 1
    sed -e '/^cmdline/d' -e 's/ assert_vcpu_wait_us=[0-9]*//' bench/monitor/tasks.cfg >"$out/tasks.cfg"
    echo "cmdline = mode=roundtrips" >>"$out/tasks.cfg"
    run_mon "$out" tasks "$out/tasks.cfg" build/guests/task_bench.elf || exit 1
    log=$out/bench.log
    echo "== Bochs $cpu ($plat; $(grep -aoE 'started on [A-Za-z ]+' "$log" | head -1 | sed 's/started on //')), emulated instructions (guest TSC cycles)"
    printf '%-24s %10s %-12s %8sx bare\n' "bare round trip" "$bare" "instructions" "1.00"
    for op in hypercall_nop cpuid_leaf0 hypercall_get_version; do
        bench_ratio "$plat" "$op" "$(bench_cycles "$log" "$op")" "$bare" instructions
    done
    bench_ratio "$plat" task_query "$(bench_cycles "$out/tasks.log" task_query)" "$bare" instructions
    grep -aoE 'first guest entry [0-9]+ us after monitor entry' "$log" | head -1 | sed 's/^/monitor: /'
    tsc=$(grep -aoE 'TSC [0-9]+ kHz' "$log" | head -1)
    echo "(emulated time: Bochs ips=4000000, $tsc as the monitor calibrated it)"
done
bench_finish
