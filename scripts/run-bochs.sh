#!/usr/bin/env bash
# Boots a Taskvisor ISO (scripts/mkiso.sh) in Bochs, headless, and ends the
# run when the monitor halts.  Bochs is the only emulator here with VMX.
#
# Usage: scripts/run-bochs.sh [options] ISO
#   --cpu MODEL      Bochs CPU model (default corei7_skylake_x: VMX+EPT;
#                    ryzen: SVM+NPT)
#   --log FILE       serial output (default build/bochs/serial.log)
#   --bochs-log FILE Bochs' own log (VM-entry diagnoses: VMFAIL, VMENTER FAIL)
#   --timeout SEC    kill Bochs after SEC seconds (timeout -s KILL: Bochs
#                    ignores SIGTERM; default 120)
#   --memory MIB     guest RAM (default 128)
#   --ips N          instructions per emulated second (default 4000000)
#   --panic ACTION   Bochs' action on its own panics: fatal (default) or
#                    report.
# Exit status: 0 the monitor halted with its pass code (0x10), 1 with its
# failure code (0x11), 2 with its panic code (0x12), 3 it halted with another
# code, 4 the Multiboot2 loader refused to start (its error is in the log),
# 124 timeout, 125 Bochs ended without the monitor halting.
# The run ends on the monitor's "monitor halted (exit code N)" line: on Bochs
# port 0xf4 is no exit device, so the monitor halts and we stop Bochs.
set -uo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-2}"; }

cpu=corei7_skylake_x log=build/bochs/serial.log blog= timeout_s=120 mem=128 ips=4000000 iso= panic=
while [ $# -gt 0 ]; do
    case $1 in
    --cpu) cpu=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --bochs-log) blog=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --memory) mem=$2; shift 2 ;;
    --ips) ips=$2; shift 2 ;;
    --panic) panic=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "run-bochs: unknown option $1" >&2; usage ;;
    *) iso=$1; shift ;;
    esac
done
[ -n "$iso" ] && [ -f "$iso" ] || { echo "run-bochs: ISO missing" >&2; usage; }
command -v bochs-bin >/dev/null || { echo "run-bochs: bochs-bin not found (packages bochs bochsbios vgabios bochs-term)" >&2; exit 1; }
case $panic in
'') panic=fatal ;;
fatal|report) ;;
*) echo "run-bochs: --panic fatal|report" >&2; exit 2 ;;
esac
mkdir -p "$(dirname "$log")"
[ -n "$blog" ] || blog=${log%.log}.bochs.log
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$log"
iso_abs=$(realpath "$iso") log_abs=$(realpath "$log")
cat >"$work/bochsrc" <<RC
display_library: term
cpu: model=$cpu, count=1, ips=$ips, reset_on_triple_fault=0
memory: guest=$mem, host=$mem
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
pci: enabled=1, chipset=i440fx
ata0-master: type=cdrom, path="$iso_abs", status=inserted
boot: cdrom
clock: sync=none
com1: enabled=1, mode=file, dev="$log_abs"
port_e9_hack: enabled=1
magic_break: enabled=0
panic: action=$panic
error: action=report
log: $(realpath -m "$blog")
mouse: enabled=0
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
RC
printf 'c\nquit\n' >"$work/cmds.rc"
start=$(date +%s%N)
# The subshell reaps timeout itself, so a killed run prints no job notice.
(
    cd "$work" || exit 1
    TERM=dumb timeout -s KILL "$timeout_s" bochs-bin -q -f bochsrc -rc cmds.rc \
        </dev/null >"$work/term.out" 2>&1 &
    echo $! >"$work/timeout.pid"
    wait $!
    echo $? >"$work/rc"
) 2>/dev/null &
pid=$!
code=
while kill -0 "$pid" 2>/dev/null; do
    code=$(grep -aoE 'monitor halted \(exit code 0x[0-9a-f]+\)' "$log" | tail -1 | grep -oE '0x[0-9a-f]+')
    grep -aq 'taskvisor (multiboot2): cannot start' "$log" && code=loader
    [ -n "$code" ] && break
    sleep 0.2
done
if [ -n "$code" ]; then
    # Bochs is the child of our own timeout process; ending it ends the run.
    pkill -KILL -P "$(cat "$work/timeout.pid")" 2>/dev/null
fi
wait "$pid"
rc=$(cat "$work/rc" 2>/dev/null || echo 1)
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ -n "$code" ] || code=$(grep -aoE 'monitor halted \(exit code 0x[0-9a-f]+\)' "$log" | tail -1 | grep -oE '0x[0-9a-f]+')
case $code in
0x10) status=0 what="monitor pass" ;;
0x11) status=1 what="monitor failure" ;;
0x12) status=2 what="monitor panic" ;;
loader) status=4 what="the Multiboot2 loader refused to start (see $log)" ;;
'')   if [ "$rc" -eq 137 ] || [ "$rc" -eq 124 ]; then status=124 what="timeout after ${timeout_s}s"
      else status=125 what="Bochs ended (status $rc) without the monitor halting"; fi ;;
*)    status=3 what="monitor halted with code $code" ;;
esac
echo "run-bochs: $what (${took} ms, cpu $cpu)" >&2
exit $status
