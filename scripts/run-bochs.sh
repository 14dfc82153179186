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
#   --disk IMG       a raw disk image (a whole number of 16-head, 63-sector
#                    cylinders, 516096 bytes each) as ATA secondary master
# Exit status: how the monitor ended the run, read from its write of the exit
# code to port 0xf4 (the port QEMU's isa-debug-exit uses; on Bochs it is an
# unmapped port, and Bochs' "unmapped" device logs the write, which we
# watch in the Bochs log).  Guests cannot forge it: the monitor intercepts
# every port a guest touches.
#   0    the monitor wrote its pass code (0x10)
#   1    its failure code (0x11)
#   2    its panic code (0x12)
#   3    another value
#   4    the Multiboot2 loader refused to start (its error is in the log)
#   5    the monitor halted ("monitor halted (exit code N)" at the start of a
#        serial line) without writing port 0xf4 (no debug_exit=0xf4 option,
#        or it stopped before reading its options)
#   124  timeout; 125 Bochs ended by itself (triple fault outside a guest,
#        Bochs panic, shutdown port) without the monitor's exit.
# The run ends as soon as one of these is seen.
set -uo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-2}"; }

cpu=corei7_skylake_x log=build/bochs/serial.log blog= timeout_s=120 mem=128 ips=4000000 iso= panic= disk=
while [ $# -gt 0 ]; do
    case $1 in
    --cpu) cpu=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --bochs-log) blog=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --memory) mem=$2; shift 2 ;;
    --ips) ips=$2; shift 2 ;;
    --panic) panic=$2; shift 2 ;;
    --disk) disk=$2; shift 2 ;;
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
mkdir -p "$(dirname "$blog")"
: >"$blog"
iso_abs=$(realpath "$iso") log_abs=$(realpath "$log")
disk_rc=
if [ -n "$disk" ]; then
    [ -f "$disk" ] || { echo "run-bochs: $disk: no such file" >&2; exit 1; }
    dsize=$(stat -c %s "$disk")
    if [ $((dsize % 516096)) -ne 0 ] || [ "$dsize" -eq 0 ]; then
        echo "run-bochs: $disk: size is not a whole number of 516096-byte cylinders" >&2
        exit 1
    fi
    disk_rc="ata1: enabled=1, ioaddr1=0x170, ioaddr2=0x370, irq=15
ata1-master: type=disk, path=\"$(realpath "$disk")\", mode=flat, cylinders=$((dsize / 516096)), heads=16, spt=63"
fi
cat >"$work/bochsrc" <<RC
display_library: term
cpu: model=$cpu, count=1, ips=$ips, reset_on_triple_fault=0
memory: guest=$mem, host=$mem
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
pci: enabled=1, chipset=i440fx
ata0-master: type=cdrom, path="$iso_abs", status=inserted
$disk_rc
boot: cdrom
clock: sync=none
com1: enabled=1, mode=file, dev="$log_abs"
port_e9_hack: enabled=1
magic_break: enabled=0
panic: action=$panic
error: action=report
# Bochs' unmapped-port device logs the monitor's exit-port write (see above).
debug: action=ignore, unmapped=report
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
# The monitor's exit: its code written to port 0xf4, as Bochs logs it.
exit_port_code() {
    grep -aoE 'unmapped: 8-bit write to 00f4 = [0-9a-f]{2}' "$blog" 2>/dev/null | head -1 |
        sed 's/.*= /0x/'
}
# Its closing serial line (log_raw from monitor_exit: always at a line start;
# a guest's output is prefixed "[  sec.usec] OUT name: " and cannot be).
halted_code() {
    grep -aoE '^monitor halted \(exit code 0x[0-9a-f]+\)' "$log" | head -1 | grep -oE '0x[0-9a-f]+'
}
port= halted= loader=0
while kill -0 "$pid" 2>/dev/null; do
    port=$(exit_port_code)
    halted=$(halted_code)
    grep -aq '^taskvisor (multiboot2): cannot start' "$log" && loader=1
    [ -n "$port$halted" ] || [ $loader -eq 1 ] && break
    sleep 0.2
done
# The monitor writes the port, then its closing line, then halts: give the
# second of them a moment to reach the files.
for _ in 1 2 3 4 5; do
    if [ $loader -eq 1 ] || [ -z "$port$halted" ] || { [ -n "$port" ] && [ -n "$halted" ]; }; then
        break
    fi
    sleep 0.2
    port=$(exit_port_code) halted=$(halted_code)
done
[ -n "$port" ] || port=$(exit_port_code)
if [ -n "$port$halted" ] || [ $loader -eq 1 ]; then
    # Bochs is the child of our own timeout process; ending it ends the run.
    pkill -KILL -P "$(cat "$work/timeout.pid")" 2>/dev/null
fi
wait "$pid"
rc=$(cat "$work/rc" 2>/dev/null || echo 1)
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ -n "$port" ] || port=$(exit_port_code)
[ -n "$halted" ] || halted=$(halted_code)
case $port in
0x10) status=0 what="monitor pass (exit port 0x10)" ;;
0x11) status=1 what="monitor failure (exit port 0x11)" ;;
0x12) status=2 what="monitor panic (exit port 0x12)" ;;
'')   if [ $loader -eq 1 ]; then status=4 what="the Multiboot2 loader refused to start (see $log)"
      elif [ -n "$halted" ]; then status=5 what="monitor halted (code $halted) without writing the exit port"
      elif [ "$rc" -eq 137 ] || [ "$rc" -eq 124 ]; then status=124 what="timeout after ${timeout_s}s"
      else status=125 what="Bochs ended (status $rc) without the monitor's exit"; fi ;;
*)    status=3 what="monitor wrote $port to the exit port" ;;
esac
if [ -n "$port" ] && [ -n "$halted" ] && [ "$port" != "$halted" ]; then
    what="$what; its closing line says $halted"
fi
echo "run-bochs: $what (${took} ms, cpu $cpu)" >&2
exit $status
