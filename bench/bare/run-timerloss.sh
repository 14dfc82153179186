#!/usr/bin/env bash
# Issue 9's lost-timer reproducer (build/bench/timerloss.elf, see
# bench/bare/timerloss.c) under QEMU TCG SVM.  Not part of `make test`: a run
# is long and its outcome depends on host thread timing.
#   bench/bare/run-timerloss.sh LOG [virq=0|1] [seconds=N] [period_us=N] [stall_ms=N] [--icount] [--single]
# --icount runs with -icount shift=3,sleep=off,align=off (QEMU then runs the
# APIC timer on the vCPU thread; use seconds=1 or 2: TSC time is instruction
# time then); --single uses -accel tcg,thread=single.
# Prints the summary line; exit status 0 when no timer interrupt was
# stranded, 2 when some were (reproduced), 1 when the run did not finish.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$1; shift
elf=build/bench/timerloss.elf
[ -f "$elf" ] || { echo "run-timerloss: $elf missing (make $elf)" >&2; exit 1; }
args=() accel=tcg slow=4
for a in "$@"; do
    case $a in
        --icount) args+=(-icount shift=3,sleep=off,align=off) slow=120 ;;
        --single) accel=tcg,thread=single ;;
        *=*) cmdline="${cmdline:-}${cmdline:+ }$a" ;;
        *) echo "run-timerloss: unknown argument $a" >&2; exit 1 ;;
    esac
done
secs=$(sed -n 's/.*seconds=\([0-9]*\).*/\1/p' <<<"${cmdline:-}")
mkdir -p "$(dirname "$log")"
rm -f "$log"
# Wall time: the guest's seconds are TSC seconds; under icount TSC time is
# instruction time, here some 30-100 times slower than the wall clock.
timeout -s KILL $(( ${secs:-120} * slow + 60 )) qemu-system-x86_64 -machine pc -accel "$accel" \
    -cpu qemu64,+svm,+npt "${args[@]}" -m 64M -nodefaults -display none -no-reboot \
    -serial "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$elf" -append "${cmdline:-}" </dev/null >"$log.stderr" 2>&1 || true
summary=$(grep -a '^TIMERLOSS SUMMARY:' "$log" | tr -d '\r' || true)
[ -n "$summary" ] || { echo "run-timerloss: no summary; see $log" >&2; exit 1; }
echo "$summary"
case $summary in *" stranded=0 "*) exit 0 ;; *) exit 2 ;; esac
